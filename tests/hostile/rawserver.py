"""Loopback servers that misbehave on purpose.

Every server here speaks raw bytes over real sockets on 127.0.0.0/8, so a test can send exactly
the malformed, truncated, stalled or reset exchange it is about and then inspect every byte the
client wrote. Handlers run in their own threads and block freely; the client under test runs on
its own runtime, so the test's event loop only awaits.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

LOOPBACK = "127.0.0.1"
# Linux routes the whole of 127.0.0.0/8 to the loopback interface: a second "host" for redirects.
OTHER_HOST = "127.0.0.2"

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


class RawServer:
    """A threaded TCP (optionally TLS) server on a loopback address running ``handler`` per connection."""

    def __init__(
        self,
        handler: Handler,
        *,
        host: str = LOOPBACK,
        port: int = 0,
        tls: ssl.SSLContext | None = None,
        plain_too: bool = False,
        backlog: int = 1024,
    ) -> None:
        """``plain_too``: with ``tls``, also answer plain HTTP on the same port (sniffing the first byte)."""
        self.handler = handler
        self.host = host
        self.tls = tls
        self.plain_too = plain_too
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.requests: list[Request] = []
        self.received = bytearray()
        self.connections = 0
        self.open_connections = 0
        self.errors: list[BaseException] = []
        self.tls_errors: list[BaseException] = []
        self.server_names: list[str | None] = []
        self.peer_certs: list[dict[str, Any] | None] = []
        self._socks: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((host, port))
        self.listener.listen(backlog)
        self.port: int = self.listener.getsockname()[1]
        if tls is not None:
            tls.sni_callback = self._record_sni
        self._acceptor = threading.Thread(
            target=self._accept_loop, name=f"raw-server-{self.port}", daemon=True
        )
        self._acceptor.start()

    @property
    def scheme(self) -> str:
        return "https" if self.tls is not None else "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}/"

    def url_for(self, path: str, host: str | None = None) -> str:
        return f"{self.scheme}://{host or self.host}:{self.port}{path}"

    def _record_sni(self, _sock: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
        with self.lock:
            self.server_names.append(name)

    def record_bytes(self, data: bytes) -> None:
        with self.lock:
            self.received += data

    def record_request(self, request: Request) -> None:
        with self.lock:
            self.requests.append(request)

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
            with self.lock:
                self.connections += 1
                self.open_connections += 1
                self._socks.add(sock)
            thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            self._threads.append(thread)
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
            self.handler(conn)
        except (ClosedByPeer, TimeoutError):
            pass
        except BaseException as exc:
            with self.lock:
                self.errors.append(exc)
        finally:
            for item in {sock, conn_sock}:
                with contextlib.suppress(OSError):
                    item.close()
            with self.lock:
                self.open_connections -= 1
                self._socks.discard(sock)
                self._socks.discard(conn_sock)

    @staticmethod
    def _starts_with_tls(sock: socket.socket) -> bool:
        sock.settimeout(10.0)
        try:
            first = sock.recv(1, socket.MSG_PEEK)
        except OSError:
            return False
        return first == b"\x16"  # a TLS handshake record

    def close(self) -> None:
        self.stopping.set()
        with contextlib.suppress(OSError):
            self.listener.close()
        with self.lock:
            socks = list(self._socks)
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._acceptor.join(timeout=2)
        for thread in self._threads:
            thread.join(timeout=2)

    def __enter__(self) -> RawServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


StartServer = Callable[..., RawServer]


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


# --- blackhole ----------------------------------------------------------------------------------


class Blackhole:
    """A loopback port whose accept queue is full: new connections never complete (SYNs are dropped)."""

    def __init__(self) -> None:
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind((LOOPBACK, 0))
        self.listener.listen(0)
        self.port: int = self.listener.getsockname()[1]
        self.fillers: list[socket.socket] = []
        for _ in range(4):
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect((LOOPBACK, self.port))
            self.fillers.append(filler)
        time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/"

    def close(self) -> None:
        for sock in [*self.fillers, self.listener]:
            with contextlib.suppress(OSError):
                sock.close()


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
