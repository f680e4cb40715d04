"""Decoding: compression bombs stop at ``max_body_size`` with bounded memory; bad encodings fail cleanly."""

from __future__ import annotations

import os
import zlib

import ferrofetch
import pytest

from ..servers import (
    COMPRESSORS,
    MiB,
    Request,
    StartServer,
    bomb,
    http_response,
    outcome,
    peak_rss_of_fetch,
    reply,
    serve,
)


def _bomb_server(start_server: StartServer, encoding: str, body: bytes) -> str:
    def app(request: Request) -> bytes:
        if request.path.endswith("?warm-up"):
            return http_response(200, b"warm")
        return http_response(200, body, [("Content-Encoding", encoding), ("Content-Type", "text/plain")])

    return start_server(serve(app)).url_for("/bomb")


async def _probe(url: str, limit: str) -> tuple[list[object], float]:
    options = {} if limit == "default" else {"max_body_size": int(limit)}
    probe = await peak_rss_of_fetch(url, warm_url=url + "?warm-up", timeout=50, **options)
    return probe.result, probe.growth


@pytest.mark.parametrize("encoding", ["gzip", "br", "zstd", "deflate"])
async def test_bomb_stops_at_max_body_size_with_bounded_memory(
    start_server: StartServer, encoding: str
) -> None:
    url = _bomb_server(start_server, encoding, bomb(encoding, 256))
    result, growth = await _probe(url, str(8 * MiB))
    assert result[0] == "BodyTooLargeError", result
    # 256 MiB decoded would show; the 8 MiB cap plus buffers and runtime threads must not.
    assert growth < 64, f"peak RSS grew by {growth:.1f} MiB"


async def test_bomb_stops_at_the_default_limit(start_server: StartServer) -> None:
    assert ferrofetch.DEFAULT_MAX_BODY_SIZE == 128 * MiB
    url = _bomb_server(start_server, "gzip", bomb("gzip", 512))
    result, growth = await _probe(url, "default")
    assert result[0] == "BodyTooLargeError", result
    assert growth < 400, f"peak RSS grew by {growth:.1f} MiB"


async def test_more_than_five_codings_are_refused(start_server: StartServer) -> None:
    # urllib3 CVE-2025-66418: "gzip, gzip, ..." must not unwrap layer after layer. A chain of
    # 6 gzip layers around 64 MiB of zeros is a few hundred bytes on the wire.
    body = bomb("gzip", 64)
    for _ in range(5):
        body = zlib.compress(body, 9, wbits=31)
    encodings = ", ".join(["gzip"] * 6)
    server = start_server(reply(http_response(200, body, [("Content-Encoding", encodings)])))
    _, exc, elapsed = await outcome(lambda: ferrofetch.fetch(server.url, timeout=20, max_body_size=16 * MiB))
    assert elapsed < 10.0
    assert isinstance(exc, ferrofetch.ClientPayloadError), repr(exc)
    assert "6 content codings" in str(exc), str(exc)


@pytest.mark.parametrize(
    "header_lines",
    [["gzip, br, zstd, deflate, gzip"], ["gzip, br", "zstd", "deflate,gzip"], ["GZIP,identity", "x-gzip"]],
)
async def test_stacked_codings_up_to_five_are_all_undone_in_order(
    start_server: StartServer, header_lines: list[str]
) -> None:
    original = b"layer upon layer\n" * 2000
    body = original
    for line in header_lines:
        for coding in line.split(","):
            coding = coding.strip().lower()
            if coding != "identity":
                body = COMPRESSORS["gzip" if coding == "x-gzip" else coding](body)
    server = start_server(
        reply(http_response(200, body, [("Content-Encoding", line) for line in header_lines]))
    )
    response, exc, _ = await outcome(lambda: ferrofetch.fetch(server.url, timeout=10))
    assert exc is None, repr(exc)
    assert response is not None and response.content == original
    # The headers stay as the server sent them, as aiohttp keeps them.
    assert response.headers.getall("content-encoding") == header_lines
    assert response.headers["content-length"] == str(len(body))


def _raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


