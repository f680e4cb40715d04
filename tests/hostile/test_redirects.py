"""Redirects: loops and limits, method and body rewriting, relative targets, scheme changes."""

from __future__ import annotations

import json

import ferrofetch
import pytest

from ..servers import (
    OTHER_HOST,
    Request,
    StartServer,
    TlsFiles,
    http_response,
    outcome,
    redirect_app,
    redirect_to,
    serve,
)


async def test_a_redirect_loop_ends_with_too_many_redirects(start_server: StartServer) -> None:
    server = start_server(serve(redirect_app))
    _, exc, elapsed = await outcome(lambda: ferrofetch.fetch(server.url_for("/loop"), timeout=10))
    assert isinstance(exc, ferrofetch.TooManyRedirects), repr(exc)
    assert isinstance(exc, ferrofetch.ClientResponseError)
    assert elapsed < 5.0
    assert len(server.requests) <= 11


async def test_the_default_limit_is_ten_redirects(start_server: StartServer) -> None:
    server = start_server(serve(redirect_app))
    response, exc, _ = await outcome(lambda: ferrofetch.fetch(server.url_for("/chain/10"), timeout=10))
    assert exc is None and response is not None
    assert response.status == 200
    assert response.history == [server.url_for(f"/chain/{n}") for n in range(10, 0, -1)]
    assert response.url == server.url_for("/chain/0")
    _, exc, _ = await outcome(lambda: ferrofetch.fetch(server.url_for("/chain/11"), timeout=10))
    assert isinstance(exc, ferrofetch.TooManyRedirects), repr(exc)


async def test_max_redirects_is_honoured(start_server: StartServer) -> None:
    server = start_server(serve(redirect_app))
    response, exc, _ = await outcome(
        lambda: ferrofetch.fetch(server.url_for("/chain/2"), max_redirects=2, timeout=10)
    )
    assert exc is None and response is not None and response.status == 200
    _, exc, _ = await outcome(
        lambda: ferrofetch.fetch(server.url_for("/chain/3"), max_redirects=2, timeout=10)
    )
    assert isinstance(exc, ferrofetch.TooManyRedirects), repr(exc)
    assert len(server.requests) == 3 + 3


async def test_follow_redirects_false_returns_the_redirect(start_server: StartServer) -> None:
    server = start_server(serve(redirect_app))
    response, exc, _ = await outcome(
        lambda: ferrofetch.fetch(server.url_for("/chain/1"), follow_redirects=False)
    )
    assert exc is None and response is not None
    assert response.status == 302
    assert response.headers["Location"] == "/chain/0"
    assert response.history == []
    assert len(server.requests) == 1


async def test_a_redirect_without_location_is_the_final_response(start_server: StartServer) -> None:
    server = start_server(serve(redirect_app))
    response, exc, _ = await outcome(lambda: ferrofetch.fetch(server.url_for("/no-location"), timeout=10))
    assert exc is None and response is not None
    assert response.status == 302 and response.content == b"nowhere to go"


@pytest.mark.parametrize(
    ("status", "method", "expected"),
    [
        (301, "POST", "GET"),
        (302, "POST", "GET"),
        (303, "POST", "GET"),
        (303, "PUT", "GET"),
        (303, "DELETE", "GET"),
        (303, "PATCH", "GET"),
    ],
)
async def test_redirects_that_turn_the_request_into_get_drop_the_body(
    start_server: StartServer, status: int, method: str, expected: str
) -> None:
    server = start_server(serve(redirect_app))
    url = server.url_for(redirect_to("/landed", status))
    response, exc, _ = await outcome(
        lambda: ferrofetch.fetch(url, method=method, data={"secret": "body"}, timeout=10)
    )
    assert exc is None and response is not None
    final = server.requests[-1]
    assert final.method.decode() == expected
    assert final.path == "/landed"
    assert final.body == b""
    assert final.get("content-length") in (None, b"0")
    assert final.get("content-type") is None
    assert final.get("transfer-encoding") is None


async def test_303_keeps_head_as_head(start_server: StartServer) -> None:
    server = start_server(serve(redirect_app))
    response, exc, _ = await outcome(
        lambda: ferrofetch.fetch(server.url_for(redirect_to("/landed", 303)), method="HEAD")
    )
    assert exc is None and response is not None
    assert server.requests[-1].method == b"HEAD"


@pytest.mark.parametrize("status", [301, 302])
async def test_301_and_302_keep_methods_other_than_post(start_server: StartServer, status: int) -> None:
    server = start_server(serve(redirect_app))
    url = server.url_for(redirect_to("/landed", status))
    response, exc, _ = await outcome(lambda: ferrofetch.fetch(url, method="PUT", data=b"kept", timeout=10))
    assert exc is None and response is not None
    final = server.requests[-1]
    assert final.method == b"PUT" and final.body == b"kept"


