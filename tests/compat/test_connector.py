"""ClientTimeout, TCPConnector (limits, keep-alive, force_close) and TLS settings (``ssl=``)."""

from __future__ import annotations

import asyncio
import dataclasses
import ssl
from typing import Any

import pytest

from tests.servers import H2Server, HttpServer, TlsFiles, observe

from .support import FERROFETCH, run_both, same


async def test_client_timeout_fields_and_default() -> None:
    async def scenario(http: Any) -> Any:
        timeout = http.ClientTimeout(total=10, connect=2, sock_read=3, sock_connect=4)
        positional = http.ClientTimeout(5)
        async with http.ClientSession() as session:
            default = session.timeout
        return (
            (timeout.total, timeout.connect, timeout.sock_read, timeout.sock_connect),
            positional.total,
            (default.total, default.connect, default.sock_read, default.sock_connect),
            http.ClientTimeout() == http.ClientTimeout(),
            hash(timeout) == hash(http.ClientTimeout(total=10, connect=2, sock_read=3, sock_connect=4)),
        )

    assert (await same(scenario))[2] == (300, None, None, 30)


def test_client_timeout_is_frozen() -> None:
    timeout = FERROFETCH.ClientTimeout(total=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        timeout.total = 2
    assert dataclasses.replace(timeout, sock_read=5) == FERROFETCH.ClientTimeout(total=1, sock_read=5)


@pytest.mark.parametrize(("limit", "limit_per_host"), [(2, 0), (0, 3), (100, 1)])
async def test_connection_limits(limit: int, limit_per_host: int) -> None:
    """Eight slow requests at once: the server never sees more in flight than the limits allow."""

    async def scenario(http: Any) -> Any:
        with HttpServer() as server:
            connector = http.TCPConnector(limit=limit, limit_per_host=limit_per_host)
            async with http.ClientSession(connector=connector) as session:

                async def one() -> Any:
                    async with session.get(server.url + "/slow?delay=0.15") as resp:
                        return await resp.read()

                bodies = await asyncio.gather(*(one() for _ in range(8)))
            return bodies == [b"slow"] * 8, server.stats.max_in_flight

    expected = min(x for x in (limit, limit_per_host) if x)
    assert await same(scenario) == (True, expected)


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/bytes/100"), ("HEAD", "/bytes/100"), ("GET", "/status/204")]
)
async def test_a_response_received_whole_frees_its_slot_unreleased(method: str, path: str) -> None:
    """With ``limit=1``, responses never released nor read do not hold the one slot once their
    body has all arrived (or there is none): the next requests go out at once, as in aiohttp,
    instead of waiting for a slot until the total timeout."""

    async def scenario(http: Any) -> Any:
        with HttpServer() as server:
            async with http.ClientSession(
                connector=http.TCPConnector(limit=1), timeout=http.ClientTimeout(total=3)
            ) as session:
                statuses: list[int] = []
                for _ in range(3):
                    response = await session.request(method, server.url + path)
                    statuses.append(response.status)
                    await asyncio.sleep(0.05)  # the body's bytes land meanwhile
                return statuses

    status = 204 if path.startswith("/status") else 200
    assert await same(scenario) == [status] * 3


async def test_connector_properties() -> None:
    async def scenario(http: Any) -> Any:
        connector = http.TCPConnector(limit=7, limit_per_host=2, force_close=True)
        session = http.ClientSession(connector=connector)
        observed = (connector.limit, connector.limit_per_host, connector.force_close, connector.closed)
        same_connector = session.connector is connector
        await session.close()
        return observed, same_connector, connector.closed

    assert await same(scenario) == ((7, 2, True, False), True, True)


