"""Fixtures of the hostile-server battery: raw loopback servers, trustme certificates, a proxy."""

from __future__ import annotations

import datetime
import ssl
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import trustme

from ..servers import async_wait_until
from .h2server import Respond, StartH2, h2_handler, tcp_sockets
from .helpers import sockets_to
from .proxy import RecordingProxy
from .rawserver import LOOPBACK, Handler, RawServer, StartServer


@pytest.fixture
def start_server() -> Iterator[StartServer]:
    """``start_server(handler, host=..., tls=...)``: a raw server closed (and checked) after the test."""
    started: list[RawServer] = []

    def start(handler: Handler, **kwargs: Any) -> RawServer:
        server = RawServer(handler, **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()
    errors = [error for server in started for error in server.errors]
    assert not errors, f"a server handler failed: {errors!r}"


@dataclass
class Certificates:
    """A private CA, its PEM on disk, and ways to make server contexts and client credentials."""

    ca: trustme.CA
    directory: Path
    ca_bundle: str
    client_cert: str
    client_key: str

    def server_context(
        self,
        *names: str,
        not_before: datetime.datetime | None = None,
        not_after: datetime.datetime | None = None,
        ca: trustme.CA | None = None,
        require_client_cert: bool = False,
        alpn: tuple[str, ...] = ("http/1.1",),
    ) -> ssl.SSLContext:
        issuer = ca or self.ca
        leaf = issuer.issue_cert(
            *(names or (LOOPBACK, "localhost")), not_before=not_before, not_after=not_after
        )
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        leaf.configure_cert(context)
        if alpn:
            context.set_alpn_protocols(list(alpn))
        if require_client_cert:
            context.verify_mode = ssl.CERT_REQUIRED
            self.ca.configure_trust(context)
        return context

    def self_signed_context(self) -> ssl.SSLContext:
        """A certificate issued by a throwaway CA nobody trusts."""
        return self.server_context(ca=trustme.CA())


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    directory = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    ca_bundle = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_bundle))
    client = ca.issue_cert("client.ferrofetch.test")
    client_cert = directory / "client.pem"
    client_key = directory / "client.key"
    client.cert_chain_pems[0].write_to_path(str(client_cert))
    client.private_key_pem.write_to_path(str(client_key))
    return Certificates(ca, directory, str(ca_bundle), str(client_cert), str(client_key))


@pytest.fixture
async def proxy() -> AsyncIterator[RecordingProxy]:
    """A recording forward proxy on loopback, running on the test's event loop."""
    running = await RecordingProxy().start()
    yield running
    await running.close()


@pytest.fixture
async def start_h2(start_server: StartServer) -> AsyncIterator[StartH2]:
    """``start_h2(respond, **options)``: an HTTP/2 frame server (``tests.hostile.h2server``).

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
