"""Per-worker throughput of ``ferrofetch.dask`` against a single-process ``fetch_all``.

    python benchmarks/dask_throughput.py                 # 50,000 URLs, 3 rounds
    python benchmarks/dask_throughput.py --urls 20000 --rounds 1

Needs the ``dask`` extra (``maturin develop --release --extras dask``, or ``pip install
'.[dask]'``). A ``LoopbackServer`` runs in a process of its own on 127.0.0.1; every URL is
distinct (``/bytes/100?i=N``). Each round runs, alternately:

- ``fetch_all``: one ``asyncio.run(ferrofetch.fetch_all(urls, concurrency=C))`` in this process;
- ``records``: the same in this process, with the records ``fetch_bag`` makes built from the
  responses (what the cluster does per URL, without Dask);
- ``dask 1 worker``: ``fetch_bag(urls, ...).count()`` on a ``LocalCluster`` of 1 worker process
  with 1 thread (records built on the worker, as when writing Parquet, only the count returned);
- ``dask 2 workers``: the same on 2 worker processes.

It prints, per mode, the median wall-clock rate (URLs/s), the CPU seconds the fetching processes
used, and URLs per CPU-second (the cost model's "per core" figure), plus the ratio of the
1-worker rate to ``fetch_all``'s. Only 127.0.0.1 is used.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from typing import Any

import ferrofetch
import ferrofetch.dask as ffd
from _loopback import loopback_server
from distributed import Client, LocalCluster


def single_process(urls: list[str], concurrency: int) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    results = asyncio.run(ferrofetch.fetch_all(urls, concurrency=concurrency, return_exceptions=True))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    failed = sum(isinstance(r, BaseException) for r in results)
    if failed:
        raise SystemExit(f"fetch_all: {failed} of {len(urls)} requests failed")
    return wall, cpu


def records_in_process(urls: list[str], args: argparse.Namespace) -> tuple[float, float]:
    from ferrofetch.dask import _fetch_partitions

    cpu, wall = time.process_time(), time.perf_counter()
    records = _fetch_partitions(
        [list(enumerate(urls))], keep_body=True, options={"concurrency": args.concurrency, "timeout": 60}
    )
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    failed = sum(record["status"] != 200 for record in records)
    if failed:
        raise SystemExit(f"records: {failed} of {len(urls)} requests failed")
    return wall, cpu


def on_cluster(client: Client, urls: list[str], args: argparse.Namespace) -> tuple[float, float]:
    bag = ffd.fetch_bag(
        urls,
        partition_size=args.partition_size,
        concurrency=args.concurrency,
        keep_body=True,
        timeout=60,
    )
    ok = bag.filter(lambda record: record["status"] == 200).count()
    cpu_before = sum(client.run(time.process_time).values())
    wall = time.perf_counter()
    count = client.compute(ok).result(timeout=600)
    wall = time.perf_counter() - wall
    cpu = sum(client.run(time.process_time).values()) - cpu_before
    if count != len(urls):
        raise SystemExit(f"dask: {len(urls) - count} of {len(urls)} requests failed")
    return wall, cpu


def cluster(workers: int) -> tuple[LocalCluster, Client]:
    local = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        worker_dashboard_address=None,
        silence_logs=40,
    )
    client = Client(local, timeout=60)
    client.wait_for_workers(workers, timeout=60)
    return local, client


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--urls", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--partition-size", type=int, default=5_000)
    args = parser.parse_args()

    with loopback_server() as base:
        urls = [f"{base}/bytes/100?i={i}" for i in range(args.urls)]
        clusters = {"dask 1 worker": cluster(1), "dask 2 workers": cluster(2)}
        for _, client in clusters.values():  # each worker starts its runtime and pool
            on_cluster(client, urls[: args.partition_size * 2], args)
        single_process(urls[:1000], args.concurrency)

        runs: dict[str, list[tuple[float, float]]] = {
            "fetch_all": [],
            "records": [],
            **{name: [] for name in clusters},
        }
        for number in range(args.rounds):
            runs["fetch_all"].append(single_process(urls, args.concurrency))
            runs["records"].append(records_in_process(urls, args))
            for name, (_, client) in clusters.items():
                runs[name].append(on_cluster(client, urls, args))
            print(f"round {number + 1}/{args.rounds} done", file=sys.stderr)
        for local, client in clusters.values():
            client.close()
            local.close()

    report(runs, args)


def report(runs: dict[str, list[tuple[float, float]]], args: Any) -> None:
    print(
        f"{args.urls:,} URLs x 100 B, concurrency {args.concurrency}, "
        f"partitions of {args.partition_size:,}, median of {args.rounds}"
    )
    print(f"{'mode':<16} {'URLs/s':>10} {'CPU s':>8} {'URLs per CPU-s':>15}")
    rates: dict[str, float] = {}
    for name, samples in runs.items():
        wall = statistics.median(w for w, _ in samples)
        cpu = statistics.median(c for _, c in samples)
        rates[name] = args.urls / wall
        print(f"{name:<16} {rates[name]:>10,.0f} {cpu:>8.2f} {args.urls / cpu:>15,.0f}")
    for base in ("fetch_all", "records"):
        print(f"dask 1 worker / {base}: {rates['dask 1 worker'] / rates[base]:.2f}x")


if __name__ == "__main__":
    main()
