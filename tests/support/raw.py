"""Loopback servers that speak raw bytes, for servers that misbehave on purpose.

A test can send exactly the malformed, truncated, stalled or reset exchange it is about and then
inspect every byte the client wrote. :class:`RawServer` runs a blocking handler per connection
in a thread of its own (:class:`Conn` reads requests and writes bytes), or a coroutine handler
on its own event loop; either way the client under test runs on its own runtime, so the test's
event loop only awaits.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import socket
import ssl
import struct
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Union, cast

from .loop import LOOPBACK, LoopThread, ServerStats, abort_all, listening_socket

HEAD_LIMIT = 1 << 20


class ClosedByPeer(Exception):
    """The client closed the connection while the handler was reading."""


@dataclass
class Request:
    """One request as the server read it off the wire."""

    method: bytes
    target: bytes
    version: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes
    raw: bytes

    def get(self, name: str) -> bytes | None:
        values = self.get_all(name)
        return values[0] if values else None

    def get_all(self, name: str) -> list[bytes]:
        wanted = name.lower().encode("latin-1")
        return [value for key, value in self.headers if key.lower() == wanted]

    @property
    def path(self) -> str:
        return self.target.decode("latin-1")


def parse_head(head: bytes) -> tuple[bytes, bytes, bytes, list[tuple[bytes, bytes]]]:
    """Split a request head leniently: hostile input must be recorded, never rejected here."""
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    while len(parts) < 3:
        parts.append(b"")
    headers: list[tuple[bytes, bytes]] = []
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(b":")
        headers.append((name.strip(), value.strip()))
    return parts[0], parts[1], parts[2], headers


def http_response(
    status: int = 200,
    body: bytes = b"",
    headers: Iterable[tuple[str, str]] = (),
    *,
    reason: str | None = None,
    length: bool = True,
) -> bytes:
    """A response head plus body, with Content-Length unless ``length`` is False."""
    phrase = reason if reason is not None else _REASONS.get(status, "Whatever")
    lines = [f"HTTP/1.1 {status} {phrase}"]
    lines.extend(f"{name}: {value}" for name, value in headers)
    if length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def chunked(*pieces: bytes) -> bytes:
    """A complete chunked body made of ``pieces``."""
    return b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces if piece) + b"0\r\n\r\n"


_REASONS = {
    200: "OK",
    204: "No Content",
    301: "Moved Permanently",
    302: "Found",
    303: "See Other",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
    404: "Not Found",
    500: "Internal Server Error",
}


class Conn:
    """One accepted connection, handed to a handler running in its own thread."""

    def __init__(self, sock: socket.socket, server: RawServer) -> None:
        self.sock = sock
        self.server = server
        self.buffer = b""
        self.peer_cert: dict[str, Any] | None = None

    def _recv(self, deadline: float) -> bytes:
        while True:
            if self.server.stopping.is_set():
                raise ClosedByPeer("server stopping")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the client sent nothing in time")
            self.sock.settimeout(min(remaining, 0.1))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except (ConnectionError, ssl.SSLError, OSError) as exc:
                raise ClosedByPeer(str(exc)) from exc
            if data:
                self.server.record_bytes(data)
            return data

    def read_request(self, timeout: float = 10.0) -> Request | None:
        """The next request on this connection, or None once the client closes it."""
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buffer:
            try:
                data = self._recv(deadline)
            except ClosedByPeer:
                return None
            if not data:
                return None
            self.buffer += data
            if len(self.buffer) > HEAD_LIMIT:
                raise ValueError("request head too large")
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        method, target, version, headers = parse_head(head)
        request = Request(method, target, version, headers, b"", head + b"\r\n\r\n")
        self.buffer = rest
        transfer = (request.get("transfer-encoding") or b"").lower()
        if b"chunked" in transfer:
            request.body = self._read_chunked(deadline)
        else:
            length = int(request.get("content-length") or b"0")
            while len(self.buffer) < length:
                data = self._recv(deadline)
                if not data:
                    return None
                self.buffer += data
            request.body, self.buffer = self.buffer[:length], self.buffer[length:]
        request.raw += request.body
        self.server.record_request(request)
        return request

    def _read_line(self, deadline: float) -> bytes:
        while b"\r\n" not in self.buffer:
            data = self._recv(deadline)
            if not data:
                raise ClosedByPeer("eof inside a chunked body")
            self.buffer += data
        line, _, self.buffer = self.buffer.partition(b"\r\n")
        return line

    def _read_chunked(self, deadline: float) -> bytes:
        body = b""
        while True:
            size = int(self._read_line(deadline).split(b";")[0], 16)
            if size == 0:
                while self._read_line(deadline):
                    pass
                return body
            while len(self.buffer) < size + 2:
                data = self._recv(deadline)
                if not data:
                    raise ClosedByPeer("eof inside a chunk")
                self.buffer += data
            body += self.buffer[:size]
            self.buffer = self.buffer[size + 2 :]

    def send(self, data: bytes) -> bool:
        """Write everything; False if the client has gone."""
        try:
            self.sock.settimeout(10.0)
            self.sock.sendall(data)
        except (OSError, ssl.SSLError):
            return False
        return True

    def drip(self, data: bytes, interval: float) -> bool:
        """Write one byte at a time, ``interval`` seconds apart."""
        for index in range(len(data)):
            if self.server.stopping.wait(interval) or not self.send(data[index : index + 1]):
                return False
        return True

    def reset(self) -> None:
        """Abort the connection with a TCP RST instead of an orderly close."""
        with contextlib.suppress(OSError):
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with contextlib.suppress(OSError):
            self.sock.close()

    def hold(self, seconds: float = 30.0) -> None:
        """Keep the connection open, reading and discarding, until the client leaves."""
        deadline = time.monotonic() + seconds
        while True:
            try:
                data = self._recv(deadline)
            except (ClosedByPeer, TimeoutError):
                return
            if not data:
                return


Handler = Callable[[Conn], None]
"""A handler that blocks: it runs in a thread of its own with the connection as a :class:`Conn`."""

StreamHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
"""A coroutine handler: it runs on the server's event loop with the connection's asyncio streams."""

RawHandler = Union[Handler, StreamHandler]


class RawServer:
    """A TCP server (optionally TLS) on a loopback address, running ``handler`` once per connection.

    The handler is either blocking (``handler(conn)``, a :data:`Handler`, in a thread per
    connection) or a coroutine function (``handler(reader, writer)``, a :data:`StreamHandler`,
    on the server's own event loop thread). The server closes the connection when the handler
    returns; a client that goes away while the handler reads or writes is not an error.

    - ``url`` is the base URL without a trailing slash, as every server here has it
      (``http://127.0.0.1:PORT``); ``url_for(path, host)`` appends a path (``host`` defaults to the
      listening address).
    - ``stats`` (:class:`ServerStats`) counts connections; ``connections`` and ``open_connections``
      read it. A connection counts as open until its handler has returned.
    - ``errors``: exceptions a handler raised (other than the client going away);
      ``tls_errors``: failed handshakes; ``server_names``: the SNI names clients sent;
      ``peer_certs``: client certificates seen. ``requests`` and ``received`` (every byte read)
      are recorded by :class:`Conn` for blocking handlers.
    - ``tls``: serve TLS with that server context; ``plain_too`` (blocking handlers only) also
      answers plain HTTP on the same port, telling them apart by the first byte.
    """

    def __init__(
        self,
        handler: RawHandler,
        *,
        host: str = LOOPBACK,
        port: int = 0,
        tls: ssl.SSLContext | None = None,
        plain_too: bool = False,
        backlog: int = 1024,
    ) -> None:
        self.handler = handler
        self.host = host
        self.tls = tls
        self.plain_too = plain_too
        self.stats = ServerStats()
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.requests: list[Request] = []
        self.received = bytearray()
        self.errors: list[BaseException] = []
        self.tls_errors: list[BaseException] = []
        self.server_names: list[str | None] = []
        self.peer_certs: list[dict[str, Any] | None] = []
        self._socks: set[socket.socket] = set()
        self._threads: set[threading.Thread] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._loop: LoopThread | None = None
        self._server: asyncio.AbstractServer | None = None
        self._closed = False
        self.listener = listening_socket(host, port, backlog)
        self.port: int = self.listener.getsockname()[1]
        if tls is not None:
            tls.sni_callback = self._record_sni
        if inspect.iscoroutinefunction(handler):
            if plain_too:
                raise ValueError("plain_too needs a blocking handler")
            self._loop = LoopThread(f"raw-server-{self.port}")
            try:
                self._loop.run(self._start_streams(handler))
            except BaseException:
                self._loop.stop()
                self.listener.close()
                raise
        else:
            self._acceptor = threading.Thread(
                target=self._accept_loop, name=f"raw-server-{self.port}", daemon=True
            )
            self._acceptor.start()

    @property
    def scheme(self) -> str:
        return "https" if self.tls is not None else "http"

    @property
    def url(self) -> str:
        """The base URL, without a trailing slash: ``http://127.0.0.1:PORT``."""
        return f"{self.scheme}://{self.host}:{self.port}"

    def url_for(self, path: str, host: str | None = None) -> str:
        return f"{self.scheme}://{host or self.host}:{self.port}{path}"

    @property
    def connections(self) -> int:
        """Connections accepted so far."""
        return self.stats.connections_accepted

    @property
    def open_connections(self) -> int:
        """Connections whose handler has not returned yet."""
        return self.stats.connections_open

    def _record_sni(self, _sock: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
        with self.lock:
            self.server_names.append(name)

    def record_bytes(self, data: bytes) -> None:
        with self.lock:
            self.received += data

    def record_request(self, request: Request) -> None:
        with self.lock:
            self.requests.append(request)

    def _failed(self, exc: BaseException) -> None:
        with self.lock:
            self.errors.append(exc)

    # blocking handlers: a thread per connection

    def _accept_loop(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.settimeout(0.05)
        while not self.stopping.is_set():
            try:
                sock, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.stats.connection_opened()
            with self.lock:
                self._socks.add(sock)
            thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            with self.lock:
                self._threads.add(thread)
            thread.start()

    def _serve(self, sock: socket.socket) -> None:
        conn_sock = sock
        try:
            if self.tls is not None and not (self.plain_too and not self._starts_with_tls(sock)):
                sock.settimeout(10.0)
                try:
                    conn_sock = self.tls.wrap_socket(sock, server_side=True)
                except (OSError, ssl.SSLError) as exc:
                    with self.lock:
                        self.tls_errors.append(exc)
                    return
                with self.lock:
                    self._socks.add(conn_sock)
            conn = Conn(conn_sock, self)
            if isinstance(conn_sock, ssl.SSLSocket):
                conn.peer_cert = conn_sock.getpeercert() or None
                with self.lock:
                    self.peer_certs.append(conn.peer_cert)
            assert not inspect.iscoroutinefunction(self.handler)
            cast(Handler, self.handler)(conn)
        except (ClosedByPeer, TimeoutError):
            pass
        except BaseException as exc:
            self._failed(exc)
        finally:
            for item in {sock, conn_sock}:
                with contextlib.suppress(OSError):
                    item.close()
            with self.lock:
                self._socks.discard(sock)
                self._socks.discard(conn_sock)
                self._threads.discard(threading.current_thread())
            self.stats.connection_closed()

    @staticmethod
    def _starts_with_tls(sock: socket.socket) -> bool:
        sock.settimeout(10.0)
        try:
            first = sock.recv(1, socket.MSG_PEEK)
        except OSError:
            return False
        return first == b"\x16"  # a TLS handshake record

    # coroutine handlers: the server's event loop

    async def _start_streams(self, handler: StreamHandler) -> None:
        async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.stats.connection_opened()
            self._writers.add(writer)
            try:
                peer_cert = writer.get_extra_info("peercert")
                if self.tls is not None:
                    with self.lock:
                        self.peer_certs.append(peer_cert or None)
                await handler(reader, writer)
            except (ConnectionError, asyncio.IncompleteReadError, asyncio.TimeoutError):
                pass
            except Exception as exc:
                self._failed(exc)
            finally:
                self._writers.discard(writer)
                writer.close()
                try:
                    await writer.wait_closed()
                except (ConnectionError, ssl.SSLError, asyncio.CancelledError):
                    pass
                self.stats.connection_closed()

        self.listener.setblocking(False)
        self._server = await asyncio.start_server(on_client, sock=self.listener, ssl=self.tls)

    async def _stop_streams(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        if self._server is not None:
            await self._server.wait_closed()
        await abort_all({writer.transport for writer in self._writers})

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.stopping.set()
        if self._loop is not None:
            try:
                self._loop.run(self._stop_streams(), timeout=10.0)
            finally:
                self._loop.stop()
            return
        with contextlib.suppress(OSError):
            self.listener.close()
        with self.lock:
            socks = list(self._socks)
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._acceptor.join(timeout=2)
        with self.lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=2)

    def __enter__(self) -> RawServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


StartServer = Callable[..., RawServer]
"""The ``start_server`` fixture: ``start_server(handler, host=..., tls=..., plain_too=...)``."""


# --- handlers -----------------------------------------------------------------------------------


def reply(data: bytes, *, then: str = "close") -> Handler:
    """Read one request, send ``data`` verbatim, then "close", "hold" the connection or "reset" it."""

    def handler(conn: Conn) -> None:
        if conn.read_request() is None:
            return
        conn.send(data)
        if then == "hold":
            conn.hold()
        elif then == "reset":
            conn.reset()

    return handler


def serve(app: Callable[[Request], bytes], *, close_after: int | None = None) -> Handler:
    """A keep-alive loop: ``app`` maps each request to the raw response bytes to send."""

    def handler(conn: Conn) -> None:
        served = 0
        while True:
            request = conn.read_request()
            if request is None:
                return
            if not conn.send(app(request)):
                return
            served += 1
            if close_after is not None and served >= close_after:
                return
            if (request.get("connection") or b"").lower() == b"close":
                return

    return handler


def echo_app(request: Request) -> bytes:
    """Answers 200 with the request line as the body, and the request's header names listed."""
    return http_response(200, request.method + b" " + request.target, [("Content-Type", "text/plain")])


def silent(conn: Conn) -> None:
    """Accept, read whatever comes, never answer."""
    conn.hold()


def close_at_once(conn: Conn) -> None:
    """Accept and end the connection (FIN) without sending a byte; then drain what the client sends."""
    with contextlib.suppress(OSError):
        conn.sock.shutdown(socket.SHUT_WR)
    conn.hold()


def reset_at_once(conn: Conn) -> None:
    """Accept and reset the connection (RST) without sending a byte."""
    conn.reset()


def close_after_head(conn: Conn) -> None:
    """Read the request, then close without answering."""
    conn.read_request()


async def read_head(reader: asyncio.StreamReader, timeout: float = 10.0) -> bytes:
    """For coroutine handlers: read one request head, through the blank line; if the peer closes
    first, what it sent until then (``b""`` if nothing)."""
    try:
        return await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    except asyncio.IncompleteReadError as error:
        return error.partial


def refused_url(path: str = "/") -> str:
    """A loopback URL whose port had a listener a moment ago and has none now (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port = sock.getsockname()[1]
    return f"http://{LOOPBACK}:{port}{path}"


# --- blackhole ----------------------------------------------------------------------------------


class Blackhole:
    """A loopback port whose accept queue is full: new connections never complete (SYNs are dropped).

    The constructor checks that a plain connect to it does hang, so a test that relies on a
    connect timeout is not quietly testing something else.
    """

    def __init__(self) -> None:
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind((LOOPBACK, 0))
        self.listener.listen(0)
        self.port: int = self.listener.getsockname()[1]
        self.fillers: list[socket.socket] = []
        for _ in range(4):
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.setblocking(False)
            filler.connect_ex((LOOPBACK, self.port))
            self.fillers.append(filler)
        time.sleep(0.05)
        probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        probe.settimeout(0.3)
        try:
            probe.connect((LOOPBACK, self.port))
        except TimeoutError:
            pass
        else:
            self.close()
            raise RuntimeError("the accept queue is not full: connecting did not hang")
        finally:
            probe.close()

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def url_for(self, path: str) -> str:
        return f"http://{LOOPBACK}:{self.port}{path}"

    def close(self) -> None:
        for sock in [*self.fillers, self.listener]:
            with contextlib.suppress(OSError):
                sock.close()

    def __enter__(self) -> Blackhole:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- a redirecting application ------------------------------------------------------------------


def redirect_app(request: Request) -> bytes:
    """``/redirect/<status>?to=<quoted location>``, ``/chain/<n>``, ``/loop``; anything else: 200.

    The 200 answer's body is the request line, so a test can see where it ended up.
    """
    from urllib.parse import parse_qs, urlsplit

    parts = urlsplit(request.path)
    segments = parts.path.strip("/").split("/")
    if segments[0] == "redirect" and len(segments) == 2:
        location = parse_qs(parts.query).get("to", ["/"])[0]
        return http_response(int(segments[1]), b"", [("Location", location)])
    if segments[0] == "chain" and len(segments) == 2:
        remaining = int(segments[1])
        if remaining > 0:
            return http_response(302, b"", [("Location", f"/chain/{remaining - 1}")])
    if segments[0] == "loop":
        return http_response(302, b"", [("Location", "/loop")])
    if segments[0] == "no-location":
        return http_response(302, b"nowhere to go")
    return echo_app(request)


def redirect_to(location: str, status: int = 302) -> str:
    """The path on a ``redirect_app`` server that answers ``status`` with ``Location: location``."""
    from urllib.parse import quote

    return f"/redirect/{status}?to={quote(location, safe='')}"
