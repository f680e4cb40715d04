"""``session.fetch_all``: the bulk path on the session's pool, with the session's settings.

aiohttp has no bulk call; the reference is the same URLs fetched with ``session.get`` through
aiohttp, gathered.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import ferrofetch
import pytest

from tests.servers import HttpServer, pattern_bytes, refused_url

from .support import FERROFETCH, seen


async def _aiohttp_reference(urls: list[str], **session_options: Any) -> list[tuple[int, bytes]]:
    async with aiohttp.ClientSession(**session_options) as session:

        async def one(url: str) -> tuple[int, bytes]:
            async with session.get(url) as resp:
                return resp.status, await resp.read()

        return list(await asyncio.gather(*(one(u) for u in urls)))


async def test_results_in_order_match_aiohttp(http_server: HttpServer) -> None:
    urls = [f"{http_server.url}/bytes/{n}" for n in (5, 0, 70000, 3)] + [http_server.url + "/status/404"]
    async with FERROFETCH.ClientSession() as session:
        responses = await session.fetch_all(urls, concurrency=3)
    assert all(isinstance(r, ferrofetch.Response) for r in responses)
    assert [(r.status, r.content) for r in responses] == await _aiohttp_reference(urls)
    assert responses[2].content == pattern_bytes(70000)


async def test_session_headers_cookies_and_auth_apply(httpbin: Any) -> None:
    base = httpbin.url.replace("127.0.0.1", "localhost")
    async with FERROFETCH.ClientSession(
        headers={"X-Session": "yes"}, cookies={"c": "1"}, auth=FERROFETCH.BasicAuth("u", "p")
    ) as session:
        headers, cookies, authed = await session.fetch_all(
            [base + "/headers", base + "/cookies", base + "/basic-auth/u/p"], headers={"X-Call": "too"}
        )
    sent = seen(headers.json()["headers"])
    assert sent["x-session"] == "yes" and sent["x-call"] == "too"
    assert sent["authorization"] == "Basic dTpw"
    assert cookies.json() == {"cookies": {"c": "1"}}
    assert authed.status == 200


async def test_cookies_set_by_responses_are_kept(httpbin: Any) -> None:
    base = httpbin.url.replace("127.0.0.1", "localhost")
    async with FERROFETCH.ClientSession() as session:
        await session.fetch_all([base + "/response-headers?Set-Cookie=k%3Dv%3B+Path%3D%2F"])
        async with session.get(base + "/cookies") as resp:
            assert await resp.json() == {"cookies": {"k": "v"}}


async def test_base_url_and_params(httpbin: Any) -> None:
    async with FERROFETCH.ClientSession(httpbin.url + "/") as session:
        responses = await session.fetch_all(["get", "anything/x"], params={"q": "1"})
    assert [r.json()["url"] for r in responses] == [
        httpbin.url + "/get?q=1",
        httpbin.url + "/anything/x?q=1",
    ]


async def test_failures_and_return_exceptions(http_server: HttpServer) -> None:
    good = http_server.url + "/bytes/1"
    async with FERROFETCH.ClientSession() as session:
        with pytest.raises(FERROFETCH.InvalidURL):
            await session.fetch_all([good, "http://"])
        with pytest.raises(FERROFETCH.ClientConnectorError):
            await session.fetch_all([good, refused_url()])
        results = await session.fetch_all([good, "http://", refused_url()], return_exceptions=True)
    assert isinstance(results[0], ferrofetch.Response)
    assert isinstance(results[1], FERROFETCH.InvalidURL)
    assert isinstance(results[2], FERROFETCH.ClientConnectorError)
    assert http_server.stats.paths.count("/bytes/1") >= 1


async def test_raise_for_status_and_timeout(http_server: HttpServer) -> None:
    async with FERROFETCH.ClientSession(raise_for_status=True) as session:
        with pytest.raises(FERROFETCH.ClientResponseError) as caught:
            await session.fetch_all([http_server.url + "/status/503"])
        assert caught.value.status == 503
        results = await session.fetch_all(
            [http_server.url + "/status/503", http_server.url + "/status/200"], return_exceptions=True
        )
        assert isinstance(results[0], FERROFETCH.ClientResponseError) and results[1].status == 200
    timeout = FERROFETCH.ClientTimeout(total=0.3)
    async with FERROFETCH.ClientSession(timeout=timeout) as session:
        with pytest.raises(asyncio.TimeoutError):
            await session.fetch_all([http_server.url + "/slow?delay=3"])


async def test_after_close() -> None:
    session = FERROFETCH.ClientSession()
    await session.close()
    with pytest.raises(RuntimeError, match="Session is closed"):
        await session.fetch_all(["http://127.0.0.1:1/"])