@pytest.mark.parametrize("status", [307, 308])
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_307_and_308_replay_method_and_body(
    start_server: StartServer, status: int, method: str
) -> None:
    server = start_server(serve(redirect_app))
    url = server.url_for(redirect_to("/landed", status))
    response, exc, _ = await outcome(
        lambda: ferrofetch.fetch(url, method=method, json={"replayed": True}, timeout=10)
    )
    assert exc is None and response is not None
    first, final = server.requests[0], server.requests[-1]
    assert final.path == "/landed"
    assert final.method.decode() == method
    assert final.body == first.body
    assert json.loads(final.body) == {"replayed": True}
    assert final.get("content-type") == b"application/json"


@pytest.mark.parametrize(
    ("location", "expected_path"),
    [
        ("/absolute/path", "/absolute/path"),
        ("sibling", "/dir/sibling"),
        ("../up", "/up"),
        ("./here?x=1", "/dir/here?x=1"),
        ("?only=query", "/dir/page?only=query"),
        ("/with%20space", "/with%20space"),
    ],
)
async def test_relative_locations(start_server: StartServer, location: str, expected_path: str) -> None:
    def app(request: Request) -> bytes:
        if request.path == "/dir/page":
            return http_response(302, b"", [("Location", location)])
        return http_response(200, request.target)

    server = start_server(serve(app))
    response, exc, _ = await outcome(lambda: ferrofetch.fetch(server.url_for("/dir/page"), timeout=10))
    assert exc is None and response is not None
    assert response.content == expected_path.encode()
    assert response.url == server.url_for(expected_path)


async def test_scheme_relative_location_goes_to_the_other_host(start_server: StartServer) -> None:
    other = start_server(serve(redirect_app), host=OTHER_HOST)
    first = start_server(serve(redirect_app))
    url = first.url_for(redirect_to(f"//{OTHER_HOST}:{other.port}/elsewhere"))
    response, exc, _ = await outcome(lambda: ferrofetch.fetch(url, timeout=10))
    assert exc is None and response is not None
    assert response.url == f"http://{OTHER_HOST}:{other.port}/elsewhere"
    assert other.requests[-1].path == "/elsewhere"
    assert other.requests[-1].get("host") == f"{OTHER_HOST}:{other.port}".encode()


@pytest.mark.parametrize(
    "location",
    [
        "file:///etc/passwd",
        "ftp://127.0.0.1/file",
        "javascript:alert(1)",
        "data:text/plain,hi",
        "gopher://x/",
    ],
)
async def test_redirect_to_a_non_http_scheme_is_refused(start_server: StartServer, location: str) -> None:
    server = start_server(serve(redirect_app))
    _, exc, _ = await outcome(lambda: ferrofetch.fetch(server.url_for(redirect_to(location)), timeout=10))
    assert isinstance(exc, ferrofetch.NonHttpUrlRedirectClientError), repr(exc)
    assert isinstance(exc, ferrofetch.InvalidURL) and isinstance(exc, ferrofetch.RedirectClientError)
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    "location", ["http://[::1", "http://exa mple.test/", "http://:80/", "http://127.0.0.1:99999/"]
)
async def test_redirect_to_an_invalid_url_is_refused(start_server: StartServer, location: str) -> None:
    server = start_server(serve(redirect_app))
    _, exc, _ = await outcome(lambda: ferrofetch.fetch(server.url_for(redirect_to(location)), timeout=10))
    assert isinstance(exc, ferrofetch.InvalidUrlRedirectClientError), repr(exc)
    assert len(server.requests) == 1


async def test_https_to_http_downgrade_is_followed_without_credentials(
    start_server: StartServer, certificates: TlsFiles
) -> None:
    # Policy (as browsers, curl -L, requests and aiohttp): the downgrade is followed, and because
    # the scheme changes, credentials are stripped. Use follow_redirects=False to refuse it.
    plain = start_server(serve(redirect_app))
    secure = start_server(serve(redirect_app), tls=certificates.server_context())
    target = plain.url_for("/downgraded")
    url = secure.url_for(redirect_to(target))
    headers = {"Authorization": "Bearer secret-token", "Cookie": "session=secret"}
    response, exc, _ = await outcome(
        lambda: ferrofetch.fetch(url, headers=headers, ca_bundle=certificates.ca_bundle, timeout=10)
    )
    assert exc is None and response is not None
    assert response.url == target
    assert secure.requests[0].get("authorization") == b"Bearer secret-token"
    final = plain.requests[-1]
    assert final.get("authorization") is None
    assert final.get("cookie") is None
    assert b"secret" not in bytes(plain.received)
