"""Request bodies beyond the basic kinds: declared charsets, files read off the event loop,
aiohttp's payload objects and upload progress."""

from __future__ import annotations

import asyncio
import json
import tarfile
from collections.abc import Callable
from typing import Any

from blockbuster import blockbuster_ctx

from tests.servers import RawServer, read_head, run_python

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


async def _discard_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Reads a request with a Content-Length body, counts it and answers with the count."""
    head = await read_head(reader)
    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
    received = 0
    while received < length:
        piece = await reader.read(2**16)
        if not piece:
            break
        received += len(piece)
    body = str(received).encode()
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    await writer.drain()


async def test_file_bodies_never_block_the_event_loop(recorder: Recorder, tmp_path: Any) -> None:
    """A file given as ``data=``, a file inside ``FormData`` and a tar member: blockbuster (as
    aiohttp's own suite uses it) fails any blocking read made on the event loop thread."""
    payload = bytes(range(256)) * 4096  # 1 MiB
    path = tmp_path / "upload.bin"
    path.write_bytes(payload)
    archive = tmp_path / "files.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(path, arcname="member.bin")

    async def scenario(http: Any) -> Any:
        recorder.requests.clear()
        with open(path, "rb") as plain, open(path, "rb") as in_form, tarfile.open(archive) as tar:
            member = tar.extractfile("member.bin")
            assert member is not None
            form = http.FormData()
            form.add_field("file", in_form, filename="upload.bin")
            async with http.ClientSession() as session:
                with blockbuster_ctx():
                    for data in (plain, form, member):
                        async with session.post(recorder.url + "/upload", data=data) as resp:
                            await resp.read()
        return [
            (len(r.body), payload in r.body, r.header("Content-Length"), r.header("Transfer-Encoding"))
            for r in recorder.requests
        ]

    sent = await same(scenario)
    assert sent[0] == (len(payload), True, str(len(payload)), None)
    assert sent[1][1]
    assert sent[2] == (len(payload), True, None, "chunked")  # a tar member's size is not announced


UPLOAD_CLIENT = """
import asyncio
import json
import resource
import sys

from ferrofetch.client import ClientSession


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


async def main():
    url, path = sys.argv[1], sys.argv[2]
    async with ClientSession() as session:
        with open(path, "rb") as f:  # warm up: threads, pool, buffers
            async with session.post(url, data=f.read(4 * 1024 * 1024)) as resp:
                await resp.read()
        baseline = peak_rss()
        with open(path, "rb") as f:
            async with session.post(url, data=f) as resp:
                received = int(await resp.text())
    print(json.dumps({"baseline": baseline, "peak": peak_rss(), "received": received}))


asyncio.run(main())
"""


def test_a_large_file_upload_keeps_memory_bounded(
    raw_server: Callable[..., RawServer], tmp_path: Any
) -> None:
    """A 128 MiB file sent as ``data=`` is streamed: the client's peak RSS grows by far less."""
    size = 128 * 1024 * 1024
    path = tmp_path / "big.bin"
    with open(path, "wb") as f:
        f.truncate(size)
    server = raw_server(_discard_body)
    process = run_python(UPLOAD_CLIENT, args=(server.url + "/upload", str(path)), timeout=55)
    assert process.returncode == 0, process.stderr
    report = json.loads(process.stdout)
    assert report["received"] == size
    grown = report["peak"] - report["baseline"]
    assert grown < 32 * 1024 * 1024, f"peak RSS grew by {grown / 2**20:.1f} MiB uploading 128 MiB"
