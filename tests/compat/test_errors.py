"""Which exception each failure gives, and the misuse errors, compared by class name."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from typing import Any

import pytest

from tests.servers import (
    HttpServer,
    RawServer,
    close_after_head,
    close_at_once,
    observe,
    read_head,
    refused_url,
    reply,
)

from .support import run_both, same


async def _get_and_read(http: Any, url: str, **kwargs: Any) -> Any:
    async with http.ClientSession() as session:
        async with session.get(url, **kwargs) as resp:
            return resp.status, await resp.read()


async def test_connection_refused() -> None:
    url = refused_url()

    async def scenario(http: Any) -> Any:
        try:
            await _get_and_read(http, url)
        except http.ClientConnectorError as error:
            return type(error).__name__, isinstance(error, http.ClientOSError), error.host, error.port
        return None

    assert await same(scenario) == (
        "ClientConnectorError",
        True,
        "127.0.0.1",
        int(url.rsplit(":", 1)[1][:-1]),
    )


@pytest.mark.parametrize(
    ("handler", "expected"),
    [
        (close_at_once, "ServerDisconnectedError"),
        (close_after_head, "ServerDisconnectedError"),
        (reply(b"HTTP/1.1 abc OK\r\n\r\n"), "ClientResponseError"),
        (reply(b"NOT HTTP AT ALL\r\n\r\n"), "ClientResponseError"),
        (reply(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab"), "ClientPayloadError"),
        (
            reply(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"),
            "ClientPayloadError",
        ),
        (
            reply(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 9\r\n\r\nnot gzip!"),
            "ClientPayloadError",
        ),
    ],
    ids=[
        "close-at-once",
        "close-after-head",
        "bad-status",
        "not-http",
        "short-body",
        "short-chunk",
        "bad-gzip",
    ],
)
async def test_misbehaving_servers(raw_server: Callable[..., RawServer], handler: Any, expected: str) -> None:
    server = raw_server(handler)

    async def scenario(http: Any) -> Any:
        return await observe(_get_and_read(http, server.url + "/"))

    assert await same(scenario) == ("error", expected)


async def test_malformed_head_is_a_400_response_error(raw_server: Callable[..., RawServer]) -> None:
    server = raw_server(reply(b"HTTP/1.1 abc OK\r\n\r\n"))

    async def scenario(http: Any) -> Any:
        try:
            await _get_and_read(http, server.url + "/x")
        except http.ClientResponseError as error:
            return error.status, str(error.request_info.url), error.history
        return None

    assert await same(scenario) == (400, server.url + "/x", ())


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://", "InvalidUrlClientError"),
        ("nonsense", "InvalidUrlClientError"),
        ("http:///path", "InvalidUrlClientError"),
        ("http://[::1/", "InvalidUrlClientError"),
        ("ftp://example.test/", "NonHttpUrlClientError"),
        ("file:///etc/passwd", "NonHttpUrlClientError"),
    ],
)
async def test_invalid_urls(url: str, expected: str) -> None:
    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            return await observe(session.get(url))

    assert await same(scenario) == ("error", expected)


async def test_non_http_url_is_also_an_invalid_url() -> None:
    """A known difference, on purpose: ferrofetch's ``NonHttpUrlClientError`` is an
    ``InvalidURL`` (and ``ValueError``); aiohttp 3.14's is a plain ``ClientError``. Code that
    catches either class keeps working."""

    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            try:
                await session.get("ftp://example.test/")
            except http.NonHttpUrlClientError as error:
                return isinstance(error, http.ClientError), isinstance(error, http.InvalidURL)
        return None

    results = await run_both(scenario)
    assert results == {"aiohttp": (True, False), "ferrofetch": (True, True)}


async def test_invalid_url_is_caught_as_invalid_url_and_value_error() -> None:
    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            try:
                await session.get("http://")
            except ValueError as error:
                return isinstance(error, http.InvalidURL), isinstance(error, http.ClientError)
        return None

    assert await same(scenario) == (True, True)


async def test_request_after_close(httpbin: Any) -> None:
    async def scenario(http: Any) -> Any:
        session = http.ClientSession()
        closed_before = session.closed
        await session.close()
        await session.close()  # closing twice is fine
        try:
            await session.get(httpbin.url + "/get")
        except RuntimeError as error:
            return closed_before, session.closed, str(error)
        return None

    assert await same(scenario) == (False, True, "Session is closed")


async def test_base_url_must_end_with_a_slash() -> None:
    async def scenario(http: Any) -> Any:
        try:
            http.ClientSession("http://127.0.0.1/api")
        except ValueError as error:
            return str(error)
        return None

    assert await same(scenario) == "base_url must have a trailing '/'"


async def test_timeout_argument_must_be_a_client_timeout() -> None:
    async def scenario(http: Any) -> Any:
        return await observe(_construct(http, timeout=5))

    assert await same(scenario) == ("error", "ValueError")


async def _construct(http: Any, **kwargs: Any) -> Any:
    session = http.ClientSession(**kwargs)
    await session.close()
    return None


async def test_raise_for_status_session_and_request_level(httpbin: Any) -> None:
    async def scenario(http: Any) -> Any:
        results: list[Any] = []
        async with http.ClientSession(raise_for_status=True) as session:
            results.append(await observe(session.get(httpbin.url + "/status/500")))
            async with session.get(httpbin.url + "/status/500", raise_for_status=False) as resp:
                results.append(resp.status)
            async with session.get(httpbin.url + "/status/200") as resp:
                results.append(resp.status)
        async with http.ClientSession() as session:
            try:
                await session.get(httpbin.url + "/status/403", raise_for_status=True)
            except http.ClientResponseError as error:
                results.append((error.status, error.message, str(error.request_info.url)))
        return results

    assert (await same(scenario))[:3] == [("error", "ClientResponseError"), 500, 200]


async def test_raise_for_status_callable(httpbin: Any) -> None:
    seen: list[int] = []

    async def check(resp: Any) -> None:
        seen.append(resp.status)
        if resp.status == 409:
            raise RuntimeError(f"conflict at {resp.url.path}")

    async def scenario(http: Any) -> Any:
        async with http.ClientSession(raise_for_status=check) as session:
            async with session.get(httpbin.url + "/status/200") as resp:
                first = resp.status
            second = await observe(session.get(httpbin.url + "/status/409"))
        return first, second

    assert await same(scenario) == (200, ("error", "RuntimeError"))
    assert seen == [200, 409, 200, 409]


async def test_total_timeout(raw_server: Callable[..., RawServer]) -> None:
    """Both raise a plain ``asyncio.TimeoutError`` for the total timeout, while waiting for the
    head and while reading the body."""

    async def slow_head(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        await asyncio.sleep(3)

    async def slow_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab")
        await writer.drain()
        await asyncio.sleep(3)

    head_server, body_server = raw_server(slow_head), raw_server(slow_body)

    async def scenario(http: Any) -> Any:
        timeout = http.ClientTimeout(total=0.3)
        results: list[Any] = []
        for server in (head_server, body_server):
            try:
                await _get_and_read(http, server.url + "/", timeout=timeout)
            except asyncio.TimeoutError as error:
                results.append(type(error).__name__)
        return results

    assert await same(scenario) == ["TimeoutError", "TimeoutError"]


async def test_sock_read_timeout(raw_server: Callable[..., RawServer]) -> None:
    async def stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab")
        await writer.drain()
        await asyncio.sleep(3)

    async def silent_head(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        await asyncio.sleep(3)

    servers = raw_server(silent_head), raw_server(stall)

    async def scenario(http: Any) -> Any:
        results: list[Any] = []
        for server in servers:
            try:
                await _get_and_read(http, server.url + "/", timeout=http.ClientTimeout(sock_read=0.3))
            except http.ServerTimeoutError as error:
                results.append(
                    (type(error).__name__, isinstance(error, asyncio.TimeoutError), str(error) != "")
                )
        return results

    assert await same(scenario) == [("SocketTimeoutError", True, True)] * 2


async def test_request_timeout_as_a_number(raw_server: Callable[..., RawServer]) -> None:
    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        await asyncio.sleep(3)

    server = raw_server(slow)

    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            return await observe(session.get(server.url + "/", timeout=0.3))

    assert await same(scenario) == ("error", "TimeoutError")


async def test_exception_tree_matches() -> None:
    """Every aiohttp exception class ferrofetch provides has the same name and the same aiohttp
    bases (ferrofetch adds ``OSError`` to connection errors and makes ``NonHttpUrlClientError`` an
    ``InvalidURL``, on purpose: both only catch more)."""

    async def scenario(http: Any) -> Any:
        tree: dict[str, list[str]] = {}
        for name in sorted(dir(http)):
            value = getattr(http, name)
            if (
                isinstance(value, type)
                and issubclass(value, Exception)
                and name.startswith(
                    (
                        "Client",
                        "Server",
                        "Invalid",
                        "NonHttp",
                        "Redirect",
                        "TooMany",
                        "Content",
                        "Connection",
                        "Socket",
                    )
                )
            ):
                tree[name] = [c.__name__ for c in value.__mro__ if c.__module__ not in ("builtins",)]
        return tree

    results = await run_both(scenario)
    aiohttp_tree, ferrofetch_tree = results["aiohttp"], results["ferrofetch"]
    provided = set(aiohttp_tree) & set(ferrofetch_tree)
    assert {
        "ClientError",
        "ClientConnectionError",
        "ClientConnectorError",
        "ClientConnectorDNSError",
        "ClientConnectorCertificateError",
        "ClientConnectorSSLError",
        "ClientOSError",
        "ClientPayloadError",
        "ClientResponseError",
        "ClientSSLError",
        "ConnectionTimeoutError",
        "ContentTypeError",
        "InvalidURL",
        "InvalidUrlClientError",
        "NonHttpUrlClientError",
        "ServerDisconnectedError",
        "ServerTimeoutError",
        "SocketTimeoutError",
        "TooManyRedirects",
    } <= provided
    for name in provided:
        assert set(aiohttp_tree[name]) <= set(ferrofetch_tree[name]), name


@pytest.mark.parametrize("field", ["connect", "sock_connect"])
async def test_connect_timeout(field: str) -> None:
    """A listener whose accept queue is full never completes a handshake: connecting times out."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers: list[Any] = []
    for _ in range(8):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    await asyncio.sleep(0.2)
    try:

        async def scenario(http: Any) -> Any:
            timeout = http.ClientTimeout(**{field: 0.3})
            async with http.ClientSession(timeout=timeout) as session:
                try:
                    await session.get(f"http://127.0.0.1:{port}/")
                except http.ServerTimeoutError as error:
                    return type(error).__name__, isinstance(error, asyncio.TimeoutError)
            return None

        assert await same(scenario) == ("ConnectionTimeoutError", True)
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


async def test_cancelled_request_leaves_the_session_usable(http_server: HttpServer) -> None:
    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            task = asyncio.ensure_future(session.get(http_server.url + "/slow?delay=3"))
            await asyncio.sleep(0.2)
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                cancelled = task.cancelled()
            async with session.get(http_server.url + "/bytes/4") as resp:
                after = resp.status, len(await resp.read())
            try:
                await asyncio.wait_for(session.get(http_server.url + "/slow?delay=3"), 0.2)
            except asyncio.TimeoutError as error:
                timed_out = type(error).__name__
            return cancelled, after, timed_out

    assert await same(scenario) == (True, (200, 4), "TimeoutError")
