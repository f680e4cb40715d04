"""TLS against trustme certificates: what is refused by default, and the ways to accept it on purpose."""

from __future__ import annotations

import datetime
import ssl
import warnings

import ferrofetch
import pytest

from ..servers import Conn, StartServer, TlsFiles, echo_app, outcome, serve, silent

NOW = datetime.datetime.now(datetime.timezone.utc)


async def test_untrusted_certificate_is_rejected_by_default(
    start_server: StartServer, certificates: TlsFiles
) -> None:
    server = start_server(serve(echo_app), tls=certificates.self_signed_context())
    _, exc, _ = await outcome(lambda: ferrofetch.fetch(server.url_for("/"), timeout=10))
    assert isinstance(exc, ferrofetch.ClientConnectorCertificateError), repr(exc)
    assert isinstance(exc, ssl.SSLCertVerificationError) and isinstance(exc, ferrofetch.ClientSSLError)
    assert exc.url == server.url_for("/")
    assert server.requests == []


async def test_a_certificate_from_the_ca_bundle_is_accepted(
    start_server: StartServer, certificates: TlsFiles
) -> None:
    server = start_server(serve(echo_app), tls=certificates.server_context())
    response, exc, _ = await outcome(
        lambda: ferrofetch.fetch(server.url, ca_bundle=certificates.ca_bundle, timeout=10)
    )
    assert exc is None, repr(exc)
    assert response is not None and response.status == 200
    # The private CA is added to the system roots, not trusted in their place, and only where asked.
    _, exc, _ = await outcome(lambda: ferrofetch.fetch(server.url, timeout=10))
    assert isinstance(exc, ferrofetch.ClientConnectorCertificateError), repr(exc)


async def test_hostname_mismatch_is_rejected(start_server: StartServer, certificates: TlsFiles) -> None:
    server = start_server(serve(echo_app), tls=certificates.server_context("other.test"))
    _, exc, _ = await outcome(
        lambda: ferrofetch.fetch(server.url, ca_bundle=certificates.ca_bundle, timeout=10)
    )
    assert isinstance(exc, ferrofetch.ClientConnectorCertificateError), repr(exc)


async def test_certificate_for_the_ip_is_not_valid_for_a_name(
    start_server: StartServer, certificates: TlsFiles
) -> None:
    server = start_server(serve(echo_app), tls=certificates.server_context("127.0.0.1"))
    url = f"https://localhost:{server.port}/"
    _, exc, _ = await outcome(lambda: ferrofetch.fetch(url, ca_bundle=certificates.ca_bundle, timeout=10))
    assert isinstance(exc, ferrofetch.ClientConnectorCertificateError), repr(exc)


async def test_expired_certificate_is_rejected(start_server: StartServer, certificates: TlsFiles) -> None:
    context = certificates.server_context(
        "127.0.0.1", not_before=NOW - datetime.timedelta(days=30), not_after=NOW - datetime.timedelta(days=1)
    )
    server = start_server(serve(echo_app), tls=context)
    _, exc, _ = await outcome(
        lambda: ferrofetch.fetch(server.url, ca_bundle=certificates.ca_bundle, timeout=10)
    )
    assert isinstance(exc, ferrofetch.ClientConnectorCertificateError), repr(exc)
    assert "expired" in str(exc).lower()


async def test_not_yet_valid_certificate_is_rejected(
    start_server: StartServer, certificates: TlsFiles
) -> None:
    context = certificates.server_context(
        "127.0.0.1", not_before=NOW + datetime.timedelta(days=1), not_after=NOW + datetime.timedelta(days=30)
    )
    server = start_server(serve(echo_app), tls=context)
    _, exc, _ = await outcome(
        lambda: ferrofetch.fetch(server.url, ca_bundle=certificates.ca_bundle, timeout=10)
    )
    assert isinstance(exc, ferrofetch.ClientConnectorCertificateError), repr(exc)


@pytest.mark.parametrize("problem", ["self-signed", "mismatch", "expired"])
async def test_verify_false_accepts_any_certificate(
    start_server: StartServer, certificates: TlsFiles, problem: str
) -> None:
    # Documented as unsafe: it turns off every check above, for testing against your own servers.
    contexts = {
        "self-signed": lambda: certificates.self_signed_context(),
        "mismatch": lambda: certificates.server_context("other.test"),
        "expired": lambda: certificates.server_context(
            "127.0.0.1",
            not_before=NOW - datetime.timedelta(days=30),
            not_after=NOW - datetime.timedelta(days=1),
        ),
    }
    server = start_server(serve(echo_app), tls=contexts[problem]())
    response, exc, _ = await outcome(lambda: ferrofetch.fetch(server.url, verify=False, timeout=10))
    assert exc is None, repr(exc)
    assert response is not None and response.status == 200


