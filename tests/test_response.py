"""``Response``: every field, against real responses."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import ferrofetch
import pytest
from multidict import CIMultiDictProxy

from tests.servers import HttpServer, pattern_bytes


async def fetch(url: str, **options: Any) -> ferrofetch.Response:
    return await asyncio.wait_for(ferrofetch.fetch(url, **options), 15)


async def test_status_reason_ok(http_server: HttpServer) -> None:
    response = await fetch(http_server.url_for("/status/200"))
    assert (response.status, response.reason, response.ok) == (200, "OK", True)
    response = await fetch(http_server.url_for("/status/404"))
    assert (response.status, response.reason, response.ok) == (404, "Not Found", False)
    response = await fetch(http_server.url_for("/status/503"))
    assert (response.status, response.reason, response.ok) == (503, "Service Unavailable", False)
    response = await fetch(http_server.url_for("/status/204"))
    assert (response.status, response.content, response.ok) == (204, b"", True)
    response = await fetch(http_server.url_for("/status/399"))
    assert response.ok
    response = await fetch(http_server.url_for("/status/400"))
    assert not response.ok


async def test_url_and_method(http_server: HttpServer) -> None:
    url = http_server.url_for("/echo?x=1")
    response = await fetch(url, method="POST")
    assert isinstance(response.url, str)
    assert response.url == url
    assert response.method == "POST"


async def test_headers_are_case_insensitive_and_multi_valued(http_server: HttpServer) -> None:
    response = await fetch(http_server.url_for("/response-headers?X-Multi=one&X-Multi=two&X-Single=s"))
    headers = response.headers
    assert isinstance(headers, CIMultiDictProxy)
    assert headers["x-single"] == headers["X-SINGLE"] == "s"
    assert headers.getall("x-multi") == ["one", "two"]
    assert headers["Content-Type"].startswith("text/plain")
    assert "x-multi" in headers and "x-absent" not in headers
    with pytest.raises(TypeError):
        headers["X-New"] = "no"  # type: ignore[index]


async def test_set_cookie_headers_are_kept_apart(http_server: HttpServer) -> None:
    response = await fetch(http_server.url_for("/cookies/set?a=1&b=2"))
    cookies = response.headers.getall("Set-Cookie")
    assert len(cookies) == 2
    assert cookies[0].startswith("a=1") and cookies[1].startswith("b=2")


async def test_raw_headers(http_server: HttpServer) -> None:
    response = await fetch(http_server.url_for("/response-headers?X-Multi=one&X-Multi=two"))
    raw = response.raw_headers
    assert isinstance(raw, tuple)
    assert all(isinstance(name, bytes) and isinstance(value, bytes) for name, value in raw)
    multi = [value for name, value in raw if name.lower() == b"x-multi"]
    assert multi == [b"one", b"two"]


async def test_stream_has_header(http_server: HttpServer) -> None:
    stream = await ferrofetch.Client().open(http_server.url_for("/response-headers?X-Multi=one"))
    try:
        assert stream.has_header("x-multi") and stream.has_header("X-MULTI")
        assert not stream.has_header("Set-Cookie")
    finally:
        stream.close()


async def test_content_is_bytes(http_server: HttpServer) -> None:
    response = await fetch(http_server.url_for("/bytes/70000"))
    assert isinstance(response.content, bytes)
    assert response.content == pattern_bytes(70000)
    assert response.content_type == "application/octet-stream"
    assert response.charset is None


async def test_text_uses_the_declared_charset(http_server: HttpServer) -> None:
    response = await fetch(http_server.url_for("/charset?charset=iso-8859-1"))
    assert response.content == "café ñandú".encode("latin-1")
    assert response.charset == "iso-8859-1"
    assert response.content_type == "text/plain"
    assert response.text == "café ñandú"
    response = await fetch(http_server.url_for("/charset?charset=utf-16"))
    assert response.text == "café ñandú"


async def test_text_falls_back_to_utf8_and_replaces_errors(http_server: HttpServer) -> None:
    response = await fetch(http_server.url_for("/bad-utf8"))
    assert response.charset is None
    assert response.text == "ok \ufffd\ufffd end"
    response = await fetch(http_server.url_for("/utf8"))
    assert response.charset is None
    assert response.text == "café ñandú"


async def test_json(http_server: HttpServer) -> None:
    response = await fetch(http_server.url_for("/json"))
    assert response.content_type == "application/json"
    assert response.json() == {"name": "ferrofetch", "values": [1, 2, 3], "price": 1.25, "word": "café"}
    assert response.json(parse_float=Decimal)["price"] == Decimal("1.25")


async def test_json_of_a_non_json_body_raises_value_error(http_server: HttpServer) -> None:
    response = await fetch(http_server.url_for("/bytes/10"))
    with pytest.raises(ValueError):
        response.json()


async def test_raise_for_status(http_server: HttpServer) -> None:
    ok = await fetch(http_server.url_for("/status/200"))
    ok.raise_for_status()  # a 2xx does not raise
    url = http_server.url_for("/status/418")
    response = await fetch(url)
    with pytest.raises(ferrofetch.ClientResponseError) as info:
        response.raise_for_status()
    error = info.value
    assert error.status == 418
    assert error.message == response.reason
    assert error.url == url
    assert error.headers is not None and error.headers["Content-Type"].startswith("text/plain")
    assert "418" in str(error)


async def test_elapsed(http_server: HttpServer) -> None:
    response = await fetch(http_server.url_for("/slow?delay=0.3"))
    assert isinstance(response.elapsed, float)
    assert 0.3 <= response.elapsed < 10
    quick = await fetch(http_server.url_for("/bytes/1"))
    assert 0 <= quick.elapsed < 0.3


async def test_http_version_and_history_over_http1(http_server: HttpServer) -> None:
    response = await fetch(http_server.url_for("/bytes/1"))
    assert response.http_version == "HTTP/1.1"
    assert response.history == []
    redirected = await fetch(http_server.url_for("/redirect/2"))
    assert redirected.history == [http_server.url_for("/redirect/2"), http_server.url_for("/redirect/1")]
    assert all(isinstance(url, str) for url in redirected.history)


async def test_repr_names_status_and_url(http_server: HttpServer) -> None:
    url = http_server.url_for("/status/404")
    text = repr(await fetch(url))
    assert "404" in text
    assert url in text


async def test_response_outlives_its_loop_and_the_server(http_server: HttpServer) -> None:
    response = await fetch(http_server.url_for("/json"))
    http_server.close()
    assert response.json()["name"] == "ferrofetch"
    assert json.loads(response.content)["values"] == [1, 2, 3]
    # Reading a property twice gives equal results.
    assert response.headers == response.headers
    assert response.text == response.text


async def test_prepared_open_sends_what_open_sends(httpbin: Any) -> None:
    """``Client.prepare(**options).open(...)``: the prepared headers, then per request the
    method, body, content type and cookie; another URL after the first is its own."""
    client = ferrofetch.Client()
    prepared = client.prepare(headers=[("X-A", "1")], each_redirect=True)
    seen: list[tuple[object, ...]] = []
    for method, path, data, cookie in (
        ("POST", "/anything/one", b"body", "c=1"),
        ("PUT", "/anything/one", None, None),
        ("GET", "/anything/two", None, "d=2"),
    ):
        content_type = None if data is None else "application/x-test"
        stream = await asyncio.wait_for(
            prepared.open(httpbin.url + path, method, True, data, content_type, cookie), 15
        )
        assert isinstance(stream, ferrofetch.StreamResponse)
        echo = json.loads(await asyncio.wait_for(stream.read_all(), 15))
        headers = echo["headers"]
        seen.append(
            (
                echo["method"],
                echo["url"].rsplit("/", 1)[1],
                echo["data"],
                headers.get("X-A"),
                headers.get("Content-Type"),
                headers.get("Cookie"),
            )
        )
    assert seen == [
        ("POST", "one", "body", "1", "application/x-test", "c=1"),
        # A PUT without a body gets application/octet-stream from the core, as from aiohttp.
        ("PUT", "one", "", "1", "application/octet-stream", None),
        ("GET", "two", "", "1", None, "d=2"),
    ]
    with pytest.raises(ValueError, match="control characters"):
        await prepared.open(httpbin.url + "/get", "GET", True, cookie="a=1\r\nX-B: 2")
    client.close()
    with pytest.raises(RuntimeError, match="closed"):
        await prepared.open(httpbin.url + "/get", "GET", True)
