"""A 256 MiB body read with ``iter_chunked`` never sits in memory: the reading process's peak RSS
stays under 64 MiB above its baseline. The client runs in a fresh interpreter (so the peak is its
own); the server, here, writes the body in 64 KiB pieces as the socket takes them."""

from __future__ import annotations

import asyncio
import json
import zlib
from collections.abc import Callable
from typing import Any

from tests.servers import RawServer, read_head, run_python

SIZE = 256 * 1024 * 1024
PIECE = bytes(range(256)) * 256  # 64 KiB
MIB = 1024 * 1024

CLIENT = """
import asyncio
import json
import resource
import sys
import zlib

from ferrofetch.client import ClientSession

url = sys.argv[1]


def peak_rss() -> int:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


async def stream(session, size):
    crc, total = 0, 0
    async with session.get(f"{url}/{size}") as resp:
        async for piece in resp.content.iter_chunked(64 * 1024):
            crc = zlib.crc32(piece, crc)
            total += len(piece)
    return total, crc


async def main():
    async with ClientSession() as session:
        # Warm up: runtime threads, the pool, the first buffers all exist before the baseline.
        await stream(session, 8 * 1024 * 1024)
        baseline = peak_rss()
        total, crc = await stream(session, int(sys.argv[2]))
        print(json.dumps({"baseline": baseline, "peak": peak_rss(), "total": total, "crc": crc}))


asyncio.run(main())
"""


async def _serve_pattern(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        head = await read_head(reader)
        if not head:
            return
        size = int(head.split(b" ", 2)[1].rsplit(b"/", 1)[1])
        reply_head = (
            f"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {size}\r\n\r\n"
        )
        writer.write(reply_head.encode())
        whole, rest = divmod(size, len(PIECE))
        for _ in range(whole):
            writer.write(PIECE)
            await writer.drain()
        writer.write(PIECE[:rest])
        await writer.drain()


def _expected_crc(size: int) -> int:
    crc = 0
    whole, rest = divmod(size, len(PIECE))
    for _ in range(whole):
        crc = zlib.crc32(PIECE, crc)
    return zlib.crc32(PIECE[:rest], crc)


def test_256_mib_streamed_in_bounded_memory(raw_server: Callable[..., RawServer]) -> None:
    server = raw_server(_serve_pattern)
    process = run_python(CLIENT, args=(server.url, str(SIZE)), timeout=55)
    assert process.returncode == 0, process.stderr
    report: dict[str, Any] = json.loads(process.stdout)
    assert report["total"] == SIZE
    assert report["crc"] == _expected_crc(SIZE)
    grown = report["peak"] - report["baseline"]
    assert grown < 64 * MIB, f"peak RSS grew by {grown / MIB:.1f} MiB while streaming 256 MiB"
