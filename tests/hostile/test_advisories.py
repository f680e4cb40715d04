"""One regression test per class of client-side advisory in urllib3, aiohttp, requests, httpx, curl, hyper.

Each test is named after its class (``test_advisory_<class>``) and listed in SECURITY.md with
the advisories it stands for.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import ssl
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import ferrofetch
import pytest

from ..servers import (
    LOOPBACK,
    OTHER_HOST,
    Conn,
    MiB,
    RecordingProxy,
    Request,
    StartServer,
    TlsFiles,
    async_run_python,
    bomb,
    chunked,
    echo_app,
    http_response,
    outcome,
    redirect_app,
    redirect_to,
    reply,
    serve,
)

if TYPE_CHECKING:
    from ferrofetch.options import ConnectionOptions, FetchOptions, RequestOptions
    from typing_extensions import Unpack

SECRETS = {
    "authorization": b"Bearer top-secret-token",
    "cookie": b"session=top-secret-cookie",
    "proxy-authorization": b"Basic dG9wOnNlY3JldA==",
}
# Every copy counts: two Authorization headers given as pairs, in different cases.
SECRET_HEADERS = [
    ("Authorization", "Bearer top-secret-token"),
    ("authorization", "Bearer second-secret-copy"),
    ("Cookie", "session=top-secret-cookie"),
    ("Proxy-Authorization", "Basic dG9wOnNlY3JldA=="),
]


def assert_no_credentials(request: Request, raw: bytes) -> None:
    for name in ("authorization", "cookie", "proxy-authorization", "cookie2"):
        assert request.get(name) is None, (name, request.get(name))
    assert b"secret" not in raw and b"dG9wOnNlY3JldA" not in raw
    assert b"hunter2" not in raw and base64.b64encode(b"alice:hunter2") not in raw


async def _redirect_with_credentials(
    first_url: str, target: str, **options: Unpack[ConnectionOptions]
) -> None:
    url = first_url + redirect_to(target).lstrip("/")
    response, exc, _ = await outcome(
        lambda: ferrofetch.fetch(url, headers=SECRET_HEADERS, timeout=10, **options)
    )
    assert exc is None, repr(exc)
    assert response is not None and response.url == target


# --- credentials on redirect --------------------------------------------------------------------
# urllib3 CVE-2018-20060, CVE-2023-43804, CVE-2024-37891; aiohttp CVE-2026-34518;
# curl CVE-2022-27774/27776; requests CVE-2024-47081.


async def test_advisory_credentials_on_redirect_cross_host(start_server: StartServer) -> None:
    first = start_server(serve(redirect_app))
    # The same port on another loopback address: only the host changes.
    other = start_server(serve(echo_app), host=OTHER_HOST, port=first.port)
    userinfo = f"http://alice:hunter2@{LOOPBACK}:{first.port}/"
    await _redirect_with_credentials(userinfo, other.url_for("/landed"))
    assert first.requests[0].get("authorization") is not None
    assert_no_credentials(other.requests[-1], bytes(other.received))


async def test_advisory_credentials_on_redirect_cross_port(start_server: StartServer) -> None:
    first = start_server(serve(redirect_app))
    other = start_server(serve(echo_app))
    userinfo = f"http://alice:hunter2@{LOOPBACK}:{first.port}/"
    await _redirect_with_credentials(userinfo, other.url_for("/landed"))
    assert_no_credentials(other.requests[-1], bytes(other.received))


@pytest.mark.parametrize("direction", ["https-to-http", "http-to-https"])
async def test_advisory_credentials_on_redirect_cross_scheme(
    start_server: StartServer, certificates: TlsFiles, direction: str
) -> None:
    # One port answering both TLS and plain HTTP: only the scheme changes.
    dual = start_server(serve(redirect_app), tls=certificates.server_context(), plain_too=True)
    source, target = ("https", "http") if direction == "https-to-http" else ("http", "https")
    first = f"{source}://alice:hunter2@{LOOPBACK}:{dual.port}/"
    await _redirect_with_credentials(
        first, f"{target}://{LOOPBACK}:{dual.port}/landed", ca_bundle=certificates.ca_bundle
    )
    assert len(dual.requests) == 2
    assert dual.requests[0].get("authorization") is not None
    assert_no_credentials(dual.requests[1], dual.requests[1].raw)


async def test_advisory_credentials_kept_on_same_origin_redirect(start_server: StartServer) -> None:
    # The control for the tests above: within one origin the credentials stay.
    server = start_server(serve(redirect_app))
    await _redirect_with_credentials(server.url_for("/"), server.url_for("/landed"))
    final = server.requests[-1]
    assert final.path == "/landed"
    assert final.get("authorization") == b"Bearer top-secret-token"
    assert final.get("cookie") == SECRETS["cookie"]


async def test_advisory_netrc_credentials_are_not_read(start_server: StartServer, tmp_path: Path) -> None:
    # ferrofetch never reads .netrc, so it cannot carry .netrc credentials anywhere.
    server = start_server(serve(echo_app))
    netrc = tmp_path / ".netrc"
    netrc.write_text(f"machine {LOOPBACK} login alice password hunter2\n")
    netrc.chmod(0o600)
    code = """
