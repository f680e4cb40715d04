"""What the session's cookie handling costs, per request and per redirect hop.

    python benchmarks/cookies.py                    # 4,000 requests per mode, 3 rounds
    python benchmarks/cookies.py --requests 2000 --rounds 5

Build ferrofetch in release mode first (``maturin develop --release``, or use the benchmark's
venv: ``benchmarks/.work/venv/bin/python benchmarks/cookies.py``). A ``LoopbackServer`` runs in a
process of its own on 127.0.0.1, so the CPU measured (user + sys of this process, per request)
is the client's alone. 64 requests are in flight. Each round runs every mode, alternately:

- ``session``: ``ClientSession.get`` + ``read()``, no redirect, the default ``CookieJar`` (empty);
- ``session, DummyCookieJar``: the same with cookies off (what the jar costs without cookies);
- ``session, 20 cookies``: the default jar holding 20 cookies for the host, sent on each request;
- ``session, 1 redirect``: ``GET /redirect/1``: the core pauses at the redirect and hands the
  hop to Python (``Redirect.follow``) so that the jar sees its ``Set-Cookie``;
- ``fetch`` and ``fetch, 1 redirect``: the same two requests through ``ferrofetch.fetch``, whose
  redirect is followed inside the core with no crossing into Python.

The marginal CPU of one redirect hop on each API, and their difference, is what a cookie store
in the core (no pause at a redirect) would save at most per hop; the ``DummyCookieJar`` and
``20 cookies`` modes give what the Python jar costs on a request without a redirect.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
from collections.abc import Awaitable, Callable

import ferrofetch
from _loopback import loopback_server
from yarl import URL

IN_FLIGHT = 64


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def run_mode(count: int, one: Callable[[int], Awaitable[int]]) -> float:
    """CPU µs per request of ``count`` calls of ``one``, ``IN_FLIGHT`` at a time."""
    slots = asyncio.Semaphore(IN_FLIGHT)

    async def bounded(i: int) -> int:
        async with slots:
            return await one(i)

    await asyncio.gather(*(bounded(i) for i in range(IN_FLIGHT)))  # warm the pool
    started = cpu_seconds()
    statuses = await asyncio.gather(*(bounded(i) for i in range(count)))
    used = cpu_seconds() - started
    assert all(status == 200 for status in statuses), set(statuses)
    return used / count * 1e6


async def measure(base: str, count: int) -> dict[str, float]:
    results: dict[str, float] = {}

    async def session_mode(
        name: str, path: str, jar: ferrofetch.CookieJar | ferrofetch.DummyCookieJar | None
    ) -> None:
        async with ferrofetch.ClientSession(cookie_jar=jar or ferrofetch.CookieJar()) as session:
            if name.endswith("20 cookies"):
                session.cookie_jar.update_cookies({f"c{i}": f"value{i}" for i in range(20)}, URL(base))

            async def one(i: int) -> int:
                async with session.get(f"{base}{path}?i={i}") as response:
                    await response.read()
                    return response.status

            results[name] = await run_mode(count, one)

    await session_mode("session", "/bytes/100", None)
    await session_mode("session, DummyCookieJar", "/bytes/100", ferrofetch.DummyCookieJar())
    await session_mode("session, 20 cookies", "/bytes/100", None)
    await session_mode("session, 1 redirect", "/redirect/1", None)

    async def fetch_mode(name: str, path: str) -> None:
        async def one(i: int) -> int:
            return (await ferrofetch.fetch(f"{base}{path}?i={i}")).status

        results[name] = await run_mode(count, one)

    await fetch_mode("fetch", "/bytes/100")
    await fetch_mode("fetch, 1 redirect", "/redirect/1")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with loopback_server() as base:
        rounds = [asyncio.run(measure(base, args.requests)) for _ in range(args.rounds)]
    medians = {mode: statistics.median(r[mode] for r in rounds) for mode in rounds[0]}
    print(f"CPU µs per request, median of {args.rounds} rounds of {args.requests} ({IN_FLIGHT} in flight):")
    for mode, value in medians.items():
        print(f"  {mode:<26} {value:7.1f}")
    session_hop = medians["session, 1 redirect"] - medians["session"]
    fetch_hop = medians["fetch, 1 redirect"] - medians["fetch"]
    print(f"one redirect hop: session +{session_hop:.1f} µs, fetch +{fetch_hop:.1f} µs")
    print(f"  the pause for the cookie jar costs at most {session_hop - fetch_hop:.1f} µs per hop")
    jar_cost = medians["session"] - medians["session, DummyCookieJar"]
    print(f"the jar without cookies: {jar_cost:.1f} µs per request")
    print(f"20 cookies sent: +{medians['session, 20 cookies'] - medians['session']:.1f} µs per request")


if __name__ == "__main__":
    main()
