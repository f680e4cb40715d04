"""Limits on reading a body: the total timeout bounds the whole exchange however the body is
read, ``sock_read`` starts once the request has been sent, and giving a response up (``release()``,
leaving ``async with``, closing the session) closes its connection at once.

The servers stream a body without end, 4,000 bytes every 10 ms, and note the moment they see the
client close the connection (end of file, or a write that fails).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import ferrofetch
import pytest

from tests.servers import RawHandler, RawServer, observe, read_head

from .support import run_both, same

#: One line of the endless body (readline gets lines, json/text get bytes that never end).
LINE = b"x" * 999 + b"\n"
#: How long a server streams at most; far beyond every bound below.
STREAM_SECONDS = 10.0


class Streamer:
    """An endless-body server that records, per request path, when the client closed."""

    def __init__(self, raw_server: Callable[[RawHandler], RawServer]) -> None:
        self.closed_at: dict[str, float] = {}
        self._server = raw_server(self._handle)

    def url(self, path: str) -> str:
        return self._server.url + path

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await read_head(reader)
        if not head:
            return
        path = head.split(b" ", 2)[1].decode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
        eof = asyncio.ensure_future(reader.read())
        started = time.monotonic()
        try:
            while not eof.done() and time.monotonic() - started < STREAM_SECONDS:
                writer.write(LINE * 4)  # far faster than any reader below takes it
                await writer.drain()
                await asyncio.sleep(0.01)
        except ConnectionError:
            pass
        finally:
            self.closed_at.setdefault(path, time.monotonic())
            eof.cancel()

    async def close_seen(self, path: str, since: float, bound: float = 2.0) -> float | None:
        """Seconds from ``since`` until the server saw the connection of ``path`` close; ``None``
        if it did not within ``bound`` seconds."""
        limit = time.monotonic() + bound
        while path not in self.closed_at and time.monotonic() < limit:
            await asyncio.sleep(0.01)
        seen = self.closed_at.get(path)
        return None if seen is None or seen - since > bound else seen - since


@pytest.fixture
def streamer(raw_server: Callable[[RawHandler], RawServer]) -> Streamer:
    return Streamer(raw_server)


async def _paced(pieces: AsyncIterator[Any]) -> None:
    async for _ in pieces:
        await asyncio.sleep(0.01)


async def _loop(read: Callable[[], Any]) -> None:
    while await read():
        await asyncio.sleep(0.01)


READ_PATHS: dict[str, Callable[[Any], Any]] = {
    "read": lambda resp: resp.read(),
    "text": lambda resp: resp.text(),
    "json": lambda resp: resp.json(),
    "content.read": lambda resp: resp.content.read(),
    "read(n)": lambda resp: _loop(lambda: resp.content.read(7)),
    "readany": lambda resp: _loop(resp.content.readany),
    "readline": lambda resp: _loop(resp.content.readline),
    "readexactly": lambda resp: _loop(lambda: resp.content.readexactly(3)),
    "readchunk": lambda resp: _loop(resp.content.readchunk),
    "iter_chunked(1)": lambda resp: _paced(resp.content.iter_chunked(1)),
    "iter_any": lambda resp: _paced(resp.content.iter_any()),
    "iter_chunks": lambda resp: _paced(resp.content.iter_chunks()),
    "lines": lambda resp: _paced(resp.content),
}


#: aiohttp's ``readline`` (and line iteration) hands out lines already buffered without looking
#: at its timer, so while the server keeps ahead of the reader aiohttp never times out there (and
#: ``async for line in resp.content`` may even stop early without an error). ferrofetch times out.
AIOHTTP_IGNORES_THE_TOTAL_TIMEOUT = frozenset({"readline", "lines"})
#: aiohttp's ``readchunk`` and ``iter_chunks`` also hand out what is buffered without waiting, so
#: whether its timer is ever looked at depends on whether the reader drains the buffer, i.e. on
#: the machine's load: there aiohttp is no stable reference, and only ferrofetch is asserted.
AIOHTTP_TIMES_OUT_BY_CHANCE = frozenset({"readchunk", "iter_chunks"})


@pytest.mark.parametrize("path", list(READ_PATHS))
async def test_the_total_timeout_bounds_every_way_of_reading(streamer: Streamer, path: str) -> None:
    """``ClientTimeout(total=0.5)`` fires at 0.5 s, whether the reader waits on the network or
    takes bytes that have already arrived (aiohttp: a timer that fires regardless)."""
    url = streamer.url("/" + path.replace("(", "-").replace(")", ""))

    async def scenario(http: Any) -> Any:
        started = time.monotonic()
        async with http.ClientSession(timeout=http.ClientTimeout(total=0.5)) as session:
            async with session.get(url) as resp:
                # The outer bound only keeps a reader that never times out from running on; the
                # window below ends well before it, and leaves room for a loaded machine.
                result = await observe(asyncio.wait_for(READ_PATHS[path](resp), 5.0))
        elapsed = time.monotonic() - started
        return result, 0.4 <= elapsed < 3.0

    results = await run_both(scenario)
    assert results["ferrofetch"] == (("error", "TimeoutError"), True)
    if path in AIOHTTP_IGNORES_THE_TOTAL_TIMEOUT:
        assert results["aiohttp"] != results["ferrofetch"]
    elif path not in AIOHTTP_TIMES_OUT_BY_CHANCE:
        assert results["aiohttp"] == results["ferrofetch"]


async def test_the_total_timeout_of_client_open_bounds_every_read(streamer: Streamer) -> None:
    """``Client.open(url, timeout=...)``: the limit covers the reads of the stream too, even when
    each one is handed bytes that have already arrived."""
    client = ferrofetch.Client()
    try:
        started = time.monotonic()
        stream = await client.open(streamer.url("/open"), timeout=0.5)
        with pytest.raises(ferrofetch.ServerTimeoutError):
            while await asyncio.wait_for(stream.read_chunk(), 5):
                await asyncio.sleep(0.01)
        assert 0.4 <= time.monotonic() - started < 1.5
        stream.close()
    finally:
        client.close()


async def test_the_total_timeout_of_a_stream_is_checked_when_buffered_bytes_are_handed_out(
    streamer: Streamer,
) -> None:
    """The stream's own deadline, not a second clock: once it has passed, the native stream
    refuses to hand out even what is already here."""
    client = ferrofetch.Client()
    try:
        stream = await client.open(streamer.url("/deadline"), timeout=0.3)
        stream.check_deadline()  # time is left: nothing happens
        await asyncio.sleep(0.4)
        with pytest.raises(ferrofetch.ServerTimeoutError):
            stream.check_deadline()
        stream.close()
    finally:
        client.close()


async def _release_while_reading(session: Any, resp: Any) -> None:
    pending = asyncio.ensure_future(resp.content.read())
    await asyncio.sleep(0.1)
    resp.release()
    # The pending read ends (aiohttp: ClientConnectionError), it does not hang.
    await observe(asyncio.wait_for(pending, 2))


async def _leave_async_with(session: Any, resp: Any) -> None:
    async with resp:
        await resp.content.read(10)


async def _close_the_session(session: Any, resp: Any) -> None:
    await session.close()


GIVE_UP: dict[str, Callable[[Any, Any], Any]] = {
    "release-while-reading": _release_while_reading,
    "leave-async-with": _leave_async_with,
    "close-the-session": _close_the_session,
}


@pytest.mark.parametrize("how", list(GIVE_UP))
async def test_giving_a_response_up_closes_its_connection(streamer: Streamer, how: str) -> None:
    """The server sees the connection close at once (well within a second), not after its body
    ends; what a pending read raises is aiohttp's."""
    path = f"/{how}"
    results: dict[str, Any] = {}

    async def scenario(http: Any) -> Any:
        key = f"{path}-{len(results)}"
        results[key] = None
        session = http.ClientSession()
        try:
            resp = await session.get(streamer.url(key))
            await resp.content.read(10)
            since = time.monotonic()
            await GIVE_UP[how](session, resp)
            seen = await streamer.close_seen(key, since)
            return seen is not None and seen < 1.0, resp.closed
        finally:
            await session.close()

    assert await same(scenario) == (True, True)