import asyncio, sys
import ferrofetch
async def main():
    response = await ferrofetch.fetch(sys.argv[1], trust_env=True, timeout=10)
    print(response.status)
asyncio.run(main())
"""
    env = {"HOME": str(tmp_path), "NETRC": str(netrc)}
    completed = await async_run_python(code, args=[server.url], env=env, timeout=30)
    assert completed.returncode == 0, completed.stderr
    assert server.requests[0].get("authorization") is None


# --- proxy credentials (requests CVE-2023-32681) --------------------------------------------------


async def test_advisory_proxy_credentials_only_on_connect(
    proxy: RecordingProxy, start_server: StartServer, certificates: TlsFiles
) -> None:
    proxy.require_auth = b"Basic " + base64.b64encode(b"puser:ppass")
    second = start_server(serve(echo_app), tls=certificates.server_context("second.test"))
    first = start_server(serve(redirect_app), tls=certificates.server_context("first.test"))
    proxy.host_map["first.test"] = (LOOPBACK, first.port)
    proxy.host_map["second.test"] = (LOOPBACK, second.port)
    url = "https://first.test" + redirect_to("https://second.test/landed")
    response, exc, _ = await outcome(
        lambda: ferrofetch.fetch(
            url,
            proxy=f"http://puser:ppass@{LOOPBACK}:{proxy.port}",
            ca_bundle=certificates.ca_bundle,
            timeout=10,
        )
    )
    assert exc is None, repr(exc)
    assert response is not None and response.url == "https://second.test/landed"
    assert [(entry.method, entry.target) for entry in proxy.entries] == [
        (b"CONNECT", b"first.test:443"),
        (b"CONNECT", b"second.test:443"),
    ]
    assert all(entry.get("proxy-authorization") == proxy.require_auth for entry in proxy.entries)
    for request in first.requests + second.requests:
        assert request.get("proxy-authorization") is None
        assert b"cHVzZXI6cHBhc3M" not in request.raw


# --- body and content headers dropped (urllib3 CVE-2023-45803) ------------------------------------


@pytest.mark.parametrize(("status", "method"), [(301, "POST"), (302, "POST"), (303, "POST"), (303, "PUT")])
async def test_advisory_redirect_drops_body_and_content_headers(
    start_server: StartServer, status: int, method: str
) -> None:
    server = start_server(serve(redirect_app))
    url = server.url_for(redirect_to("/landed", status))
    response, exc, _ = await outcome(
        lambda: ferrofetch.fetch(url, method=method, json={"card": "4111 1111 1111 1111"}, timeout=10)
    )
    assert exc is None and response is not None
    final = server.requests[-1]
    assert (final.method, final.path) == (b"GET", "/landed")
    assert final.body == b""
    assert final.get("content-type") is None
    assert final.get("content-length") in (None, b"0")
    assert b"4111" not in final.raw


# --- CR/LF/NUL injection (urllib3 CVE-2019-11236, CVE-2020-26137; aiohttp CVE-2023-49081/49082) ----


async def test_advisory_crlf_nul_injection(start_server: StartServer) -> None:
    server = start_server(serve(echo_app))
    cases: list[dict[str, object]] = [
        {"method": "GET /x HTTP/1.1\r\nInjected: 1\r\n\r\nGET"},
        {"method": "GET\x00"},
        {"method": "GE T"},
        {"headers": {"X-A\r\nInjected": "1"}},
        {"headers": {"X-A": "1\r\nInjected: 1"}},
        {"headers": {"X-A": "1\nInjected: 1"}},
        {"headers": {"X-A": "1\x00"}},
        {"headers": {"X A": "1"}},
        {"path": "/x HTTP/1.1\r\nInjected: 1\r\n\r\n"},
        {"path": "/x\x00"},
        {"path": "/x\nInjected: 1"},
    ]
    for case in cases:
        given = {key: value for key, value in case.items() if key != "path"}
        options = cast("RequestOptions", {**given, "timeout": 5})
        url = server.url_for(str(case.get("path", "/")))
        _, exc, _ = await outcome(functools.partial(ferrofetch.fetch, url, **options))
        assert isinstance(exc, ValueError), (case, exc)
    await asyncio.sleep(0.05)
    assert server.connections == 0
    assert bytes(server.received) == b""


async def test_advisory_crlf_nul_injection_through_the_session(start_server: StartServer) -> None:
    # The aiohttp-compatible layer adds multipart part headers and its own method/version paths.
    if getattr(ferrofetch, "ClientSession", None) is None:
        pytest.skip("ferrofetch.ClientSession is not available yet")
    from ferrofetch.formdata import FormData

    server = start_server(serve(echo_app))
    part_cases: list[dict[str, str]] = [
        {"name": "field\r\nInjected: 1"},
        {"name": "field", "filename": "a.txt\r\nInjected: 1"},
        {"name": "field", "filename": "a.txt", "content_type": "text/plain\r\nInjected: 1"},
        {"name": "field\x00"},
    ]
    async with ferrofetch.ClientSession() as session:
        for case in part_cases:
            with pytest.raises(ValueError):
                form = FormData()
                form.add_field(value=b"content", **case)
                async with session.post(server.url, data=form) as response:
                    await response.read()
        for method in ("GET\r\nInjected: 1", "GET /x HTTP/1.1\r\n\r\nGET", "GE\x00T"):
            with pytest.raises(ValueError):
                async with session.request(method, server.url) as response:
                    await response.read()
        with pytest.raises(ValueError):
            async with session.get(server.url, headers={"X-A": "1\r\nInjected: 1"}) as response:
                await response.read()
    await asyncio.sleep(0.05)
    assert server.connections == 0
    assert bytes(server.received) == b""


# --- pathological URLs (urllib3 CVE-2021-33503; httpx #2184) --------------------------------------


PATHOLOGICAL_LOCATIONS: list[Callable[[int], str]] = [
    lambda port: "http://" + "@" * 50_000 + f"{LOOPBACK}:{port}/ok",
    lambda port: f"http://{LOOPBACK}:{port}/" + "@" * 50_000,
    lambda port: f"http://{LOOPBACK}:{port}/" + "%" * 50_000,
    lambda port: f"http://{LOOPBACK}:{port}/" + "a/.." * 12_500,
    lambda port: f"http://{LOOPBACK}:{port}/?" + "&=" * 25_000,
    lambda port: f"http://{LOOPBACK}:{port}/" + "\u00e9" * 20_000,
    lambda port: "http://" + "a." * 25_000 + "test/",
    lambda port: "http://[" + "0:" * 25_000 + "]/",
]


@pytest.mark.parametrize(
    "make_location",
    PATHOLOGICAL_LOCATIONS,
    ids=["at-userinfo", "at-path", "percent", "dot-segments", "query", "non-ascii", "labels", "ipv6"],
)
async def test_advisory_pathological_url_parses_in_linear_time(
    start_server: StartServer, make_location: Callable[[int], str]
) -> None:
    server = start_server(serve(redirect_app))
    location = make_location(server.port)
    for url in (location, server.url_for(redirect_to(location))):
        started = time.monotonic()
        _, exc, _ = await outcome(functools.partial(ferrofetch.fetch, url, timeout=5))
        elapsed = time.monotonic() - started
        assert exc is None or isinstance(exc, ferrofetch.ClientError), repr(exc)
        assert elapsed < 2.0, f"{elapsed:.2f} s"


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://good.test\\@evil.test/", "good.test"),
        ("https://evil.test#@good.test/", "evil.test"),
        ("https://good.test:443@evil.test/", "evil.test"),
        ("https://good.test?@evil.test/", "good.test"),
        ("https://user@good.test@evil.test/", "evil.test"),
        ("https://good.test%2F@evil.test/", "evil.test"),
        ("https://GOOD.TEST/", "good.test"),
        ("https://good.test:443/", "good.test"),
    ],
)
async def test_advisory_one_parsed_url_for_proxy_sni_and_host(
    proxy: RecordingProxy, start_server: StartServer, certificates: TlsFiles, url: str, host: str
) -> None:
    # The tunnel target, the SNI and the Host header must all name the host WHATWG parsing finds.
    origin = start_server(serve(echo_app), tls=certificates.server_context("good.test", "evil.test"))
    proxy.default_route = (LOOPBACK, origin.port)
    response, exc, _ = await outcome(
        lambda: ferrofetch.fetch(url, proxy=proxy.url, ca_bundle=certificates.ca_bundle, timeout=10)
    )
    assert exc is None, repr(exc)
    assert response is not None and response.status == 200
    assert [entry.target for entry in proxy.entries] == [f"{host}:443".encode()]
    assert origin.server_names == [host]
    assert origin.requests[-1].get("host") == host.encode()
    # parse -> serialize -> parse: the URL ferrofetch reports leads to the same host again.
    again, exc, _ = await outcome(
        lambda: ferrofetch.fetch(response.url, proxy=proxy.url, ca_bundle=certificates.ca_bundle, timeout=10)
    )
    assert exc is None and again is not None
    assert again.url == response.url
    assert proxy.entries[-1].target == f"{host}:443".encode()


# --- the pool key (requests CVE-2024-35195; curl CVE-2022-27782) -----------------------------------


async def test_advisory_pool_key_includes_tls_verification(
    start_server: StartServer, certificates: TlsFiles
) -> None:
    server = start_server(serve(echo_app), tls=certificates.self_signed_context())
    unverified, exc, _ = await outcome(lambda: ferrofetch.fetch(server.url, verify=False, timeout=10))
    assert exc is None and unverified is not None
    _, exc, _ = await outcome(lambda: ferrofetch.fetch(server.url, timeout=10))
    assert isinstance(exc, ferrofetch.ClientConnectorCertificateError), repr(exc)
    assert len(server.requests) == 1


async def test_advisory_pool_key_includes_the_ca_set(
    start_server: StartServer, certificates: TlsFiles
) -> None:
    server = start_server(serve(echo_app), tls=certificates.server_context())
    trusted, exc, _ = await outcome(
        lambda: ferrofetch.fetch(server.url, ca_bundle=certificates.ca_bundle, timeout=10)
    )
    assert exc is None and trusted is not None
    _, exc, _ = await outcome(lambda: ferrofetch.fetch(server.url, timeout=10))
    assert isinstance(exc, ferrofetch.ClientConnectorCertificateError), repr(exc)


async def test_advisory_pool_key_includes_the_client_certificate(
    start_server: StartServer, certificates: TlsFiles
) -> None:
    context = certificates.server_context()
    context.verify_mode = ssl.CERT_OPTIONAL
    # trustme leaves configure_trust's `ctx` partly unannotated.
    certificates.ca.configure_trust(context)  # pyright: ignore[reportUnknownMemberType]
    server = start_server(serve(echo_app), tls=context)
    with_cert, exc, _ = await outcome(
        lambda: ferrofetch.fetch(
            server.url,
            ca_bundle=certificates.ca_bundle,
            client_cert=certificates.client_cert,
            client_key=certificates.client_key,
            timeout=10,
        )
    )
    assert exc is None and with_cert is not None
    without, exc, _ = await outcome(
        lambda: ferrofetch.fetch(server.url, ca_bundle=certificates.ca_bundle, timeout=10)
    )
    assert exc is None and without is not None
    assert server.connections == 2
    assert server.peer_certs[0] is not None and server.peer_certs[1] is None


async def test_advisory_pool_key_includes_the_proxy(proxy: RecordingProxy, start_server: StartServer) -> None:
    origin = start_server(serve(echo_app))
    choices: list[FetchOptions] = [{"proxy": proxy.url, "timeout": 10}, {"timeout": 10}] * 2
    for options in choices:
        response, exc, _ = await outcome(functools.partial(ferrofetch.fetch, origin.url, **options))
        assert exc is None and response is not None
    assert len(proxy.entries) == 2
    assert len(origin.requests) == 4


# --- decompression (urllib3 CVE-2025-66418, CVE-2025-66471, CVE-2026-21441; aiohttp CVE-2025-69223) --


def _gzip_layers(data: bytes, layers: int) -> bytes:
    for _ in range(layers):
        data = zlib.compress(data, 9, wbits=31)
    return data


@pytest.mark.parametrize(
    "header_lines", [["gzip, " * 9 + "gzip"], ["gzip"] * 10, ["gzip, gzip, gzip", "gzip, gzip, gzip"]]
)
async def test_advisory_decompression_chain_is_refused(
    start_server: StartServer, header_lines: list[str]
) -> None:
    inner = bytes(32 * MiB)
    body = _gzip_layers(inner, 10)
    headers = [("Content-Encoding", value) for value in header_lines]
    server = start_server(reply(http_response(200, body, headers)))
    response, exc, elapsed = await outcome(
        lambda: ferrofetch.fetch(server.url, max_body_size=64 * MiB, timeout=20)
    )
    assert elapsed < 10
    # More than five codings, on one header line or several: refused before any is undone.
    assert response is None and isinstance(exc, ferrofetch.ClientPayloadError), repr(exc)
    assert "content codings" in str(exc), str(exc)


@pytest.mark.parametrize("encoding", ["gzip", "br", "zstd", "deflate"])
async def test_advisory_decompression_capped_by_max_body_size(
    start_server: StartServer, encoding: str
) -> None:
    server = start_server(reply(http_response(200, bomb(encoding, 64), [("Content-Encoding", encoding)])))
    _, exc, elapsed = await outcome(lambda: ferrofetch.fetch(server.url, max_body_size=MiB, timeout=20))
    assert isinstance(exc, ferrofetch.BodyTooLargeError), repr(exc)
    assert elapsed < 10


@pytest.mark.parametrize("body_kind", ["bomb", "garbage"])
async def test_advisory_redirect_body_is_not_decoded(start_server: StartServer, body_kind: str) -> None:
    body = bomb("gzip", 512) if body_kind == "bomb" else b"\x1f\x8b not gzip at all" * 100

    def app(request: Request) -> bytes:
        if request.path == "/start":
            return http_response(302, body, [("Location", "/final"), ("Content-Encoding", "gzip")])
        return http_response(200, b"final")

    server = start_server(serve(app))
    response, exc, elapsed = await outcome(lambda: ferrofetch.fetch(server.url_for("/start"), timeout=20))
    assert exc is None, repr(exc)
    assert response is not None and response.content == b"final"
    # Decoding 512 MiB would take far longer than following the redirect does.
    assert elapsed < 3.0, f"{elapsed:.2f} s"


# --- framing (hyper RUSTSEC-2021-0078 and response splitting) --------------------------------------


SMUGGLED = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil"


def _bad_then_good(bad: bytes) -> Callable[[Conn], None]:
    """First response on a connection is ``bad``; any later one (on any connection) is good."""
    served = {"bad": 0}

    def handler(conn: Conn) -> None:
        while True:
            request = conn.read_request()
            if request is None:
                return
            if request.path == "/bad" and served["bad"] == 0:
                served["bad"] += 1
                conn.send(bad)
            else:
                conn.send(http_response(200, b"good"))

    return handler


@pytest.mark.parametrize(
    "bad",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello" + SMUGGLED,
        b"HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello" + SMUGGLED,
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;"
        + b"x" * 20_000
        + b"\r\nhello\r\n0\r\n\r\n",
    ],
    ids=["plus-sign", "list", "conflicting", "chunk-size-overflow", "chunk-extension-flood"],
)
async def test_advisory_framing_errors_are_rejected_and_the_connection_dropped(
    start_server: StartServer, bad: bytes
) -> None:
    server = start_server(_bad_then_good(bad))
    client = ferrofetch.Client()
    try:
        _, exc, _ = await outcome(lambda: client.fetch(server.url_for("/bad"), timeout=10))
        assert isinstance(exc, ferrofetch.ClientError), repr(exc)
        for _ in range(2):
            response, exc, _ = await outcome(lambda: client.fetch(server.url_for("/next"), timeout=10))
            assert exc is None and response is not None, repr(exc)
            assert response.content == b"good"
    finally:
        client.close()
    assert server.connections == 2, "the connection that framed a response wrongly was reused"


async def test_advisory_framing_content_length_with_transfer_encoding_is_refused(
    start_server: StartServer,
) -> None:
    # Refused, and the connection is closed: nothing of this body can become the next response.
    smuggled = http_response(200, b"evil")
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
    server = start_server(_bad_then_good(head + chunked(b"hello", smuggled)))
    client = ferrofetch.Client()
    try:
        first, exc, _ = await outcome(lambda: client.fetch(server.url_for("/bad"), timeout=10))
        assert first is None
        assert isinstance(exc, ferrofetch.ClientResponseError) and exc.status == 400
        for _ in range(2):
            response, exc, _ = await outcome(lambda: client.fetch(server.url_for("/next"), timeout=10))
            assert exc is None and response is not None
            assert response.content == b"good"
    finally:
        client.close()


# --- cookies (aiohttp CVE-2026-54279) -------------------------------------------------------------


async def test_advisory_cookies_host_only(tmp_path: Path) -> None:
    cookiejar = pytest.importorskip(
        "ferrofetch.cookiejar", reason="the session's cookie jar is not available yet"
    )
    from yarl import URL

    jar = cookiejar.CookieJar()
    jar.update_cookies_from_headers(
        ["host_only=1; Path=/", "domain_wide=2; Domain=example.test; Path=/"], URL("http://example.test/")
    )

    def check(current: Any) -> None:
        assert set(current.filter_cookies(URL("http://example.test/"))) == {"host_only", "domain_wide"}
        assert set(current.filter_cookies(URL("http://sub.example.test/"))) == {"domain_wide"}
        assert set(current.filter_cookies(URL("http://other.test/"))) == set()

    check(jar)
    saved = tmp_path / "cookies.json"
    jar.save(saved)
    reloaded = cookiejar.CookieJar()
    reloaded.load(saved)
    check(reloaded)


async def test_advisory_cookies_host_only_on_the_wire(start_server: StartServer) -> None:
    session_class = getattr(ferrofetch, "ClientSession", None)
    if session_class is None:
        pytest.skip("ferrofetch.ClientSession is not available yet")
    from ferrofetch.cookiejar import CookieJar

    other = start_server(serve(echo_app), host=OTHER_HOST)

    def app(request: Request) -> bytes:
        if request.path == "/set":
            return http_response(200, b"set", [("Set-Cookie", "host_only=secret; Path=/")])
        return redirect_app(request)

    first = start_server(serve(app), port=other.port)
    via_redirect = first.url_for(redirect_to(other.url_for("/redirected")))
    async with session_class(cookie_jar=CookieJar(unsafe=True)) as session:
        for url in (
            first.url_for("/set"),
            first.url_for("/again"),
            other.url_for("/elsewhere"),
            via_redirect,
        ):
            async with session.get(url) as response:
                await response.read()
    assert first.requests[1].get("cookie") == b"host_only=secret"
    assert first.requests[2].get("cookie") == b"host_only=secret"  # the request that redirected
    assert [request.path for request in other.requests] == ["/elsewhere", "/redirected"]
    assert all(request.get("cookie") is None for request in other.requests)


# --- IDNA hosts for verification and SNI ------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["https://bücher.test/", "https://BÜCHER.test/", "https://bu\u0308cher.test/"]
)
async def test_advisory_idna_hostname_verification_and_sni(
    proxy: RecordingProxy, start_server: StartServer, certificates: TlsFiles, url: str
) -> None:
    right = start_server(serve(echo_app), tls=certificates.server_context("xn--bcher-kva.test"))
    proxy.host_map["xn--bcher-kva.test"] = (LOOPBACK, right.port)
    response, exc, _ = await outcome(
        lambda: ferrofetch.fetch(url, proxy=proxy.url, ca_bundle=certificates.ca_bundle, timeout=10)
    )
    assert exc is None, repr(exc)
    assert response is not None and response.status == 200
    assert proxy.entries[-1].target == b"xn--bcher-kva.test:443"
    assert right.server_names == ["xn--bcher-kva.test"]
    assert right.requests[-1].get("host") == b"xn--bcher-kva.test"


async def test_advisory_idna_lookalike_certificate_is_rejected(
    proxy: RecordingProxy, start_server: StartServer, certificates: TlsFiles
) -> None:
    # A certificate for a look-alike name (Latin "bucher") must not pass for "bücher".
    wrong = start_server(serve(echo_app), tls=certificates.server_context("bucher.test"))
    proxy.default_route = (LOOPBACK, wrong.port)
    _, exc, _ = await outcome(
        lambda: ferrofetch.fetch(
            "https://bücher.test/", proxy=proxy.url, ca_bundle=certificates.ca_bundle, timeout=10
        )
    )
    assert isinstance(exc, ferrofetch.ClientConnectorCertificateError), repr(exc)
    assert wrong.requests == []
