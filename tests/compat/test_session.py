"""The session: lifecycle, base URL, defaults, how requests can be awaited, top-level names."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import aiohttp
import ferrofetch
import pytest

from .support import COMPAT_EXPORTS, FERROFETCH, same


async def test_guide_example_in_process(httpbin: Any) -> None:
    """The guide's example, unchanged but for the module, through both."""
    urls = [httpbin.url + path for path in ("/html", "/robots.txt", "/encoding/utf8", "/xml", "/json")]

    async def scenario(http: Any) -> Any:
        async def fetch_data(url: str) -> Any:
            async with http.ClientSession() as session:
                async with session.get(url) as response:
                    return await response.text()

        return await asyncio.gather(*(fetch_data(u) for u in urls))

    results = await same(scenario)
    assert len(results) == 5 and "Moby-Dick" in results[0]


async def test_lifecycle_properties() -> None:
    async def scenario(http: Any) -> Any:
        session = http.ClientSession(headers={"X-A": "1"})
        observed = (
            session.closed,
            type(session.headers).__name__,
            dict(session.headers),
            type(session.cookie_jar).__name__,
            session.connector is not None,
            session.connector_owner,
            session.raise_for_status,
            session.trust_env,
        )
        async with session as entered:
            inside = entered is session, session.closed
        return observed, inside, session.closed, session.connector

    assert await same(scenario) == (
        (False, "CIMultiDict", {"X-A": "1"}, "CookieJar", True, True, False, False),
        (True, False),
        True,
        None,
    )


@pytest.mark.parametrize(
    ("base", "path"),
    [
        ("/api/v1/", "items"),
        ("/api/v1/", "/anything/root"),
        ("/api/v1/", "items?x=1"),
        ("/api/v1/", "../v2/items"),
        ("/", "anything"),
    ],
)
async def test_base_url_joining(httpbin: Any, base: str, path: str) -> None:
    async def scenario(http: Any) -> Any:
        async with http.ClientSession(httpbin.url + base) as session:
            async with session.get(path) as resp:
                joined = str(resp.url)
            async with session.get(httpbin.url + "/get") as resp:
                absolute = str(resp.url)
            return joined, absolute

    await same(scenario)


async def test_base_url_with_session_auth_only_for_its_origin(httpbin: Any) -> None:
    other = httpbin.url.replace("127.0.0.1", "localhost")

    async def scenario(http: Any) -> Any:
        auth = http.BasicAuth("user", "pw")
        async with http.ClientSession(httpbin.url + "/", auth=auth) as session:
            async with session.get("headers") as resp:
                same_origin = (await resp.json())["headers"].get("Authorization")
            async with session.get(other + "/headers") as resp:
                other_origin = (await resp.json())["headers"].get("Authorization")
        return same_origin, other_origin

    assert await same(scenario) == ("Basic dXNlcjpwdw==", None)


async def test_requests_are_coroutines(httpbin: Any) -> None:
    """``session.get(...)`` can be awaited, used with ``async with``, handed to ``create_task``
    and ``gather``."""

    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            task = asyncio.create_task(session.get(httpbin.url + "/bytes/5"))
            # gather() gives a list at run time; its overloads know nothing of Any's arguments.
            gathered = cast(
                "list[Any]",
                await asyncio.gather(
                    session.get(httpbin.url + "/bytes/6"), session.get(httpbin.url + "/bytes/7")
                ),
            )
            first = await task
            sizes = [len(await r.read()) for r in (first, *gathered)]
            for r in (first, *gathered):
                r.release()
            pending = session.get(httpbin.url + "/get")
            is_coroutine = asyncio.iscoroutine(pending)
            pending.close()  # never awaited: closing it avoids the "never awaited" warning
            return sizes, is_coroutine

    assert await same(scenario) == ([5, 6, 7], True)


async def test_module_level_request(httpbin: Any) -> None:
    async def scenario(http: Any) -> Any:
        async with http.request("POST", httpbin.url + "/post", data=b"one-off") as resp:
            return resp.status, (await resp.json())["data"]

    assert await same(scenario) == (200, "one-off")


async def test_response_class(httpbin: Any) -> None:
    async def scenario(http: Any) -> Any:
        class Tagged(http.ClientResponse):  # type: ignore[misc]
            tag = "tagged"

        async with http.ClientSession(response_class=Tagged) as session:
            async with session.get(httpbin.url + "/bytes/1") as resp:
                return type(resp).__name__, resp.tag

    assert await same(scenario) == ("Tagged", "tagged")


async def test_detach_leaves_the_connector_open() -> None:
    async def scenario(http: Any) -> Any:
        connector = http.TCPConnector()
        session = http.ClientSession(connector=connector)
        session.detach()
        detached = session.closed, connector.closed
        await connector.close()
        return detached

    assert await same(scenario) == (True, False)


def test_session_outside_a_running_loop(httpbin: Any) -> None:
    """A known difference: aiohttp 3.14 refuses to build a session with no running loop
    (``RuntimeError``); ferrofetch builds it, and the session works on the loop that later uses
    it (here ``loop.run_until_complete``)."""
    with pytest.raises(RuntimeError, match="no running event loop"):
        aiohttp.ClientSession()

    session = FERROFETCH.ClientSession()

    async def use() -> tuple[int, int]:
        async with session:
            async with session.get(httpbin.url + "/bytes/3") as resp:
                return resp.status, len(await resp.read())

    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(use()) == (200, 3)
    finally:
        loop.close()
    assert session.closed


def test_top_level_names_match_aiohttp() -> None:
    """Every compatible name is importable from the top of ``ferrofetch``, where aiohttp has it."""
    missing = [name for name, value in COMPAT_EXPORTS.items() if getattr(ferrofetch, name, None) is not value]
    assert not missing, f"not exported by ferrofetch/__init__.py: {missing}"
    assert all(hasattr(aiohttp, name) or name == "HttpVersion20" for name in COMPAT_EXPORTS)


async def test_defaults_changed_between_requests_apply_to_the_next(httpbin: Any) -> None:
    """A session's headers and cookies changed after a request are what the next one sends
    (ferrofetch prepares a session's usual request ahead and must see such changes)."""

    async def scenario(http: Any) -> Any:
        seen: list[dict[str, str]] = []
        async with http.ClientSession(headers={"X-A": "1"}) as session:
            for step in range(4):
                if step == 1:
                    session.headers["X-A"] = "2"
                    session.headers["X-B"] = "3"
                elif step == 2:
                    session.cookie_jar.update_cookies({"c": "4"})
                elif step == 3:
                    del session.headers["X-B"]
                    session.headers["Authorization"] = "Bearer 5"
                async with session.get(httpbin.url + "/headers") as response:
                    got = (await response.json())["headers"]
                seen.append({k: v for k, v in got.items() if k in ("X-A", "X-B", "Cookie", "Authorization")})
        return seen

    assert await same(scenario) == [
        {"X-A": "1"},
        {"X-A": "2", "X-B": "3"},
        {"X-A": "2", "X-B": "3", "Cookie": "c=4"},
        {"X-A": "2", "Cookie": "c=4", "Authorization": "Bearer 5"},
    ]