async def test_keep_alive_and_force_close() -> None:
    async def scenario(http: Any) -> Any:
        counts: list[Any] = []
        for force_close in (False, True):
            with HttpServer() as server:
                async with http.ClientSession(
                    connector=http.TCPConnector(force_close=force_close)
                ) as session:
                    for _ in range(4):
                        async with session.get(server.url + "/bytes/100") as resp:
                            await resp.read()
                counts.append(server.stats.connections_accepted)
        return counts

    assert await same(scenario) == [1, 4]


async def test_shared_connector_outlives_a_session_that_does_not_own_it() -> None:
    async def scenario(http: Any) -> Any:
        with HttpServer() as server:
            connector = http.TCPConnector()
            async with http.ClientSession(connector=connector, connector_owner=False) as first:
                async with first.get(server.url + "/bytes/3") as resp:
                    await resp.read()
            async with http.ClientSession(connector=connector, connector_owner=False) as second:
                async with second.get(server.url + "/bytes/3") as resp:
                    body = await resp.read()
            still_open = not connector.closed
            await connector.close()
            return body, still_open, connector.closed, server.stats.connections_accepted

    assert await same(scenario) == (bytes(range(3)), True, True, 1)


async def test_tls_verification(tls_files: TlsFiles) -> None:
    with HttpServer(ssl_context=tls_files.server_context()) as server:

        async def scenario(http: Any) -> Any:
            results: list[Any] = []
            async with http.ClientSession() as session:
                results.append(await observe(session.get(server.url + "/bytes/4")))
                async with session.get(server.url + "/bytes/4", ssl=False) as resp:
                    results.append(await resp.read())
                trusting = ssl.create_default_context(cafile=tls_files.ca_pem)
                async with session.get(server.url + "/bytes/4", ssl=trusting) as resp:
                    results.append(await resp.read())
                unverified = ssl.create_default_context()
                unverified.check_hostname = False
                unverified.verify_mode = ssl.CERT_NONE
                async with session.get(server.url + "/bytes/4", ssl=unverified) as resp:
                    results.append(await resp.read())
            async with http.ClientSession(connector=http.TCPConnector(ssl=False)) as session:
                async with session.get(server.url + "/bytes/4") as resp:
                    results.append(await resp.read())
            return results

        assert await same(scenario) == [("error", "ClientConnectorCertificateError")] + [bytes(range(4))] * 4


async def test_tls_certificate_error_class(tls_files: TlsFiles) -> None:
    with HttpServer(ssl_context=tls_files.server_context(other_host=True)) as server:

        async def scenario(http: Any) -> Any:
            trusting = ssl.create_default_context(cafile=tls_files.ca_pem)
            async with http.ClientSession() as session:
                try:
                    await session.get(server.url + "/bytes/1", ssl=trusting)
                except http.ClientConnectorCertificateError as error:
                    return (
                        type(error).__name__,
                        isinstance(error, http.ClientSSLError),
                        isinstance(error, ssl.CertificateError),
                        error.host,
                    )
            return None

        assert await same(scenario) == ("ClientConnectorCertificateError", True, True, "127.0.0.1")


async def test_http2_availability(h2_server: H2Server) -> None:
    """A known difference: over TLS ferrofetch offers HTTP/2 and uses it when the server agrees
    (aiohttp speaks HTTP/1.1 only); ``TCPConnector(http2=False)`` keeps ferrofetch on HTTP/1.1."""
    trusting = ssl.create_default_context(cafile=h2_server.ca_bundle)

    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            async with session.get(h2_server.url + "/v", ssl=trusting) as resp:
                return tuple(resp.version), (await resp.json())["http_version"]

    results = await run_both(scenario)
    assert results == {"aiohttp": ((1, 1), "1.1"), "ferrofetch": ((2, 0), "2")}
    async with FERROFETCH.ClientSession(connector=FERROFETCH.TCPConnector(http2=False)) as session:
        async with session.get(h2_server.url + "/v", ssl=trusting) as resp:
            assert tuple(resp.version) == (1, 1)
            assert (await resp.json())["http_version"] == "1.1"
