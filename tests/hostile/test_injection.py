"""Injection and input: nothing a caller passes can smuggle CR, LF or NUL onto the wire.

Each case points the client at a live server and then checks what reached it: for refused input,
not one byte (the error is raised before a connection is opened); for accepted input, a clean head.
"""

from __future__ import annotations

import asyncio
import base64
import functools
from typing import Any

import ferrofetch
import pytest

from ..servers import RawServer, RecordingProxy, StartServer, async_run_python, echo_app, outcome, serve

FORBIDDEN = (b"\r", b"\n", b"\x00")


def assert_clean_wire(server: RawServer) -> None:
    """Every head the server read splits into well-formed lines: no bare CR/LF, no NUL, no extras."""
    for request in server.requests:
        head = request.raw.split(b"\r\n\r\n", 1)[0]
        assert b"\x00" not in head
        for line in head.split(b"\r\n"):
            assert b"\r" not in line and b"\n" not in line, line
        assert request.get("injected") is None
    assert b"\nInjected" not in bytes(server.received)


async def _refused_before_sending(server: RawServer, url: str, **options: Any) -> BaseException:
    _, exc, _ = await outcome(lambda: ferrofetch.fetch(url, timeout=5, **options))
    assert exc is not None
    await asyncio.sleep(0.05)
    assert server.connections == 0, "the request reached the server"
    assert bytes(server.received) == b""
    return exc


@pytest.mark.parametrize(
    "name",
    ["X-A\r\nInjected", "X-A\nInjected", "X-A\rB", "X-A\x00", "X A", "X-A:", "", "X-\u00e9"],
)
async def test_bad_header_names_are_refused(start_server: StartServer, name: str) -> None:
    server = start_server(serve(echo_app))
    exc = await _refused_before_sending(server, server.url, headers={name: "value"})
    assert isinstance(exc, ValueError), repr(exc)


@pytest.mark.parametrize(
    "value",
    ["a\r\nInjected: 1", "a\nInjected: 1", "a\rInjected: 1", "a\x00b", "\r\n\r\nGET /smuggled HTTP/1.1"],
)
async def test_bad_header_values_are_refused(start_server: StartServer, value: str) -> None:
    server = start_server(serve(echo_app))
    exc = await _refused_before_sending(server, server.url, headers={"X-Value": value})
    assert isinstance(exc, ValueError), repr(exc)


async def test_bad_header_in_pairs_form_is_refused(start_server: StartServer) -> None:
    server = start_server(serve(echo_app))
    headers = [("X-Fine", "ok"), ("X-Bad", "a\r\nInjected: 1")]
    exc = await _refused_before_sending(server, server.url, headers=headers)
    assert isinstance(exc, ValueError), repr(exc)


@pytest.mark.parametrize(
    "method",
    ["GET\r\nInjected: 1", "GET /x HTTP/1.1\r\nInjected: 1\r\n\r\nGET", "GE T", "GET\x00", "", "G(ET"],
)
async def test_bad_methods_are_refused(start_server: StartServer, method: str) -> None:
    server = start_server(serve(echo_app))
    exc = await _refused_before_sending(server, server.url, method=method)
    assert isinstance(exc, ValueError), repr(exc)


@pytest.mark.parametrize(
    "path",
    [
        "/a\r\nInjected: 1",
        "/a\nInjected: 1",
        "/a\x00b",
        "/a HTTP/1.1\r\nInjected: 1\r\n\r\n",
    ],
)
async def test_control_characters_in_the_url_are_refused(start_server: StartServer, path: str) -> None:
    # urllib3 CVE-2019-11236 / CVE-2020-26137; aiohttp CVE-2023-49082: refused, not rewritten.
    server = start_server(serve(echo_app))
    exc = await _refused_before_sending(server, server.url_for(path))
    assert isinstance(exc, ferrofetch.InvalidURL), repr(exc)


async def test_spaces_and_controls_in_the_url_never_reach_the_wire_raw(start_server: StartServer) -> None:
    server = start_server(serve(echo_app))
    for path in ["/a b", "/tab\there", "/caf\u00e9", "/q?x=a b&y=\u00e9"]:
        _, exc, _ = await outcome(functools.partial(ferrofetch.fetch, server.url_for(path), timeout=5))
        if exc is not None:
            assert isinstance(exc, ferrofetch.InvalidURL), repr(exc)
    assert_clean_wire(server)
    for request in server.requests:
        assert b" " not in request.target and b"\t" not in request.target
        assert all(byte < 0x80 for byte in request.target)


async def test_query_params_and_form_data_are_encoded(start_server: StartServer) -> None:
    server = start_server(serve(echo_app))
    evil = "x\r\nInjected: 1\x00 &="
    response, exc, _ = await outcome(
        lambda: ferrofetch.fetch(
            server.url,
            method="POST",
            params={evil: evil},
            data={evil: evil},
            timeout=5,
        )
    )
    assert exc is None and response is not None
    assert_clean_wire(server)
    request = server.requests[0]
    assert b"%0D%0A" in request.target.upper()
    assert b"\r" not in request.body and b"\x00" not in request.body


async def test_the_header_mapping_cannot_add_a_second_host(start_server: StartServer) -> None:
    server = start_server(serve(echo_app))
    response, exc, _ = await outcome(
        lambda: ferrofetch.fetch(server.url, headers={"Host": "attacker.test"}, timeout=5)
    )
    assert exc is None and response is not None
    assert len(server.requests[0].get_all("host")) == 1


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://127.0.0.1/file",
        "javascript:alert(1)",
        "data:text/plain,hello",
        "ws://127.0.0.1/",
        "gopher://127.0.0.1:70/",
        "unix:///var/run/docker.sock",
    ],
)
async def test_non_http_schemes_are_refused(url: str) -> None:
    _, exc, _ = await outcome(lambda: ferrofetch.fetch(url, timeout=5))
    assert isinstance(exc, ferrofetch.NonHttpUrlClientError), repr(exc)
    assert isinstance(exc, ferrofetch.InvalidURL) and isinstance(exc, ValueError)


