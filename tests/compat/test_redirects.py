"""Redirects: history, limits, method and body rules, credentials across origins."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import pytest

from tests.servers import observe

from .conftest import Recorder, Reply
from .support import run_both, same, seen


def _history(resp: Any) -> list[tuple[int, str, str, bool]]:
    return [(h.status, h.method, str(h.url), type(h) is type(resp)) for h in resp.history]


async def test_history_of_a_redirect_chain(httpbin: Any) -> None:
    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            async with session.get(httpbin.url + "/redirect/3") as resp:
                body = await resp.json()
                return resp.status, str(resp.url), _history(resp), body["url"]

    status, url, history, _ = await same(scenario)
    assert status == 200 and url.endswith("/get") and len(history) == 3


@pytest.mark.parametrize("path", ["/relative-redirect/2", "/absolute-redirect/2"])
async def test_relative_and_absolute_locations(httpbin: Any, path: str) -> None:
    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            async with session.get(httpbin.url + path) as resp:
                return resp.status, str(resp.url), _history(resp)

    await same(scenario)


async def test_allow_redirects_false(httpbin: Any) -> None:
    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            async with session.get(httpbin.url + "/redirect/2", allow_redirects=False) as resp:
                return resp.status, resp.headers["Location"], resp.history, str(resp.url)

    status, _, history, _ = await same(scenario)
    assert (status, history) == (302, ())


async def test_head_does_not_follow_by_default(httpbin: Any) -> None:
    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            async with session.head(httpbin.url + "/redirect/1") as resp:
                first = resp.status
            async with session.head(httpbin.url + "/redirect/1", allow_redirects=True) as resp:
                return first, resp.status, len(resp.history)

    assert await same(scenario) == (302, 200, 1)


@pytest.mark.parametrize(("max_redirects", "hops"), [(3, 2), (3, 3), (3, 5), (1, 1), (0, 1)])
async def test_max_redirects(httpbin: Any, max_redirects: int, hops: int) -> None:
    """``max_redirects=N`` follows N redirects and raises at the next one, with every redirect
    response in ``history``; 0 follows none. aiohttp raises at the N-th redirect already, and
    reads 0 as "no limit" (a loop then never ends; RFC 9110 §15.4 asks clients to detect them)."""

    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            try:
                async with session.get(
                    httpbin.url + f"/redirect/{hops}", max_redirects=max_redirects
                ) as resp:
                    return "ok", resp.status, len(resp.history)
            except http.TooManyRedirects as error:
                return (
                    type(error).__name__,
                    isinstance(error, http.ClientResponseError),
                    [h.status for h in error.history],
                    str(error.request_info.url),
                )

    results = await run_both(scenario)
    first = httpbin.url + f"/redirect/{hops}"
    if hops <= max_redirects:
        assert results["ferrofetch"] == ("ok", 200, hops)
    else:
        statuses = [302] * (max_redirects + 1)
        assert results["ferrofetch"] == ("TooManyRedirects", True, statuses, first)
    if 0 < hops < max_redirects:
        assert results["aiohttp"] == results["ferrofetch"]
    elif max_redirects:
        statuses = [302] * max_redirects
        assert results["aiohttp"] == ("TooManyRedirects", True, statuses, first)
    else:
        assert results["aiohttp"] == ("ok", 200, hops)


async def test_redirect_loop(http_server: Any) -> None:
    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            return await observe(session.get(http_server.url + "/redirect-loop"))

    assert await same(scenario) == ("error", "TooManyRedirects")


@pytest.mark.parametrize(
    ("status", "method"),
    [(301, "POST"), (302, "POST"), (303, "POST"), (303, "PUT"), (307, "POST"), (308, "PUT"), (302, "PUT")],
)
async def test_method_and_body_rules(recorder: Recorder, status: int, method: str) -> None:
    def reply(request: Any) -> Reply:
        if request.target.startswith("/from"):
            return Reply(status=status, reason="Redirect", headers=[("Location", "/to")], body=b"")
        return Reply(body=b"arrived")

    recorder.reply_for = reply

    async def scenario(http: Any) -> Any:
        recorder.requests.clear()
        async with http.ClientSession() as session:
            async with session.request(method, recorder.url + "/from", data={"k": "v"}) as resp:
                body = await resp.read()
        return body, [(r.method, r.target, r.body, seen(r.headers)) for r in recorder.requests]

    body, requests = await same(scenario)
    assert body == b"arrived" and len(requests) == 2


async def test_redirect_without_location_is_the_final_response(recorder: Recorder) -> None:
    recorder.reply_for = lambda request: Reply(status=302, reason="Found", body=b"nowhere")

    async def scenario(http: Any) -> Any:
        recorder.requests.clear()
        async with http.ClientSession() as session:
            async with session.get(recorder.url + "/x") as resp:
                return resp.status, await resp.read(), len(recorder.requests), len(resp.history)

    assert await same(scenario) == (302, b"nowhere", 1, 1)


async def test_credentials_dropped_on_origin_change(httpbin: Any) -> None:
    """127.0.0.1 -> localhost (same server, another origin): Authorization and Cookie set by the
    caller are not sent to the new origin."""
    other = httpbin.url.replace("127.0.0.1", "localhost")

    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            target = quote(other + "/headers", safe="")
            async with session.get(
                httpbin.url + f"/redirect-to?url={target}",
                headers={"Authorization": "Bearer secret", "Cookie": "c=1", "X-Keep": "kept"},
            ) as resp:
                return str(resp.url), seen((await resp.json())["headers"])

    _, headers = await same(scenario)
    assert "authorization" not in headers and "cookie" not in headers
    assert headers["x-keep"] == "kept"


async def test_credentials_kept_within_one_origin(httpbin: Any) -> None:
    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            async with session.get(
                httpbin.url + "/redirect-to?url=/headers",
                headers={"Authorization": "Bearer secret"},
                auth=None,
            ) as resp:
                return seen((await resp.json())["headers"])

    assert (await same(scenario))["authorization"] == "Bearer secret"


async def test_redirect_to_a_non_http_scheme(http_server: Any) -> None:
    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            error_name = await observe(session.get(http_server.url + "/redirect-to?url=ftp://example.test/f"))
            try:
                await session.get(http_server.url + "/redirect-to?url=ftp://example.test/f")
            except http.NonHttpUrlRedirectClientError as error:
                return error_name, isinstance(error, http.RedirectClientError)
        return error_name

    assert await same(scenario) == (("error", "NonHttpUrlRedirectClientError"), True)


async def test_redirect_hops_are_released(httpbin: Any) -> None:
    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            async with session.get(httpbin.url + "/redirect/1") as resp:
                hop = resp.history[0]
                return hop.closed, await observe(hop.read()), hop.headers["Location"]

    assert (await same(scenario))[:2] == (True, ("error", "ClientConnectionError"))


async def test_caller_content_type_after_a_redirect_to_get(recorder: Recorder) -> None:
    """A known difference: when a 303 turns the request into a GET without body, ferrofetch also
    drops a Content-Type the caller set (the core's rule); aiohttp keeps sending it."""

    def reply(request: Any) -> Reply:
        if request.target == "/from":
            return Reply(status=303, reason="See Other", headers=[("Location", "/to")], body=b"")
        return Reply()

    recorder.reply_for = reply

    async def scenario(http: Any) -> Any:
        recorder.requests.clear()
        async with http.ClientSession() as session:
            async with session.post(
                recorder.url + "/from", data=b"{}", headers={"Content-Type": "application/json"}
            ) as resp:
                await resp.read()
        return [(r.method, r.body, r.header("Content-Type")) for r in recorder.requests]

    results = await run_both(scenario)
    first = ("POST", b"{}", "application/json")
    assert results["aiohttp"] == [first, ("GET", b"", "application/json")]
    assert results["ferrofetch"] == [first, ("GET", b"", None)]


async def test_streamed_body_and_a_307(recorder: Recorder) -> None:
    """An async-iterator body is streamed, so neither client can replay it on a 307: both raise
    ``ClientPayloadError``."""

    def reply(request: Any) -> Reply:
        if request.target == "/from":
            return Reply(status=307, reason="Temporary Redirect", headers=[("Location", "/to")], body=b"")
        return Reply(body=request.body)

    recorder.reply_for = reply

    async def body() -> AsyncIterator[bytes]:
        yield b"streamed "
        yield b"body"

    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            return await observe(_post_and_read(session, recorder.url + "/from", body()))

    results = await run_both(scenario)
    assert results["aiohttp"] == results["ferrofetch"] == ("error", "ClientPayloadError")


async def _post_and_read(session: Any, url: str, data: Any) -> bytes:
    async with session.post(url, data=data) as resp:
        return bytes(await resp.read())


async def test_request_info_of_a_failed_hop_after_a_303(recorder: Recorder) -> None:
    """A hop after a redirect that fails reports that hop's request: a POST answered with 303
    went on as a GET, so ``request_info.method`` is GET, as in aiohttp."""

    def reply(request: Any) -> Reply:
        if request.target.startswith("/from"):
            return Reply(status=303, reason="See Other", headers=[("Location", "/to")], body=b"")
        return Reply(raw=b"HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n")

    recorder.reply_for = reply

    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            try:
                async with session.post(recorder.url + "/from", data=b"x") as resp:
                    return "ok", resp.status
            except http.ClientResponseError as error:
                return type(error).__name__, error.request_info.method, str(error.request_info.url)

    assert await same(scenario) == ("ClientResponseError", "GET", recorder.url + "/to")