async def test_raw_deflate_is_accepted_as_well_as_zlib(start_server: StartServer) -> None:
    original = b"some servers send deflate without its zlib wrapper\n" * 100
    server = start_server(
        reply(http_response(200, _raw_deflate(original), [("Content-Encoding", "deflate")]))
    )
    response, exc, _ = await outcome(lambda: ferrofetch.fetch(server.url, timeout=10))
    assert exc is None, repr(exc)
    assert response is not None and response.content == original


@pytest.mark.parametrize("method, status", [("GET", 200), ("GET", 204), ("HEAD", 200), ("GET", 304)])
async def test_an_empty_body_labelled_compressed_is_empty(
    start_server: StartServer, method: str, status: int
) -> None:
    head = b"HTTP/1.1 %d X\r\nContent-Encoding: gzip\r\n" % status
    head += b"Content-Length: 0\r\n\r\n" if status == 200 else b"\r\n"
    server = start_server(reply(head))
    response, exc, _ = await outcome(lambda: ferrofetch.fetch(server.url, method=method, timeout=10))
    assert exc is None, repr(exc)
    assert response is not None and response.status == status and response.content == b""


@pytest.mark.parametrize("encoding", ["gzip", "br", "zstd", "deflate"])
async def test_decompress_false_hands_out_the_bytes_on_the_wire(
    start_server: StartServer, encoding: str
) -> None:
    original = b"kept compressed\n" * 300
    body = COMPRESSORS[encoding](original)
    server = start_server(serve(lambda _: http_response(200, body, [("Content-Encoding", encoding)])))
    response, exc, _ = await outcome(lambda: ferrofetch.fetch(server.url, decompress=False, timeout=10))
    assert exc is None and response is not None
    assert response.content == body and response.headers["content-encoding"] == encoding
    client = ferrofetch.Client()
    try:
        stream = await client.open(server.url, decompress=False, timeout=10)
        assert await stream.read_all() == body
        stream = await client.open(server.url, timeout=10)
        assert await stream.read_all() == original
    finally:
        client.close()


async def test_a_bad_layer_inside_a_good_one_is_a_payload_error(start_server: StartServer) -> None:
    body = COMPRESSORS["gzip"](b"this inner layer claims to be brotli")
    server = start_server(reply(http_response(200, body, [("Content-Encoding", "br, gzip")])))
    _, exc, _ = await outcome(lambda: ferrofetch.fetch(server.url, timeout=10))
    assert isinstance(exc, ferrofetch.ClientPayloadError), repr(exc)
    assert "br, gzip" in str(exc), str(exc)


@pytest.mark.parametrize("encoding", ["gzip", "br", "zstd", "deflate"])
async def test_each_encoding_is_decoded(start_server: StartServer, encoding: str) -> None:
    original = b"ferrofetch decodes this transparently\n" * 500
    body = COMPRESSORS[encoding](original)
    server = start_server(reply(http_response(200, body, [("Content-Encoding", encoding)])))
    response, exc, _ = await outcome(lambda: ferrofetch.fetch(server.url, timeout=10))
    assert exc is None and response is not None
    assert response.content == original


async def test_the_client_asks_for_the_encodings_it_decodes(start_server: StartServer) -> None:
    server = start_server(serve(lambda _: http_response(200, b"ok")))
    response, exc, _ = await outcome(lambda: ferrofetch.fetch(server.url, timeout=10))
    assert exc is None and response is not None
    offered = {
        item.strip() for item in (server.requests[0].get("accept-encoding") or b"").decode().split(",")
    }
    assert {"gzip", "br", "zstd", "deflate"} <= offered


@pytest.mark.parametrize("encoding", ["gzip", "br", "zstd", "deflate"])
async def test_wrong_content_encoding_is_a_payload_error(start_server: StartServer, encoding: str) -> None:
    plain = b"this body claims to be compressed and is not\n" * 20
    server = start_server(reply(http_response(200, plain, [("Content-Encoding", encoding)])))
    _, exc, _ = await outcome(lambda: ferrofetch.fetch(server.url, timeout=10))
    assert isinstance(exc, ferrofetch.ClientPayloadError), repr(exc)


