"""Crawl many URLs with one ``fetch_all`` per slice and report what came back.

Failures stay in their slots (``return_exceptions=True``), so one bad URL does not stop the crawl;
slices keep memory bounded however long the list is.

    python examples/crawler.py [BASE_URL] [COUNT]

BASE_URL defaults to ``FERROFETCH_BASE_URL`` or ``http://127.0.0.1:8080`` (``python
examples/serve.py`` serves it); COUNT (default 2000) URLs are made from it, a few of them failing
on purpose.
"""

from __future__ import annotations

import asyncio
import collections
import os
import sys
import time

import ferrofetch

SLICE = 500


def make_urls(base: str, count: int) -> list[str]:
    urls: list[str] = []
    for i in range(count):
        if i % 100 == 99:
            urls.append(f"{base}/status/404?n={i}")
        elif i % 250 == 249:
            urls.append(f"http://127.0.0.1:1/unreachable?n={i}")  # refused: nothing listens on port 1
        else:
            urls.append(f"{base}/bytes/{100 + i % 900}?n={i}")
    return urls


async def crawl(urls: list[str]) -> collections.Counter[str]:
    outcomes: collections.Counter[str] = collections.Counter()
    for start in range(0, len(urls), SLICE):
        results = await ferrofetch.fetch_all(
            urls[start : start + SLICE], concurrency=64, timeout=30, connect_timeout=5, return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                outcomes[type(result).__name__] += 1
            else:
                outcomes[f"HTTP {result.status}"] += 1
                outcomes["bytes"] += len(result.content)
    return outcomes


def main() -> None:
    base = (
        sys.argv[1] if len(sys.argv) > 1 else os.environ.get("FERROFETCH_BASE_URL", "http://127.0.0.1:8080")
    )
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    urls = make_urls(base.rstrip("/"), count)
    started = time.perf_counter()
    outcomes = asyncio.run(crawl(urls))
    elapsed = time.perf_counter() - started
    for outcome, number in sorted(outcomes.items()):
        print(f"{outcome}: {number}")
    print(f"{len(urls)} URLs in {elapsed:.2f} s ({len(urls) / elapsed:,.0f}/s)")


if __name__ == "__main__":
    main()
