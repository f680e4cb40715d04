"""What a response says about its body: ``closed`` once there is nothing left to read, the JSON
of a body that starts with a byte order mark, and ``Content-Length`` given as a list.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import ferrofetch
import pytest

from tests.servers import RawHandler, RawServer, observe, reply

from .conftest import Recorder, Reply
from .support import run_both, same

BOM = b"\xef\xbb\xbf"


# --- closed ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "status"),
    [("GET", 200), ("GET", 204), ("HEAD", 200), ("GET", 304)],
)
async def test_closed_once_the_body_is_read_or_when_there_is_none(
    recorder: Recorder, method: str, status: int
) -> None:
    """aiohttp: ``closed`` is true once the body has been read whole, and from the start for a
    response that has no body (204, 304, the answer to HEAD)."""
    body = b"" if status in (204, 304) else b"hello"
    recorder.reply_for = lambda request: Reply(status=status, body=body)

    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            async with session.request(method, recorder.url + "/closed") as resp:
                no_body = status in (204, 304) or method == "HEAD"
                before = resp.closed if no_body else None
                data = await resp.read()
                return before, data, resp.closed

    assert (await same(scenario))[2] is True


async def test_closed_after_a_streamed_body_is_read_to_its_end(recorder: Recorder) -> None:
    recorder.reply_for = lambda request: Reply(body=b"x" * 100_000)

    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            async with session.get(recorder.url + "/streamed") as resp:
                size = 0
                async for piece in resp.content.iter_chunked(4096):
                    size += len(piece)
                return size, resp.closed

    assert await same(scenario) == (100_000, True)


# --- JSON with a byte order mark -------------------------------------------------------------


async def test_json_with_a_byte_order_mark_is_accepted(recorder: Recorder) -> None:
    """RFC 8259 §8.1: a parser may ignore a leading BOM; Python's ``json`` (given bytes),
    requests and httpx do. aiohttp refuses it (a known difference, a fix of aiohttp's behaviour)."""
    recorder.reply_for = lambda request: Reply(
        headers=[("Content-Type", "application/json")], body=BOM + b'{"a": [1, 2]}'
    )

    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            async with session.get(recorder.url + "/bom") as resp:
                return await observe(resp.json())

    results = await run_both(scenario)
    assert results["ferrofetch"] == ("ok", {"a": [1, 2]})
    assert results["aiohttp"] == ("error", "JSONDecodeError")


async def test_every_json_path_accepts_a_byte_order_mark(recorder: Recorder) -> None:
    recorder.reply_for = lambda request: Reply(
        headers=[("Content-Type", "application/json; charset=utf-8")], body=BOM + b'{"a": 1}'
    )
    url = recorder.url + "/bom"
    assert (await ferrofetch.fetch(url)).json() == {"a": 1}
    [fetched] = await ferrofetch.fetch_all([url])
    assert fetched.json() == {"a": 1}
    async with ferrofetch.ClientSession() as session:
        async with session.get(url) as resp:
            assert await resp.json(loads=json.loads) == {"a": 1}
            assert await resp.json(encoding="utf-8", content_type=None) == {"a": 1}
    # Only the byte order mark is dropped: the text keeps it, and a bad document still fails.
    async with ferrofetch.ClientSession() as session:
        async with session.get(url) as resp:
            assert (await resp.text()).startswith("\ufeff")
    recorder.reply_for = lambda request: Reply(
        headers=[("Content-Type", "application/json")], body=BOM + BOM + b"{}"
    )
    with pytest.raises(json.JSONDecodeError):
        (await ferrofetch.fetch(url)).json()
    async with ferrofetch.ClientSession() as session:
        async with session.get(url) as resp:
            with pytest.raises(json.JSONDecodeError):
                await resp.json()


# --- Content-Length as a list ----------------------------------------------------------------


def _answer(length_lines: list[bytes], body: bytes) -> RawHandler:
    head = b"HTTP/1.1 200 OK\r\n" + b"".join(b"Content-Length: " + line + b"\r\n" for line in length_lines)
    return reply(head + b"\r\n" + body, then="hold")


@pytest.mark.parametrize(
    "lines",
    [[b"5, 5"], [b"5,5"], [b"5", b"5"]],
    ids=["one-line", "no-space", "two-lines"],
)
async def test_a_list_of_identical_lengths_is_that_length(
    raw_server: Callable[[RawHandler], RawServer], lines: list[bytes]
) -> None:
    """RFC 9110 §8.6 lets a recipient take a list of identical values as that value (as hyper
    frames the body) or refuse the message (as aiohttp does): ferrofetch says 5 everywhere, on
    every path (a known difference)."""
    url = raw_server(_answer(lines, b"hello")).url + "/length"

    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            async with session.get(url) as resp:
                return resp.content_length, await resp.read()

    results = await run_both(lambda http: observe(scenario(http)))
    assert results["ferrofetch"] == ("ok", (5, b"hello"))
    assert results["aiohttp"] == ("error", "ClientResponseError")
    assert (await ferrofetch.fetch(url)).content == b"hello"

    client = ferrofetch.Client()
    try:
        stream = await client.open(url)
        assert stream.content_length == 5
        assert await stream.read_all() == b"hello"
    finally:
        client.close()


@pytest.mark.parametrize(
    "lines",
    [[b"5, 6"], [b"5", b"6"]],
    ids=["one-line", "two-lines"],
)
async def test_differing_lengths_are_refused(
    raw_server: Callable[[RawHandler], RawServer], lines: list[bytes]
) -> None:
    """RFC 9112 §6.3: differing lengths make the framing unknowable; the response is refused."""
    url = raw_server(_answer(lines, b"hello!")).url + "/lengths"

    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            return await observe(session.get(url))

    assert await same(scenario) == ("error", "ClientResponseError")
    with pytest.raises(ferrofetch.ClientResponseError):
        await ferrofetch.fetch(url)
