"""HTTP/2 servers that attack the connection: floods, bombs, resets, stalls and bad frames.

Every case runs against a frame-level server (:mod:`tests.hostile.h2server`) over cleartext
HTTP/2 by prior knowledge (``http2="force"``); the TLS + ALPN path is the same engine path, shown
once in ``test_h2_bodies.py``. Each case must end on its own within its time bound, with a
``ferrofetch.ClientError`` of the class named, and give back every socket; where the attack aims at
memory, the request runs in a fresh interpreter whose peak RSS is checked.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import ferrofetch
import pytest

from tests.servers import RawServer, outcome, peak_rss_of_fetch

from .h2server import (
    CONTINUATION,
    DATA,
    END_HEADERS,
    END_STREAM,
    GOAWAY,
    HEADERS,
    INTERNAL_ERROR,
    NO_ERROR,
    PING,
    PUSH_PROMISE,
    REFUSED_STREAM,
    SETTINGS,
    WINDOW_UPDATE,
    H2Conn,
    H2Request,
    Respond,
    StartH2,
    fetch_h2,
    ok,
)

MiB = 1 << 20
FRAME = 16_384  # the client's SETTINGS_MAX_FRAME_SIZE (RFC 9113 §6.5.2 default)


def attack(respond: Respond) -> Respond:
    """``respond`` for the attacked path; a plain 200 for ``/warm-up``."""

    def dispatch(conn: H2Conn, request: H2Request) -> None:
        if request.path == "/warm-up":
            ok(conn, request)
        else:
            respond(conn, request)

    return dispatch


def split_block(conn: H2Conn, stream_id: int, block: bytes, *, end_stream: bool = False) -> bytes:
    """A header block as HEADERS plus CONTINUATION frames of at most the default frame size."""
    pieces = [block[i : i + FRAME] for i in range(0, len(block), FRAME)] or [b""]
    frames: list[bytes] = []
    for index, piece in enumerate(pieces):
        last = index == len(pieces) - 1
        flags = (END_HEADERS if last else 0) | (END_STREAM if end_stream and index == 0 else 0)
        frames.append(conn.frame(HEADERS if index == 0 else CONTINUATION, flags, stream_id, piece))
    return b"".join(frames)


async def probe(server: RawServer, **options: Any) -> tuple[list[object], float, float]:
    """(result, peak RSS growth in MiB, seconds) of one attacked request in a fresh interpreter."""
    options.setdefault("timeout", 20)
    url = server.url_for("/")
    found = await peak_rss_of_fetch(url + "attack", warm_url=url + "warm-up", http2="force", **options)
    return found.result, found.growth, found.elapsed


# --- header blocks ------------------------------------------------------------------------------


async def test_continuation_flood_ends_with_bounded_memory(start_h2: StartH2) -> None:
    def respond(conn: H2Conn, request: H2Request) -> None:
        # A header block that never ends: CONTINUATION after CONTINUATION, none with END_HEADERS.
        filler = conn.literal(b"x-flood", b"f" * 200) * (FRAME // 210)
        if not conn.send(conn.frame(HEADERS, 0, request.stream_id, conn.block([(b":status", b"200")]))):
            return
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and conn.send(
            conn.frame(CONTINUATION, 0, request.stream_id, filler)
        ):
            pass

    result, growth, elapsed = await probe(start_h2(attack(respond)))
    assert result[0] == "ClientResponseError" and "broke the HTTP/2 protocol" in str(result[1]), result
    assert elapsed < 10, elapsed
    assert growth < 64, f"peak RSS grew by {growth:.1f} MiB"


async def test_hpack_bomb_ends_with_bounded_memory(start_h2: StartH2) -> None:
    def respond(conn: H2Conn, request: H2Request) -> None:
        # One 4 KiB entry in the dynamic table, then 256 Ki one-byte references to it: 256 KiB
        # on the wire that decode to 1 GiB of header list.
        entry = conn.block([(b":status", b"200"), (b"x-bomb", b"b" * 4000)])
        conn.send(split_block(conn, request.stream_id, entry + b"\xbe" * (256 * 1024)))
        conn.drain(20)

    result, growth, elapsed = await probe(start_h2(attack(respond)))
    assert result[0] == "ClientResponseError" and "broke the HTTP/2 protocol" in str(result[1]), result
    assert elapsed < 10, elapsed
    assert growth < 64, f"peak RSS grew by {growth:.1f} MiB"


async def test_a_header_within_the_limit_is_accepted(start_h2: StartH2) -> None:
    def respond(conn: H2Conn, request: H2Request) -> None:
        block = conn.block([(b":status", b"200")]) + conn.literal(b"x-big", b"b" * 8192)
        conn.send(
            conn.frame(HEADERS, END_HEADERS, request.stream_id, block),
            conn.data(request.stream_id, b"ok", end_stream=True),
        )
        conn.drain(20)

    response, exc, _ = await fetch_h2(start_h2(respond))
    assert exc is None and response is not None, repr(exc)
    assert len(response.headers["x-big"]) == 8192 and response.content == b"ok"


async def test_a_one_mib_header_is_refused(start_h2: StartH2) -> None:
    def respond(conn: H2Conn, request: H2Request) -> None:
        block = conn.block([(b":status", b"200")]) + conn.literal(b"x-huge", b"h" * MiB)
        conn.send(
            split_block(conn, request.stream_id, block), conn.data(request.stream_id, b"ok", end_stream=True)
        )
        conn.drain(20)

    _, exc, elapsed = await fetch_h2(start_h2(respond))
    assert isinstance(exc, ferrofetch.ClientResponseError), repr(exc)
    assert elapsed < 5


async def test_an_endless_body_stops_at_max_body_size_with_bounded_memory(start_h2: StartH2) -> None:
    def respond(conn: H2Conn, request: H2Request) -> None:
        conn.send(conn.headers(request.stream_id, [(b":status", b"200")]))
        chunk = b"e" * FRAME
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and conn.send_data(request.stream_id, chunk, end_stream=False):
            pass

    result, growth, elapsed = await probe(start_h2(attack(respond)), max_body_size=8 * MiB)
    assert result[0] == "BodyTooLargeError", result
    assert elapsed < 10, elapsed
    assert growth < 64, f"peak RSS grew by {growth:.1f} MiB"


# --- floods while a response is pending ---------------------------------------------------------


@pytest.mark.parametrize("kind", ["settings", "ping"])
async def test_control_frame_flood_while_a_response_is_pending(start_h2: StartH2, kind: str) -> None:
    def respond(conn: H2Conn, request: H2Request) -> None:
        if kind == "settings":
            one = conn.frame(SETTINGS, 0, 0, bytes([0, 4, 0, 1, 0, 0]))  # INITIAL_WINDOW_SIZE 65536
        else:
            one = conn.frame(PING, 0, 0, b"pingpong")
        deadline = time.monotonic() + 20
        sent = 0
        while sent < 100_000 and time.monotonic() < deadline and conn.send(one * 1000):
            sent += 1000
        conn.respond(request.stream_id, 200, b"after the flood")
        conn.drain(20)

    server = start_h2(respond)
    response, exc, elapsed = await fetch_h2(server, timeout=10)
    # 100,000 control frames are acknowledged and outlasted: the answer arrives whole.
    assert exc is None and response is not None, repr(exc)
    assert response.content == b"after the flood"
    assert elapsed < 12


# --- resets and GOAWAY --------------------------------------------------------------------------


@pytest.mark.parametrize("code", [INTERNAL_ERROR, REFUSED_STREAM], ids=["INTERNAL_ERROR", "REFUSED_STREAM"])
async def test_every_stream_of_a_batch_reset(start_h2: StartH2, code: int) -> None:
    name = {INTERNAL_ERROR: "INTERNAL_ERROR", REFUSED_STREAM: "REFUSED_STREAM"}[code]

    def respond(conn: H2Conn, request: H2Request) -> None:
        conn.h2.reset_stream(request.stream_id, code)
        conn.flush()

    server = start_h2(respond)
    urls = [server.url_for(f"/{index}") for index in range(100)]
    results, exc, elapsed = await outcome(
        lambda: ferrofetch.fetch_all(urls, http2="force", timeout=10, return_exceptions=True), 30
    )
    assert exc is None and results is not None
    assert len(results) == 100
    for result in results:
        # No response was produced: the request never reached the application (REFUSED_STREAM,
        # retried once, as reqwest does) or it failed (INTERNAL_ERROR). Both are disconnects.
        assert isinstance(result, ferrofetch.ServerDisconnectedError), repr(result)
        assert "HTTP/2" in str(result) and name in str(result), str(result)
    assert elapsed < 20


async def test_goaway_below_the_streams_in_flight(start_h2: StartH2) -> None:
    answered: list[int] = []

    def respond(conn: H2Conn, request: H2Request) -> None:
        if conn.client_goaway:
            return
        if len(conn.requests) < 5 and not answered:
            # Wait for the batch to arrive, then answer the first stream only and tell the client
            # that nothing above it was processed.
            deadline = time.monotonic() + 5
            while len(conn.requests) < 5 and time.monotonic() < deadline:
                conn.read_events(deadline - time.monotonic())
        if not answered:
            first = min(conn.requests)
            answered.append(first)
            conn.send(conn.goaway(first, NO_ERROR))
            conn.respond(first, 200, conn.requests[first].path.encode())
            for request_ in conn.requests.values():
                request_.handed = True
        else:
            ok(conn, request)

    server = start_h2(respond)
    urls = [server.url_for(f"/{index}") for index in range(5)]
    results, exc, elapsed = await outcome(
        lambda: ferrofetch.fetch_all(urls, http2="force", timeout=10, return_exceptions=True), 30
    )
    assert exc is None and results is not None
    # Streams the server never processed are safe to send again, on a new connection.
    for index, result in enumerate(results):
        assert isinstance(result, ferrofetch.Response), repr(result)
        assert result.content == f"/{index}".encode()
    assert server.connections >= 2
    assert elapsed < 20


async def test_goaway_in_the_middle_of_a_body(start_h2: StartH2) -> None:
    def respond(conn: H2Conn, request: H2Request) -> None:
        conn.send(
            conn.headers(request.stream_id, [(b":status", b"200"), (b"content-length", b"100")]),
            conn.data(request.stream_id, b"x" * 10),
            conn.goaway(0, INTERNAL_ERROR),
        )

    _, exc, elapsed = await fetch_h2(start_h2(respond))
    assert isinstance(exc, ferrofetch.ClientPayloadError), repr(exc)
    assert elapsed < 5


# --- stalls -------------------------------------------------------------------------------------


async def test_a_window_stall_on_an_upload_ends_at_the_timeout(start_h2: StartH2) -> None:
    def respond(conn: H2Conn, request: H2Request) -> None:
        conn.drain(20)

    # The server never reads: the upload stops when the initial window (64 KiB) is spent.
    server = start_h2(respond, whole=False, ack_data=False)
    _, exc, elapsed = await fetch_h2(server, method="POST", data=b"u" * MiB, timeout=1.5)
    assert isinstance(exc, ferrofetch.ServerTimeoutError), repr(exc)
    assert elapsed < 5


async def test_a_slow_drip_ends_at_the_timeout(start_h2: StartH2) -> None:
    def respond(conn: H2Conn, request: H2Request) -> None:
        conn.send(conn.headers(request.stream_id, [(b":status", b"200")]))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and conn.send(conn.data(request.stream_id, b"d")):
            if conn.conn.server.stopping.wait(0.2):
                return

    _, exc, elapsed = await fetch_h2(start_h2(respond), timeout=1.5)
    assert isinstance(exc, ferrofetch.ServerTimeoutError), repr(exc)
    assert elapsed < 5


# --- frames where none may be -------------------------------------------------------------------


async def test_data_after_end_stream_does_not_change_the_response(start_h2: StartH2) -> None:
    def respond(conn: H2Conn, request: H2Request) -> None:
        conn.send(
            conn.headers(request.stream_id, [(b":status", b"200"), (b"content-length", b"8")]),
            conn.data(request.stream_id, b"complete", end_stream=True),
            conn.data(request.stream_id, b"smuggled"),
        )
        conn.drain(20)

    server = start_h2(respond)
    response, exc, _ = await fetch_h2(server)
    assert exc is None and response is not None, repr(exc)
    assert response.content == b"complete"


async def test_data_on_an_idle_stream_fails_the_connection(start_h2: StartH2) -> None:
    def respond(conn: H2Conn, request: H2Request) -> None:
        # A stream the client never opened: a connection error (RFC 9113 §5.1, "idle").
        conn.send(conn.data(request.stream_id + 2, b"who asked?"))
        conn.drain(20)

    _, exc, elapsed = await fetch_h2(start_h2(respond))
    assert isinstance(exc, ferrofetch.ClientResponseError), repr(exc)
    assert "broke the HTTP/2 protocol" in str(exc), str(exc)
    assert elapsed < 5


async def test_push_promise_is_refused(start_h2: StartH2) -> None:
    def respond(conn: H2Conn, request: H2Request) -> None:
        # The client said SETTINGS_ENABLE_PUSH = 0: a PUSH_PROMISE is a connection error.
        promised = conn.block([(b":method", b"GET"), (b":scheme", b"http"), (b":path", b"/pushed")])
        payload = (request.stream_id + 1).to_bytes(4, "big") + promised
        conn.send(conn.frame(PUSH_PROMISE, END_HEADERS, request.stream_id, payload))
        conn.respond(request.stream_id, 200, b"after the push")
        conn.drain(20)

    _, exc, elapsed = await fetch_h2(start_h2(respond))
    assert isinstance(exc, ferrofetch.ClientResponseError), repr(exc)
    assert "broke the HTTP/2 protocol" in str(exc), str(exc)
    assert elapsed < 5


@pytest.mark.parametrize(
    "headers",
    [
        [(b"content-length", b"2")],
        [(b":status", b"200"), (b"X-Upper", b"1")],
        [(b":status", b"200"), (b"connection", b"keep-alive")],
        [(b":status", b"200"), (b"transfer-encoding", b"chunked")],
    ],
    ids=["no-status", "upper-case-name", "connection", "transfer-encoding"],
)
async def test_malformed_response_head(start_h2: StartH2, headers: list[tuple[bytes, bytes]]) -> None:
    def respond(conn: H2Conn, request: H2Request) -> None:
        conn.send(
            conn.headers(request.stream_id, headers), conn.data(request.stream_id, b"ok", end_stream=True)
        )
        conn.drain(20)

    _, exc, elapsed = await fetch_h2(start_h2(respond))
    # As a malformed HTTP/1.1 head: ClientResponseError with status 400 (aiohttp's choice).
    assert isinstance(exc, ferrofetch.ClientResponseError), repr(exc)
    assert exc.status == 400
    assert "HTTP/2" in str(exc), str(exc)
    assert elapsed < 5


async def test_a_flood_of_informational_responses(start_h2: StartH2) -> None:
    def respond(conn: H2Conn, request: H2Request) -> None:
        hint = conn.headers(request.stream_id, [(b":status", b"103"), (b"link", b"</s.css>; rel=preload")])
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and conn.send(hint * 1000):
            pass

    _, exc, elapsed = await fetch_h2(start_h2(respond), timeout=1)
    assert isinstance(exc, ferrofetch.ServerTimeoutError), repr(exc)
    assert elapsed < 10, f"the 1 s timeout fired after {elapsed:.1f} s"


OVERSIZED_FRAMES: list[Callable[[H2Conn, int], bytes]] = [
    lambda conn, stream: conn.frame(DATA, 0, stream, b"x" * (FRAME + 1)),
    lambda conn, stream: conn.frame(SETTINGS, 0, 0, b"\x00" * 7),
    lambda conn, stream: conn.frame(PING, 0, 0, b"\x00" * 7),
    lambda conn, stream: conn.frame(WINDOW_UPDATE, 0, stream, b"\x00" * 3),
    lambda conn, stream: conn.frame(GOAWAY, 0, 0, b"\x00" * 4),
]


@pytest.mark.parametrize(
    "frame",
    OVERSIZED_FRAMES,
    ids=["data-over-max-frame-size", "settings-not-6n", "ping-not-8", "window-update-3", "goaway-4"],
)
async def test_frame_size_violations(start_h2: StartH2, frame: Callable[[H2Conn, int], bytes]) -> None:
    def respond(conn: H2Conn, request: H2Request) -> None:
        conn.send(
            conn.headers(request.stream_id, [(b":status", b"200")]),
            frame(conn, request.stream_id),
        )
        conn.drain(20)

    _, exc, elapsed = await fetch_h2(start_h2(respond))
    assert isinstance(exc, ferrofetch.ClientPayloadError), repr(exc)
    assert "HTTP/2" in str(exc), str(exc)
    assert elapsed < 5