async def test_a_pending_read_ends_when_the_response_is_released(streamer: Streamer) -> None:
    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            resp = await session.get(streamer.url("/pending"))
            pending = asyncio.ensure_future(resp.content.read())
            await asyncio.sleep(0.1)
            resp.release()
            return await observe(asyncio.wait_for(pending, 2))

    assert await same(scenario) == ("error", "ClientConnectionError")


async def _answer_after_the_upload(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_head(reader)
    while True:  # the chunked body, to its last chunk
        size = int((await reader.readline()).split(b";")[0], 16)
        await reader.readexactly(size + 2)
        if size == 0:
            break
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    await writer.drain()
    await reader.read()


async def _never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read()


async def _slow_upload() -> AsyncIterator[bytes]:
    for _ in range(5):
        await asyncio.sleep(0.06)
        yield b"0123456789"


async def test_sock_read_starts_once_the_request_is_sent(
    raw_server: Callable[[RawHandler], RawServer],
) -> None:
    """An upload of about 0.3 s under ``sock_read=0.1``: the read timeout waits for the request to
    be sent, then bounds the wait for the answer (aiohttp's ``sock_read``)."""

    url = raw_server(_answer_after_the_upload).url + "/upload"

    async def scenario(http: Any) -> Any:
        timeout = http.ClientTimeout(sock_read=0.1)
        async with http.ClientSession(timeout=timeout) as session:
            return await observe(_post(session, url))

    assert await same(scenario) == ("ok", (200, b"ok"))


async def _post(session: Any, url: str) -> tuple[int, bytes]:
    async with session.post(url, data=_slow_upload()) as resp:
        return resp.status, await resp.read()


async def test_sock_read_still_bounds_the_wait_for_the_answer(
    raw_server: Callable[[RawHandler], RawServer],
) -> None:
    """After the upload, an answer that does not come within ``sock_read`` times out."""

    url = raw_server(_never_answer).url + "/silent"

    async def scenario(http: Any) -> Any:
        started = time.monotonic()
        async with http.ClientSession(timeout=http.ClientTimeout(sock_read=0.2, total=5)) as session:
            result = await observe(_post(session, url))
        elapsed = time.monotonic() - started
        # the upload takes about 0.3 s, then 0.2 s of silence
        return result, 0.4 <= elapsed < 1.5

    assert await same(scenario) == (("error", "SocketTimeoutError"), True)


async def test_the_read_timeout_of_fetch_starts_once_the_request_is_sent(
    raw_server: Callable[[RawHandler], RawServer],
) -> None:
    """The same rule on the native path: ``fetch(..., read_timeout=...)`` with a streamed upload
    longer than the limit completes; a server silent after the upload still times out."""

    url = raw_server(_answer_after_the_upload).url
    response = await ferrofetch.fetch(url, method="POST", data=_slow_upload(), read_timeout=0.1, timeout=10)
    assert (response.status, response.content) == (200, b"ok")

    silent_url = raw_server(_never_answer).url
    started = time.monotonic()
    with pytest.raises(ferrofetch.SocketTimeoutError):
        await ferrofetch.fetch(silent_url, method="POST", data=_slow_upload(), read_timeout=0.2, timeout=10)
    assert 0.4 <= time.monotonic() - started < 1.5
