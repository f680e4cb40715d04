"""Connection faults: closes and resets at every stage of the exchange, and keep-alive surprises."""

from __future__ import annotations

import asyncio
import time

import ferrofetch

from ..servers import (
    Conn,
    StartServer,
    async_wait_until,
    chunked,
    http_response,
    outcome,
    reply,
    serve,
    sockets_to,
)


async def test_close_before_any_byte_of_the_response(start_server: StartServer) -> None:
    server = start_server(reply(b""))
    _, exc, elapsed = await outcome(lambda: ferrofetch.fetch(server.url_for("/"), timeout=10))
    assert isinstance(exc, ferrofetch.ServerDisconnectedError), repr(exc)
    assert exc.url == server.url_for("/")
    assert elapsed < 3.0


async def test_close_on_accept_before_reading_the_request(start_server: StartServer) -> None:
    server = start_server(lambda conn: None)  # pyright: ignore[reportUnknownLambdaType]  # StartServer takes any handler
    _, exc, elapsed = await outcome(lambda: ferrofetch.fetch(server.url, timeout=10))
    assert isinstance(exc, ferrofetch.ClientConnectionError), repr(exc)
    assert elapsed < 3.0


async def test_reset_in_the_middle_of_the_headers(start_server: StartServer) -> None:
    server = start_server(reply(b"HTTP/1.1 200 OK\r\nContent-Le", then="reset"))
    _, exc, elapsed = await outcome(lambda: ferrofetch.fetch(server.url, timeout=10))
    # Either name fits "the server went away before a full head"; both are ClientConnectionError.
    assert isinstance(exc, (ferrofetch.ServerDisconnectedError, ferrofetch.ClientConnectionResetError)), repr(
        exc
    )
    assert elapsed < 3.0


async def test_reset_in_the_middle_of_the_body(start_server: StartServer) -> None:
    server = start_server(reply(http_response(200, b"b" * 1000)[:-900], then="reset"))
    _, exc, elapsed = await outcome(lambda: ferrofetch.fetch(server.url, timeout=10))
    assert isinstance(exc, ferrofetch.ClientPayloadError), repr(exc)
    assert elapsed < 3.0


async def test_content_length_longer_than_the_body(start_server: StartServer) -> None:
    server = start_server(reply(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"f" * 50))
    _, exc, elapsed = await outcome(lambda: ferrofetch.fetch(server.url, timeout=10))
    assert isinstance(exc, ferrofetch.ClientPayloadError), repr(exc)
    assert elapsed < 3.0


async def test_truncated_chunked_body(start_server: StartServer) -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    server = start_server(reply(head + chunked(b"first", b"second")[:-5]))
    _, exc, _ = await outcome(lambda: ferrofetch.fetch(server.url, timeout=10))
    assert isinstance(exc, ferrofetch.ClientPayloadError), repr(exc)


async def test_chunk_shorter_than_announced(start_server: StartServer) -> None:
    server = start_server(reply(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nshort"))
    _, exc, _ = await outcome(lambda: ferrofetch.fetch(server.url, timeout=10))
    assert isinstance(exc, ferrofetch.ClientPayloadError), repr(exc)


async def test_server_closing_an_idle_keep_alive_connection(start_server: StartServer) -> None:
    def handler(conn: Conn) -> None:
        if conn.read_request() is not None:
            conn.send(http_response(200, b"first"))
            time.sleep(0.1)  # the server's idle timeout, far shorter than the client's

    server = start_server(handler)
    client = ferrofetch.Client()
    try:
        first = await asyncio.wait_for(client.fetch(server.url, timeout=10), 15)
        assert first.content == b"first"
        assert await async_wait_until(lambda: server.open_connections == 0, 2.0)
        await asyncio.sleep(0.1)
        second = await asyncio.wait_for(client.fetch(server.url, timeout=10), 15)
        assert second.content == b"first"
        assert server.connections == 2
    finally:
        client.close()


async def test_server_closing_after_each_response_without_saying_so(start_server: StartServer) -> None:
    server = start_server(serve(lambda request: http_response(200, request.target), close_after=1))
    client = ferrofetch.Client()
    try:
        for index in range(20):
            response = await asyncio.wait_for(client.fetch(server.url_for(f"/{index}"), timeout=10), 15)
            assert response.content == f"/{index}".encode()
            await asyncio.sleep(0.02)
    finally:
        client.close()
    assert server.connections == 20


async def test_idempotent_request_on_a_connection_closed_as_it_is_reused_is_retried(
    start_server: StartServer,
) -> None:
    # The keep-alive race made deterministic: the server answers once, then reads the next
    # request on the same connection and closes without answering, as a server whose idle
    # timeout expires just as the request arrives does. urllib3 and browsers retry such a request.
    def handler(conn: Conn) -> None:
        request = conn.read_request()
        if request is not None and conn.send(http_response(200, request.target)):
            conn.read_request()

    server = start_server(handler)
    client = ferrofetch.Client()
    try:
        for index in range(3):
            response = await asyncio.wait_for(client.fetch(server.url_for(f"/{index}"), timeout=10), 15)
            assert response.content == f"/{index}".encode()
    finally:
        client.close()


async def test_keep_alive_reuse_serves_many_requests_on_one_connection(start_server: StartServer) -> None:
    server = start_server(serve(lambda request: http_response(200, request.target)))
    client = ferrofetch.Client()
    try:
        for index in range(20):
            response = await asyncio.wait_for(client.fetch(server.url_for(f"/{index}"), timeout=10), 15)
            assert response.content == f"/{index}".encode()
    finally:
        client.close()
    # The control for the test above: a well-behaved server sees its connection reused.
    assert server.connections == 1


async def test_connection_refused(start_server: StartServer) -> None:
    server = start_server(serve(lambda _: b""))
    url = server.url_for("/")
    server.close()
    _, exc, elapsed = await outcome(lambda: ferrofetch.fetch(url, timeout=10))
    assert isinstance(exc, ferrofetch.ClientConnectorError), repr(exc)
    assert exc.url == url
    assert elapsed < 3.0
    assert await async_wait_until(lambda: sockets_to(server.port) == 0, 2.0)
