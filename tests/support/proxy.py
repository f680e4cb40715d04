"""A small recording HTTP proxy on loopback (asyncio): plain forwarding and CONNECT tunnels."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from .loop import LOOPBACK
from .raw import parse_head
from .streams import StreamServer


@dataclass
class ProxyEntry:
    """One request the proxy received: a CONNECT or a forwarded absolute-form request."""

    method: bytes
    target: bytes
    headers: list[tuple[bytes, bytes]]

    def get(self, name: str) -> bytes | None:
        wanted = name.lower().encode("latin-1")
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None


@dataclass
class RecordingProxy(StreamServer):
    """A small asyncio HTTP proxy on loopback: plain forwarding and CONNECT tunnels.

    ``host_map`` sends a host name to a loopback (host, port), so tests can use names that do not
    resolve: a request that reaches the right server can only have gone through the proxy.
    """

    host_map: dict[str, tuple[str, int]] = field(default_factory=dict)
    default_route: tuple[str, int] | None = None
    require_auth: bytes | None = None
    entries: list[ProxyEntry] = field(default_factory=list)

    def __post_init__(self) -> None:
        StreamServer.__init__(self)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def _resolve(self, host: str, port: int) -> tuple[str, int]:
        return self.host_map.get(host.lower(), self.default_route or (host, port))

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        method, target, _version, headers = parse_head(head[:-4])
        entry = ProxyEntry(method, target, headers)
        self.entries.append(entry)
        if self.require_auth is not None and entry.get("proxy-authorization") != self.require_auth:
            writer.write(
                b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                b'Proxy-Authenticate: Basic realm="loopback"\r\n'
                b"Content-Length: 0\r\nConnection: close\r\n\r\n"
            )
            await writer.drain()
            return
        if method == b"CONNECT":
            host, _, port_text = target.decode("latin-1").rpartition(":")
            address = self._resolve(host.strip("[]"), int(port_text))
            upstream_reader, upstream_writer = await asyncio.wait_for(asyncio.open_connection(*address), 5)
            self._writers.add(upstream_writer)
            try:
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                await writer.drain()
                await _pipe_both(reader, writer, upstream_reader, upstream_writer)
            finally:
                self._writers.discard(upstream_writer)
            return
        await self._forward(reader, writer, entry, head)

    async def _forward(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, entry: ProxyEntry, head: bytes
    ) -> None:
        from urllib.parse import urlsplit

        url = urlsplit(entry.target.decode("latin-1"))
        address = self._resolve(url.hostname or "", url.port or 80)
        body = b""
        length = entry.get("content-length")
        if length:
            body = await asyncio.wait_for(reader.readexactly(int(length)), 10)
        origin_form = (url.path or "/") + (f"?{url.query}" if url.query else "")
        hop_by_hop = {b"proxy-authorization", b"proxy-connection", b"connection", b"keep-alive"}
        lines = [entry.method + b" " + origin_form.encode("latin-1") + b" HTTP/1.1"]
        lines += [name + b": " + value for name, value in entry.headers if name.lower() not in hop_by_hop]
        lines.append(b"Connection: close")
        upstream_reader, upstream_writer = await asyncio.wait_for(asyncio.open_connection(*address), 5)
        self._writers.add(upstream_writer)
        try:
            upstream_writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
            await upstream_writer.drain()
            # One exchange per client connection: mark the answer final so the client does not reuse it.
            response_head = await asyncio.wait_for(upstream_reader.readuntil(b"\r\n\r\n"), 10)
            status_line, *header_lines = response_head[:-4].split(b"\r\n")
            kept = [line for line in header_lines if not line.lower().startswith(b"connection:")]
            writer.write(b"\r\n".join([status_line, *kept, b"Connection: close"]) + b"\r\n\r\n")
            while True:
                data = await asyncio.wait_for(upstream_reader.read(65536), 10)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
        finally:
            self._writers.discard(upstream_writer)
            upstream_writer.close()


async def _pipe_both(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    upstream_reader: asyncio.StreamReader,
    upstream_writer: asyncio.StreamWriter,
) -> None:
    async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while True:
                data = await source.read(65536)
                if not data:
                    break
                sink.write(data)
                await sink.drain()
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError, RuntimeError):
                if sink.can_write_eof():
                    sink.write_eof()

    try:
        await asyncio.gather(pump(reader, upstream_writer), pump(upstream_reader, writer))
    finally:
        upstream_writer.close()
