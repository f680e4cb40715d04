"""300 kept bodies of 1 MiB cost at most 1.5 times their bytes in peak RSS, on every path that
reads a body whole: ``fetch_all``, ``fetch`` under ``asyncio.gather`` (64 in flight) and
``ClientSession`` ``get`` + ``read()``. Each path runs in a fresh interpreter, so the peak is its
own; the server runs here, so its buffers are not counted."""

from __future__ import annotations

import json
from typing import Any

import ferrofetch.testing
import pytest

from tests.servers import run_python

MIB = 1024 * 1024
COUNT = 300
IN_FLIGHT = 64

CLIENT = """
import asyncio
import json
import resource
import sys

import ferrofetch

url, count, in_flight, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]


def peak_rss():
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


async def keep_all(session):
    urls = [url] * count
    if path == "fetch_all":
        return [r.content for r in await ferrofetch.fetch_all(urls, concurrency=in_flight)]
    slots = asyncio.Semaphore(in_flight)

    async def one(u):
        async with slots:
            if path == "fetch":
                return (await ferrofetch.fetch(u)).content
            async with session.get(u) as resp:
                return await resp.read()

    return await asyncio.gather(*(one(u) for u in urls))


async def main():
    async with ferrofetch.ClientSession() as session:
        # Warm up: runtime threads, both pools and their first buffers exist before the baseline.
        await ferrofetch.fetch_all([url] * 4)
        async with session.get(url) as resp:
            await resp.read()
        baseline = peak_rss()
        kept = await keep_all(session)
        peak = peak_rss()
    print(json.dumps({"baseline": baseline, "peak": peak, "kept": sum(map(len, kept)), "n": len(kept)}))


asyncio.run(main())
"""


@pytest.mark.parametrize("path", ["fetch_all", "fetch", "session"])
def test_kept_bodies_peak_below_one_and_a_half_times_their_bytes(
    loopback_server: ferrofetch.testing.LoopbackServer, path: str
) -> None:
    url = f"{loopback_server.url}/bytes/{MIB}"
    process = run_python(CLIENT, args=(url, str(COUNT), str(IN_FLIGHT), path), timeout=60)
    assert process.returncode == 0, process.stderr
    report: dict[str, Any] = json.loads(process.stdout)
    assert report["n"] == COUNT
    assert report["kept"] == COUNT * MIB
    grown = report["peak"] - report["baseline"]
    assert grown <= 1.5 * report["kept"], (
        f"{path}: peak RSS grew by {grown / MIB:.0f} MiB for {report['kept'] / MIB:.0f} MiB kept"
    )
