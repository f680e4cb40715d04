"""A body read whole is a ``bytes`` holding exactly the octets sent, whatever its size and however
it arrived: around the sizes where the copy changes strategy (64 KiB: its pages are faulted in
first; 256 KiB: it is copied on the runtime thread) and far above them, with a Content-Length or
chunked, written in pieces that are not multiples of a page, on ``fetch``, ``fetch_all`` and
``ClientSession.read()``."""

from __future__ import annotations

import asyncio

import ferrofetch
import pytest

from tests.servers import StartServer, chunked, http_response, parse_head, read_head

KIB = 1024
SIZES = [
    *(0, 1, 64 * KIB - 1, 64 * KIB, 64 * KIB + 1, 256 * KIB - 1, 256 * KIB, 256 * KIB + 1),
    *(1024 * KIB + 3, 3 * 1024 * KIB + 7),
]
#: Pieces the server writes: prime-sized, so chunk edges never line up with pages.
PIECE = 7919


def payload(size: int) -> bytes:
    """``size`` octets in a pattern that repeats every 251, so a misplaced chunk shows."""
    return (bytes(range(251)) * (size // 251 + 1))[:size]


async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """``GET /<size>/<framing>``: ``payload(size)`` framed by Content-Length or chunked."""
    while head := await read_head(reader):
        _, target, _, _ = parse_head(head)
        _, size_text, framing = target.decode("latin-1").split("/")
        body = payload(int(size_text))
        pieces = [body[at : at + PIECE] for at in range(0, len(body), PIECE)]
        if framing == "length":
            writer.write(http_response(200, b"", length=False).replace(b"\r\n\r\n", b"\r\n", 1))
            writer.write(b"Content-Length: %d\r\n\r\n" % len(body))
            for piece in pieces:
                writer.write(piece)
                await writer.drain()
        else:
            writer.write(http_response(200, b"", [("Transfer-Encoding", "chunked")], length=False))
            for piece in pieces:
                writer.write(chunked(piece)[: -len(b"0\r\n\r\n")])
                await writer.drain()
            writer.write(b"0\r\n\r\n")
        await writer.drain()
    writer.close()


@pytest.fixture
def base(start_server: StartServer) -> str:
    return start_server(serve).url


@pytest.mark.parametrize("framing", ["length", "chunked"])
async def test_every_path_gives_the_exact_bytes(base: str, framing: str) -> None:
    urls = [f"{base}/{size}/{framing}" for size in SIZES]
    async with asyncio.timeout(60):
        batch = [response.content for response in await ferrofetch.fetch_all(urls, concurrency=4)]
        single = [(await ferrofetch.fetch(url)).content for url in urls]
        async with ferrofetch.ClientSession() as session:
            read: list[bytes] = []
            for url in urls:
                async with session.get(url) as response:
                    read.append(await response.read())
    for size, *bodies in zip(SIZES, batch, single, read, strict=True):
        for body in bodies:
            assert type(body) is bytes
            assert len(body) == size
            assert body == payload(size)
