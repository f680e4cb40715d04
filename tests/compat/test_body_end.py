"""When a streamed body says it has ended: ``content.at_eof()`` and ``is_eof()`` are true as soon
as the last byte has been read, with no extra read returning ``b""``, for a chunked body and for
a compressed one as for a plain one.

Each server writes its whole response in one piece and keeps the connection open, so the end of
the body is known from its framing (the last chunk, or the ``Content-Length``) when the head
arrives, not from the connection closing.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import pytest

from tests.servers import RawHandler, RawServer, reply

from .support import same

TEXT = b"".join(b"line %d of a body that compresses well\n" % i for i in range(120))


def _gzip(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    return compressor.compress(data) + compressor.flush()


def _chunked(pieces: list[bytes]) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces) + b"0\r\n\r\n"


GZIP_RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\n"
    b"Content-Length: %d\r\n\r\n" % len(_gzip(TEXT))
) + _gzip(TEXT)
CHUNKED_RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
    + _chunked([TEXT[:1000], TEXT[1000:3000], TEXT[3000:]])
)

BODIES = [
    pytest.param(GZIP_RESPONSE, id="gzip"),
    pytest.param(CHUNKED_RESPONSE, id="chunked"),
]


@pytest.fixture(params=BODIES)
def url(request: pytest.FixtureRequest, raw_server: Callable[[RawHandler], RawServer]) -> str:
    """A server that answers every connection with the response of the parameter."""
    return raw_server(reply(request.param, then="hold")).url + "/body"


async def test_at_eof_once_the_last_byte_is_read(url: str) -> None:
    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session, session.get(url) as resp:
            content = resp.content
            steps: list[Any] = [content.at_eof()]
            data = await content.readexactly(len(TEXT))
            steps += [data == TEXT, content.is_eof(), content.at_eof()]
            steps += [await content.read(), await content.readany(), content.at_eof()]
            return steps

    assert await same(scenario) == [False, True, True, True, b"", b"", True]


async def test_reading_until_at_eof_needs_no_empty_read(url: str) -> None:
    """aiohttp's loop ``while not content.at_eof(): await content.read(n)`` gets no ``b""``."""

    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session, session.get(url) as resp:
            pieces: list[bytes] = []
            while not resp.content.at_eof() and len(pieces) < 1000:
                pieces.append(await resp.content.read(1024))
            return b"".join(pieces) == TEXT, b"" in pieces, resp.closed

    assert await same(scenario) == (True, False, True)


LARGE_TEXT = b"".join(b"line %d of a larger body, decoded past the prefetch limit\n" % i for i in range(6000))
_LARGE_GZIP = _gzip(LARGE_TEXT)
LARGE_GZIP_CHUNKED_RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n"
    + _chunked([_LARGE_GZIP[: len(_LARGE_GZIP) // 2], _LARGE_GZIP[len(_LARGE_GZIP) // 2 :]])
)


async def test_a_large_compressed_chunked_body_ends_without_an_empty_read(
    raw_server: Callable[[RawHandler], RawServer],
) -> None:
    """Over 64 KiB once decoded, so not all taken with the head: the end still shows by the time
    the last bytes are handed out."""
    url = raw_server(reply(LARGE_GZIP_CHUNKED_RESPONSE, then="hold")).url + "/large"
    assert len(LARGE_TEXT) > 3 * 64 * 1024

    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session, session.get(url) as resp:
            pieces: list[bytes] = []
            while not resp.content.at_eof() and len(pieces) < 1000:
                pieces.append(await resp.content.read(65536))
            return b"".join(pieces) == LARGE_TEXT, b"" in pieces

    assert await same(scenario) == (True, False)
