"""Request bodies beyond the basic kinds: declared charsets, files read off the event loop,
aiohttp's payload objects and upload progress."""

from __future__ import annotations

from typing import Any

from .conftest import Recorder
from .support import same


async def test_formdata_text_field_is_sent_in_its_declared_charset(recorder: Recorder) -> None:
    async def scenario(http: Any) -> Any:
        recorder.requests.clear()
        form = http.FormData()
        form.add_field("greeting", "привет", content_type="text/plain; charset=koi8-r")
        form.add_field("plain", "привет")
        async with http.ClientSession() as session:
            async with session.post(recorder.url + "/form", data=form) as resp:
                await resp.read()
        body = recorder.requests[0].body
        return "привет".encode("koi8-r") in body, "привет".encode() in body

    assert await same(scenario) == (True, True)
