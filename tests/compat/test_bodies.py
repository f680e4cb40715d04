"""Request bodies beyond the basic kinds: declared charsets, files read off the event loop,
aiohttp's payload objects and upload progress."""

from __future__ import annotations

import asyncio
import io
import json
import socket
import tarfile
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from blockbuster import blockbuster_ctx

from tests.servers import HttpServer, RawServer, observe, read_head, run_python

from .conftest import Recorder, Reply
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
    """A file given as ``data=``, a file inside ``FormData`` or a mapping, and a tar member:
    blockbuster (as aiohttp's own suite uses it) fails any blocking read made on the event loop
    thread."""
    payload = bytes(range(256)) * 4096  # 1 MiB
    path = tmp_path / "upload.bin"
    path.write_bytes(payload)
    archive = tmp_path / "files.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(path, arcname="member.bin")

    async def scenario(http: Any) -> Any:
        recorder.requests.clear()
        with (
            open(path, "rb") as plain,
            open(path, "rb") as in_form,
            open(path, "rb") as in_dict,
            tarfile.open(archive) as tar,
        ):
            member = tar.extractfile("member.bin")
            assert member is not None
            form = http.FormData()
            form.add_field("file", in_form, filename="upload.bin")
            mapping = {"file": in_dict, "memory": io.BytesIO(b"data")}
            async with http.ClientSession() as session:
                with blockbuster_ctx():
                    for data in (plain, form, member, mapping):
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
    assert sent[3][1]


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


async def test_payload_objects_as_bodies(recorder: Recorder, tmp_path: Any) -> None:
    path = tmp_path / "page.html"
    path.write_bytes(b"<p>file</p>")

    async def chunks() -> AsyncIterator[bytes]:
        yield b"one,"
        yield b"two"

    async def scenario(http: Any) -> Any:
        recorder.requests.clear()
        p = http.payload
        with open(path, "rb") as f:
            bodies = [
                p.BytesPayload(b"raw", content_type="application/x-raw"),
                p.StringPayload("привет", content_type="text/plain; charset=koi8-r"),
                p.StringPayload("text", encoding="latin-1"),
                p.JsonPayload({"a": [1, 2]}),
                p.BufferedReaderPayload(f),
                p.AsyncIterablePayload(chunks()),
                p.get_payload("via get_payload"),
                p.TextIOPayload(io.StringIO("текст"), encoding="koi8-r"),
            ]
            async with http.ClientSession() as session:
                for body in bodies:
                    async with session.post(recorder.url + "/p", data=body) as resp:
                        await resp.read()
        kinds = [type(p.get_payload(v)).__name__ for v in (b"b", "s", io.BytesIO(b""), io.StringIO(""))]
        seen = [(r.body, r.header("Content-Type"), r.header("Transfer-Encoding")) for r in recorder.requests]
        try:
            p.get_payload(object())
        except p.LookupError:
            lookup = "LookupError"
        return seen, kinds, lookup

    seen, kinds, lookup = await same(scenario)
    assert seen[1] == ("привет".encode("koi8-r"), "text/plain; charset=koi8-r", None)
    assert seen[4] == (b"<p>file</p>", "text/html", None)
    assert kinds == ["BytesPayload", "StringPayload", "BytesIOPayload", "StringIOPayload"]
    assert lookup == "LookupError"
    assert seen[7] == ("текст".encode("koi8-r"), "text/plain; charset=koi8-r", "chunked")


async def test_payload_inside_formdata(recorder: Recorder) -> None:
    async def scenario(http: Any) -> Any:
        recorder.requests.clear()
        form = http.FormData()
        p = http.payload
        form.add_field(
            "data", p.BytesPayload(b"\x00\x01", content_type="application/x-bin"), filename="d.bin"
        )
        form.add_field("text", p.StringPayload("é", content_type="text/plain; charset=latin-1"), filename="t")
        async with http.ClientSession() as session:
            async with session.post(recorder.url + "/f", data=form) as resp:
                await resp.read()
        request = recorder.requests[0]
        boundary = (request.header("Content-Type") or "").partition("boundary=")[2].encode()
        return request.body.replace(boundary, b"BOUNDARY")

    await same(scenario)


async def test_streamer_decorator(recorder: Recorder) -> None:
    async def scenario(http: Any) -> Any:
        recorder.requests.clear()

        async def write_chunks(writer: Any, count: int) -> None:
            for i in range(count):
                await writer.write(f"chunk{i};".encode())

        with pytest.warns(DeprecationWarning, match="streamer"):
            produce = http.streamer(write_chunks)

        async with http.ClientSession() as session:
            async with session.post(recorder.url + "/s", data=produce(3)) as resp:
                await resp.read()
        request = recorder.requests[0]
        return request.body, request.header("Transfer-Encoding")

    assert await same(scenario) == (b"chunk0;chunk1;chunk2;", "chunked")


