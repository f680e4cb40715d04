"""Proxies: explicit and from the environment, plain forwarding and CONNECT, and where credentials go.

The recording proxy maps made-up host names to loopback servers, so a request that arrives at
the right server can only have come through the proxy (nothing resolves those names).
"""

from __future__ import annotations

import base64
import json

import ferrofetch
import pytest

from ..servers import (
    OTHER_HOST,
    RecordingProxy,
    StartServer,
    TlsFiles,
    async_run_python,
    echo_app,
    outcome,
    redirect_app,
    redirect_to,
    refused_url,
    reply,
    serve,
)

PROXY_AUTH = b"Basic " + base64.b64encode(b"puser:ppass")


def _with_credentials(proxy: RecordingProxy) -> str:
    return f"http://puser:ppass@127.0.0.1:{proxy.port}"


async def test_plain_http_goes_through_the_proxy(proxy: RecordingProxy, start_server: StartServer) -> None:
    origin = start_server(serve(echo_app))
    proxy.host_map["origin.test"] = ("127.0.0.1", origin.port)
    response, exc, _ = await outcome(
        lambda: ferrofetch.fetch("http://origin.test/path?q=1", proxy=proxy.url, timeout=10)
    )
    assert exc is None, repr(exc)
    assert response is not None and response.content == b"GET /path?q=1"
    assert [(entry.method, entry.target) for entry in proxy.entries] == [
        (b"GET", b"http://origin.test/path?q=1")
    ]


async def test_https_goes_through_a_connect_tunnel(
    proxy: RecordingProxy, start_server: StartServer, certificates: TlsFiles
) -> None:
    origin = start_server(serve(echo_app), tls=certificates.server_context("origin.test"))
    proxy.host_map["origin.test"] = ("127.0.0.1", origin.port)
    response, exc, _ = await outcome(
        lambda: ferrofetch.fetch(
            "https://origin.test/", proxy=proxy.url, ca_bundle=certificates.ca_bundle, timeout=10
        )
    )
    assert exc is None, repr(exc)
    assert response is not None and response.status == 200
    assert [(entry.method, entry.target) for entry in proxy.entries] == [(b"CONNECT", b"origin.test:443")]
    # The name inside the tunnel is the origin's, for SNI and certificate checks alike.
    assert origin.server_names == ["origin.test"]


async def test_proxy_credentials_go_to_the_proxy_only(
    proxy: RecordingProxy, start_server: StartServer
) -> None:
    proxy.require_auth = PROXY_AUTH
    origin = start_server(serve(echo_app))
    proxy.host_map["origin.test"] = ("127.0.0.1", origin.port)
    response, exc, _ = await outcome(
        lambda: ferrofetch.fetch("http://origin.test/", proxy=_with_credentials(proxy), timeout=10)
    )
    assert exc is None and response is not None and response.status == 200
    assert proxy.entries[0].get("proxy-authorization") == PROXY_AUTH
    assert origin.requests[0].get("authorization") is None


async def test_connect_refused_by_the_proxy_is_a_proxy_error(
    proxy: RecordingProxy, certificates: TlsFiles
) -> None:
    proxy.require_auth = PROXY_AUTH
    _, exc, elapsed = await outcome(
        lambda: ferrofetch.fetch(
            "https://origin.test/", proxy=proxy.url, ca_bundle=certificates.ca_bundle, timeout=10
        )
    )
    assert isinstance(exc, ferrofetch.ClientHttpProxyError), repr(exc)
    assert exc.status == 407
    assert elapsed < 5.0


async def test_an_unreachable_proxy_is_a_proxy_connection_error(start_server: StartServer) -> None:
    gone = start_server(serve(echo_app))
    port = gone.port
    gone.close()
    _, exc, _ = await outcome(
        lambda: ferrofetch.fetch("http://origin.test/", proxy=f"http://127.0.0.1:{port}", timeout=10)
    )
    assert isinstance(exc, ferrofetch.ClientProxyConnectionError), repr(exc)


