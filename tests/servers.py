"""Loopback servers for the test suite, each running on its own event loop in a daemon thread.

Every server listens on 127.0.0.1 with a port chosen by the kernel, counts what it sees
(:class:`ServerStats`), and is usable from synchronous tests, from async tests (whatever loop they
run on) and from child processes started by a test.

- :class:`HttpServer`: an ``aiohttp.web`` application with the routes listed in :func:`make_app`,
  optionally over TLS.
- :class:`RawServer`: a bare TCP server whose per-connection handler is a coroutine
  ``handler(reader, writer)``, for servers that misbehave on purpose. Ready-made handlers:
  :func:`silent`, :func:`close_at_once`, :func:`close_after_head`, :func:`reply`.
- :class:`H2Server`: an ASGI application served by hypercorn over TLS with ALPN ``h2`` and
  ``http/1.1``; it answers every path with JSON naming the HTTP version it spoke.
- :class:`TlsFiles`: a throwaway certificate authority and server certificates (trustme).

Helpers: :func:`wait_until` / :func:`async_wait_until` poll a condition with a deadline,
:func:`refused_url` gives a URL nobody listens on, :func:`run_python` runs a script in a fresh
interpreter with a time limit.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from concurrent.futures import Future
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from aiohttp import web

__all__ = [
    "COMPRESSED_PAYLOAD",
    "H2Server",
    "HttpServer",
    "LoopThread",
    "RawHandler",
    "RawServer",
    "ServerStats",
    "TlsFiles",
    "async_wait_until",
    "close_after_head",
    "close_at_once",
    "make_app",
    "pattern_bytes",
    "read_head",
    "refused_url",
    "reply",
    "reset_at_once",
    "run_python",
    "silent",
    "wait_until",
]

T = TypeVar("T")

RawHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]

#: The body that ``/gzip``, ``/deflate``, ``/brotli`` and ``/zstd`` send compressed.
COMPRESSED_PAYLOAD = b"".join(
    f"line {i}: ferrofetch decodes this body\n".encode() for i in range(300)
) + bytes(range(256))

_MIB = 1 << 20


def pattern_bytes(n: int) -> bytes:
    """The ``n`` bytes that ``/bytes/{n}`` answers: 0, 1, ..., 255, 0, 1, ... ."""
    whole, rest = divmod(n, 256)
    return bytes(range(256)) * whole + bytes(range(rest))


# --------------------------------------------------------------------------------------------
# counters and waiting


class ServerStats:
    """What a server has seen. Written on the server's thread, readable from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.connections_accepted = 0
        self.connections_open = 0
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.paths: list[str] = []
        #: bytes of response body written by the streaming routes (``/drip``, ``/gzip-bomb``)
        self.body_bytes_written = 0

    def connection_opened(self) -> None:
        with self._lock:
            self.connections_accepted += 1
            self.connections_open += 1

    def connection_closed(self) -> None:
        with self._lock:
            self.connections_open -= 1

    def request_started(self, path: str) -> None:
        with self._lock:
            self.requests += 1
            self.paths.append(path)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def request_finished(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def add_body_bytes(self, n: int) -> None:
        with self._lock:
            self.body_bytes_written += n

    def __repr__(self) -> str:
        return (
            f"ServerStats(connections_accepted={self.connections_accepted}, "
            f"connections_open={self.connections_open}, requests={self.requests}, "
            f"in_flight={self.in_flight}, max_in_flight={self.max_in_flight})"
        )


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0, interval: float = 0.01) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return predicate()
        time.sleep(interval)