async def test_upload_tracker(recorder: Recorder, tmp_path: Any) -> None:
    """Progress of a file upload, across a 307 redirect that sends the body again."""
    path = tmp_path / "upload.bin"
    path.write_bytes(b"x" * 300_000)
    recorder.reply_for = lambda request: (
        Reply(status=307, reason="Temporary Redirect", headers=[("Location", "/done")])
        if request.target == "/first"
        else Reply()
    )

    async def scenario(http: Any) -> Any:
        recorder.requests.clear()
        results: list[Any] = []
        async with http.ClientSession() as session:
            for target, data in (("/first", "file"), ("/done", b"bytes"), ("/done", None)):
                tracker = http.UploadTracker()
                with open(path, "rb") as f:
                    async with session.post(
                        recorder.url + target, data=f if data == "file" else data, upload_tracker=tracker
                    ) as resp:
                        await resp.read()
                await asyncio.wait_for(tracker.upload_complete, 5)
                results.append((tracker.attempts, tracker.bytes_written))
            reuse = await observe(session.get(recorder.url + "/done", upload_tracker=tracker))
        return results, [len(r.body) for r in recorder.requests], reuse

    assert await same(scenario) == (
        [(2, 300_000), (1, 5), (1, 0)],
        [300_000, 300_000, 5, 0],
        ("error", "RuntimeError"),
    )


async def test_upload_tracker_when_the_upload_fails(raw_server: Callable[..., RawServer]) -> None:
    async def refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.close()

    server = raw_server(refuse)

    async def endless() -> AsyncIterator[bytes]:
        while True:
            yield b"x" * 65536
            await asyncio.sleep(0.001)

    async def scenario(http: Any) -> Any:
        tracker = http.UploadTracker()
        async with http.ClientSession() as session:
            failed = await observe(session.post(server.url + "/u", data=endless(), upload_tracker=tracker))
        await asyncio.wait({tracker.upload_complete}, timeout=5)
        return failed[0], tracker.upload_complete.done(), tracker.upload_complete.exception() is not None

    assert await same(scenario) == ("error", True, True)


async def test_upload_tracker_attempts_and_early_failures(recorder: Recorder) -> None:
    """Every request of a chain is an attempt (a 303 resend has no body); a request that fails
    before sending, or is refused before being built, settles the tracker as aborted."""
    recorder.reply_for = lambda request: (
        Reply(status=303, reason="See Other", headers=[("Location", "/final")])
        if request.target == "/see"
        else Reply()
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]

    async def scenario(http: Any) -> Any:
        results: list[Any] = []
        async with http.ClientSession() as session:
            for url in (recorder.url + "/see", f"http://127.0.0.1:{closed_port}/", "ftp://example.test/"):
                tracker = http.UploadTracker()
                failed = await observe(session.post(url, data=b"d" * 512, upload_tracker=tracker))
                await asyncio.wait({tracker.upload_complete}, timeout=5)
                error = tracker.upload_complete.exception()
                results.append((failed[0], tracker.attempts, tracker.bytes_written, type(error).__name__))
        return results

    assert await same(scenario) == [
        ("ok", 2, 0, "NoneType"),
        ("error", 1, 0, "UploadAbortedError"),
        ("error", 0, 0, "UploadAbortedError"),
    ]


async def test_an_uncalled_streamer_is_a_body(recorder: Recorder) -> None:
    async def scenario(http: Any) -> Any:
        recorder.requests.clear()

        async def write_two(writer: Any) -> None:
            await writer.write(b"ab")
            await writer.write(b"cd")

        with pytest.warns(DeprecationWarning):
            produce = http.streamer(write_two)
        async with http.ClientSession() as session:
            async with session.post(
                recorder.url + "/", data=produce, headers={"Content-Length": "4"}
            ) as resp:
                await resp.read()
        request = recorder.requests[0]
        return request.body, request.header("Content-Length"), request.header("Transfer-Encoding")

    assert await same(scenario) == (b"abcd", "4", None)


async def test_a_file_payload_sends_its_content_disposition(recorder: Recorder, tmp_path: Any) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"notes")

    async def scenario(http: Any) -> Any:
        recorder.requests.clear()
        async with http.ClientSession() as session:
            with open(path, "rb") as f:
                async with session.post(
                    recorder.url + "/", data=http.get_payload(f, disposition="inline")
                ) as resp:
                    await resp.read()
            with open(path, "rb") as f:
                async with session.post(recorder.url + "/", data=f) as resp:
                    await resp.read()
        return [
            (r.body, r.header("Content-Disposition"), r.header("Content-Type")) for r in recorder.requests
        ]

    assert await same(scenario) == [
        (b"notes", 'inline; filename="notes.txt"', "text/plain"),
        (b"notes", None, "text/plain"),
    ]


async def test_upload_tracker_of_a_cancelled_request(http_server: HttpServer) -> None:
    async def scenario(http: Any) -> Any:
        first_chunk_sent = asyncio.Event()

        async def gated_body() -> AsyncIterator[bytes]:
            yield b"a" * 100
            first_chunk_sent.set()
            await asyncio.Event().wait()  # until cancelled

        tracker = http.UploadTracker()
        async with http.ClientSession() as session:
            task = asyncio.ensure_future(
                session.post(http_server.url + "/echo", data=gated_body(), upload_tracker=tracker)
            )
            await asyncio.wait_for(first_chunk_sent.wait(), 5)
            task.cancel()
            await asyncio.wait({task}, timeout=5)
            settled = await observe(asyncio.wait_for(tracker.upload_complete, 5))
        return task.cancelled(), settled, tracker.attempts

    assert await same(scenario) == (True, ("error", "UploadAbortedError"), 1)