async def test_connect_answered_with_an_error_status_is_a_proxy_error(
    start_server: StartServer, certificates: TlsFiles
) -> None:
    refusing = start_server(reply(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"))
    _, exc, elapsed = await outcome(
        lambda: ferrofetch.fetch(
            "https://origin.test/", proxy=refusing.url, ca_bundle=certificates.ca_bundle, timeout=10
        )
    )
    assert isinstance(exc, ferrofetch.ClientHttpProxyError), repr(exc)
    assert "the proxy refused to open a tunnel" in str(exc)
    assert elapsed < 5.0


async def test_a_refused_connection_to_a_url_that_names_a_proxy_is_no_proxy_error() -> None:
    """Only the error's type says a proxy was involved, not the words of the URL."""
    url = refused_url("/proxy/tunnel error")
    _, exc, _ = await outcome(lambda: ferrofetch.fetch(url, timeout=10))
    assert isinstance(exc, ferrofetch.ClientConnectorError), repr(exc)
    assert not isinstance(exc, ferrofetch.ClientProxyConnectionError), repr(exc)


@pytest.mark.parametrize("proxy_url", ["not a url", "http://", "http://127.0.0.1:99999"])
async def test_an_unparsable_proxy_url_is_refused(start_server: StartServer, proxy_url: str) -> None:
    origin = start_server(serve(echo_app))
    _, exc, _ = await outcome(lambda: ferrofetch.fetch(origin.url, proxy=proxy_url, timeout=5))
    assert isinstance(exc, ValueError), repr(exc)
    assert origin.requests == []


@pytest.mark.parametrize("scheme", ["ftp", "gopher"])
async def test_a_proxy_url_with_an_unsupported_scheme_is_refused(
    proxy: RecordingProxy, start_server: StartServer, scheme: str
) -> None:
    origin = start_server(serve(echo_app))
    _, exc, _ = await outcome(
        lambda: ferrofetch.fetch(origin.url, proxy=f"{scheme}://127.0.0.1:{proxy.port}", timeout=5)
    )
    # Refused up front: falling back to a direct connection would defeat the point of a proxy.
    assert isinstance(exc, ValueError), repr(exc)
    assert origin.requests == []


async def test_proxy_credentials_are_not_sent_to_the_origin_after_a_redirect(
    proxy: RecordingProxy, start_server: StartServer
) -> None:
    proxy.require_auth = PROXY_AUTH
    second = start_server(serve(echo_app), host=OTHER_HOST)
    first = start_server(serve(redirect_app))
    proxy.host_map["first.test"] = ("127.0.0.1", first.port)
    proxy.host_map["second.test"] = (OTHER_HOST, second.port)
    url = "http://first.test" + redirect_to("http://second.test/landed")
    response, exc, _ = await outcome(
        lambda: ferrofetch.fetch(url, proxy=_with_credentials(proxy), timeout=10)
    )
    assert exc is None and response is not None
    assert response.content == b"GET /landed"
    assert [entry.get("proxy-authorization") for entry in proxy.entries] == [PROXY_AUTH, PROXY_AUTH]
    for request in first.requests + second.requests:
        assert request.get("proxy-authorization") is None
        assert request.get("authorization") is None


async def test_the_pool_does_not_mix_proxied_and_direct_connections(
    proxy: RecordingProxy, start_server: StartServer
) -> None:
    origin = start_server(serve(echo_app))
    via_proxy, exc, _ = await outcome(lambda: ferrofetch.fetch(origin.url, proxy=proxy.url, timeout=10))
    assert exc is None and via_proxy is not None
    direct, exc, _ = await outcome(lambda: ferrofetch.fetch(origin.url, timeout=10))
    assert exc is None and direct is not None
    assert len(proxy.entries) == 1
    assert len(origin.requests) == 2


# --- the environment ----------------------------------------------------------------------------

ENV_PROBE = """
import asyncio, json, sys
import ferrofetch

async def main(url, extra):
    options = json.loads(extra)
    results = {}
    for name, trust_env in (("trusting", True), ("default", None)):
        kwargs = dict(options, timeout=10)
        if trust_env is not None:
            kwargs["trust_env"] = trust_env
        try:
            response = await ferrofetch.fetch(url, **kwargs)
            results[name] = [response.status, response.text]
        except ferrofetch.ClientError as exc:
            results[name] = [type(exc).__name__, str(exc)]
    print(json.dumps(results))

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


async def _probe_env(url: str, env: dict[str, str], options: str = "{}") -> dict[str, list[object]]:
    completed = await async_run_python(ENV_PROBE, args=[url, options], env=env, timeout=40)
    assert completed.returncode == 0, completed.stderr
    result: dict[str, list[object]] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("proxy_scheme", ["http", "socks5"])
async def test_an_unreachable_proxy_from_the_environment_is_a_proxy_connection_error(
    proxy_scheme: str,
) -> None:
    """HTTPS through an HTTP proxy (the CONNECT tunnel's connection fails) and anything through a
    SOCKS proxy: the failure is the proxy's even though no ``proxy=`` was given."""
    gone = refused_url().replace("http", proxy_scheme, 1).rstrip("/")
    target = refused_url("/env").replace("http:", "https:", 1)
    results = await _probe_env(target, {"ALL_PROXY": gone})
    assert results["trusting"][0] == "ClientProxyConnectionError", results


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY"])
async def test_http_proxy_from_the_environment_only_with_trust_env(
    proxy: RecordingProxy, start_server: StartServer, variable: str
) -> None:
    origin = start_server(serve(echo_app))
    results = await _probe_env(origin.url_for("/env"), {variable: proxy.url})
    assert results == {"trusting": [200, "GET /env"], "default": [200, "GET /env"]}
    assert [entry.target for entry in proxy.entries] == [origin.url_for("/env").encode()]


async def test_https_proxy_from_the_environment_only_with_trust_env(
    proxy: RecordingProxy, start_server: StartServer, certificates: TlsFiles
) -> None:
    origin = start_server(serve(echo_app), tls=certificates.server_context())
    options = json.dumps({"ca_bundle": certificates.ca_bundle})
    results = await _probe_env(origin.url_for("/env"), {"HTTPS_PROXY": proxy.url}, options)
    assert results == {"trusting": [200, "GET /env"], "default": [200, "GET /env"]}
    assert [(entry.method, entry.target) for entry in proxy.entries] == [
        (b"CONNECT", f"127.0.0.1:{origin.port}".encode())
    ]


@pytest.mark.parametrize(
    ("host", "no_proxy"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("127.0.0.1", "127.0.0.0/8"),
        ("127.0.0.1", "example.test, 127.0.0.1"),
        ("localhost", "localhost"),
        ("localhost", ".localhost"),
        ("localhost", "*"),
        ("127.0.0.1", "*"),
    ],
)
async def test_no_proxy_is_honoured(
    proxy: RecordingProxy, start_server: StartServer, host: str, no_proxy: str
) -> None:
    origin = start_server(serve(echo_app))
    url = origin.url_for("/direct", host=host)
    results = await _probe_env(url, {"HTTP_PROXY": proxy.url, "NO_PROXY": no_proxy})
    assert results["trusting"] == [200, "GET /direct"]
    assert proxy.entries == []


async def test_http_proxy_is_ignored_in_a_cgi_environment(
    proxy: RecordingProxy, start_server: StartServer
) -> None:
    # httpoxy (CVE-2016-5386): under CGI, HTTP_PROXY can come from a request's "Proxy:" header.
    origin = start_server(serve(echo_app))
    results = await _probe_env(origin.url_for("/cgi"), {"HTTP_PROXY": proxy.url, "REQUEST_METHOD": "GET"})
    assert results["trusting"] == [200, "GET /cgi"]
    assert proxy.entries == []


async def test_proxy_credentials_from_the_environment(
    proxy: RecordingProxy, start_server: StartServer
) -> None:
    proxy.require_auth = PROXY_AUTH
    origin = start_server(serve(echo_app))
    results = await _probe_env(origin.url_for("/auth"), {"HTTP_PROXY": _with_credentials(proxy)})
    assert results["trusting"] == [200, "GET /auth"]
    assert proxy.entries[0].get("proxy-authorization") == PROXY_AUTH
    assert all(request.get("proxy-authorization") is None for request in origin.requests)


async def test_session_trust_env_uses_the_environment(
    proxy: RecordingProxy, start_server: StartServer
) -> None:
    if getattr(ferrofetch, "ClientSession", None) is None:
        pytest.skip("ferrofetch.ClientSession is not available yet")
    origin = start_server(serve(echo_app))
    code = """
import asyncio, sys
import ferrofetch

async def main(url):
    async with ferrofetch.ClientSession(trust_env=True) as session:
        async with session.get(url) as response:
            print(response.status, await response.text())
    async with ferrofetch.ClientSession() as session:
        async with session.get(url) as response:
            print(response.status, await response.text())

asyncio.run(main(sys.argv[1]))
"""
    completed = await async_run_python(
        code, args=[origin.url_for("/s")], env={"HTTP_PROXY": proxy.url}, timeout=40
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split("\n")[:2] == ["200 GET /s", "200 GET /s"]
    assert [entry.target for entry in proxy.entries] == [origin.url_for("/s").encode()]
