"""Failures: each maps to its documented exception class, which carries the URL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import ferrofetch
import pytest

from tests.servers import (
    Blackhole,
    HttpServer,
    RawHandler,
    RawServer,
    close_after_head,
    close_at_once,
    read_head,
    refused_url,
    reply,
    reset_at_once,
    silent,
)

RawServerFactory = Callable[[RawHandler], RawServer]


async def fetch(url: str, *, limit: float = 15.0, **options: Any) -> ferrofetch.Response:
    return await asyncio.wait_for(ferrofetch.fetch(url, **options), limit)


def test_every_error_is_a_client_error() -> None:
    names = [name for name in ferrofetch.exceptions.__all__]
    for name in names:
        cls = getattr(ferrofetch, name)
        assert issubclass(cls, ferrofetch.ClientError), name
    for cls in (
        ferrofetch.ServerTimeoutError,
        ferrofetch.ConnectionTimeoutError,
        ferrofetch.SocketTimeoutError,
    ):
        assert issubclass(cls, asyncio.TimeoutError)
        assert issubclass(cls, TimeoutError)


# --------------------------------------------------------------------------------------------
# connecting


async def test_connection_refused() -> None:
    url = refused_url("/path?q=1")
    started = time.monotonic()
    with pytest.raises(ferrofetch.ClientConnectorError) as info:
        await fetch(url)
    assert time.monotonic() - started < 5
    error = info.value
    assert error.url == url
    assert isinstance(error, OSError)
    assert error.host == "127.0.0.1"
    assert error.port == int(url.split(":")[2].split("/")[0])
    assert not isinstance(error, ferrofetch.ClientSSLError)
    assert str(error)


# A label over 63 octets cannot be put in a DNS query (RFC 1035 §2.3.4): the C library's lookup
# fails at once, with no query sent to any resolver.
UNRESOLVABLE_HOST = "a" * 64 + ".invalid"


async def test_a_name_that_does_not_resolve() -> None:
    url = f"http://{UNRESOLVABLE_HOST}:8080/path"
    with pytest.raises(ferrofetch.ClientConnectorDNSError) as info:
        await fetch(url, limit=10)
    error = info.value
    assert isinstance(error, ferrofetch.ClientConnectorError) and isinstance(error, OSError)
    assert error.url == url
    assert (error.host, error.port) == (UNRESOLVABLE_HOST, 8080)
    assert "could not resolve the host name" in str(error)


async def test_a_name_in_etc_hosts_resolves(http_server: HttpServer) -> None:
    """``localhost`` is answered by /etc/hosts (nsswitch ``files``), as getaddrinfo answers it."""
    response = await fetch(http_server.url_for("/json").replace("127.0.0.1", "localhost"))
    assert response.status == 200


@pytest.fixture
def full_backlog_url() -> Iterator[str]:
    """A URL whose listener never accepts and whose accept queue is full: connecting hangs."""
    with Blackhole() as hole:
        yield hole.url_for("/never")


async def test_connect_timeout(full_backlog_url: str) -> None:
    started = time.monotonic()
    with pytest.raises(ferrofetch.ConnectionTimeoutError) as info:
        await fetch(full_backlog_url, connect_timeout=0.3, timeout=10.0)
    elapsed = time.monotonic() - started
    assert 0.25 <= elapsed < 3, elapsed
    assert isinstance(info.value, asyncio.TimeoutError)
    assert isinstance(info.value, ferrofetch.ServerTimeoutError)
    assert info.value.url == full_backlog_url


async def test_connect_timeout_in_a_batch_takes_its_slot(
    full_backlog_url: str, http_server: HttpServer
) -> None:
    results = await asyncio.wait_for(
        ferrofetch.fetch_all(
            [full_backlog_url, http_server.url_for("/bytes/1")], connect_timeout=0.3, return_exceptions=True
        ),
        10,
    )
    assert isinstance(results[0], ferrofetch.ConnectionTimeoutError)
    assert isinstance(results[1], ferrofetch.Response) and results[1].status == 200


async def test_read_timeout_waiting_for_the_head(raw_server: RawServerFactory) -> None:
    server = raw_server(silent)
    url = server.url_for("/silent")
    started = time.monotonic()
    with pytest.raises(ferrofetch.SocketTimeoutError) as info:
        await fetch(url, read_timeout=0.3)
    assert 0.25 <= time.monotonic() - started < 3
    assert isinstance(info.value, asyncio.TimeoutError)
    assert isinstance(info.value, ferrofetch.ServerTimeoutError)
    assert info.value.url == url


async def test_read_timeout_during_the_body(http_server: HttpServer) -> None:
    url = http_server.url_for("/drip?n=3&delay=1.0")
    with pytest.raises(ferrofetch.SocketTimeoutError) as info:
        await fetch(url, read_timeout=0.3)
    assert info.value.url == url


async def test_read_timeout_is_between_reads_not_total(http_server: HttpServer) -> None:
    # 8 bytes, one every 0.1 s: 0.8 s in all, never 0.5 s idle.
    response = await fetch(http_server.url_for("/drip?n=8&delay=0.1"), read_timeout=0.5)
    assert response.content == b"*" * 8


async def test_total_timeout(http_server: HttpServer) -> None:
    url = http_server.url_for("/slow?delay=30")
    started = time.monotonic()
    with pytest.raises(ferrofetch.ServerTimeoutError) as info:
        await fetch(url, timeout=0.3)
    assert 0.25 <= time.monotonic() - started < 3
    error = info.value
    assert isinstance(error, asyncio.TimeoutError)
    assert not isinstance(error, (ferrofetch.ConnectionTimeoutError, ferrofetch.SocketTimeoutError))
    assert error.url == url


async def test_total_timeout_covers_the_body(http_server: HttpServer) -> None:
    # Bytes keep coming (no read timeout would fire), but the whole takes longer than allowed.
    with pytest.raises(ferrofetch.ServerTimeoutError):
        await fetch(http_server.url_for("/drip?n=20&delay=0.1"), timeout=0.5, read_timeout=5.0)


async def test_total_timeout_waiting_for_a_connection_slot(http_server: HttpServer) -> None:
    """With ``limit=1`` taken by a response whose body is still coming, the next request waits
    for the slot; when its total timeout runs out there, the message says so."""
    async with ferrofetch.ClientSession(connector=ferrofetch.TCPConnector(limit=1)) as session:
        holder = await session.get(http_server.url_for("/drip?n=50&delay=0.1"))
        try:
            started = time.monotonic()
            # The session's total timeout is a plain asyncio.TimeoutError, as aiohttp raises it.
            with pytest.raises(asyncio.TimeoutError) as info:
                await session.get(
                    http_server.url_for("/bytes/10"), timeout=ferrofetch.ClientTimeout(total=0.3)
                )
            assert 0.25 <= time.monotonic() - started < 3
            assert "no connection slot became free" in str(info.value)
        finally:
            holder.release()
        async with session.get(http_server.url_for("/bytes/10")) as response:
            assert len(await response.read()) == 10


async def test_total_timeout_covers_redirects(http_server: HttpServer) -> None:
    # Each hop takes 0.1 s: none is slow, the chain of five is.
    url = http_server.url_for("/redirect/5?delay=0.1")
    assert (await fetch(url, timeout=5.0)).status == 200
    with pytest.raises(ferrofetch.ServerTimeoutError) as info:
        await fetch(url, timeout=0.3)
    assert not isinstance(info.value, ferrofetch.SocketTimeoutError)


async def test_timeout_none_means_no_limit(http_server: HttpServer) -> None:
    response = await fetch(http_server.url_for("/slow?delay=0.3"), timeout=None)
    assert response.status == 200


async def test_timeout_inside_a_batch_takes_its_slot(http_server: HttpServer) -> None:
    results = await asyncio.wait_for(
        ferrofetch.fetch_all(
            [http_server.url_for("/slow?delay=30"), http_server.url_for("/bytes/2")],
            timeout=0.3,
            return_exceptions=True,
        ),
        10,
    )
    assert isinstance(results[0], ferrofetch.ServerTimeoutError)
    assert isinstance(results[1], ferrofetch.Response) and results[1].content == b"\x00\x01"


# --------------------------------------------------------------------------------------------
# misbehaving servers


async def test_server_closes_before_any_byte(raw_server: RawServerFactory) -> None:
    server = raw_server(close_at_once)
    url = server.url_for("/x")
    with pytest.raises(ferrofetch.ServerDisconnectedError) as info:
        await fetch(url)
    assert isinstance(info.value, ferrofetch.ClientConnectionError)
    assert info.value.url == url


async def test_server_resets_before_any_byte(raw_server: RawServerFactory) -> None:
    server = raw_server(reset_at_once)
    url = server.url_for("/x")
    # Depending on when the reset lands (while the connection is being set up, while the request
    # is written, or while the head is awaited) it is reported as a connector error, a reset or a
    # disconnect: all ClientConnectionError, all naming the URL.
    with pytest.raises(ferrofetch.ClientConnectionError) as info:
        await fetch(url)
    assert info.value.url == url


async def test_server_closes_after_reading_the_request(raw_server: RawServerFactory) -> None:
    server = raw_server(close_after_head)
    url = server.url_for("/x")
    with pytest.raises(ferrofetch.ServerDisconnectedError) as info:
        await fetch(url)
    assert info.value.url == url


async def test_server_closes_in_the_middle_of_the_head(raw_server: RawServerFactory) -> None:
    server = raw_server(reply(b"HTTP/1.1 200 OK\r\nContent-Le"))
    with pytest.raises(ferrofetch.ServerDisconnectedError):
        await fetch(server.url_for("/x"))


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 abc Bad\r\n\r\n",
        b"NOT-HTTP garbage\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nBad Header Without Colon\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n",
    ],
)
async def test_malformed_response_head(raw_server: RawServerFactory, head: bytes) -> None:
    server = raw_server(reply(head))
    url = server.url_for("/x")
    with pytest.raises(ferrofetch.ClientResponseError) as info:
        await fetch(url)
    assert info.value.status == 400
    assert info.value.url == url


async def test_truncated_body(raw_server: RawServerFactory) -> None:
    server = raw_server(reply(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this"))
    url = server.url_for("/x")
    with pytest.raises(ferrofetch.ClientPayloadError) as info:
        await fetch(url)
    assert info.value.url == url


async def test_truncated_chunked_body(raw_server: RawServerFactory) -> None:
    server = raw_server(
        reply(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n10\r\nabc")
    )
    with pytest.raises(ferrofetch.ClientPayloadError):
        await fetch(server.url_for("/x"))


async def test_body_until_close_without_length_is_complete(raw_server: RawServerFactory) -> None:
    server = raw_server(reply(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it"))
    response = await fetch(server.url_for("/x"))
    assert response.content == b"all of it"


async def test_stale_pooled_connection_is_retried_transparently(raw_server: RawServerFactory) -> None:
    # The server answers one request per connection with keep-alive, then closes it quietly:
    # the next request must not fail because the pooled connection died.
    async def one_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        await asyncio.sleep(0.05)

    server = raw_server(one_then_close)
    for _ in range(3):
        response = await fetch(server.url_for("/x"))
        assert response.content == b"ok"
        await asyncio.sleep(0.2)
    assert server.stats.connections_accepted == 3


async def test_errors_carry_the_url_in_a_batch(raw_server: RawServerFactory, http_server: HttpServer) -> None:
    disconnecting = raw_server(close_at_once).url_for("/gone")
    truncated = raw_server(reply(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab")).url_for("/cut")
    refused = refused_url("/refused")
    results = await asyncio.wait_for(
        ferrofetch.fetch_all([disconnecting, truncated, refused], return_exceptions=True), 15
    )
    assert [type(r) for r in results] == [
        ferrofetch.ServerDisconnectedError,
        ferrofetch.ClientPayloadError,
        ferrofetch.ClientConnectorError,
    ]
    urls = [r.url for r in results if isinstance(r, ferrofetch.ClientError)]
    assert urls == [disconnecting, truncated, refused]
