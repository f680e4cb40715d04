"""TLS: certificate checks, ``ca_bundle``, ``verify=False``, and HTTP/2 negotiated by ALPN."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from typing import Any

import ferrofetch
import pytest

from tests.servers import H2Server, HttpServer, TlsFiles


async def fetch(url: str, **options: Any) -> ferrofetch.Response:
    return await asyncio.wait_for(ferrofetch.fetch(url, **options), 15)


@pytest.fixture
def wrong_host_server(tls_files: TlsFiles) -> Iterator[HttpServer]:
    """TLS with a certificate (from the trusted test CA) for ``other.test``, served on 127.0.0.1."""
    with HttpServer(
        ssl_context=tls_files.server_context(other_host=True), ca_bundle=tls_files.ca_pem
    ) as server:
        yield server


async def test_untrusted_certificate_is_rejected_by_default(tls_server: HttpServer) -> None:
    url = tls_server.url_for("/json")
    with pytest.raises(ferrofetch.ClientConnectorCertificateError) as info:
        await fetch(url)
    error = info.value
    assert isinstance(error, ferrofetch.ClientSSLError)
    assert isinstance(error, ssl.SSLCertVerificationError)
    assert isinstance(error, ferrofetch.ClientConnectorError)
    assert error.url == url
    assert error.ssl
    # The handshake failed: no request reached the application.
    assert tls_server.stats.requests == 0


async def test_untrusted_certificate_fails_its_slot_in_a_batch(
    tls_server: HttpServer, http_server: HttpServer
) -> None:
    results = await asyncio.wait_for(
        ferrofetch.fetch_all(
            [tls_server.url_for("/json"), http_server.url_for("/json")], return_exceptions=True
        ),
        15,
    )
    assert isinstance(results[0], ferrofetch.ClientConnectorCertificateError)
    assert isinstance(results[1], ferrofetch.Response) and results[1].status == 200


async def test_ca_bundle_makes_it_trusted(tls_server: HttpServer) -> None:
    assert tls_server.ca_bundle is not None
    response = await fetch(tls_server.url_for("/json"), ca_bundle=tls_server.ca_bundle)
    assert response.status == 200
    assert response.json()["name"] == "ferrofetch"
    assert response.url.startswith("https://127.0.0.1:")
    assert response.http_version == "HTTP/1.1"


async def test_ca_bundle_with_localhost_name(tls_server: HttpServer) -> None:
    assert tls_server.ca_bundle is not None
    url = f"https://localhost:{tls_server.port}/json"
    response = await fetch(url, ca_bundle=tls_server.ca_bundle)
    assert response.status == 200


async def test_verify_false_accepts_it(tls_server: HttpServer) -> None:
    response = await fetch(tls_server.url_for("/bytes/3"), verify=False)
    assert response.content == b"\x00\x01\x02"


async def test_host_name_mismatch_is_a_certificate_error(wrong_host_server: HttpServer) -> None:
    with pytest.raises(ferrofetch.ClientConnectorCertificateError):
        await fetch(wrong_host_server.url_for("/json"), ca_bundle=wrong_host_server.ca_bundle)
    # verify=False also skips the host-name check.
    assert (await fetch(wrong_host_server.url_for("/json"), verify=False)).status == 200


async def test_missing_ca_bundle_file_is_an_error(tls_server: HttpServer, tmp_path: Any) -> None:
    with pytest.raises((ferrofetch.ClientError, OSError, ValueError)):
        await fetch(tls_server.url_for("/json"), ca_bundle=str(tmp_path / "absent.pem"))


async def test_tls_against_a_plain_http_port_is_an_ssl_error(http_server: HttpServer) -> None:
    url = f"https://127.0.0.1:{http_server.port}/json"
    with pytest.raises(ferrofetch.ClientSSLError) as info:
        await fetch(url)
    assert info.value.url == url


async def test_redirect_from_https_to_http_drops_credentials(
    tls_server: HttpServer, http_server: HttpServer
) -> None:
    target = http_server.url_for("/echo")
    response = await fetch(
        tls_server.url_for(f"/redirect-to?url={target}"),
        ca_bundle=tls_server.ca_bundle,
        headers={"Authorization": "Basic eDp5"},
    )
    assert response.url == target
    names = [name.lower() for name, _ in response.json()["headers"]]
    assert "authorization" not in names


async def test_http2_is_negotiated_over_tls(h2_server: H2Server) -> None:
    response = await fetch(h2_server.url_for("/h2"), ca_bundle=h2_server.ca_bundle)
    assert response.status == 200
    assert response.http_version == "HTTP/2"
    assert response.json() == {"http_version": "2", "method": "GET", "path": "/h2"}


async def test_http2_false_keeps_http1(h2_server: H2Server) -> None:
    response = await fetch(h2_server.url_for("/h1"), ca_bundle=h2_server.ca_bundle, http2=False)
    assert response.http_version == "HTTP/1.1"
    assert response.json()["http_version"] == "1.1"


async def test_http2_batch_over_one_connection(h2_server: H2Server) -> None:
    urls = [h2_server.url_for(f"/item/{i}") for i in range(50)]
    results = await asyncio.wait_for(ferrofetch.fetch_all(urls, ca_bundle=h2_server.ca_bundle), 20)
    assert [r.json()["path"] for r in results] == [f"/item/{i}" for i in range(50)]
    assert {r.http_version for r in results} == {"HTTP/2"}


async def test_http1_server_over_tls_reports_http1_even_with_http2_preferred(tls_server: HttpServer) -> None:
    response = await fetch(tls_server.url_for("/json"), ca_bundle=tls_server.ca_bundle, http2=True)
    assert response.http_version == "HTTP/1.1"
