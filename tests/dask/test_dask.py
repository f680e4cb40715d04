"""``ferrofetch.dask`` on a two-process ``LocalCluster`` against loopback servers."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path
from typing import Any

import ferrofetch
import ferrofetch.dask as ffd
import ferrofetch.testing
import pytest
from distributed import Client, futures_of, wait

from tests.servers import HttpServer, refused_url, run_python

BULK = 20_000


def expected_body(index: int) -> bytes:
    """What the LoopbackServer answers to ``/bytes/{index % 64}``."""
    return b"x" * (index % 64)


def bulk_urls(base: str, n: int, tag: str) -> list[str]:
    return [f"{base}/bytes/{i % 64}?{tag}={i}" for i in range(n)]


def test_the_runtime_starts_in_each_worker_on_its_first_task(
    dask_client: Client, loopback_server: ferrofetch.testing.LoopbackServer
) -> None:
    if any(info["started"] for info in dask_client.run(ferrofetch.runtime_info).values()):
        dask_client.restart(timeout=60)
    assert not any(info["started"] for info in dask_client.run(ferrofetch.runtime_info).values())
    bag = ffd.fetch_bag(bulk_urls(loopback_server.url, 40, "lazy"), npartitions=8, timeout=30)
    futures = futures_of(dask_client.persist(bag))
    wait(futures, timeout=60)
    assert [r["status"] for f in futures for r in f.result()] == [200] * 40
    # Each process that ran a task started its own runtime; none travelled with the graph.
    ran = {addr for addrs in dask_client.who_has(futures).values() for addr in addrs}
    assert ran, "no task ran on a worker"
    workers = dask_client.run(ferrofetch.runtime_info)
    assert all(workers[addr]["started"] for addr in ran)


@pytest.mark.timeout(180)
def test_20000_urls_match_a_single_process_fetch_all(
    dask_client: Client, loopback_server: ferrofetch.testing.LoopbackServer
) -> None:
    urls = [*bulk_urls(loopback_server.url, BULK, "bulk"), refused_url(), "ftp://example.invalid/"]
    local = asyncio.run(ferrofetch.fetch_all(urls, return_exceptions=True, timeout=30))
    bag = ffd.fetch_bag(urls, partition_size=2000, concurrency=64, timeout=30)
    records = dask_client.compute(bag).result(timeout=150)

    assert [r["index"] for r in records] == list(range(len(urls)))
    assert [r["url"] for r in records] == urls
    for record, single in zip(records, local):
        if isinstance(single, BaseException):
            assert record["status"] is None
            assert record["error"] == type(single).__name__
            assert record["error_message"] == str(single)
        else:
            assert (record["status"], record["body"]) == (single.status, single.content)
            assert record["body_length"] == len(single.content)
            assert record["error"] is None
    assert records[BULK - 1]["body"] == expected_body(BULK - 1)
    first = local[0]
    assert isinstance(first, ferrofetch.Response)
    assert [name for name, _ in records[0]["headers"]] == list(first.headers.keys())
    assert dict(records[0]["headers"])["content-length"] == first.headers["Content-Length"]
    assert [r["error"] for r in records[BULK:]] == ["ClientConnectorError", "NonHttpUrlClientError"]


@pytest.mark.timeout(180)
def test_a_worker_killed_mid_run_still_yields_every_url_exactly_once(
    dask_client: Client, loopback_server: ferrofetch.testing.LoopbackServer
) -> None:
    n = 8000
    urls = bulk_urls(loopback_server.url, n, "kill")
    served_before = loopback_server.requests_served
    bag = ffd.fetch_bag(urls, partition_size=100, concurrency=16, timeout=30)
    futures = dask_client.compute(bag.to_delayed())
    wait(futures, timeout=90, return_when="FIRST_COMPLETED")
    holders = dask_client.who_has([f for f in futures if f.done()])
    victim = next(addr for addrs in holders.values() for addr in addrs)
    pids = dask_client.run(os.getpid)
    assert not all(f.done() for f in futures), "the job finished before the kill; make it longer"
    os.kill(pids[victim], signal.SIGKILL)

    records = [record for future in futures for record in future.result(timeout=150)]
    assert sorted(r["index"] for r in records) == list(range(n))
    assert [r["index"] for r in records] == list(range(n))
    assert all(r["status"] == 200 and r["body"] == expected_body(r["index"]) for r in records)
    # The killed worker's finished partitions were fetched a second time: the kill cost work.
    assert loopback_server.requests_served - served_before > n
    dask_client.wait_for_workers(2, timeout=60)
    assert pids[victim] not in dask_client.run(os.getpid).values()


def test_parquet_output_reads_back_equal(
    dask_client: Client, loopback_server: ferrofetch.testing.LoopbackServer, tmp_path: Path
) -> None:
    import dask.dataframe as dd
    import pyarrow.parquet as pq

    urls = [*bulk_urls(loopback_server.url, 3000, "parquet"), refused_url()]
    bag = ffd.fetch_bag(urls, partition_size=500, timeout=30).persist()
    records = dask_client.compute(bag).result(timeout=60)
    ffd.to_parquet(bag, str(tmp_path / "out"))

    table = pq.read_table(tmp_path / "out")
    assert table.schema.remove_metadata() == ffd.SCHEMA
    assert sorted(table.to_pylist(), key=lambda row: row["index"]) == records
    frame = dd.read_parquet(str(tmp_path / "out")).compute()
    assert len(frame) == len(urls)
    assert frame["status"].isna().sum() == 1


def test_fetch_dataframe_has_the_documented_columns(
    dask_client: Client, loopback_server: ferrofetch.testing.LoopbackServer
) -> None:
    urls = [*bulk_urls(loopback_server.url, 300, "frame"), refused_url()]
    frame = ffd.fetch_dataframe(urls, npartitions=3, keep_body=False, timeout=30)
    result = dask_client.compute(frame).result(timeout=60).sort_values("index")
    assert list(result.columns) == ffd.SCHEMA.names
    assert result["body"].isna().all()
    assert list(result["body_length"][:300]) == [i % 64 for i in range(300)]
    assert str(result["status"].dtype) == "Int64"
    assert result["error"].iloc[-1] == "ClientConnectorError"


def test_by_host_keeps_a_hosts_limit_across_the_cluster(
    dask_client: Client, loopback_server: ferrofetch.testing.LoopbackServer, http_server: HttpServer
) -> None:
    # Slow URLs of one host spread among fast ones of another: split in order, each of the
    # two workers runs a partition holding slow URLs at once, and the host sees both workers.
    def urls() -> list[str]:
        return [
            f"{http_server.url}/slow?delay=0.4&i={i}" if i % 25 == 0 else f"{loopback_server.url}/?i={i}"
            for i in range(400)
        ]

    def run(**how: Any) -> int:
        http_server.stats.max_in_flight = 0
        bag = ffd.fetch_bag(urls(), npartitions=2, limit_per_host=2, timeout=30, **how)
        records = dask_client.compute(bag).result(timeout=60)
        assert [r["status"] for r in records] == [200] * 400
        return http_server.stats.max_in_flight

    assert run() > 2, "the control run never had two workers on the slow host at once"
    assert run(by_host=True) <= 2


def test_partition_by_host_puts_each_host_in_one_partition() -> None:
    urls = [f"http://host{i % 7}.test:{8000 + i % 2}/{i}" for i in range(700)]
    partitions = ffd.partition_by_host(urls, 4)
    assert len(partitions) == 4
    assert sorted(index for part in partitions for index, _ in part) == list(range(700))
    homes: dict[Any, set[int]] = {}
    for number, part in enumerate(partitions):
        assert [index for index, _ in part] == sorted(index for index, _ in part)
        for index, url in part:
            assert urls[index] == url
            homes.setdefault(ffd.endpoint(url), set()).add(number)
    assert len(homes) == 14 and all(len(numbers) == 1 for numbers in homes.values())
    sizes = sorted(len(part) for part in partitions)
    assert sizes[-1] - sizes[0] <= 50  # 14 hosts of 50 URLs over 4 partitions: 150 to 200
    by_name = ffd.partition_by_host(urls, 10, key=lambda url: url.split(":")[1])
    assert len(by_name) == 7
    assert ffd.partition_by_host(["http://a/"], 5) == [[(0, "http://a/")]]
    assert ffd.endpoint("https://EXAMPLE.test/x") == ("example.test", 443)
    assert ffd.endpoint("http://[::1") == ("", None)
    with pytest.raises(ValueError, match="npartitions"):
        ffd.partition_by_host(urls, 0)


def test_header_values_are_text_as_in_response_headers() -> None:
    raw = ((b"x-utf8", "café".encode()), (b"x-latin1", "café".encode("latin-1")))
    assert ffd._header_pairs(raw) == [("x-utf8", "café"), ("x-latin1", "café")]


def test_options_must_pickle_and_failures_are_always_recorded() -> None:
    with pytest.raises(TypeError, match="pickle"):
        ffd.fetch_bag(["http://127.0.0.1/"], headers={"x": lambda: None})
    with pytest.raises(TypeError, match="return_exceptions"):
        ffd.fetch_bag(["http://127.0.0.1/"], return_exceptions=False)
    assert ffd.fetch_bag([]).compute(scheduler="sync") == []


def test_an_unknown_option_fails_the_computation(dask_client: Client) -> None:
    bag = ffd.fetch_bag([refused_url()], timeuot=3)
    with pytest.raises(TypeError, match="timeuot"):
        dask_client.compute(bag).result(timeout=60)


def test_importing_ferrofetch_does_not_import_dask() -> None:
    process = run_python(
        "import sys, ferrofetch\n"
        "assert 'dask' not in sys.modules and 'pandas' not in sys.modules, sorted(sys.modules)\n"
    )
    assert process.returncode == 0, process.stderr


def test_without_the_extra_the_import_error_names_it() -> None:
    process = run_python(
        "import sys\n"
        "sys.modules['dask'] = None\n"
        "try:\n"
        "    import ferrofetch.dask\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    assert process.returncode == 0, process.stderr
    assert "pip install 'ferrofetch[dask]'" in process.stdout


def test_elapsed_is_seconds(dask_client: Client, http_server: HttpServer) -> None:
    started = time.perf_counter()
    bag = ffd.fetch_bag([f"{http_server.url}/slow?delay=0.3"], timeout=30)
    (record,) = dask_client.compute(bag).result(timeout=60)
    assert 0.3 <= record["elapsed"] < time.perf_counter() - started


def fetch_in_child(url: str) -> list[ffd.FetchRecord]:
    return ffd._fetch_partitions([[(0, url)]], keep_body=True, options={"timeout": 10})


def test_a_forked_worker_makes_its_own_pool(loopback_server: ferrofetch.testing.LoopbackServer) -> None:
    import multiprocessing

    url = f"{loopback_server.url}/bytes/3"
    # The parent has a pool and a running runtime; a forked child must not reuse either.
    assert fetch_in_child(url)[0]["status"] == 200
    assert ffd._clients
    with multiprocessing.get_context("fork").Pool(1) as pool:
        (record,) = pool.apply_async(fetch_in_child, (url,)).get(timeout=30)
    assert (record["status"], record["body"]) == (200, b"xxx")
