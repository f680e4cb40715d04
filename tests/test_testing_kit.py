"""ferrofetch.testing: the mock router answers every API in-process, through the engine's own
redirect, decoding, limit and timeout handling; passthrough reaches a real loopback server."""

from __future__ import annotations

import asyncio
import gzip
import re
from collections.abc import AsyncIterator

import ferrofetch
import ferrofetch.testing
import pytest
from ferrofetch.testing import Call, MockResponse, MockRouter, UnmatchedRequestError

from tests.servers import HttpServer, refused_url

API = "http://api.test"


async def test_fetch_gets_the_routes_answer_and_the_call_is_recorded(ferrofetch_mock: MockRouter) -> None:
    route = ferrofetch_mock.get(f"{API}/users", json=[{"id": 1}], headers={"X-Page": "1"})
    response = await ferrofetch.fetch(f"{API}/users", headers={"X-Token": "t"})
    assert response.status == 200
    assert response.json() == [{"id": 1}]
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Page"] == "1"
    assert response.headers["Content-Length"] == str(len(b'[{"id": 1}]'))
    assert route.call_count == 1
    call = ferrofetch_mock.calls[0]
    assert call.route is route
    assert (call.method, str(call.url)) == ("GET", f"{API}/users")
    assert call.headers["X-Token"] == "t"
    assert call.headers["User-Agent"] == ferrofetch._core.DEFAULT_USER_AGENT
    assert call.body == b""


async def test_fetch_all_client_and_open_are_answered(ferrofetch_mock: MockRouter) -> None:
    ferrofetch_mock.get(url_prefix=f"{API}/items/", text="item")
    urls = [f"{API}/items/{i}" for i in range(5)] + [f"{API}/missing"]
    results = await ferrofetch.fetch_all(urls, return_exceptions=True)
    assert [r.text for r in results[:5] if isinstance(r, ferrofetch.Response)] == ["item"] * 5
    assert isinstance(results[5], UnmatchedRequestError)
    client = ferrofetch.Client()
    try:
        assert (await client.fetch(f"{API}/items/9")).text == "item"
        stream = await client.open(f"{API}/items/10")
        assert stream.status == 200
        assert await stream.read_all() == b"item"
    finally:
        client.close()
    assert len(ferrofetch_mock.calls) == 8


async def test_session_posts_json_and_follows_a_mocked_redirect_with_cookies(
    ferrofetch_mock: MockRouter,
) -> None:
    ferrofetch_mock.post(
        f"{API}/login", status=303, headers=[("Location", "/home"), ("Set-Cookie", "sid=abc; Path=/")]
    )
    ferrofetch_mock.get(f"{API}/home", text="welcome")
    async with ferrofetch.ClientSession() as session:
        async with session.post(f"{API}/login", json={"user": "ana"}) as response:
            assert response.status == 200
            assert await response.text() == "welcome"
            assert [r.status for r in response.history] == [303]
    login, home = ferrofetch_mock.calls
    assert login.json() == {"user": "ana"}
    assert login.headers["Content-Type"] == "application/json"
    assert home.method == "GET"
    assert home.headers["Cookie"] == "sid=abc"
    ferrofetch_mock.assert_any_call(f"{API}/login", "POST", json={"user": "ana"})
    ferrofetch_mock.assert_called_with(f"{API}/home")


async def test_an_exception_route_raises_that_very_exception(ferrofetch_mock: MockRouter) -> None:
    error = ferrofetch.ClientConnectorError("simulated outage")
    ferrofetch_mock.get(f"{API}/down", exception=error)
    with pytest.raises(ferrofetch.ClientConnectorError) as raised:
        await ferrofetch.fetch(f"{API}/down")
    assert raised.value is error
    async with ferrofetch.ClientSession() as session:
        with pytest.raises(ferrofetch.ClientConnectorError) as raised:
            await session.get(f"{API}/down")
    assert raised.value is error


