"""The HTTP/2 connection pool: one connection for a cold burst over TLS, and the idle lifetime."""

from __future__ import annotations

import asyncio
import time

import ferrofetch

from tests.servers import StartServer, TlsFiles, async_wait_until, echo_app, outcome, serve

from .h2server import StartH2, ok


async def test_a_cold_burst_to_a_tls_h2_host_shares_one_connection(
    certificates: TlsFiles, start_h2: StartH2
) -> None:
    # Before ALPN has chosen h2 nobody knows the connection can be shared: the first request
    # opens it and the others wait for its head, then multiplex on it.
    server = start_h2(ok, tls=certificates.server_context(alpn=("h2", "http/1.1")))
    client = ferrofetch.Client(ca_bundle=certificates.ca_bundle)
    try:
        urls = [server.url_for(f"/{index}") for index in range(100)]
        results, exc, elapsed = await outcome(lambda: client.fetch_all(urls, timeout=20), 30)
        assert exc is None and results is not None, repr(exc)
        assert [result.content for result in results] == [f"/{index}".encode() for index in range(100)]
        assert {result.http_version for result in results} == {"HTTP/2"}
        assert server.connections == 1, f"{server.connections} connections for one h2 host"
        assert elapsed < 15
    finally:
        client.close()


async def test_a_burst_after_the_idle_timeout_shares_one_new_connection(
    certificates: TlsFiles, start_h2: StartH2
) -> None:
    server = start_h2(ok, tls=certificates.server_context(alpn=("h2",)))
    client = ferrofetch.Client(ca_bundle=certificates.ca_bundle, pool_idle_timeout=0.5)
    try:
        urls = [server.url_for(f"/{index}") for index in range(30)]
        for burst in (1, 2):
            results, exc, _ = await outcome(lambda: client.fetch_all(urls, timeout=20), 30)
            assert exc is None and results is not None, repr(exc)
            assert server.connections == burst, f"burst {burst}: {server.connections} connections"
            # The pool closes the idle connection by twice the timeout; the next burst is cold.
            await async_wait_until(lambda: server.open_connections == 0, 3.0)
            assert server.open_connections == 0
    finally:
        client.close()


async def test_a_cold_burst_to_a_tls_http1_host_still_fans_out(
    certificates: TlsFiles, start_server: StartServer
) -> None:
    server = start_server(serve(echo_app), tls=certificates.server_context(alpn=("http/1.1",)))
    client = ferrofetch.Client(ca_bundle=certificates.ca_bundle)
    try:
        urls = [server.url_for(f"/{index}") for index in range(50)]
        results, exc, _ = await outcome(lambda: client.fetch_all(urls, timeout=20), 30)
        assert exc is None and results is not None, repr(exc)
        assert {result.http_version for result in results} == {"HTTP/1.1"}
        # Once the first head is in, the others open their own connections at once.
        assert server.connections > 10, server.connections
    finally:
        client.close()


async def test_an_idle_connection_is_closed_within_twice_the_idle_timeout(start_h2: StartH2) -> None:
    # The pool sweeps idle connections every `pool_idle_timeout`: one idle longer than that is
    # never reused, and is closed by twice the timeout.
    server = start_h2(ok)
    client = ferrofetch.Client(http2="force", pool_idle_timeout=1.0)
    try:
        await asyncio.wait_for(client.fetch(server.url, timeout=5), 10)
        last_used = time.monotonic()
        # Kept for reuse up to the timeout...
        await asyncio.sleep(0.7)
        assert server.open_connections == 1
        again = await asyncio.wait_for(client.fetch(server.url, timeout=5), 10)
        assert again.status == 200 and server.connections == 1, "reused within the timeout"
        last_used = time.monotonic()
        # ...and closed once idle longer: the pool is swept every timeout, so by twice the timeout.
        deadline = last_used + 2 * 1.0 + 0.5
        while server.open_connections and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        closed_after = time.monotonic() - last_used
        assert server.open_connections == 0, "the idle connection outlived twice the idle timeout"
        assert closed_after >= 1.0, f"closed after {closed_after:.2f} s, before the idle timeout"
        late = await asyncio.wait_for(client.fetch(server.url, timeout=5), 10)
        assert late.status == 200 and server.connections == 2
    finally:
        client.close()