@pytest.mark.parametrize("encoding", ["gzip", "br", "zstd", "deflate"])
async def test_truncated_compressed_body_is_a_payload_error(start_server: StartServer, encoding: str) -> None:
    body = COMPRESSORS[encoding](os.urandom(50_000).hex().encode())
    server = start_server(reply(http_response(200, body[: len(body) // 2], [("Content-Encoding", encoding)])))
    _, exc, _ = await outcome(lambda: ferrofetch.fetch(server.url, timeout=10))
    assert isinstance(exc, ferrofetch.ClientPayloadError), repr(exc)


async def test_unknown_content_encoding_is_passed_through(start_server: StartServer) -> None:
    server = start_server(reply(http_response(200, b"opaque", [("Content-Encoding", "x-custom")])))
    response, exc, _ = await outcome(lambda: ferrofetch.fetch(server.url, timeout=10))
    assert exc is None and response is not None
    assert response.content == b"opaque"


async def test_max_body_size_boundary(start_server: StartServer) -> None:
    server = start_server(serve(lambda request: http_response(200, b"x" * int(request.path.strip("/")))))
    exact, exc, _ = await outcome(
        lambda: ferrofetch.fetch(server.url_for("/1000"), max_body_size=1000, timeout=10)
    )
    assert exc is None and exact is not None and len(exact.content) == 1000
    _, exc, _ = await outcome(
        lambda: ferrofetch.fetch(server.url_for("/1001"), max_body_size=1000, timeout=10)
    )
    assert isinstance(exc, ferrofetch.BodyTooLargeError), repr(exc)
    assert isinstance(exc, ferrofetch.ClientPayloadError)
    unlimited, exc, _ = await outcome(
        lambda: ferrofetch.fetch(server.url_for("/2000000"), max_body_size=None, timeout=10)
    )
    assert exc is None and unlimited is not None and len(unlimited.content) == 2_000_000


async def test_max_body_size_applies_to_chunked_bodies(start_server: StartServer) -> None:
    def body() -> bytes:
        piece = b"c" * 10_000
        return b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for _ in range(100)) + b"0\r\n\r\n"

    raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body()
    server = start_server(reply(raw))
    _, exc, _ = await outcome(lambda: ferrofetch.fetch(server.url, max_body_size=50_000, timeout=10))
    assert isinstance(exc, ferrofetch.BodyTooLargeError), repr(exc)


async def test_invalid_utf8_text_is_replaced(start_server: StartServer) -> None:
    body = b"caf\xc3\xa9 \xff\xfe broken \xc3"
    server = start_server(reply(http_response(200, body, [("Content-Type", "text/plain; charset=utf-8")])))
    response, exc, _ = await outcome(lambda: ferrofetch.fetch(server.url, timeout=10))
    assert exc is None and response is not None
    assert response.content == body
    assert response.text == body.decode("utf-8", errors="replace")


async def test_text_follows_the_declared_charset(start_server: StartServer) -> None:
    body = "déjà vu".encode("latin-1")
    server = start_server(
        reply(http_response(200, body, [("Content-Type", "text/plain; charset=ISO-8859-1")]))
    )
    response, exc, _ = await outcome(lambda: ferrofetch.fetch(server.url, timeout=10))
    assert exc is None and response is not None
    assert response.text == "déjà vu"


async def test_unknown_charset_falls_back_to_utf8(start_server: StartServer) -> None:
    body = "naïve".encode() + b"\xff"
    server = start_server(reply(http_response(200, body, [("Content-Type", "text/plain; charset=no-such")])))
    response, exc, _ = await outcome(lambda: ferrofetch.fetch(server.url, timeout=10))
    assert exc is None and response is not None
    assert response.text == "naïve\ufffd"


async def test_session_text_follows_the_errors_argument(start_server: StartServer) -> None:
    session_class = getattr(ferrofetch, "ClientSession", None)
    if session_class is None:
        pytest.skip("ferrofetch.ClientSession is not available yet")
    body = b"ok \xff end"
    server = start_server(
        serve(lambda _: http_response(200, body, [("Content-Type", "text/plain; charset=utf-8")]))
    )
    async with session_class() as session:
        async with session.get(server.url) as response:
            assert await response.text(errors="replace") == "ok \ufffd end"
            assert await response.text(errors="ignore") == "ok  end"
            with pytest.raises(UnicodeDecodeError):
                await response.text(errors="strict")
