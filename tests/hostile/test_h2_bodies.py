"""HTTP/2 bodies that end early, or carry more or less than they announce.

Over HTTP/2 a body is complete only when END_STREAM arrives. A stream reset before it (whatever
the error code, ``NO_ERROR`` included), a GOAWAY that cuts it, or DATA that does not add up to the
Content-Length is an incomplete body: ``ClientPayloadError`` on every read path, never a short
success. RFC 9113 §8.1 lets a server reset a stream with ``NO_ERROR`` only after a complete
response, to stop the request body: that response is handed out whole.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Awaitable, Callable

import ferrofetch
import pytest

from tests.servers import ClosedByPeer, TlsFiles, outcome

from .h2server import CANCEL, NO_ERROR, H2Conn, H2Request, Respond, StartH2, fetch_h2

MiB = 1 << 20


def cut(code: int | None, *, length: bool = True, end: str = "rst") -> Respond:
    """200 announcing 10 bytes (or nothing), 4 bytes of DATA, then the end the case is about.

    ``end``: "rst" (RST_STREAM with ``code``), "goaway" (GOAWAY with ``NO_ERROR`` and a last
    stream below this one), "fin" (the TCP connection closed) or "tcp-reset" (aborted).
    """

    def respond(conn: H2Conn, request: H2Request) -> None:
        head = [(b":status", b"200")] + ([(b"content-length", b"10")] if length else [])
        frames = [conn.headers(request.stream_id, head), conn.data(request.stream_id, b"part")]
        if end == "rst":
            frames.append(conn.rst(request.stream_id, code or NO_ERROR))
        elif end == "goaway":
            frames.append(conn.goaway(0, NO_ERROR))
        conn.send(*frames)
        if end in {"fin", "tcp-reset"}:
            # After the client has read what was sent: a reset, or a close with unread bytes
            # (which Linux turns into a reset), discards what the client has not read yet.
            time.sleep(0.3)
        if end == "tcp-reset":
            conn.conn.reset()
            raise ClosedByPeer("the case aborts the connection")
        if end == "fin":
            with contextlib.suppress(OSError):
                conn.conn.sock.shutdown(socket.SHUT_WR)
        conn.drain(10)

    return respond


async def _via_fetch(url: str) -> object:
    return await ferrofetch.fetch(url, http2="force", timeout=10)


async def _via_fetch_all(url: str) -> object:
    (result,) = await ferrofetch.fetch_all([url], http2="force", timeout=10, return_exceptions=True)
    if isinstance(result, BaseException):
        raise result
    return result


async def _via_stream(url: str) -> object:
    client = ferrofetch.Client(http2="force")
    try:
        stream = await client.open(url, timeout=10)
        received = b""
        while chunk := await stream.read_chunk():
            received += chunk
        return received
    finally:
        client.close()


async def _via_session_read(url: str) -> object:
    connector = ferrofetch.TCPConnector(http2="force")
    async with ferrofetch.ClientSession(connector=connector) as session:
        async with session.get(url) as response:
            return await response.read()


async def _via_session_content(url: str) -> object:
    connector = ferrofetch.TCPConnector(http2="force")
    async with ferrofetch.ClientSession(connector=connector) as session:
        async with session.get(url) as response:
            received = b""
            while chunk := await response.content.read(3):
                received += chunk
            return received


PATHS: dict[str, Callable[[str], Awaitable[object]]] = {
    "fetch": _via_fetch,
    "fetch_all": _via_fetch_all,
    "Client.open": _via_stream,
    "ClientResponse.read": _via_session_read,
    "ClientResponse.content": _via_session_content,
}


@pytest.mark.parametrize("path", list(PATHS))
async def test_reset_with_no_error_before_end_stream_is_incomplete(start_h2: StartH2, path: str) -> None:
    server = start_h2(cut(NO_ERROR))
    result, exc, elapsed = await outcome(lambda: PATHS[path](server.url), 15)
    assert isinstance(exc, ferrofetch.ClientPayloadError), (result, exc)
    assert "4 of the 10 bytes" in str(exc), str(exc)
    assert elapsed < 5


@pytest.mark.parametrize(
    ("respond", "received"),
    [
        (cut(NO_ERROR, length=False), "4 bytes"),
        (cut(CANCEL), "CANCEL"),
        (cut(None, end="goaway"), "4 of the 10 bytes"),
        (cut(None, length=False, end="goaway"), "4 bytes"),
        (cut(None, end="fin"), "incomplete"),
        (cut(None, end="tcp-reset"), "incomplete"),
    ],
    ids=[
        "no-error-without-length",
        "cancel",
        "goaway-no-error",
        "goaway-no-error-without-length",
        "connection-closed",
        "connection-reset",
    ],
)
@pytest.mark.parametrize("path", ["fetch", "ClientResponse.read"])
async def test_every_early_end_is_incomplete(
    start_h2: StartH2, respond: Respond, received: str, path: str
) -> None:
    server = start_h2(respond)
    result, exc, elapsed = await outcome(lambda: PATHS[path](server.url), 15)
    assert isinstance(exc, ferrofetch.ClientPayloadError), (result, exc)
    assert received in str(exc), str(exc)
    assert elapsed < 5


async def test_a_cut_body_is_incomplete_over_tls_too(certificates: TlsFiles, start_h2: StartH2) -> None:
    # ALPN picks h2 on TLS: the same engine path as cleartext prior knowledge.
    server = start_h2(cut(NO_ERROR), tls=certificates.server_context(alpn=("h2",)))
    result, exc, elapsed = await outcome(
        lambda: ferrofetch.fetch(server.url, ca_bundle=certificates.ca_bundle, timeout=10), 15
    )
    assert isinstance(exc, ferrofetch.ClientPayloadError), (result, exc)
    assert "4 of the 10 bytes" in str(exc), str(exc)
    assert elapsed < 5


async def test_the_same_response_whole_over_tls_says_http2(certificates: TlsFiles, start_h2: StartH2) -> None:
    def respond(conn: H2Conn, request: H2Request) -> None:
        conn.respond(request.stream_id, 200, b"0123456789")

    server = start_h2(respond, tls=certificates.server_context(alpn=("h2",)))
    response, exc, _ = await outcome(
        lambda: ferrofetch.fetch(server.url, ca_bundle=certificates.ca_bundle, timeout=10), 15
    )
    assert exc is None and response is not None, repr(exc)
    assert response.http_version == "HTTP/2" and response.content == b"0123456789"


@pytest.mark.parametrize(("announced", "sent"), [(10, b"four"), (4, b"ten bytes!")], ids=["above", "below"])
async def test_content_length_that_does_not_match_the_data(
    start_h2: StartH2, announced: int, sent: bytes
) -> None:
    def respond(conn: H2Conn, request: H2Request) -> None:
        head = [(b":status", b"200"), (b"content-length", str(announced).encode())]
        conn.send(conn.headers(request.stream_id, head), conn.data(request.stream_id, sent, end_stream=True))
        conn.drain(10)

    for path in PATHS.values():
        server = start_h2(respond)
        result, exc, elapsed = await outcome(lambda: path(server.url), 15)  # noqa: B023
        assert isinstance(exc, ferrofetch.ClientPayloadError), (result, exc)
        assert "Content-Length" in str(exc), str(exc)
        assert elapsed < 5


def _early_answer(conn: H2Conn, request: H2Request) -> None:
    # A complete 413 (END_STREAM), then RST_STREAM(NO_ERROR) to stop the upload (RFC 9113 §8.1).
    conn.respond(request.stream_id, 413, b"too large")
    conn.h2.reset_stream(request.stream_id, NO_ERROR)
    conn.flush()
    conn.drain(10)


async def test_a_complete_answer_then_a_reset_of_the_upload_is_handed_out(start_h2: StartH2) -> None:
    server = start_h2(_early_answer, whole=False, ack_data=False)
    response, exc, elapsed = await fetch_h2(server, method="POST", data=b"u" * MiB)
    assert exc is None and response is not None, repr(exc)
    assert response.status == 413 and response.content == b"too large"
    assert elapsed < 5

    connector = ferrofetch.TCPConnector(http2="force")

    async def session_post() -> tuple[int, bytes]:
        async with ferrofetch.ClientSession(connector=connector) as session:
            async with session.post(server.url, data=b"u" * MiB) as answer:
                return answer.status, await answer.read()

    result, exc, _ = await outcome(session_post, 15)
    assert exc is None, repr(exc)
    assert result == (413, b"too large")


async def test_a_body_over_max_body_size(start_h2: StartH2) -> None:
    def respond(conn: H2Conn, request: H2Request) -> None:
        conn.respond(request.stream_id, 200, b"b" * MiB)

    server = start_h2(respond)
    _, exc, elapsed = await fetch_h2(server, max_body_size=64 * 1024)
    assert isinstance(exc, ferrofetch.BodyTooLargeError), repr(exc)
    assert elapsed < 5
