"""Fixtures of the differential suite.

Besides pytest-httpbin's ``httpbin`` (a real httpbin on 127.0.0.1) and the shared servers of
``tests/conftest.py`` (``http_server``, ``raw_server``, ``tls_server``, ``h2_server``), the suite
has a recording server that answers what a test tells it and keeps every request as read off
the wire, for what the server saw byte for byte.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from tests.servers import RawServer, read_head


@dataclass
class Recorded:
    """One request as the server read it."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


@dataclass
class Reply:
    status: int = 200
    reason: str = "OK"
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b"ok"
    #: Written as is instead of a response made of the fields above (a malformed one).
    raw: bytes | None = None


async def _read_body(reader: asyncio.StreamReader, headers: list[tuple[str, str]]) -> bytes:
    names = {k.lower(): v for k, v in headers}
    if "content-length" in names:
        return await reader.readexactly(int(names["content-length"]))
    if "chunked" in names.get("transfer-encoding", "").lower():
        body = bytearray()
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            if size == 0:
                await reader.readline()
                return bytes(body)
            body += await reader.readexactly(size)
            await reader.readline()
    return b""


class Recorder:
    """A keep-alive HTTP/1.1 server that records requests and answers ``reply_for(request)``."""

    def __init__(self, raw_server: Callable[..., RawServer]) -> None:
        self.requests: list[Recorded] = []
        self.reply_for: Callable[[Recorded], Reply] = lambda request: Reply()
        self._server = raw_server(self._handle)

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def connections(self) -> int:
        return self._server.stats.connections_accepted

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = await read_head(reader)
            if not head.endswith(b"\r\n\r\n"):
                return
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = [
                (name, value.strip())
                for name, _, value in (line.partition(":") for line in lines[1:] if line)
            ]
            request = Recorded(method, target, headers, await _read_body(reader, headers))
            self.requests.append(request)
            reply = self.reply_for(request)
            if reply.raw is not None:
                writer.write(reply.raw)
                await writer.drain()
                continue
            out = [f"HTTP/1.1 {reply.status} {reply.reason}"]
            out += [f"{k}: {v}" for k, v in reply.headers]
            out.append(f"Content-Length: {len(reply.body)}")
            body = b"" if method == "HEAD" else reply.body
            writer.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + body)
            await writer.drain()


@pytest.fixture
def recorder(raw_server: Callable[..., RawServer]) -> Iterator[Recorder]:
    yield Recorder(raw_server)
