"""Every request option means the same on ``session.request``, ``fetch`` and ``fetch_all``.

Each test runs one option through the three APIs against one loopback server and compares what
they observe: the status and final URL, what the server received, or the exception class and
message.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, cast

import ferrofetch
import pytest

from tests.servers import HttpServer

Observed = tuple[Any, ...]
Api = Callable[..., Awaitable[Observed]]


async def _session(url: str, method: str = "GET", **options: Any) -> Observed:
    async with ferrofetch.ClientSession() as session:
        async with session.request(method, url, **options) as resp:
            body = await resp.read()
            return resp.status, str(resp.real_url), len(resp.history), body


async def _fetch(url: str, method: str = "GET", **options: Any) -> Observed:
    resp = await ferrofetch.fetch(url, method=method, **options)
    return resp.status, resp.url, len(resp.history), resp.content


async def _fetch_all(url: str, method: str = "GET", **options: Any) -> Observed:
    (resp,) = cast("list[Any]", await ferrofetch.fetch_all([url], method=method, **options))
    return resp.status, resp.url, len(resp.history), resp.content


APIS: dict[str, Api] = {"session": _session, "fetch": _fetch, "fetch_all": _fetch_all}


async def _outcome(api: Api, url: str, **options: Any) -> Observed:
    try:
        return ("ok", *await api(url, **options))
    except ferrofetch.ClientError as error:
        return ("error", type(error).__name__)


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize(("max_redirects", "hops"), [(0, 0), (0, 1), (1, 1), (1, 2), (3, 2), (3, 3)])
async def test_max_redirects(http_server: HttpServer, api: str, max_redirects: int, hops: int) -> None:
    """``max_redirects=N`` follows at most N redirects: 0 follows none (aiohttp reads 0 as "no
    limit", which RFC 9110 §15.4 advises against)."""
    observed = await _outcome(APIS[api], http_server.url + f"/redirect/{hops}", max_redirects=max_redirects)
    if hops > max_redirects:
        assert observed == ("error", "TooManyRedirects")
    else:
        assert observed[:4] == ("ok", 200, http_server.url + "/redirect/0", hops)


@pytest.mark.parametrize("api", APIS)
async def test_total_timeout_covers_redirects_and_names_the_value_set(
    http_server: HttpServer, api: str
) -> None:
    """``timeout`` (seconds) bounds the whole request, redirects included, on one clock; the
    error is a ``TimeoutError`` whose message gives the value set."""
    url = http_server.url + "/redirect/3?delay=0.2"
    with pytest.raises(TimeoutError) as caught:
        await APIS[api](url, timeout=0.5)
    assert "0.5 s" in str(caught.value)


@pytest.mark.parametrize("api", APIS)
async def test_timeout_none_is_no_limit(http_server: HttpServer, api: str) -> None:
    observed = await APIS[api](http_server.url + "/slow?delay=0.1", timeout=None)
    assert observed[:2] == (200, http_server.url + "/slow?delay=0.1")


@pytest.mark.parametrize("api", APIS)
async def test_headers_params_and_body(http_server: HttpServer, api: str) -> None:
    status, _, _, body = await APIS[api](
        http_server.url + "/echo?a=1",
        method="POST",
        headers={"X-Given": "yes"},
        params={"b": "2 3"},
        json={"k": "v"},
    )
    echoed = json.loads(body)
    headers = {k.lower(): v for k, v in echoed["headers"]}
    assert (status, echoed["method"], echoed["query"]) == (200, "POST", [["a", "1"], ["b", "2 3"]])
    assert (headers["x-given"], headers["content-type"], echoed["body"]) == (
        "yes",
        "application/json",
        '{"k": "v"}',
    )


@pytest.mark.parametrize("api", APIS)
async def test_redirect_turns_post_into_get(http_server: HttpServer, api: str) -> None:
    status, url, hops, body = await APIS[api](http_server.url + "/redirect/1", method="POST", data=b"x")
    assert (status, url, hops, body) == (200, http_server.url + "/redirect/0", 1, b"redirects done")


@pytest.mark.parametrize("api", APIS)
async def test_redirect_chain_reuses_one_connection(http_server: HttpServer, api: str) -> None:
    """A small redirect body is read to its end, so the next hop reuses the connection."""
    observed = await APIS[api](http_server.url + "/redirect/3")
    assert observed[:3] == (200, http_server.url + "/redirect/0", 3)
    assert http_server.stats.connections_accepted == 1