async def test_client_certificate_authentication(start_server: StartServer, certificates: TlsFiles) -> None:
    server = start_server(serve(echo_app), tls=certificates.server_context(require_client_cert=True))
    response, exc, _ = await outcome(
        lambda: ferrofetch.fetch(
            server.url,
            ca_bundle=certificates.ca_bundle,
            client_cert=certificates.client_cert,
            client_key=certificates.client_key,
            timeout=10,
        )
    )
    assert exc is None, repr(exc)
    assert response is not None and response.status == 200
    peer = server.peer_certs[-1]
    assert peer is not None
    assert ("DNS", "client.ferrofetch.test") in peer["subjectAltName"]


async def test_a_server_requiring_a_client_certificate_refuses_a_client_without_one(
    start_server: StartServer, certificates: TlsFiles
) -> None:
    server = start_server(serve(echo_app), tls=certificates.server_context(require_client_cert=True))
    _, exc, elapsed = await outcome(
        lambda: ferrofetch.fetch(server.url, ca_bundle=certificates.ca_bundle, timeout=10)
    )
    assert isinstance(exc, ferrofetch.ClientConnectionError), repr(exc)
    assert server.requests == []
    assert elapsed < 5.0


async def test_sni_carries_the_host_name(start_server: StartServer, certificates: TlsFiles) -> None:
    server = start_server(serve(echo_app), tls=certificates.server_context("localhost"))
    url = f"https://localhost:{server.port}/"
    response, exc, _ = await outcome(
        lambda: ferrofetch.fetch(url, ca_bundle=certificates.ca_bundle, timeout=10)
    )
    assert exc is None, repr(exc)
    assert response is not None and response.status == 200
    assert server.server_names == ["localhost"]


async def test_no_sni_for_an_ip_address(start_server: StartServer, certificates: TlsFiles) -> None:
    # RFC 6066 3: literal IP addresses are not permitted in server_name.
    server = start_server(serve(echo_app), tls=certificates.server_context("127.0.0.1"))
    response, exc, _ = await outcome(
        lambda: ferrofetch.fetch(server.url, ca_bundle=certificates.ca_bundle, timeout=10)
    )
    assert exc is None and response is not None
    assert server.server_names == [None]


async def test_plain_http_on_an_https_url_is_an_ssl_error(start_server: StartServer) -> None:
    def handler(conn: Conn) -> None:
        # What a plain HTTP server answers to a ClientHello (nginx, for one).
        conn.sock.recv(4096)
        conn.send(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    server = start_server(handler)
    _, exc, elapsed = await outcome(lambda: ferrofetch.fetch(f"https://127.0.0.1:{server.port}/", timeout=10))
    assert isinstance(exc, ferrofetch.ClientConnectorSSLError), repr(exc)
    assert elapsed < 5.0


async def test_a_server_closing_during_the_handshake_is_a_connector_error(start_server: StartServer) -> None:
    def handler(conn: Conn) -> None:
        conn.sock.recv(4096)

    server = start_server(handler)
    _, exc, elapsed = await outcome(lambda: ferrofetch.fetch(f"https://127.0.0.1:{server.port}/", timeout=10))
    assert isinstance(exc, ferrofetch.ClientConnectorError), repr(exc)
    assert elapsed < 5.0


async def test_garbage_instead_of_a_server_hello_is_an_ssl_error(start_server: StartServer) -> None:
    def handler(conn: Conn) -> None:
        conn.sock.recv(4096)
        conn.send(b"\x16\x03\x03\x00\x02\x02\x28" + bytes(range(256)) * 4)
        conn.hold(2)

    server = start_server(handler)
    _, exc, elapsed = await outcome(lambda: ferrofetch.fetch(f"https://127.0.0.1:{server.port}/", timeout=10))
    assert isinstance(exc, ferrofetch.ClientSSLError), repr(exc)
    assert elapsed < 5.0


async def test_a_server_that_never_finishes_the_handshake_times_out(start_server: StartServer) -> None:
    server = start_server(silent)
    _, exc, elapsed = await outcome(
        lambda: ferrofetch.fetch(f"https://127.0.0.1:{server.port}/", timeout=0.5)
    )
    assert isinstance(exc, ferrofetch.ServerTimeoutError), repr(exc)
    assert elapsed < 3.0


async def test_tls_below_1_2_is_refused(start_server: StartServer, certificates: TlsFiles) -> None:
    context = certificates.server_context()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # serving old TLS is the point here
            context.minimum_version = ssl.TLSVersion.TLSv1
            context.maximum_version = ssl.TLSVersion.TLSv1_1
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    except (ValueError, ssl.SSLError) as refusal:
        pytest.skip(f"this OpenSSL cannot serve TLS 1.1: {refusal}")
    server = start_server(serve(echo_app), tls=context)
    _, exc, _ = await outcome(
        lambda: ferrofetch.fetch(server.url, ca_bundle=certificates.ca_bundle, timeout=10)
    )
    assert isinstance(exc, ferrofetch.ClientConnectorSSLError), repr(exc)
    assert server.requests == []
