"""Engine events on the ``ferrofetch`` logger: connections opened and reused, redirects, retries
and timeouts at DEBUG, warnings where the user should act; nothing recorded below the level."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

import ferrofetch
import pytest

from tests.servers import H2Server, HttpServer, RawHandler, RawServer, read_head


def events(caplog: pytest.LogCaptureFixture, level: int = logging.DEBUG) -> list[tuple[str, str]]:
    """``(event, message)`` of the ferrofetch records at ``level``."""
    return [
        (getattr(r, "event", ""), r.getMessage())
        for r in caplog.records
        if r.name == "ferrofetch" and r.levelno == level
    ]


async def test_connections_opened_then_reused(
    caplog: pytest.LogCaptureFixture, http_server: HttpServer
) -> None:
    caplog.set_level(logging.DEBUG, logger="ferrofetch")
    client = ferrofetch.Client()
    try:
        for _ in range(2):
            await client.fetch(http_server.url_for("/bytes/5"))
    finally:
        client.close()
    connection = [m for e, m in events(caplog) if e == "connection"]
    origin = http_server.url.rstrip("/")
    assert connection == [
        f"opened a new connection to {origin} (HTTP/1.1)",
        f"reused a pooled connection to {origin} (HTTP/1.1)",
    ]
    assert http_server.stats.connections_accepted == 1


async def test_an_http2_connection_over_tls_is_opened_then_reused(
    caplog: pytest.LogCaptureFixture, h2_server: H2Server
) -> None:
    caplog.set_level(logging.DEBUG, logger="ferrofetch")
    client = ferrofetch.Client(ca_bundle=h2_server.ca_bundle)
    try:
        for _ in range(3):
            assert (await client.fetch(h2_server.url_for("/h2"), timeout=10)).http_version == "HTTP/2"
    finally:
        client.close()
    origin = h2_server.url_for("/").rstrip("/")
    assert [m for e, m in events(caplog) if e == "connection"] == [
        f"opened a new connection to {origin} (HTTP/2.0)",
        f"reused a pooled connection to {origin} (HTTP/2.0)",
        f"reused a pooled connection to {origin} (HTTP/2.0)",
    ]


async def test_a_connection_opened_before_debug_reads_as_opened_at_its_first_use_after(
    caplog: pytest.LogCaptureFixture, http_server: HttpServer
) -> None:
    """New and pooled connections are told apart by their addresses, looked at only at DEBUG."""
    caplog.set_level(logging.DEBUG, logger="ferrofetch")
    logger = logging.getLogger("ferrofetch")
    logger.setLevel(logging.INFO)
    client = ferrofetch.Client()
    try:
        await client.fetch(http_server.url_for("/bytes/5"))
        logger.setLevel(logging.DEBUG)
        for _ in range(2):
            await client.fetch(http_server.url_for("/bytes/5"))
    finally:
        client.close()
    origin = http_server.url.rstrip("/")
    assert [m for e, m in events(caplog) if e == "connection"] == [
        f"opened a new connection to {origin} (HTTP/1.1)",
        f"reused a pooled connection to {origin} (HTTP/1.1)",
    ]
    assert http_server.stats.connections_accepted == 1


async def test_redirects_of_every_api_are_logged_on_the_loop_thread(
    caplog: pytest.LogCaptureFixture, http_server: HttpServer
) -> None:
    caplog.set_level(logging.DEBUG, logger="ferrofetch")
    await ferrofetch.fetch(http_server.url_for("/redirect/2"))
    await ferrofetch.fetch_all([http_server.url_for("/redirect/1")] * 3)
    async with ferrofetch.ClientSession() as session:
        async with session.get(http_server.url_for("/redirect/1")) as response:
            await response.read()
    redirects = [m for e, m in events(caplog) if e == "redirect"]
    assert redirects[:2] == [
        f"302 redirect from {http_server.url_for('/redirect/2')} to {http_server.url_for('/redirect/1')}",
        f"302 redirect from {http_server.url_for('/redirect/1')} to {http_server.url_for('/redirect/0')}",
    ]
    assert len(redirects) == 2 + 3 + 1
    assert {r.thread for r in caplog.records if r.name == "ferrofetch"} == {threading.get_ident()}


async def test_a_timeout_is_logged(caplog: pytest.LogCaptureFixture, http_server: HttpServer) -> None:
    caplog.set_level(logging.DEBUG, logger="ferrofetch")
    with pytest.raises(ferrofetch.ServerTimeoutError):
        await ferrofetch.fetch(http_server.url_for("/slow?delay=5"), timeout=0.2)
    assert [e for e, _ in events(caplog)].count("timeout") == 1
    assert "total timeout of 0.2 s" in dict(events(caplog))["timeout"]


def closes_the_second_request_of_the_first_connection() -> RawHandler:
    connections = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        first = connections == 1
        await read_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        if first:
            # The next request on this kept-alive connection is read, then left unanswered.
            await read_head(reader)
        writer.close()

    return handler


async def test_a_retry_is_logged(
    caplog: pytest.LogCaptureFixture, raw_server: Callable[[RawHandler], RawServer]
) -> None:
    server = raw_server(closes_the_second_request_of_the_first_connection())
    caplog.set_level(logging.DEBUG, logger="ferrofetch")
    client = ferrofetch.Client()
    try:
        assert (await client.fetch(server.url, timeout=10)).text == "ok"
        assert (await client.fetch(server.url, timeout=10)).text == "ok"
    finally:
        client.close()
    retries = [m for e, m in events(caplog) if e == "retry"]
    assert len(retries) == 1, events(caplog)
    assert retries[0].startswith(f"retrying GET {server.url}")


async def test_nothing_is_recorded_below_the_level(
    caplog: pytest.LogCaptureFixture, http_server: HttpServer
) -> None:
    caplog.set_level(logging.INFO, logger="ferrofetch")
    await ferrofetch.fetch(http_server.url_for("/redirect/2"))
    async with ferrofetch.ClientSession() as session:
        async with session.get(http_server.url_for("/redirect/1")) as response:
            await response.read()
    assert [r for r in caplog.records if r.name == "ferrofetch"] == []


async def test_a_redirect_from_https_to_http_is_a_warning(
    caplog: pytest.LogCaptureFixture, tls_server: HttpServer, http_server: HttpServer
) -> None:
    caplog.set_level(logging.WARNING, logger="ferrofetch")
    target = http_server.url_for("/bytes/3")
    start = tls_server.url_for(f"/redirect-to?url={target}")
    response = await ferrofetch.fetch(start, ca_bundle=tls_server.ca_bundle)
    assert response.status == 200
    assert events(caplog, logging.WARNING) == [
        (
            "redirect",
            f"302 redirect from {tls_server.url_for('/redirect-to')}?url={target} to plain http: {target}",
        )
    ]


async def test_warnings_of_every_api_are_logged_by_the_time_the_call_returns(
    caplog: pytest.LogCaptureFixture, tls_server: HttpServer, http_server: HttpServer
) -> None:
    """With DEBUG off a call records nothing but its warnings, each logged when a call completes,
    at the latest its own: none is lost or left for a later call."""
    caplog.set_level(logging.WARNING, logger="ferrofetch")
    start = tls_server.url_for(f"/redirect-to?url={http_server.url_for('/bytes/3')}")

    def warned() -> int:
        count = len(events(caplog, logging.WARNING))
        caplog.clear()
        return count

    responses = await ferrofetch.fetch_all([start] * 3, ca_bundle=tls_server.ca_bundle)
    assert [r.status for r in responses] == [200] * 3
    assert warned() == 3
    # Certificates are not what this test is about.
    async with ferrofetch.ClientSession(connector=ferrofetch.TCPConnector(ssl=False)) as session:
        async with session.get(start) as response:
            await response.read()
        assert warned() == 1
    client = ferrofetch.Client(ca_bundle=tls_server.ca_bundle)
    try:
        await client.fetch(start)
        assert warned() == 1
    finally:
        client.close()


async def test_too_many_shared_pools_is_a_warning(
    caplog: pytest.LogCaptureFixture, http_server: HttpServer
) -> None:
    caplog.set_level(logging.WARNING, logger="ferrofetch")
    for n in range(17):
        await ferrofetch.fetch(http_server.url, read_timeout=30.25 + n)
    warnings = events(caplog, logging.WARNING)
    assert [e for e, _ in warnings] == ["pool"]
    assert "use a ferrofetch.Client" in warnings[0][1]


async def test_the_level_is_read_again_after_every_change(
    caplog: pytest.LogCaptureFixture, http_server: HttpServer
) -> None:
    """The engine reads the level from ``logging``'s own per-level cache: each change between
    two calls (``setLevel`` up and down, ``logging.disable``, ``Logger.disabled``) is seen by the
    next call of every API."""
    url = http_server.url_for("/redirect/1")
    logger = logging.getLogger("ferrofetch")
    # caplog's handler takes DEBUG records; the logger's own level decides.
    caplog.set_level(logging.DEBUG, logger="ferrofetch")
    logger.setLevel(logging.WARNING)
    client = ferrofetch.Client()

    async def redirects_logged() -> int:
        caplog.clear()
        await client.fetch(url)
        await ferrofetch.fetch(url)
        await ferrofetch.fetch_all([url])
        async with ferrofetch.ClientSession() as session:
            async with session.get(url) as response:
                await response.read()
        return len([e for e, _ in events(caplog) if e == "redirect"])

    try:
        assert await redirects_logged() == 0
        logger.setLevel(logging.DEBUG)
        assert await redirects_logged() == 4
        logger.setLevel(logging.INFO)
        assert await redirects_logged() == 0
        logger.setLevel(logging.DEBUG)
        assert await redirects_logged() == 4
        logging.disable(logging.DEBUG)
        try:
            assert await redirects_logged() == 0
        finally:
            logging.disable(logging.NOTSET)
        assert await redirects_logged() == 4
        logger.disabled = True
        try:
            assert await redirects_logged() == 0
        finally:
            logger.disabled = False
        assert await redirects_logged() == 4
        # The root logger's level decides for a logger left at NOTSET.
        logger.setLevel(logging.NOTSET)
        root = logging.getLogger()
        saved = root.level
        root.setLevel(logging.DEBUG)
        try:
            assert await redirects_logged() == 4
        finally:
            root.setLevel(saved)
        assert await redirects_logged() == (4 if saved <= logging.DEBUG else 0)
    finally:
        client.close()
