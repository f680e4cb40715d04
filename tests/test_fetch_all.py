"""``fetch_all``: order, failure modes, URL validation, concurrency, pooling, cancellation, volume."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, cast

import ferrofetch
import ferrofetch.testing
import pytest

from tests.servers import (
    HttpServer,
    RawHandler,
    RawServer,
    async_wait_until,
    pattern_bytes,
    read_head,
    refused_url,
    silent,
)


async def fetch_all(urls: Any, *, limit: float = 20.0, **options: Any) -> list[Any]:
    """``ferrofetch.fetch_all`` with a bound on the wait."""
    return await asyncio.wait_for(cast("Awaitable[list[Any]]", ferrofetch.fetch_all(urls, **options)), limit)


# --------------------------------------------------------------------------------------------
# results


async def test_results_come_back_in_input_order(http_server: HttpServer) -> None:
    # The first URLs are the slowest, so completion order is the reverse of input order.
    urls = [http_server.url_for(f"/slow?delay={(9 - i) * 0.03:.2f}&i={i}") for i in range(10)]
    urls += [http_server.url_for(f"/bytes/{n}") for n in (0, 1, 255, 4097)]
    results = await fetch_all(urls)
    assert [r.url for r in results] == urls
    assert all(isinstance(r, ferrofetch.Response) for r in results)
    assert [r.content for r in results[10:]] == [pattern_bytes(n) for n in (0, 1, 255, 4097)]
    assert all(r.status == 200 for r in results)


async def test_empty_input_gives_empty_list(http_server: HttpServer) -> None:
    assert await fetch_all([]) == []
    assert await fetch_all(iter(())) == []
    assert http_server.stats.connections_accepted == 0


async def test_any_iterable_of_str_is_accepted(http_server: HttpServer) -> None:
    def generate() -> Iterator[str]:
        for n in range(5):
            yield http_server.url_for(f"/bytes/{n}")

    results = await fetch_all(generate())
    assert [r.content for r in results] == [pattern_bytes(n) for n in range(5)]
    results = await fetch_all(tuple(http_server.url_for(f"/bytes/{n}") for n in range(3)))
    assert [len(r.content) for r in results] == [0, 1, 2]


async def test_http_error_statuses_are_responses_not_exceptions(http_server: HttpServer) -> None:
    urls = [http_server.url_for(f"/status/{code}") for code in (200, 404, 500, 503)]
    results = await fetch_all(urls)
    assert [r.status for r in results] == [200, 404, 500, 503]
    assert [r.ok for r in results] == [True, False, False, False]


# --------------------------------------------------------------------------------------------
# return_exceptions


async def test_first_failure_raises_with_its_url(http_server: HttpServer) -> None:
    bad = refused_url("/nobody")
    urls = [http_server.url_for("/bytes/1"), bad, http_server.url_for("/bytes/2")]
    with pytest.raises(ferrofetch.ClientConnectorError) as info:
        await fetch_all(urls)
    assert info.value.url == bad


async def test_first_failure_cancels_the_rest(
    http_server: HttpServer, raw_server: Callable[[RawHandler], RawServer]
) -> None:
    async def hang_up_late(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        await asyncio.sleep(0.5)

    failing = raw_server(hang_up_late)
    slow = [http_server.url_for(f"/slow?delay=30&i={i}") for i in range(5)]
    started = time.monotonic()
    with pytest.raises(ferrofetch.ServerDisconnectedError) as info:
        await fetch_all([*slow, failing.url_for("/late")])
    assert time.monotonic() - started < 10
    assert info.value.url == failing.url_for("/late")
    # The slow requests were in flight when the failure came ...
    assert http_server.stats.max_in_flight == 5, http_server.stats
    # ... and were abandoned with it: the server sees all their connections closed.
    assert await async_wait_until(lambda: http_server.stats.connections_open == 0, 1.0), http_server.stats


async def test_return_exceptions_puts_each_failure_in_its_slot(http_server: HttpServer) -> None:
    refused = refused_url("/refused")
    urls = [
        http_server.url_for("/bytes/3"),
        refused,
        http_server.url_for("/status/404"),
        "not a url",
        "ftp://127.0.0.1/file",
        http_server.url_for("/bytes/4"),
    ]
    results = await fetch_all(urls, return_exceptions=True)
    assert len(results) == len(urls)
    ok3, failed, missing, invalid, ftp, ok4 = results
    assert isinstance(ok3, ferrofetch.Response) and ok3.content == pattern_bytes(3)
    assert isinstance(failed, ferrofetch.ClientConnectorError) and failed.url == refused
    assert isinstance(missing, ferrofetch.Response) and missing.status == 404
    assert isinstance(invalid, ferrofetch.InvalidURL) and invalid.url == "not a url"
    assert isinstance(ftp, ferrofetch.InvalidURL) and ftp.url == "ftp://127.0.0.1/file"
    assert isinstance(ok4, ferrofetch.Response) and ok4.content == pattern_bytes(4)
    # The valid URLs were all fetched.
    assert http_server.stats.requests == 3


# --------------------------------------------------------------------------------------------
# URL validation

INVALID_URLS = [
    "not a url",
    "ftp://127.0.0.1/file",
    "file:///etc/hostname",
    "http://",
    "",
    "//127.0.0.1/no-scheme",
    "http://127.0.0.1:99999/bad-port",
    "http://[::1/unclosed",
]


@pytest.mark.parametrize("bad", INVALID_URLS)
async def test_invalid_url_raises_before_any_request(http_server: HttpServer, bad: str) -> None:
    good = [http_server.url_for(f"/bytes/{n}") for n in range(3)]
    with pytest.raises(ferrofetch.InvalidURL) as info:
        await fetch_all([*good, bad, *good])
    assert isinstance(info.value, ValueError)
    assert info.value.url == bad
    # Nothing was sent, not even for the valid URLs before it.
    await asyncio.sleep(0.2)
    assert http_server.stats.connections_accepted == 0
    assert http_server.stats.requests == 0


@pytest.mark.parametrize("bad", INVALID_URLS)
async def test_invalid_url_takes_its_slot_with_return_exceptions(http_server: HttpServer, bad: str) -> None:
    good = http_server.url_for("/bytes/5")
    results = await fetch_all([good, bad, good], return_exceptions=True)
    assert isinstance(results[1], ferrofetch.InvalidURL)
    assert results[1].url == bad
    assert [r.content for r in (results[0], results[2])] == [pattern_bytes(5)] * 2


async def test_non_http_scheme_is_the_specific_subclass(http_server: HttpServer) -> None:
    with pytest.raises(ferrofetch.NonHttpUrlClientError):
        await fetch_all(["ftp://127.0.0.1/file"])


@pytest.mark.parametrize("return_exceptions", [False, True])
@pytest.mark.parametrize("bad", [b"http://127.0.0.1/", None, 42, ["http://127.0.0.1/"]])
async def test_non_str_url_raises_type_error(
    http_server: HttpServer, bad: object, return_exceptions: bool
) -> None:
    urls = [http_server.url_for("/bytes/1"), bad]
    with pytest.raises(TypeError):
        await fetch_all(urls, return_exceptions=return_exceptions)
    await asyncio.sleep(0.1)
    assert http_server.stats.requests == 0


async def test_non_iterable_raises_type_error() -> None:
    with pytest.raises(TypeError):
        await fetch_all(42)


async def test_a_bare_str_is_not_a_list_of_urls(http_server: HttpServer) -> None:
    # A str is an iterable of one-character strings: each is an invalid URL, never a request.
    with pytest.raises((TypeError, ferrofetch.InvalidURL)):
        await fetch_all(http_server.url_for("/bytes/1"))
    assert http_server.stats.requests == 0


# --------------------------------------------------------------------------------------------
# concurrency, pooling, cancellation


async def test_concurrency_bound_is_never_exceeded(http_server: HttpServer) -> None:
    urls = [http_server.url_for(f"/slow?delay=0.1&i={i}") for i in range(50)]
    started = time.monotonic()
    results = await fetch_all(urls, concurrency=5)
    elapsed = time.monotonic() - started
    assert [r.status for r in results] == [200] * 50
    assert http_server.stats.max_in_flight <= 5, http_server.stats
    # ... and it is used: 50 requests of 0.1 s at 5 at a time take about 1 s.
    assert http_server.stats.max_in_flight >= 3, http_server.stats
    assert elapsed >= 0.9


async def test_default_concurrency_is_100(http_server: HttpServer) -> None:
    urls = [http_server.url_for(f"/slow?delay=0.5&i={i}") for i in range(130)]
    results = await fetch_all(urls)
    assert len(results) == 130
    assert http_server.stats.max_in_flight <= 100, http_server.stats
    assert http_server.stats.max_in_flight >= 50, http_server.stats


async def test_concurrency_one_is_sequential(http_server: HttpServer) -> None:
    urls = [http_server.url_for(f"/slow?delay=0.02&i={i}") for i in range(10)]
    await fetch_all(urls, concurrency=1)
    assert http_server.stats.max_in_flight == 1
    # One request at a time over keep-alive needs one connection.
    assert http_server.stats.connections_accepted == 1


@pytest.mark.parametrize("bad", [0, -1])
async def test_invalid_concurrency_is_rejected(http_server: HttpServer, bad: int) -> None:
    # Neither a hang nor a crash: a prompt error, and nothing sent.
    with pytest.raises((ValueError, OverflowError)):
        await fetch_all([http_server.url_for("/bytes/1")], concurrency=bad, limit=5.0)
    assert http_server.stats.requests == 0


async def test_connections_are_reused_across_calls(http_server: HttpServer) -> None:
    urls = [http_server.url_for(f"/bytes/{i}") for i in range(10)]
    await fetch_all(urls, concurrency=10)
    after_first = http_server.stats.connections_accepted
    assert 1 <= after_first <= 10
    await fetch_all(urls, concurrency=10)
    await fetch_all(urls, concurrency=10)
    assert http_server.stats.connections_accepted == after_first, http_server.stats
    assert http_server.stats.requests == 30


async def test_cancelling_the_awaiting_task_closes_every_connection(http_server: HttpServer) -> None:
    urls = [http_server.url_for(f"/slow?delay=30&i={i}") for i in range(20)]
    task = asyncio.ensure_future(ferrofetch.fetch_all(urls))
    assert await async_wait_until(lambda: http_server.stats.in_flight == 20, 10.0), http_server.stats
    assert http_server.stats.connections_open == 20
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5.0)
    assert await async_wait_until(lambda: http_server.stats.connections_open == 0, 0.5), http_server.stats


async def test_cancelling_closes_connections_to_a_silent_server(
    raw_server: Callable[[RawHandler], RawServer],
) -> None:
    server = raw_server(silent)
    urls = [server.url_for(f"/{i}") for i in range(8)]
    task = asyncio.ensure_future(ferrofetch.fetch_all(urls))
    assert await async_wait_until(lambda: server.stats.connections_open == 8, 10.0), server.stats
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5.0)
    assert await async_wait_until(lambda: server.stats.connections_open == 0, 0.5), server.stats


async def test_batch_options_apply_to_every_request(http_server: HttpServer) -> None:
    urls = [http_server.url_for(f"/echo?i={i}") for i in range(4)]
    results = await fetch_all(
        urls, method="POST", headers={"X-Batch": "yes"}, params={"p": "1"}, data=b"body"
    )
    for i, response in enumerate(results):
        echoed = response.json()
        assert echoed["method"] == "POST"
        assert [value for name, value in echoed["headers"] if name.lower() == "x-batch"] == ["yes"]
        assert echoed["query"] == [["i", str(i)], ["p", "1"]]
        assert echoed["body"] == "body"


# --------------------------------------------------------------------------------------------
# volume

VOLUME = 100_000


async def test_one_hundred_thousand_urls(loopback_server: ferrofetch.testing.LoopbackServer) -> None:
    base = loopback_server.url.rstrip("/")
    before = loopback_server.requests_served
    # A distinct query per URL (the server ignores it) makes order checkable.
    urls = [f"{base}/bytes/10?i={i}" for i in range(VOLUME)]
    results = await fetch_all(urls, limit=50.0)
    assert len(results) == VOLUME
    assert all(r.status == 200 for r in results)
    assert all(len(r.content) == 10 for r in results)
    assert [r.url for r in results] == urls
    assert loopback_server.requests_served - before == VOLUME
    # Keep-alive: far fewer connections than requests.
    assert loopback_server.connections_accepted < VOLUME // 10