async def test_sync_and_async_callbacks_answer_from_the_call(ferrofetch_mock: MockRouter) -> None:
    def echo(call: Call) -> MockResponse:
        return MockResponse(201, body=call.body[::-1], reason="Made")

    async def slow_query(call: Call) -> MockResponse:
        await asyncio.sleep(0.01)
        return MockResponse(text=call.url.query["q"])

    ferrofetch_mock.post(f"{API}/echo", callback=echo)
    ferrofetch_mock.get(f"{API}/search", callback=slow_query)
    response = await ferrofetch.fetch(f"{API}/echo", method="POST", data=b"abc")
    assert (response.status, response.reason, response.content) == (201, "Made", b"cba")
    responses = await ferrofetch.fetch_all([f"{API}/search?q={w}" for w in ("x", "y")])
    assert [r.text for r in responses] == ["x", "y"]


async def test_a_callback_that_raises_fails_the_request(ferrofetch_mock: MockRouter) -> None:
    def broken(call: Call) -> MockResponse:
        raise LookupError("no such user")

    ferrofetch_mock.get(f"{API}/user", callback=broken)
    with pytest.raises(LookupError, match="no such user"):
        await ferrofetch.fetch(f"{API}/user")


async def test_url_patterns_method_and_query(ferrofetch_mock: MockRouter) -> None:
    ferrofetch_mock.get(f"{API}/q?b=2&a=1", text="exact query")
    ferrofetch_mock.get(re.compile(rf"{re.escape(API)}/items/\d+$"), text="regex")
    ferrofetch_mock.get(f"{API}/search", params={"lang": "en"}, text="params")
    ferrofetch_mock.get(f"{API}/search", text="any query")
    ferrofetch_mock.delete(f"{API}/items/1", status=204)

    async def text(url: str, method: str = "GET") -> str:
        return (await ferrofetch.fetch(url, method=method)).text

    assert await text(f"{API}/q?a=1&b=2") == "exact query"
    assert await text(f"{API}/items/42") == "regex"
    assert await text(f"{API}/search?lang=en&page=2") == "params"
    assert await text(f"{API}/search?lang=fr") == "any query"
    assert (await ferrofetch.fetch(f"{API}/items/1", method="DELETE")).status == 204
    for url, method in ((f"{API}/q?a=1", "GET"), (f"{API}/items/x", "GET"), (f"{API}/search", "POST")):
        with pytest.raises(UnmatchedRequestError):
            await ferrofetch.fetch(url, method=method)


async def test_repeat_false_answers_once_then_the_next_route(ferrofetch_mock: MockRouter) -> None:
    ferrofetch_mock.get(f"{API}/flaky", status=503, repeat=False)
    ferrofetch_mock.get(f"{API}/flaky", status=200, repeat=2)
    statuses = [(await ferrofetch.fetch(f"{API}/flaky")).status for _ in range(3)]
    assert statuses[:3] == [503, 200, 200]
    with pytest.raises(UnmatchedRequestError):
        await ferrofetch.fetch(f"{API}/flaky")


async def test_unmatched_request_is_refused_naming_the_url(ferrofetch_mock: MockRouter) -> None:
    with pytest.raises(ferrofetch.ClientConnectionError) as raised:
        await ferrofetch.fetch(f"{API}/nowhere?x=1", method="PUT", data=b"z")
    assert isinstance(raised.value, UnmatchedRequestError)
    assert isinstance(raised.value, OSError)
    assert f"PUT {API}/nowhere?x=1" in str(raised.value)
    assert raised.value.url == f"{API}/nowhere?x=1"
    assert ferrofetch_mock.calls[0].route is None


async def test_engine_rules_apply_to_mocked_answers(ferrofetch_mock: MockRouter) -> None:
    payload = b"compressed " * 100
    ferrofetch_mock.get(f"{API}/gz", body=gzip.compress(payload), headers={"Content-Encoding": "gzip"})
    ferrofetch_mock.route(url=f"{API}/big").respond(body=b"x" * 1000)
    ferrofetch_mock.get(f"{API}/loop", status=302, headers={"Location": "/loop"})
    assert (await ferrofetch.fetch(f"{API}/gz")).content == payload
    with pytest.raises(ferrofetch.BodyTooLargeError):
        await ferrofetch.fetch(f"{API}/big", max_body_size=100)
    with pytest.raises(ferrofetch.TooManyRedirects):
        await ferrofetch.fetch(f"{API}/loop", max_redirects=3)
    head = await ferrofetch.fetch(f"{API}/big", method="HEAD")
    assert (head.content, head.headers["Content-Length"]) == (b"", "1000")


