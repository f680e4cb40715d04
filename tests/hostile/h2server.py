"""An HTTP/2 server that misbehaves at the frame level, on the hostile battery's raw sockets.

The ``h2`` package keeps the connection honest where a case needs it to (the handshake, SETTINGS
and PING acknowledgements, reading requests and uploads, flow control); everything a case is
about is written as raw frames (:meth:`H2Conn.frame`), so nothing the package would refuse to
send is out of reach: a header block that never ends, DATA after END_STREAM, a frame larger than
the client allowed, upper-case header names.

A handler is built with :func:`h2_handler` from a ``respond(conn, request)`` function called once
per request, and runs on a :class:`tests.servers.RawServer` (cleartext: the client
speaks HTTP/2 by prior knowledge, ``http2="force"``; TLS: with ALPN ``h2``).
"""

from __future__ import annotations

import contextlib
import os
import struct
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import ferrofetch
import h2.config
import h2.connection
import h2.events
import h2.exceptions
from h2.events import Event as H2Event

from tests.servers import ClosedByPeer, Conn, Handler, RawServer, outcome

# RFC 9113 §6: frame types and flags.
DATA, HEADERS, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = (
    0x0,
    0x1,
    0x3,
    0x4,
    0x5,
    0x6,
    0x7,
    0x8,
    0x9,
)
END_STREAM = 0x1
END_HEADERS = 0x4

# RFC 9113 §7: error codes.
NO_ERROR = 0x0
PROTOCOL_ERROR = 0x1
INTERNAL_ERROR = 0x2
REFUSED_STREAM = 0x7
CANCEL = 0x8

Header = tuple[bytes, bytes]


@dataclass
class H2Request:
    """One request stream as the server received it."""

    stream_id: int
    headers: list[Header]
    body: bytes = b""
    ended: bool = False
    handed: bool = False

    def get(self, name: bytes) -> bytes | None:
        return next((value for key, value in self.headers if key == name), None)

    @property
    def path(self) -> str:
        return (self.get(b":path") or b"").decode("latin-1")


