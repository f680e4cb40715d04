"""What a request carries over HTTP/2: the authority as ``:authority`` alone, no ``Host`` field
(RFC 9113 §8.3.1). Some servers (nginx before 1.25) answer 400 to a request that has both, so the
server here refuses such a request as they do, over TLS with ALPN and over prior knowledge, on
every API."""

from __future__ import annotations

import ssl
from typing import Any

import ferrofetch
import pytest

from tests.servers import TlsFiles, outcome

from .h2server import H2Conn, H2Request, StartH2


def refuse_host(conn: H2Conn, request: H2Request) -> None:
    """200 with the request's field names as the body, or 400 when it carries ``host``."""
    names = b",".join(name for name, _ in request.headers)
    status = 400 if request.get(b"host") is not None else 200
    conn.respond(request.stream_id, status, names)


async def _through(api: str, url: str, ca_bundle: str | None = None, http2: Any = True) -> tuple[int, bytes]:
    if api == "fetch":
        response = await ferrofetch.fetch(url, timeout=10, ca_bundle=ca_bundle, http2=http2)
        return response.status, response.content
    if api == "fetch_all":
        [response] = await ferrofetch.fetch_all([url], timeout=10, ca_bundle=ca_bundle, http2=http2)
        return response.status, response.content
    assert ca_bundle is not None
    trusting = ssl.create_default_context(cafile=ca_bundle)
    async with ferrofetch.ClientSession(connector=ferrofetch.TCPConnector(ssl=trusting)) as session:
        async with session.get(url, timeout=ferrofetch.ClientTimeout(total=10)) as resp:
            return resp.status, await resp.read()


@pytest.mark.parametrize("api", ["fetch", "fetch_all", "session"])
async def test_no_host_field_over_h2_by_alpn(certificates: TlsFiles, start_h2: StartH2, api: str) -> None:
    server = start_h2(refuse_host, tls=certificates.server_context(alpn=("h2", "http/1.1")))
    result, error, _ = await outcome(
        lambda: _through(api, server.url_for("/x"), ca_bundle=certificates.ca_bundle), 15
    )
    assert error is None, repr(error)
    assert result is not None
    status, names = result
    assert status == 200, names
    assert b":authority" in names.split(b",")


async def test_no_host_field_over_h2_by_prior_knowledge(start_h2: StartH2) -> None:
    server = start_h2(refuse_host)
    result, error, _ = await outcome(lambda: _through("fetch", server.url_for("/x"), http2="force"), 15)
    assert error is None, repr(error)
    assert result is not None and result[0] == 200, result