async def test_a_slow_callback_meets_the_total_timeout(ferrofetch_mock: MockRouter) -> None:
    async def stall(call: Call) -> MockResponse:
        await asyncio.sleep(5)
        return MockResponse()

    ferrofetch_mock.get(f"{API}/slow", callback=stall)
    with pytest.raises(ferrofetch.ServerTimeoutError):
        await ferrofetch.fetch(f"{API}/slow", timeout=0.1)
    async with ferrofetch.ClientSession(timeout=ferrofetch.ClientTimeout(total=0.1)) as session:
        with pytest.raises(asyncio.TimeoutError):
            await session.get(f"{API}/slow")


async def test_a_streamed_upload_is_recorded_whole(ferrofetch_mock: MockRouter) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for part in (b"one ", b"two ", b"three"):
            yield part

    ferrofetch_mock.post(f"{API}/upload", status=201)
    response = await ferrofetch.fetch(f"{API}/upload", method="POST", data=chunks())
    assert response.status == 201
    assert ferrofetch_mock.calls[0].body == b"one two three"


async def test_passthrough_reaches_a_real_loopback_server(http_server: HttpServer) -> None:
    with MockRouter(passthrough=[http_server.url]) as router:
        router.get(f"{API}/mocked", text="mocked")
        router.get(http_server.url_for("/status/418")).pass_through()
        assert (await ferrofetch.fetch(f"{API}/mocked")).text == "mocked"
        assert (await ferrofetch.fetch(http_server.url_for("/bytes/10"))).content == bytes(range(10))
        async with ferrofetch.ClientSession() as session:
            async with session.get(http_server.url_for("/status/418")) as response:
                assert response.status == 418
        with pytest.raises(UnmatchedRequestError):
            await ferrofetch.fetch(refused_url())
    assert http_server.stats.requests == 2
    assert [c.route is None for c in router.calls] == [False, True, False, True]


async def test_assertions_and_assert_all_called() -> None:
    router = MockRouter(assert_all_called=True)
    with pytest.raises(AssertionError, match="never called"):
        with router:
            router.get(f"{API}/a")
            router.get(f"{API}/b")
            await ferrofetch.fetch(f"{API}/a")
            router.assert_called_once_with(f"{API}/a")
            with pytest.raises(AssertionError):
                router.assert_called_with(f"{API}/a", "POST")
    router.reset()
    router.assert_not_called()
    with pytest.raises(AssertionError):
        router.assert_called()


async def test_one_router_at_a_time_and_none_after_stop(http_server: HttpServer) -> None:
    with MockRouter() as router:
        with pytest.raises(RuntimeError, match="another MockRouter"):
            MockRouter().start()
        router.get(http_server.url, text="mocked")
        assert (await ferrofetch.fetch(http_server.url)).text == "mocked"
    assert http_server.stats.requests == 0
    response = await ferrofetch.fetch(http_server.url_for("/bytes/3"))
    assert response.content == bytes(range(3))
    assert http_server.stats.requests == 1


def test_bad_routes_are_refused_when_made() -> None:
    router = MockRouter()
    with pytest.raises(ValueError, match="absolute"):
        router.get("/relative")
    with pytest.raises(ValueError, match="100-999"):
        router.get(f"{API}/x", status=42)
    with pytest.raises(ValueError, match="at most one"):
        MockResponse(text="a", json=1)


@pytest.mark.ferrofetch_mock(passthrough=["http://127.0.0.1"])
def test_the_fixture_takes_its_options_from_the_marker(ferrofetch_mock: MockRouter) -> None:
    assert ferrofetch_mock.passthrough == ["http://127.0.0.1"]


def test_loopback_server_lives_in_testing() -> None:
    assert not hasattr(ferrofetch, "LoopbackServer")
    assert ferrofetch.testing.LoopbackServer.__module__ == "ferrofetch.testing"