@dataclass
class H2Conn:
    """One server-side HTTP/2 connection over a raw :class:`Conn`."""

    conn: Conn
    #: Give flow-control credit back for received DATA; False lets an upload stall.
    ack_data: bool = True
    h2: h2.connection.H2Connection = field(init=False)
    requests: dict[int, H2Request] = field(default_factory=dict)
    client_reset: dict[int, int] = field(default_factory=dict)
    client_goaway: bool = False
    windows_updated: int = 0

    def __post_init__(self) -> None:
        config = h2.config.H2Configuration(
            client_side=False,
            header_encoding=None,
            validate_outbound_headers=False,
            normalize_outbound_headers=False,
        )
        self.h2 = h2.connection.H2Connection(config)

    def start(self, settings: dict[int, int] | None = None) -> None:
        """Read the client preface and send the server's SETTINGS (with ``settings`` changed)."""
        if settings:
            self.h2.update_settings(settings)
        self.h2.initiate_connection()
        self.flush()

    # --- writing ------------------------------------------------------------------------------

    def flush(self) -> bool:
        data = self.h2.data_to_send()
        return self.conn.send(data) if data else True

    def frame(self, kind: int, flags: int, stream_id: int, payload: bytes = b"") -> bytes:
        """One raw frame, with whatever length, type, flags and stream the case needs."""
        return (
            struct.pack(">I", len(payload))[1:]
            + bytes([kind, flags])
            + struct.pack(">I", stream_id)
            + payload
        )

    def send(self, *frames: bytes) -> bool:
        """Write raw frames after anything the ``h2`` connection has queued."""
        return self.flush() and self.conn.send(b"".join(frames))

    def block(self, headers: Iterable[Header]) -> bytes:
        """An HPACK header block, through the connection's encoder so its table stays in step."""
        return bytes(self.h2.encoder.encode(list(headers)))

    @staticmethod
    def literal(name: bytes, value: bytes) -> bytes:
        """One header as an HPACK literal without indexing and without Huffman coding (RFC 7541
        §6.2.2): fast to build at any size, and it leaves the dynamic table alone."""
        return b"\x00" + hpack_int(len(name), 7) + name + hpack_int(len(value), 7) + value

    def headers(self, stream_id: int, headers: Iterable[Header], *, end_stream: bool = False) -> bytes:
        flags = END_HEADERS | (END_STREAM if end_stream else 0)
        return self.frame(HEADERS, flags, stream_id, self.block(headers))

    def data(self, stream_id: int, payload: bytes, *, end_stream: bool = False) -> bytes:
        return self.frame(DATA, END_STREAM if end_stream else 0, stream_id, payload)

    def rst(self, stream_id: int, code: int) -> bytes:
        return self.frame(RST_STREAM, 0, stream_id, struct.pack(">I", code))

    def goaway(self, last_stream_id: int, code: int = NO_ERROR) -> bytes:
        return self.frame(GOAWAY, 0, 0, struct.pack(">II", last_stream_id, code))

    def respond(
        self, stream_id: int, status: int = 200, body: bytes = b"", headers: Iterable[Header] = ()
    ) -> bool:
        """A well-formed response with Content-Length, through the ``h2`` connection."""
        fields = [(b":status", str(status).encode()), (b"content-length", str(len(body)).encode())]
        fields.extend(headers)
        self.h2.send_headers(stream_id, fields, end_stream=not body)
        if body:
            return self.send_data(stream_id, body, end_stream=True)
        return self.flush()

    def send_data(self, stream_id: int, body: bytes, *, end_stream: bool) -> bool:
        """DATA within the client's flow-control windows (waiting for WINDOW_UPDATE as needed).

        False once the client has reset the stream or left.
        """
        view = memoryview(body)
        try:
            while view:
                if stream_id in self.client_reset:
                    return False
                window = min(self.h2.local_flow_control_window(stream_id), self.h2.max_outbound_frame_size)
                if window <= 0:
                    self.flush()
                    self.read_events(5.0)
                    continue
                piece, view = view[:window], view[window:]
                self.h2.send_data(stream_id, bytes(piece), end_stream=end_stream and not view)
            if end_stream and not body:
                self.h2.end_stream(stream_id)
        except (h2.exceptions.StreamClosedError, ClosedByPeer, TimeoutError):
            return False
        return self.flush()

    # --- reading ------------------------------------------------------------------------------

    def read_events(self, timeout: float = 10.0) -> list[H2Event]:
        """The events of the next bytes from the client; raises ClosedByPeer once it has gone."""
        data = self.conn._recv(time.monotonic() + timeout)
        if not data:
            raise ClosedByPeer("eof")
        try:
            events = self.h2.receive_data(data)
        except h2.exceptions.ProtocolError as exc:
            # What the client says after a case's violation is not the case's business.
            raise ClosedByPeer(f"the client's frames after a violation: {exc!r}") from exc
        for event in events:
            self._note(event)
        self.flush()
        return events

    def _note(self, event: H2Event) -> None:
        if isinstance(event, h2.events.RequestReceived) and event.stream_id is not None:
            headers = [(bytes(k), bytes(v)) for k, v in event.headers or ()]
            self.requests[event.stream_id] = H2Request(event.stream_id, headers)
        elif isinstance(event, h2.events.DataReceived) and event.stream_id is not None:
            request = self.requests.get(event.stream_id)
            if request is not None:
                request.body += event.data or b""
            if event.flow_controlled_length and self.ack_data:
                self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.StreamEnded) and event.stream_id is not None:
            request = self.requests.get(event.stream_id)
            if request is not None:
                request.ended = True
        elif isinstance(event, h2.events.StreamReset) and event.stream_id is not None:
            self.client_reset[event.stream_id] = int(event.error_code or 0)
        elif isinstance(event, h2.events.ConnectionTerminated):
            self.client_goaway = True
        elif isinstance(event, h2.events.WindowUpdated):
            self.windows_updated += 1

    def next_request(self, timeout: float = 10.0, *, whole: bool = True) -> H2Request:
        """The next request whose headers (and, with ``whole``, body) have arrived."""
        deadline = time.monotonic() + timeout
        while True:
            for request in self.requests.values():
                if not request.handed and (request.ended or not whole):
                    request.handed = True
                    return request
            if self.client_goaway:
                raise ClosedByPeer("the client sent GOAWAY")
            self.read_events(max(deadline - time.monotonic(), 0.01))

    def drain(self, seconds: float = 10.0) -> None:
        """Keep reading (answering SETTINGS and PING) until the client leaves or time is up."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self.client_goaway:
            try:
                self.read_events(deadline - time.monotonic())
            except (ClosedByPeer, TimeoutError):
                return


def hpack_int(value: int, prefix: int, first: int = 0) -> bytes:
    """An HPACK integer (RFC 7541 §5.1) with a ``prefix``-bit prefix; ``first``: the flag bits."""
    limit = (1 << prefix) - 1
    if value < limit:
        return bytes([first | value])
    out = bytearray([first | limit])
    value -= limit
    while value >= 128:
        out.append(value % 128 + 128)
        value //= 128
    out.append(value)
    return bytes(out)


Respond = Callable[[H2Conn, H2Request], None]


def h2_handler(
    respond: Respond,
    *,
    settings: dict[int, int] | None = None,
    whole: bool = True,
    ack_data: bool = True,
) -> Handler:
    """A connection handler answering every request with ``respond``, until the client leaves.

    ``settings``: the server's SETTINGS, by code (RFC 9113 §6.5.2). ``whole``: wait for each request's
    body before answering. ``ack_data``: see :attr:`H2Conn.ack_data`.
    """

    def handler(conn: Conn) -> None:
        h2conn = H2Conn(conn, ack_data)
        h2conn.start(settings)
        while True:
            try:
                request = h2conn.next_request(10.0, whole=whole)
            except (ClosedByPeer, TimeoutError):
                return
            respond(h2conn, request)

    return handler


def ok(conn: H2Conn, request: H2Request) -> None:
    """A 200 whose body is the request's path."""
    conn.respond(request.stream_id, 200, request.path.encode(), [(b"content-type", b"text/plain")])


# --- for the cases ------------------------------------------------------------------------------

#: ``start_h2(respond, settings=..., whole=..., ack_data=..., tls=...)``, the fixture's callable.
StartH2 = Callable[..., RawServer]


async def fetch_h2(
    server: RawServer, path: str = "/", seconds: float = 15.0, **options: Any
) -> tuple[ferrofetch.Response | None, BaseException | None, float]:
    """``outcome`` of ``ferrofetch.fetch`` over cleartext HTTP/2 (a 10 s total timeout unless given)."""
    options.setdefault("timeout", 10)
    return await outcome(lambda: ferrofetch.fetch(server.url_for(path), http2="force", **options), seconds)


def tcp_sockets() -> int:
    """How many descriptors of this process are TCP sockets (event loops' socketpairs are not)."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as handle:
            inodes.update(line.split()[9] for line in handle.read().splitlines()[1:])
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            link = os.readlink(f"/proc/self/fd/{fd}")
            count += link.startswith("socket:[") and link[8:-1] in inodes
    return count
