"""Shared driver for the benchmark's client processes (one process per client run).

Each ``clients/<name>.py`` defines a ``Client`` class with an async ``get(url)`` returning the
library's own result for one request (its response object, with the body read), a ``check(result)``
giving ``(status, body_length)`` for verification, and optionally an async ``batch(urls, limit)``
when the library has a batch API of its own. This module runs the workload named on the command
line and prints one JSON object on stdout.

Measured inside the process, around the timed part only (connections are warmed up first):
wall time, CPU time (user+sys of the whole process, all threads, from ``resource.getrusage``),
and peak RSS of the process (``ru_maxrss``, which includes the interpreter and the imports).
Every response is checked afterwards (status 200 and exact body length), outside the timing.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import resource
import ssl
import sys
import time
import traceback
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

IMPORT_SECONDS: dict[str, float] = {}


def timed_import(name: str) -> Any:
    """Import a module and record how long the first import took."""
    t0 = time.perf_counter()
    mod = importlib.import_module(name)
    IMPORT_SECONDS[name] = time.perf_counter() - t0
    return mod


def version_of(dist: str) -> str:
    try:
        from importlib.metadata import version

        return version(dist)
    except Exception:
        return "?"


class Unavailable(Exception):
    """Raised by a client whose library (or the API it needs) is missing."""


class BaseClient:
    #: distribution name whose version is reported
    dist = ""
    #: how requests are issued (shown in the README / table notes)
    style = ""
    #: PEM file of the certificate authority to trust for an ``https`` workload (``--ca``); set by
    #: ``main`` before ``__aenter__``. None for plain HTTP. A client must verify against it; one that
    #: cannot take a CA bundle raises :class:`Unavailable` instead of turning verification off.
    ca: str | None = None

    def ssl_context(self) -> ssl.SSLContext:
        """The standard library's default client context, trusting ``ca`` (certificate and host
        name verified)."""
        return ssl.create_default_context(cafile=self.ca)

    def ca_pem(self) -> bytes:
        """The bytes of the ``ca`` PEM file, for clients that take certificates rather than a path."""
        assert self.ca is not None
        with open(self.ca, "rb") as handle:
            return handle.read()

    async def __aenter__(self) -> BaseClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def get(self, url: str) -> Any:
        raise NotImplementedError

    def check(self, result: Any) -> tuple[int, int]:
        raise NotImplementedError

    batch: Callable[[list[str], int], Awaitable[list[Any]]] | None = None

    def info(self) -> dict[str, Any]:
        """Anything worth recording about the client's configuration (runtime flavour, ...)."""
        return {}


async def gather_limited(get: Callable[[str], Awaitable[Any]], urls: Iterable[str], limit: int) -> list[Any]:
    """The common idiom: one task per URL under ``asyncio.gather``, a semaphore bounding in-flight ones."""
    sem = asyncio.Semaphore(limit)

    async def one(url: str) -> Any:
        async with sem:
            return await get(url)

    return await asyncio.gather(*(one(u) for u in urls))


async def workers_limited(get: Callable[[str], Awaitable[Any]], urls: list[str], limit: int) -> list[Any]:
    """Alternative driver (``--driver workers``): ``limit`` long-lived tasks pulling URLs by index."""
    results: list[Any] = [None] * len(urls)
    it = iter(range(len(urls)))

    async def worker() -> None:
        for i in it:
            results[i] = await get(urls[i])

    await asyncio.gather(*(worker() for _ in range(min(limit, len(urls)))))
    return results


def cpu_seconds() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = (len(sorted_values) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


async def run_workload(client: BaseClient, args: argparse.Namespace) -> dict[str, Any]:
    tag = args.tag
    urls = [f"{args.url}?r={tag}-{i}" for i in range(args.n)]
    warm = [f"{args.url}?w={tag}-{i}" for i in range(args.warmup)]
    driver = workers_limited if args.driver == "workers" else gather_limited
    out: dict[str, Any] = {}
    batch = client.batch

    async def many(us: list[str]) -> list[Any]:
        if batch is not None:
            return await batch(us, args.concurrency)
        return await driver(client.get, us, args.concurrency)

    if args.sequential:
        for u in warm:
            client.check(await client.get(u))
        lat: list[float] = []
        results: list[Any] = []
        c0, t0 = cpu_seconds(), time.perf_counter()
        for u in urls:
            s = time.perf_counter()
            r = await client.get(u)
            lat.append(time.perf_counter() - s)
            results.append(r)
        elapsed, cpu = time.perf_counter() - t0, cpu_seconds() - c0
        lat.sort()
        out["p50_ms"] = percentile(lat, 0.50) * 1e3
        out["p99_ms"] = percentile(lat, 0.99) * 1e3
    else:
        if warm:
            for r in await many(warm):
                client.check(r)
        c0, t0 = cpu_seconds(), time.perf_counter()
        results = await many(urls)
        elapsed, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    if len(results) != len(urls):
        raise RuntimeError(f"{len(results)} results for {len(urls)} URLs")
    total = 0
    for r in results:
        status, size = client.check(r)
        if status != 200 or size != args.size:
            raise RuntimeError(f"bad response: status {status}, {size} bytes (expected 200, {args.size})")
        total += size
    # peak RSS is taken while the results are still alive (the memory workload keeps them all)
    maxrss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    del results
    out.update(
        ok=True,
        n=len(urls),
        elapsed_s=elapsed,
        cpu_s=cpu,
        bytes=total,
        rps=len(urls) / elapsed,
        mbps=total / elapsed / 1e6,
        cpu_us_per_req=cpu / len(urls) * 1e6,
        maxrss_mib=maxrss_kib / 1024,
    )
    return out


def main(make_client: Callable[[], BaseClient]) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True, help="URL of the static file (a query string is appended)")
    p.add_argument("--size", type=int, required=True, help="expected body size in bytes")
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--sequential", action="store_true", help="one request at a time, record latency")
    p.add_argument("--warmup", type=int, default=64)
    p.add_argument("--tag", default=str(os.getpid()))
    p.add_argument("--driver", choices=["gather", "workers"], default="gather")
    p.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    p.add_argument("--ca", default=None, help="PEM of the CA that signed the https server's certificate")
    args = p.parse_args()

    result: dict[str, Any]
    try:
        client = make_client()
        client.ca = args.ca

        async def go() -> dict[str, Any]:
            async with client:
                return await run_workload(client, args)

        if args.loop == "uvloop":
            import uvloop

            result = uvloop.run(go())
        else:
            result = asyncio.run(go())
        result["version"] = version_of(client.dist) if client.dist else "?"
        result["info"] = client.info()
        result["import_s"] = sum(IMPORT_SECONDS.values())
    except Unavailable as e:
        result = {"ok": False, "unavailable": True, "error": str(e)}
    except BaseException as e:  # report, never crash the orchestrator's parsing
        tb = traceback.format_exc(limit=3)
        result = {"ok": False, "error": f"{type(e).__name__}: {e}", "traceback": tb[-1500:]}
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    # Skip interpreter teardown: some native runtimes are slow (or crash) at exit, which is not what
    # is measured here. The parent reads the JSON line above.
    os._exit(0)
