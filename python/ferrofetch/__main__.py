"""``python -m ferrofetch demo``: fetch 10,000 URLs from an embedded loopback server.

The server is ferrofetch's own ``LoopbackServer`` (hyper, in its own thread), so nothing leaves
the machine. The batch runs through ``fetch_all`` in slices so progress can be shown; with
aiohttp installed, the same URLs go through aiohttp too for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence

import ferrofetch
import ferrofetch.testing

PROGRESS_WIDTH = 40


def _progress(done: int, total: int) -> None:
    filled = PROGRESS_WIDTH * done // total
    bar = "#" * filled + "." * (PROGRESS_WIDTH - filled)
    sys.stdout.write(f"\r  [{bar}] {done:>7,}/{total:,}")
    sys.stdout.flush()


async def _with_ferrofetch(urls: Sequence[str], concurrency: int, slices: int) -> float:
    step = max(1, len(urls) // slices)
    started = time.perf_counter()
    done = 0
    for start in range(0, len(urls), step):
        responses = await ferrofetch.fetch_all(urls[start : start + step], concurrency=concurrency)
        bad = [r for r in responses if r.status != 200]
        if bad:
            raise SystemExit(f"unexpected response: {bad[0]!r}")
        done += len(responses)
        _progress(done, len(urls))
    elapsed = time.perf_counter() - started
    sys.stdout.write("\n")
    return elapsed


async def _with_aiohttp(urls: Sequence[str], concurrency: int) -> float | None:
    try:
        import aiohttp
    except ImportError:
        return None
    limit = asyncio.Semaphore(concurrency)

    async def one(session: aiohttp.ClientSession, url: str) -> int:
        async with limit, session.get(url) as response:
            await response.read()
            return response.status

    started = time.perf_counter()
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        statuses = await asyncio.gather(*(one(session, u) for u in urls))
    if any(s != 200 for s in statuses):
        raise SystemExit("aiohttp saw an unexpected status")
    return time.perf_counter() - started


async def demo(count: int, concurrency: int, size: int, compare: bool) -> None:
    with ferrofetch.testing.LoopbackServer() as server:
        urls = [f"{server.url}/bytes/{size}?n={i}" for i in range(count)]
        info = ferrofetch.runtime_info()
        print(f"ferrofetch {ferrofetch.__version__}: {count:,} URLs from {server.url} ({size} B bodies)")
        threads = info["worker_threads"]
        print(f"runtime: {info['flavor']}, {threads} worker thread(s); {concurrency} in flight")
        elapsed = await _with_ferrofetch(urls, concurrency, slices=20)
        rate = count / elapsed
        print(f"ferrofetch.fetch_all: {rate:>10,.0f} requests/s  ({elapsed:.2f} s)")
        if compare:
            other = await _with_aiohttp(urls, concurrency)
            if other is None:
                print("aiohttp is not installed: `pip install aiohttp` to compare")
            else:
                print(f"aiohttp (gather):     {count / other:>10,.0f} requests/s  ({other:.2f} s)")
                print(f"ferrofetch is {other / elapsed:.1f}x aiohttp on this run")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ferrofetch")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("demo", help="fetch many URLs from an embedded loopback server")
    run.add_argument("--count", type=int, default=10_000, help="number of URLs (default 10,000)")
    run.add_argument("--concurrency", type=int, default=64, help="requests in flight (default 64)")
    run.add_argument("--size", type=int, default=100, help="body size in bytes (default 100)")
    run.add_argument("--no-compare", action="store_true", help="skip the aiohttp comparison")
    args = parser.parse_args(argv)
    if args.count < 1 or args.concurrency < 1 or args.size < 0:
        parser.error("--count and --concurrency must be positive, --size non-negative")
    asyncio.run(demo(args.count, args.concurrency, args.size, compare=not args.no_compare))


if __name__ == "__main__":
    main()
