"""Shared fixtures: loopback servers (see ``tests/servers.py``) and TLS material."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

from tests.servers import H2Server, HttpServer, RawHandler, RawServer, TlsFiles

if TYPE_CHECKING:
    import ferrofetch.testing


@pytest.fixture
def http_server() -> Iterator[HttpServer]:
    """A fresh :class:`HttpServer` (plain HTTP) per test, so its counters start at zero."""
    with HttpServer() as server:
        yield server


@pytest.fixture
def raw_server() -> Iterator[Callable[[RawHandler], RawServer]]:
    """A factory: ``raw_server(handler)`` starts a :class:`RawServer`; all are closed afterwards."""
    servers: list[RawServer] = []

    def start(handler: RawHandler) -> RawServer:
        server = RawServer(handler)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A throwaway CA with certificates for 127.0.0.1/localhost and for ``other.test``."""
    return TlsFiles(tmp_path_factory.mktemp("tls"))


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


@pytest.fixture(scope="session")
def loopback_server() -> Iterator[ferrofetch.testing.LoopbackServer]:
    """ferrofetch's own fast HTTP/1.1 server, for volume."""
    import ferrofetch.testing

    server = ferrofetch.testing.LoopbackServer()
    try:
        yield server
    finally:
        server.close()
