"""The ``aiohttp.web`` test application and :class:`HttpServer`, which serves it on loopback."""

from __future__ import annotations

import asyncio
import json
import ssl
import struct
import zlib
from collections.abc import Awaitable, Callable

from aiohttp import web

from .loop import LoopServer, ServerStats, abort_all, listening_socket
from .payloads import COMPRESSED_PAYLOAD, COMPRESSORS, GZIP_HEADER, MiB, pattern_bytes, zero_mib_deflate_unit


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

    def compressed(coding: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(request: web.Request) -> web.Response:
            return encoded(coding, COMPRESSORS[coding](COMPRESSED_PAYLOAD))

        return handler

    for path, coding in (("/gzip", "gzip"), ("/deflate", "deflate"), ("/brotli", "br"), ("/zstd", "zstd")):
        routes.get(path)(compressed(coding))

    @routes.get("/broken-encoding")
    async def broken_encoding(request: web.Request) -> web.Response:
        return encoded(request.query.get("coding", "gzip"), b"this is not compressed at all" * 10)

    @routes.get("/gzip-bomb")
    async def gzip_bomb(request: web.Request) -> web.StreamResponse:
        size = _int_query(request, "size", 1 << 30)
        unit = zero_mib_deflate_unit()
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        response.headers["Content-Encoding"] = "gzip"
        await response.prepare(request)
        try:
            await response.write(GZIP_HEADER)
            crc = 0
            zero_mib = bytes(MiB)
            full, rest = divmod(size, MiB)
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


class HttpServer(LoopServer):
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
        sock = listening_socket()
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
        await abort_all(self._transports)
