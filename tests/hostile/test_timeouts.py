"""Timeouts: servers that stall, drip, or never accept; each limit fires with its documented class."""

from __future__ import annotations

import asyncio

import ferrofetch

from ..servers import (
    Blackhole,
    Conn,
    StartServer,
    async_wait_until,
    http_response,
    outcome,
    serve,
    settle,
    silent,
    sockets_to,
)


async def test_total_timeout_when_the_server_never_answers(start_server: StartServer) -> None:
    server = start_server(silent)
    url = server.url_for("/never")
    _, exc, elapsed = await outcome(lambda: ferrofetch.fetch(url, timeout=0.5))
    assert type(exc) is ferrofetch.ServerTimeoutError, repr(exc)
    assert isinstance(exc, asyncio.TimeoutError)
    assert exc.url == url
    assert 0.4 <= elapsed < 3.0
    # aiohttp #1679: the socket of a timed-out request must not linger.
    assert await async_wait_until(lambda: sockets_to(server.port) == 0, 2.0)


async def test_read_timeout_while_waiting_for_the_head(start_server: StartServer) -> None:
    server = start_server(silent)
    _, exc, elapsed = await outcome(lambda: ferrofetch.fetch(server.url, read_timeout=0.3, timeout=20))
    assert isinstance(exc, ferrofetch.SocketTimeoutError), repr(exc)
    assert isinstance(exc, asyncio.TimeoutError)
    assert 0.25 <= elapsed < 3.0


async def test_read_timeout_in_the_middle_of_the_body(start_server: StartServer) -> None:
    def handler(conn: Conn) -> None:
        if conn.read_request() is not None:
            conn.send(http_response(200, b"x" * 100)[:-60])
            conn.hold()

    server = start_server(handler)
    _, exc, elapsed = await outcome(lambda: ferrofetch.fetch(server.url, read_timeout=0.3, timeout=20))
    assert isinstance(exc, ferrofetch.SocketTimeoutError), repr(exc)
    assert 0.25 <= elapsed < 3.0


async def test_connect_timeout_on_a_blackholed_port() -> None:
    blackhole = Blackhole()
    try:
        _, exc, elapsed = await outcome(
            lambda: ferrofetch.fetch(blackhole.url, connect_timeout=0.3, timeout=20)
        )
    finally:
        blackhole.close()
    assert isinstance(exc, ferrofetch.ConnectionTimeoutError), repr(exc)
    assert isinstance(exc, asyncio.TimeoutError)
    assert 0.25 <= elapsed < 3.0


async def test_total_timeout_covers_the_connect_phase() -> None:
    blackhole = Blackhole()
    try:
        _, exc, elapsed = await outcome(lambda: ferrofetch.fetch(blackhole.url, timeout=0.3))
    finally:
        blackhole.close()
    assert isinstance(exc, ferrofetch.ServerTimeoutError), repr(exc)
    assert 0.25 <= elapsed < 3.0


async def test_body_dripping_one_byte_at_a_time_hits_the_total_timeout(start_server: StartServer) -> None:
    body = b"d" * 1000

    def handler(conn: Conn) -> None:
        if conn.read_request() is not None:
            conn.send(http_response(200, body)[: -len(body)])
            conn.drip(body, 0.02)

    server = start_server(handler)
    # The read timeout never fires (a byte every 20 ms); only the total limit can stop this.
    _, exc, elapsed = await outcome(lambda: ferrofetch.fetch(server.url, read_timeout=0.5, timeout=1.0))
    assert type(exc) is ferrofetch.ServerTimeoutError, repr(exc)
    assert 0.9 <= elapsed < 3.0


async def test_head_dripping_one_byte_at_a_time_hits_the_total_timeout(start_server: StartServer) -> None:
    def handler(conn: Conn) -> None:
        if conn.read_request() is not None:
            conn.drip(b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"s" * 1000 + b"\r\n\r\n", 0.02)

    server = start_server(handler)
    _, exc, elapsed = await outcome(lambda: ferrofetch.fetch(server.url, timeout=1.0))
    assert type(exc) is ferrofetch.ServerTimeoutError, repr(exc)
    assert 0.9 <= elapsed < 3.0


async def test_read_timeout_bounds_the_whole_head(start_server: StartServer) -> None:
    # The documented semantics (reqwest's): the head must arrive within read_timeout as a whole,
    # so a head trickling in for longer fails even though no gap between its bytes is that long.
    head = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"s" * 40 + b"\r\nContent-Length: 2\r\n\r\n"

    def handler(conn: Conn) -> None:
        if conn.read_request() is not None:
            conn.drip(head, 0.02)  # about 1.4 s in all, never more than 20 ms between bytes
            conn.send(b"ok")

    server = start_server(handler)
    _, exc, elapsed = await outcome(lambda: ferrofetch.fetch(server.url, read_timeout=0.5, timeout=10))
    assert isinstance(exc, ferrofetch.ServerTimeoutError), repr(exc)
    assert 0.4 <= elapsed < 1.2, f"{elapsed:.2f} s"


async def test_a_slow_body_within_the_limits_completes(start_server: StartServer) -> None:
    body = b"0123456789" * 2

    def handler(conn: Conn) -> None:
        if conn.read_request() is not None:
            conn.send(http_response(200, body)[: -len(body)])
            conn.drip(body, 0.02)

    server = start_server(handler)
    response, exc, _ = await outcome(lambda: ferrofetch.fetch(server.url, read_timeout=0.5, timeout=5.0))
    assert exc is None
    assert response is not None and response.content == body


async def test_waiting_for_a_pool_slot_is_bounded_by_the_total_timeout(start_server: StartServer) -> None:
    stalled = start_server(silent)
    fine = start_server(serve(lambda _: http_response(200, b"ok")))
    client = ferrofetch.Client(limit=1)
    try:
        blocker = asyncio.ensure_future(client.fetch(stalled.url, timeout=30))
        assert await async_wait_until(lambda: stalled.connections == 1, 5.0)
        _, exc, elapsed = await outcome(lambda: client.fetch(fine.url, timeout=0.5))
        assert isinstance(exc, ferrofetch.ServerTimeoutError), repr(exc)
        assert 0.4 <= elapsed < 3.0
        blocker.cancel()
        await settle([blocker])
        # The cancelled request gave its slot back.
        response, exc, _ = await outcome(lambda: client.fetch(fine.url, timeout=5))
        assert exc is None and response is not None and response.status == 200
    finally:
        client.close()


async def test_a_batch_against_a_silent_server_times_out_together(start_server: StartServer) -> None:
    server = start_server(silent)
    urls = [server.url_for(f"/{index}") for index in range(50)]
    results, exc, elapsed = await outcome(
        lambda: ferrofetch.fetch_all(urls, timeout=0.5, return_exceptions=True)
    )
    assert exc is None and results is not None
    assert all(type(result) is ferrofetch.ServerTimeoutError for result in results), results
    assert [result.url for result in results if isinstance(result, ferrofetch.ClientError)] == urls
    assert elapsed < 4.0
    assert await async_wait_until(lambda: sockets_to(server.port) == 0, 2.0)