async def async_wait_until(
    predicate: Callable[[], bool], timeout: float = 5.0, interval: float = 0.01
) -> bool:
    """Like :func:`wait_until`, but sleeps with ``asyncio.sleep`` so the running loop keeps going."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return predicate()
        await asyncio.sleep(interval)


def refused_url(path: str = "/") -> str:
    """A loopback URL whose port had a listener a moment ago and has none now (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


def run_python(
    code: str,
    *,
    timeout: float = 30.0,
    env: Mapping[str, str] | None = None,
    args: tuple[str, ...] = (),
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter (this one's executable) and return the finished process.

    ``env`` entries are added to this process's environment. Raises ``subprocess.TimeoutExpired``
    (after killing the child) if it runs longer than ``timeout`` seconds.
    """
    full_env = dict(os.environ)
    full_env["PYTHONFAULTHANDLER"] = "1"
    full_env.pop("PYTHONWARNINGS", None)
    if env:
        full_env.update(env)
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        check=False,
    )


# --------------------------------------------------------------------------------------------
# the server thread


class LoopThread:
    """An asyncio event loop running forever in a daemon thread."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._thread.start()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
            pending = asyncio.all_tasks(self.loop)
            for task in pending:
                task.cancel()
            if pending:
                self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        finally:
            self.loop.close()

    def submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        """Run ``coro`` on the server loop and wait (at most ``timeout`` s) for its result."""
        return self.submit(coro).result(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout)
        if self._thread.is_alive():  # pragma: no cover - only on a wedged server
            raise RuntimeError("the server thread did not stop")


def _listening_socket(backlog: int = 1024) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(backlog)
    sock.setblocking(False)
    return sock


class _BaseServer:
    scheme = "http"

    def __init__(self, name: str) -> None:
        self.stats = ServerStats()
        self._thread = LoopThread(name)
        self._closed = False
        self.port = 0

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def url(self) -> str:
        """The base URL, without a trailing slash: ``http://127.0.0.1:PORT``."""
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def url_for(self, path: str) -> str:
        return self.url + path

    async def _stop(self) -> None:  # overridden
        return None

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._thread.run(self._stop(), timeout=10.0)
        finally:
            self._thread.stop()

    def __enter__(self: _S) -> _S:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


_S = TypeVar("_S", bound=_BaseServer)


# --------------------------------------------------------------------------------------------
# the aiohttp application


class _CountingProtocol(asyncio.Protocol):
    """Wraps the server's protocol to count TCP connections as the transport sees them."""

    def __init__(
        self, inner: asyncio.Protocol, stats: ServerStats, transports: set[asyncio.BaseTransport]
    ) -> None:
        self._inner = inner
        self._stats = stats
        self._transports = transports
        self._transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._stats.connection_opened()
        self._transport = transport
        self._transports.add(transport)
        self._inner.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stats.connection_closed()
        if self._transport is not None:
            self._transports.discard(self._transport)
        self._inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()


def _float_query(request: web.Request, name: str, default: float) -> float:
    value = request.query.get(name)
    return default if value is None else float(value)


def _int_query(request: web.Request, name: str, default: int) -> int:
    value = request.query.get(name)
    return default if value is None else int(value)


def _brotli_compress(data: bytes) -> bytes:
    # Either binding will do: ``brotli`` (C) or ``brotlicffi``.
    try:
        module = importlib.import_module("brotli")
    except ImportError:
        module = importlib.import_module("brotlicffi")
    result: bytes = module.compress(data)
    return result


def _zstd_compress(data: bytes) -> bytes:
    import zstandard

    return zstandard.ZstdCompressor().compress(data)


_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"


def _zero_mib_deflate_unit() -> bytes:
    """One MiB of zeros as raw deflate blocks ending on a full flush: units concatenate freely."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return compressor.compress(bytes(_MIB)) + compressor.flush(zlib.Z_FULL_FLUSH)


def make_app(stats: ServerStats) -> web.Application:
    """The test application. Routes (all GET unless said otherwise):

    - ``/echo`` (any method, any sub-path ``/echo/...``): JSON ``{method, path, query (pairs),
      headers (pairs), body (text), url}``.
    - ``/bytes/{n}``: ``pattern_bytes(n)`` as application/octet-stream.
    - ``/status/{code}``: that status, body ``"status {code}"`` (none for 204/304).
    - ``/redirect/{n}``: relative redirect (302) to ``/redirect/{n-1}``; ``/redirect/0`` answers
      200 ``"redirects done"``. ``?status=`` picks the redirect status, ``?delay=`` makes every hop
      wait that long; the query string is carried along.
    - ``/redirect-to?url=&status=302``: redirect to ``url`` (any method).
    - ``/redirect-loop``: redirects (302) to itself.
    - ``/gzip``, ``/deflate``, ``/brotli``, ``/zstd``: ``COMPRESSED_PAYLOAD`` compressed with that
      coding (``Content-Encoding`` set, Content-Length of the compressed body).
    - ``/broken-encoding?coding=gzip``: claims the coding, sends bytes that are not in it.
    - ``/gzip-bomb?size=N``: N (default 1 GiB) zero bytes gzip-compressed, generated while sent.
    - ``/slow?delay=S``: sleeps S seconds, then answers ``"slow"``.
    - ``/drip?n=N&delay=S&head_delay=H``: waits H s, sends the head (Content-Length N) then one byte
      every S seconds.
    - ``/cookies/set?name=value&...``: 200 with one ``Set-Cookie`` per query pair.
    - ``/cookies``: JSON of the request's cookies.
    - ``/response-headers?Name=value&...``: 200 with every query pair as a response header.
    - ``/charset?charset=iso-8859-1``: ``"café ñandú"`` encoded in that charset, declared in
      Content-Type.
    - ``/utf8``: ``"café ñandú"`` in UTF-8 as text/plain without a charset.
    - ``/bad-utf8``: text/plain without a charset holding invalid UTF-8.
    - ``/json``: a fixed JSON document.
    """

    @web.middleware
    async def track(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        stats.request_started(request.path)
        try:
            return await handler(request)
        finally:
            stats.request_finished()

    routes = web.RouteTableDef()

    async def echo(request: web.Request) -> web.Response:
        body = await request.read()
        return web.json_response(
            {
                "method": request.method,
                "path": request.path,
                "url": str(request.url),
                "query": [[k, v] for k, v in request.query.items()],
                "headers": [[k, v] for k, v in request.headers.items()],
                "body": body.decode("utf-8", "replace"),
            }
        )

    routes.route("*", "/echo")(echo)
    routes.route("*", "/echo/{tail:.*}")(echo)

    @routes.get("/bytes/{n}")
    async def bytes_(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        return web.Response(body=pattern_bytes(n), content_type="application/octet-stream")

    @routes.route("*", "/status/{code}")
    async def status(request: web.Request) -> web.Response:
        code = int(request.match_info["code"])
        if code in (204, 304):
            return web.Response(status=code)
        return web.Response(status=code, text=f"status {code}")

    @routes.route("*", "/redirect/{n}")
    async def redirect(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        await asyncio.sleep(_float_query(request, "delay", 0.0))
        if n <= 0:
            return web.Response(text="redirects done")
        code = _int_query(request, "status", 302)
        query = f"?{request.query_string}" if request.query_string else ""
        return web.Response(status=code, headers={"Location": f"/redirect/{n - 1}{query}"})

    @routes.route("*", "/redirect-loop")
    async def redirect_loop(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": "/redirect-loop"})

    @routes.route("*", "/redirect-to")
    async def redirect_to(request: web.Request) -> web.Response:
        await request.read()
        code = _int_query(request, "status", 302)
        return web.Response(status=code, headers={"Location": request.query["url"]})

    def encoded(coding: str, body: bytes) -> web.Response:
        response = web.Response(body=body, content_type="text/plain")
        response.headers["Content-Encoding"] = coding
        return response

    @routes.get("/gzip")
    async def gzip_(request: web.Request) -> web.Response:
        compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
        return encoded("gzip", compressor.compress(COMPRESSED_PAYLOAD) + compressor.flush())

    @routes.get("/deflate")
    async def deflate(request: web.Request) -> web.Response:
        return encoded("deflate", zlib.compress(COMPRESSED_PAYLOAD))

    @routes.get("/brotli")
    async def brotli_(request: web.Request) -> web.Response:
        return encoded("br", _brotli_compress(COMPRESSED_PAYLOAD))

    @routes.get("/zstd")
    async def zstd(request: web.Request) -> web.Response:
        return encoded("zstd", _zstd_compress(COMPRESSED_PAYLOAD))

    @routes.get("/broken-encoding")
    async def broken_encoding(request: web.Request) -> web.Response:
        return encoded(request.query.get("coding", "gzip"), b"this is not compressed at all" * 10)

    unit_cache: list[bytes] = []

    @routes.get("/gzip-bomb")
    async def gzip_bomb(request: web.Request) -> web.StreamResponse:
        size = _int_query(request, "size", 1 << 30)
        if not unit_cache:
            unit_cache.append(_zero_mib_deflate_unit())
        unit = unit_cache[0]
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        response.headers["Content-Encoding"] = "gzip"
        await response.prepare(request)
        try:
            await response.write(_GZIP_HEADER)
            crc = 0
            zero_mib = bytes(_MIB)
            full, rest = divmod(size, _MIB)
            for _ in range(full):
                await response.write(unit)
                crc = zlib.crc32(zero_mib, crc)
                stats.add_body_bytes(len(unit))
            tail = zlib.compressobj(6, zlib.DEFLATED, -15)
            last = tail.compress(bytes(rest)) + tail.flush()
            crc = zlib.crc32(bytes(rest), crc)
            await response.write(last + struct.pack("<II", crc, size & 0xFFFFFFFF))
            await response.write_eof()
        except ConnectionError:
            pass  # the client stopped reading and closed: that is the point
        return response

    @routes.route("*", "/slow")
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(_float_query(request, "delay", 1.0))
        return web.Response(text="slow")

    @routes.get("/drip")
    async def drip(request: web.Request) -> web.StreamResponse:
        n = _int_query(request, "n", 10)
        delay = _float_query(request, "delay", 0.1)
        await asyncio.sleep(_float_query(request, "head_delay", 0.0))
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        response.content_length = n
        await response.prepare(request)
        try:
            for _ in range(n):
                await asyncio.sleep(delay)
                await response.write(b"*")
                stats.add_body_bytes(1)
            await response.write_eof()
        except ConnectionError:
            pass  # the client went away (a timeout test, most likely)
        return response

    @routes.get("/cookies/set")
    async def cookies_set(request: web.Request) -> web.Response:
        response = web.Response(text="cookies set")
        for name, value in request.query.items():
            response.set_cookie(name, value)
        return response

    @routes.get("/cookies")
    async def cookies(request: web.Request) -> web.Response:
        return web.json_response({"cookies": dict(request.cookies)})

    @routes.get("/response-headers")
    async def response_headers(request: web.Request) -> web.Response:
        response = web.Response(text="headers")
        for name, value in request.query.items():
            response.headers.add(name, value)
        return response

    @routes.get("/charset")
    async def charset(request: web.Request) -> web.Response:
        name = request.query.get("charset", "iso-8859-1")
        return web.Response(
            body="café ñandú".encode(name),
            headers={"Content-Type": f"text/plain; charset={name}"},
        )

    @routes.get("/utf8")
    async def utf8(request: web.Request) -> web.Response:
        return web.Response(body="café ñandú".encode(), headers={"Content-Type": "text/plain"})

    @routes.get("/bad-utf8")
    async def bad_utf8(request: web.Request) -> web.Response:
        return web.Response(body=b"ok \xff\xfe end", headers={"Content-Type": "text/plain"})

    @routes.get("/json")
    async def json_(request: web.Request) -> web.Response:
        return web.Response(
            text=json.dumps({"name": "ferrofetch", "values": [1, 2, 3], "price": 1.25, "word": "café"}),
            content_type="application/json",
        )

    app = web.Application(middlewares=[track])
    app.add_routes(routes)
    return app


async def _abort_all(transports: set[asyncio.BaseTransport]) -> None:
    for transport in list(transports):
        if isinstance(transport, asyncio.WriteTransport):
            transport.abort()
        else:
            transport.close()
    # Closing completes on the next loop iterations (connection_lost, then the socket's close).
    for _ in range(3):
        await asyncio.sleep(0)


class HttpServer(_BaseServer):
    """The :func:`make_app` application on 127.0.0.1, over TLS when ``ssl_context`` is given.

    ``ca_bundle`` is only carried along for the tests' convenience (the PEM that trusts the
    server's certificate).
    """

    def __init__(self, ssl_context: ssl.SSLContext | None = None, ca_bundle: str | None = None) -> None:
        super().__init__("ferrofetch-test-http-server")
        self.ca_bundle = ca_bundle
        if ssl_context is not None:
            self.scheme = "https"
        self._runner: web.AppRunner | None = None
        self._server: asyncio.AbstractServer | None = None
        self._transports: set[asyncio.BaseTransport] = set()
        try:
            self._thread.run(self._start(ssl_context))
        except BaseException:
            self._thread.stop()
            raise

    async def _start(self, ssl_context: ssl.SSLContext | None) -> None:
        runner = web.AppRunner(
            make_app(self.stats), access_log=None, handler_cancellation=True, shutdown_timeout=0.5
        )
        await runner.setup()
        self._runner = runner
        protocol_factory = runner.server
        assert protocol_factory is not None
        stats = self.stats
        transports = self._transports
        sock = _listening_socket()
        self.port = sock.getsockname()[1]
        self._server = await asyncio.get_running_loop().create_server(
            lambda: _CountingProtocol(protocol_factory(), stats, transports), sock=sock, ssl=ssl_context
        )

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._server is not None:
            await self._server.wait_closed()
        # Connections accepted while shutting down, if any: drop them so no socket outlives the loop.
        await _abort_all(self._transports)


# --------------------------------------------------------------------------------------------
# raw TCP servers for misbehaviour


async def read_head(reader: asyncio.StreamReader, timeout: float = 10.0) -> bytes:
    """Read one request head (through the blank line); ``b""`` if the peer closed first."""
    try:
        return await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    except asyncio.IncompleteReadError as error:
        return error.partial


async def _read_to_eof(reader: asyncio.StreamReader) -> None:
    while await reader.read(65536):
        pass


async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Accept, read whatever comes, never answer; return when the client closes."""
    await _read_to_eof(reader)


async def close_at_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Accept and end the connection (FIN) without sending a byte; then drain what the client sends."""
    writer.write_eof()
    await _read_to_eof(reader)


async def reset_at_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Accept and reset the connection (RST, via SO_LINGER 0) without sending a byte."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def close_after_head(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Read the request head, then close without answering."""
    await read_head(reader)


def reply(raw: bytes, *, then_wait_for_eof: bool = False) -> RawHandler:
    """A handler that reads the request head, writes ``raw`` verbatim and closes (or, with
    ``then_wait_for_eof``, keeps the connection open until the client closes it)."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(raw)
        await writer.drain()
        if then_wait_for_eof:
            await _read_to_eof(reader)

    return handler


class RawServer(_BaseServer):
    """A TCP server on 127.0.0.1 running ``handler(reader, writer)`` for each connection.

    ``stats.connections_open`` counts connections whose handler has not finished; the server
    closes the connection when the handler returns.
    """

    def __init__(self, handler: RawHandler) -> None:
        super().__init__("ferrofetch-test-raw-server")
        self._handler = handler
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.AbstractServer | None = None
        try:
            self._thread.run(self._start())
        except BaseException:
            self._thread.stop()
            raise

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.stats.connection_opened()
        self._writers.add(writer)
        try:
            await self._handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.TimeoutError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()
            try:
                await writer.wait_closed()
            except (ConnectionError, asyncio.CancelledError):
                pass
            self.stats.connection_closed()

    async def _start(self) -> None:
        sock = _listening_socket()
        self.port = sock.getsockname()[1]
        self._server = await asyncio.start_server(self._on_client, sock=sock)

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        if self._server is not None:
            await self._server.wait_closed()
        await _abort_all({writer.transport for writer in self._writers})


# --------------------------------------------------------------------------------------------
# TLS material and the HTTP/2 server


class TlsFiles:
    """A throwaway CA and server certificates, written as PEM files under ``directory``.

    - ``ca_pem``: the CA certificate (what ``ca_bundle`` takes).
    - ``cert_pem`` / ``key_pem``: a certificate for ``127.0.0.1`` and ``localhost``.
    - ``other_host_cert_pem`` / ``other_host_key_pem``: a certificate for ``other.test`` only
      (a host-name mismatch when served on 127.0.0.1).
    """

    def __init__(self, directory: Path) -> None:
        import trustme

        directory.mkdir(parents=True, exist_ok=True)
        self.ca = trustme.CA()
        self.ca_pem = str(directory / "ca.pem")
        self.ca.cert_pem.write_to_path(self.ca_pem)
        self.cert_pem, self.key_pem = self._issue(directory, "server", "127.0.0.1", "localhost")
        self.other_host_cert_pem, self.other_host_key_pem = self._issue(directory, "other", "other.test")

    def _issue(self, directory: Path, stem: str, *hosts: str) -> tuple[str, str]:
        cert = self.ca.issue_cert(*hosts)
        cert_path = directory / f"{stem}-chain.pem"
        key_path = directory / f"{stem}-key.pem"
        cert_path.write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
        cert.private_key_pem.write_to_path(str(key_path))
        return str(cert_path), str(key_path)

    def server_context(
        self, *, other_host: bool = False, alpn: tuple[str, ...] = ("http/1.1",)
    ) -> ssl.SSLContext:
        """A server-side context with the 127.0.0.1 certificate (or the ``other.test`` one)."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        if other_host:
            context.load_cert_chain(self.other_host_cert_pem, self.other_host_key_pem)
        else:
            context.load_cert_chain(self.cert_pem, self.key_pem)
        context.set_alpn_protocols(list(alpn))
        return context


ASGIReceive = Callable[[], Awaitable[dict[str, Any]]]
ASGISend = Callable[[dict[str, Any]], Awaitable[None]]


async def _version_app(scope: dict[str, Any], receive: ASGIReceive, send: ASGISend) -> None:
    """Answers every request with JSON naming the HTTP version, method and path it saw."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = bool(message.get("more_body", False))
    body = json.dumps(
        {"http_version": scope["http_version"], "method": scope["method"], "path": scope["path"]}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class H2Server(_BaseServer):
    """hypercorn serving :func:`_version_app` over TLS, offering ALPN ``h2`` then ``http/1.1``."""

    scheme = "https"

    def __init__(self, tls: TlsFiles) -> None:
        super().__init__("ferrofetch-test-h2-server")
        self.ca_bundle = tls.ca_pem
        self._shutdown: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        try:
            self._thread.run(self._start(tls))
        except BaseException:
            self._thread.stop()
            raise

    async def _start(self, tls: TlsFiles) -> None:
        from hypercorn.asyncio import serve
        from hypercorn.config import Config

        sock = _listening_socket()
        self.port = sock.getsockname()[1]
        config = Config()
        config.bind = [f"fd://{sock.detach()}"]
        config.certfile = tls.cert_pem
        config.keyfile = tls.key_pem
        config.alpn_protocols = ["h2", "http/1.1"]
        config.errorlog = None
        config.accesslog = None
        config.graceful_timeout = 1.0
        self._shutdown = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(
            serve(_version_app, config, shutdown_trigger=self._shutdown.wait)  # type: ignore[arg-type]
        )
        await asyncio.sleep(0)

    async def _stop(self) -> None:
        if self._shutdown is not None:
            self._shutdown.set()
        if self._task is not None:
            await asyncio.wait_for(self._task, 10.0)
