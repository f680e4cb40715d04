"""Shared fixtures: loopback servers, TLS material and a recording proxy (see ``tests/servers.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from tests.hostile.h2server import Respond, StartH2, h2_handler, tcp_sockets
from tests.servers import (
    H2Server,
    HttpServer,
    RawHandler,
    RawServer,
    RecordingProxy,
    StartServer,
    TlsFiles,
    async_wait_until,
    sockets_to,
)

if TYPE_CHECKING:
    import ferrofetch.testing


@pytest.fixture
def http_server() -> Iterator[HttpServer]:
    """A fresh :class:`HttpServer` (plain HTTP) per test, so its counters start at zero."""
    with HttpServer() as server:
        yield server


@pytest.fixture
def start_server() -> Iterator[StartServer]:
    """``start_server(handler, host=..., tls=..., plain_too=...)`` starts a :class:`RawServer`.

    Every server started is closed after the test, and the test fails if a handler raised.
    """
    started: list[RawServer] = []

    def start(handler: RawHandler, **kwargs: Any) -> RawServer:
        server = RawServer(handler, **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()
    errors = [error for server in started for error in server.errors]
    assert not errors, f"a server handler failed: {errors!r}"


@pytest.fixture
async def start_h2(start_server: StartServer) -> AsyncIterator[StartH2]:
    """``start_h2(respond, **options)``: an HTTP/2 frame server (``tests/hostile/h2server.py``).

    Afterwards every client socket must be given back. TCP sockets are counted rather than all
    descriptors, as event loops of other tests come and go.
    """
    started: list[RawServer] = []
    sockets_before = tcp_sockets()

    def start(respond: Respond, **options: Any) -> RawServer:
        tls = options.pop("tls", None)
        server = start_server(h2_handler(respond, **options), tls=tls)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()
    assert await async_wait_until(lambda: all(sockets_to(s.port) == 0 for s in started), 5.0), (
        "a client socket stayed open"
    )
    assert await async_wait_until(lambda: tcp_sockets() <= sockets_before, 5.0), (
        tcp_sockets(),
        sockets_before,
    )


@pytest.fixture
def raw_server(start_server: StartServer) -> StartServer:
    """The :func:`start_server` factory, under the name the differential suite uses."""
    return start_server


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A throwaway CA with certificates for 127.0.0.1/localhost, ``other.test`` and a client."""
    return TlsFiles(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def certificates(tls_files: TlsFiles) -> TlsFiles:
    """The :func:`tls_files` material, under the name the hostile-server battery uses."""
    return tls_files


@pytest.fixture
def tls_server(tls_files: TlsFiles) -> Iterator[HttpServer]:
    """The :class:`HttpServer` application over TLS (HTTP/1.1 only); ``.ca_bundle`` trusts it."""
    with HttpServer(ssl_context=tls_files.server_context(), ca_bundle=tls_files.ca_pem) as server:
        yield server


@pytest.fixture
def h2_server(tls_files: TlsFiles) -> Iterator[H2Server]:
    """hypercorn over TLS offering h2 by ALPN; ``.ca_bundle`` trusts it."""
    with H2Server(tls_files) as server:
        yield server


@pytest.fixture
async def proxy() -> AsyncIterator[RecordingProxy]:
    """A recording forward proxy on loopback, running on the test's event loop."""
    running = await RecordingProxy().start()
    yield running
    await running.close()


@pytest.fixture(scope="session")
def loopback_server() -> Iterator[ferrofetch.testing.LoopbackServer]:
    """ferrofetch's own fast HTTP/1.1 server, for volume."""
    import ferrofetch.testing

    server = ferrofetch.testing.LoopbackServer()
    try:
        yield server
    finally:
        server.close()
