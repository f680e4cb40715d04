"""TLS material from a throwaway certificate authority (trustme), and an HTTP/2 server over TLS."""

from __future__ import annotations

import asyncio
import datetime
import json
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import trustme

from .loop import LOOPBACK, LoopServer, listening_socket


class TlsFiles:
    """A throwaway CA, its server and client certificates as PEM files under ``directory``, and
    server contexts made from them.

    - ``ca``: the ``trustme.CA``; ``ca_pem`` (also ``ca_bundle``): its certificate, what a
      client's ``ca_bundle`` takes.
    - ``cert_pem`` / ``key_pem``: a certificate chain and key for ``127.0.0.1`` and ``localhost``.
    - ``other_host_cert_pem`` / ``other_host_key_pem``: a certificate for ``other.test`` only
      (a host-name mismatch when served on 127.0.0.1).
    - ``client_cert`` / ``client_key``: a client certificate for ``client.ferrofetch.test``.
    """

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.ca = trustme.CA()
        self.ca_pem = str(directory / "ca.pem")
        self.ca.cert_pem.write_to_path(self.ca_pem)
        self.cert_pem, self.key_pem = self._issue("server", LOOPBACK, "localhost")
        self.other_host_cert_pem, self.other_host_key_pem = self._issue("other", "other.test")
        client = self.ca.issue_cert("client.ferrofetch.test")
        self.client_cert = str(directory / "client.pem")
        self.client_key = str(directory / "client.key")
        client.cert_chain_pems[0].write_to_path(self.client_cert)
        client.private_key_pem.write_to_path(self.client_key)

    @property
    def ca_bundle(self) -> str:
        """The CA certificate's path (the same as ``ca_pem``)."""
        return self.ca_pem

    def _issue(self, stem: str, *hosts: str) -> tuple[str, str]:
        cert = self.ca.issue_cert(*hosts)
        cert_path = self.directory / f"{stem}-chain.pem"
        key_path = self.directory / f"{stem}-key.pem"
        cert_path.write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
        cert.private_key_pem.write_to_path(str(key_path))
        return str(cert_path), str(key_path)

    def server_context(
        self,
        *names: str,
        other_host: bool = False,
        not_before: datetime.datetime | None = None,
        not_after: datetime.datetime | None = None,
        ca: trustme.CA | None = None,
        require_client_cert: bool = False,
        alpn: tuple[str, ...] = ("http/1.1",),
    ) -> ssl.SSLContext:
        """A server-side context offering ``alpn``.

        Its certificate is for ``names`` (default: 127.0.0.1 and localhost; ``other_host``:
        ``other.test``), issued by ``ca`` (default: this CA), valid from ``not_before`` to
        ``not_after`` (default: trustme's). ``require_client_cert`` asks for a client certificate
        issued by this CA.
        """
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        if names or ca is not None or not_before is not None or not_after is not None:
            issuer = ca or self.ca
            leaf = issuer.issue_cert(
                *(names or (LOOPBACK, "localhost")), not_before=not_before, not_after=not_after
            )
            leaf.configure_cert(context)
        elif other_host:
            context.load_cert_chain(self.other_host_cert_pem, self.other_host_key_pem)
        else:
            context.load_cert_chain(self.cert_pem, self.key_pem)
        if alpn:
            context.set_alpn_protocols(list(alpn))
        if require_client_cert:
            context.verify_mode = ssl.CERT_REQUIRED
            self.ca.configure_trust(context)
        return context

    def self_signed_context(self) -> ssl.SSLContext:
        """A certificate issued by a throwaway CA nobody trusts."""
        return self.server_context(ca=trustme.CA())


ASGIReceive = Callable[[], Awaitable[dict[str, Any]]]
ASGISend = Callable[[dict[str, Any]], Awaitable[None]]


async def _version_app(scope: dict[str, Any], receive: ASGIReceive, send: ASGISend) -> None:
    """Answers every request with JSON naming the HTTP version, method and path it saw."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = bool(message.get("more_body", False))
    body = json.dumps(
        {"http_version": scope["http_version"], "method": scope["method"], "path": scope["path"]}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class H2Server(LoopServer):
    """hypercorn serving :func:`_version_app` over TLS, offering ALPN ``h2`` then ``http/1.1``."""

    scheme = "https"

    def __init__(self, tls: TlsFiles) -> None:
        super().__init__("ferrofetch-test-h2-server")
        self.ca_bundle = tls.ca_pem
        self._shutdown: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        try:
            self._thread.run(self._start(tls))
        except BaseException:
            self._thread.stop()
            raise

    async def _start(self, tls: TlsFiles) -> None:
        from hypercorn.asyncio import serve
        from hypercorn.config import Config

        sock = listening_socket()
        self.port = sock.getsockname()[1]
        config = Config()
        config.bind = [f"fd://{sock.detach()}"]
        config.certfile = tls.cert_pem
        config.keyfile = tls.key_pem
        config.alpn_protocols = ["h2", "http/1.1"]
        config.errorlog = None
        config.accesslog = None
        config.graceful_timeout = 1.0
        self._shutdown = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(
            serve(_version_app, config, shutdown_trigger=self._shutdown.wait)  # type: ignore[arg-type]
        )
        await asyncio.sleep(0)

    async def _stop(self) -> None:
        if self._shutdown is not None:
            self._shutdown.set()
        if self._task is not None:
            await asyncio.wait_for(self._task, 10.0)