@pytest.mark.parametrize(
    "url",
    [
        "http://",
        "http://?query",
        "127.0.0.1:80/x",
        "http://[::1",
        "http://exa mple.test/",
        "http://127.0.0.1:99999/",
    ],
)
async def test_unusable_urls_are_refused(url: str) -> None:
    _, exc, _ = await outcome(lambda: ferrofetch.fetch(url, timeout=5))
    assert isinstance(exc, ferrofetch.InvalidURL), repr(exc)


async def test_a_batch_is_validated_before_any_request_is_sent(start_server: StartServer) -> None:
    server = start_server(serve(echo_app))
    urls = [server.url_for("/1"), server.url_for("/2"), "file:///etc/passwd", server.url_for("/4")]
    _, exc, _ = await outcome(lambda: ferrofetch.fetch_all(urls, timeout=5))
    assert isinstance(exc, ferrofetch.InvalidURL), repr(exc)
    assert exc.url == "file:///etc/passwd"
    await asyncio.sleep(0.05)
    assert server.connections == 0


async def test_idna_hosts_go_out_as_ascii(proxy: RecordingProxy, start_server: StartServer) -> None:
    # The proxy maps the names to the loopback server, so nothing is resolved by DNS.
    origin = start_server(serve(echo_app))
    for name in ("xn--bcher-kva.test", "xn--caf-dma.test"):
        proxy.host_map[name] = ("127.0.0.1", origin.port)
    cases = {
        "http://bücher.test/": "xn--bcher-kva.test",
        "http://BÜCHER.test/": "xn--bcher-kva.test",
        "http://bu\u0308cher.test/": "xn--bcher-kva.test",  # decomposed ü, normalised by UTS #46
        "http://bücher\uff0etest/": "xn--bcher-kva.test",  # a full-width dot is a label separator
        "http://café.test/": "xn--caf-dma.test",
    }
    for url, ascii_host in cases.items():
        response, exc, _ = await outcome(functools.partial(ferrofetch.fetch, url, proxy=proxy.url, timeout=5))
        assert exc is None and response is not None, (url, exc)
        assert proxy.entries[-1].target == f"http://{ascii_host}/".encode(), url
        assert origin.requests[-1].get("host") == ascii_host.encode(), url
    assert_clean_wire(origin)


@pytest.mark.parametrize(
    "url", ["http://xn--.test/", "http://a\u200b\u0000b.test/", "http://-bad-.test\u0000/"]
)
async def test_invalid_idna_hosts_are_refused(url: str) -> None:
    _, exc, _ = await outcome(lambda: ferrofetch.fetch(url, timeout=5))
    assert isinstance(exc, ferrofetch.InvalidURL), repr(exc)


async def test_url_userinfo_becomes_basic_auth(start_server: StartServer) -> None:
    server = start_server(serve(echo_app))
    url = f"http://alice:p%40ss%3Aword@127.0.0.1:{server.port}/private"
    response, exc, _ = await outcome(lambda: ferrofetch.fetch(url, timeout=5))
    assert exc is None and response is not None
    expected = b"Basic " + base64.b64encode(b"alice:p@ss:word")
    assert server.requests[0].get("authorization") == expected
    assert server.requests[0].target == b"/private"
    assert "p%40ss" not in response.url and "alice" not in response.url


async def test_url_userinfo_is_never_shown_or_logged(start_server: StartServer) -> None:
    # Run with every log switch on, in a fresh interpreter, and look for the password anywhere.
    refused = start_server(serve(echo_app))
    refused_port = refused.port
    refused.close()
    code = """
import asyncio, logging, sys
import ferrofetch
logging.basicConfig(level=logging.DEBUG, stream=sys.stdout)

async def main(port):
    url = f"http://alice:hunter2-secret@127.0.0.1:{port}/"
    try:
        await ferrofetch.fetch(url, timeout=5)
    except ferrofetch.ClientError as exc:
        print("error:", type(exc).__name__, str(exc), repr(exc), exc.url, exc.args)
    try:
        await ferrofetch.fetch_all([url, url], timeout=5, return_exceptions=False)
    except ferrofetch.ClientError as exc:
        print("batch error:", str(exc), repr(exc), exc.url)

asyncio.run(main(int(sys.argv[1])))
"""
    env = {"RUST_LOG": "trace", "RUST_BACKTRACE": "1", "PYTHONASYNCIODEBUG": "1"}
    completed = await async_run_python(code, args=[str(refused_port)], env=env, timeout=30)
    assert completed.returncode == 0, completed.stderr
    assert "error: ClientConnectorError" in completed.stdout
    assert "hunter2" not in completed.stdout + completed.stderr


@pytest.mark.parametrize(
    "url",
    [
        "http://alice:hunter2-secret@127.0.0.1:99999/",
        "http:alice:hunter2-secret@127.0.0.1:99999/",
        "http:\\\\alice:hunter2-secret@[::1/",
        "https://alice:hunter2-secret@bad host/",
    ],
)
async def test_credentials_in_a_url_that_does_not_parse_are_not_shown(url: str) -> None:
    # The URL is refused before any connection; its text still reaches the exception, redacted.
    with pytest.raises(ferrofetch.InvalidURL) as caught:
        await asyncio.wait_for(ferrofetch.fetch(url, timeout=5), 10)
    shown = f"{caught.value} {caught.value!r} {caught.value.url} {caught.value.args}"
    assert "hunter2" not in shown, shown
