"""Cookies: the session's jar across requests and redirect hops, IP hosts, DummyCookieJar."""

from __future__ import annotations

import time
from http.cookies import Morsel, SimpleCookie
from typing import Any

import aiohttp
from yarl import URL

from .conftest import Recorder, Reply
from .support import same


def _jar(session: Any) -> list[tuple[str, str, str, str]]:
    return sorted((m.key, m.value, m["domain"], m["path"]) for m in session.cookie_jar)


async def test_cookies_from_an_ip_host_are_refused_by_default(httpbin: Any) -> None:
    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            async with session.get(httpbin.url + "/cookies/set?a=1&b=2") as resp:
                seen_after_redirect = await resp.json()
            return seen_after_redirect, _jar(session), len(session.cookie_jar)

    assert await same(scenario) == ({"cookies": {}}, [], 0)


async def test_unsafe_jar_takes_cookies_from_an_ip_host(httpbin: Any) -> None:
    """httpbin sets the cookies on a redirect hop: the jar sees it and sends them on the next."""

    async def scenario(http: Any) -> Any:
        async with http.ClientSession(cookie_jar=http.CookieJar(unsafe=True)) as session:
            async with session.get(httpbin.url + "/cookies/set?a=1&b=two") as resp:
                after_redirect = await resp.json()
                hop_cookies = {k: m.value for k, m in resp.history[0].cookies.items()}
            async with session.get(httpbin.url + "/cookies") as resp:
                later = await resp.json()
            return after_redirect, hop_cookies, later, _jar(session)

    after_redirect, hop_cookies, later, _ = await same(scenario)
    assert after_redirect == later == {"cookies": {"a": "1", "b": "two"}}
    assert hop_cookies == {"a": "1", "b": "two"}


async def test_cookies_from_a_host_name(httpbin: Any) -> None:
    base = httpbin.url.replace("127.0.0.1", "localhost")

    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            async with session.get(base + "/cookies/set?name=value") as resp:
                first = await resp.json()
            async with session.get(base + "/cookies/delete?name") as resp:
                deleted = await resp.json()
            return first, deleted, _jar(session)

    assert await same(scenario) == ({"cookies": {"name": "value"}}, {"cookies": {}}, [])


async def test_cookie_attributes_domain_path_secure_expiry(recorder: Recorder) -> None:
    base = recorder.url.replace("127.0.0.1", "localhost")
    past = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() - 3600))

    def reply(request: Any) -> Reply:
        if request.target == "/dir/set":
            return Reply(
                headers=[
                    ("Set-Cookie", "plain=1"),
                    ("Set-Cookie", "rooted=2; Path=/"),
                    ("Set-Cookie", "other_path=3; Path=/elsewhere"),
                    ("Set-Cookie", "secure=4; Secure; Path=/"),
                    ("Set-Cookie", f"expired=5; Expires={past}; Path=/"),
                    ("Set-Cookie", "gone=6; Max-Age=0; Path=/"),
                    ("Set-Cookie", "foreign=7; Domain=example.test; Path=/"),
                    ("Set-Cookie", 'quoted="a b"; Path=/'),
                ]
            )
        return Reply()

    recorder.reply_for = reply

    async def scenario(http: Any) -> Any:
        recorder.requests.clear()
        async with http.ClientSession() as session:
            for path in ("/dir/set", "/dir/page", "/", "/elsewhere/x"):
                async with session.get(base + path) as resp:
                    await resp.read()
            sent = [(r.target, sorted((r.header("Cookie") or "").split("; "))) for r in recorder.requests]
            return sent, _jar(session)

    await same(scenario)


async def test_cookies_given_to_the_session_go_everywhere(httpbin: Any) -> None:
    async def scenario(http: Any) -> Any:
        async with http.ClientSession(cookies={"shared": "yes"}) as session:
            async with session.get(httpbin.url + "/cookies") as resp:
                ip_host = await resp.json()
            async with session.get(httpbin.url.replace("127.0.0.1", "localhost") + "/cookies") as resp:
                name_host = await resp.json()
            return ip_host, name_host

    assert await same(scenario) == ({"cookies": {"shared": "yes"}},) * 2


async def test_dummy_cookie_jar_keeps_nothing(httpbin: Any) -> None:
    base = httpbin.url.replace("127.0.0.1", "localhost")

    async def scenario(http: Any) -> Any:
        async with http.ClientSession(cookie_jar=http.DummyCookieJar()) as session:
            async with session.get(base + "/cookies/set?a=1") as resp:
                after = await resp.json()
            async with session.get(base + "/cookies", cookies={"per_request": "1"}) as resp:
                per_request = await resp.json()
            return after, per_request, len(session.cookie_jar), list(session.cookie_jar)

    assert await same(scenario) == ({"cookies": {}}, {"cookies": {"per_request": "1"}}, 0, [])


async def test_cookie_jar_api(httpbin: Any) -> None:
    async def scenario(http: Any) -> Any:
        jar = http.CookieJar()
        jar.update_cookies({"a": "1"}, URL("http://example.test/x/y"))
        jar.update_cookies({"b": "2"}, URL("http://sub.example.test/"))
        morsels = SimpleCookie()
        morsels["c"] = "3"
        morsels["c"]["domain"] = "example.test"
        morsels["c"]["path"] = "/"
        jar.update_cookies(morsels, URL("http://www.example.test/"))
        jar.update_cookies({"ip": "4"}, URL("http://10.0.0.1/"))
        checks: list[Any] = [
            sorted(jar.filter_cookies(URL("http://example.test/x/z"))),
            sorted(jar.filter_cookies(URL("http://sub.example.test/"))),
            sorted(jar.filter_cookies(URL("http://deep.sub.example.test/"))),
            sorted(jar.filter_cookies(URL("http://example.test/"))),
            len(jar),
        ]
        jar.clear_domain("sub.example.test")
        checks.append(len(jar))

        def named_c(morsel: Morsel[str]) -> bool:
            return morsel.key == "c"

        jar.clear(named_c)
        checks.append([m.key for m in jar])
        unsafe = http.CookieJar(unsafe=True)
        unsafe.update_cookies({"ip": "4"}, URL("http://10.0.0.1/"))
        checks.append(
            (
                sorted(unsafe.filter_cookies(URL("http://10.0.0.1/"))),
                sorted(unsafe.filter_cookies(URL("http://10.0.0.2/"))),
            )
        )
        checks.append((jar.unsafe, unsafe.unsafe, jar.quote_cookie))
        jar.clear()
        checks.append(len(jar))
        return checks

    await same(scenario)


async def test_quote_cookie(recorder: Recorder) -> None:
    base = recorder.url.replace("127.0.0.1", "localhost")

    async def scenario(http: Any) -> Any:
        results: list[Any] = []
        for quote in (True, False):
            recorder.requests.clear()
            jar = http.CookieJar(quote_cookie=quote)
            jar.update_cookies({"spaced": "a b", "comma": "x,y"})
            async with http.ClientSession(cookie_jar=jar) as session:
                async with session.get(base + "/q") as resp:
                    await resp.read()
            results.append(sorted((recorder.requests[0].header("Cookie") or "").split("; ")))
        return results

    await same(scenario)


async def test_cookies_saved_and_loaded(httpbin: Any, tmp_path: Any) -> None:
    base = httpbin.url.replace("127.0.0.1", "localhost")

    async def scenario(http: Any) -> Any:
        path = tmp_path / f"cookies-{len(list(tmp_path.iterdir()))}.json"
        async with http.ClientSession() as session:
            async with session.get(base + "/cookies/set?kept=1") as resp:
                await resp.read()
            session.cookie_jar.save(path)
        jar = http.CookieJar()
        jar.load(path)
        async with http.ClientSession(cookie_jar=jar) as session:
            async with session.get(base + "/cookies") as resp:
                return await resp.json()

    assert await same(scenario) == {"cookies": {"kept": "1"}}


async def test_cookies_named_like_attributes_are_kept_and_sent_back(recorder: Recorder) -> None:
    """``path=...``, ``secure=...``, ``expires=...`` are cookie names too (RFC 6265 5.2): stored,
    sent back, and later requests to the host go on working."""
    base = recorder.url.replace("127.0.0.1", "localhost")

    def reply(request: Any) -> Reply:
        if request.target == "/set":
            return Reply(
                headers=[
                    ("Set-Cookie", "path=/x; Path=/"),
                    ("Set-Cookie", "secure=yes; Path=/"),
                    ("Set-Cookie", "expires=never; Path=/"),
                    ("Set-Cookie", "plain=1; Path=/"),
                ]
            )
        return Reply()

    recorder.reply_for = reply

    async def scenario(http: Any) -> Any:
        recorder.requests.clear()
        async with http.ClientSession() as session:
            for path in ("/set", "/next", "/again"):
                async with session.get(base + path) as resp:
                    await resp.read()
            sent = [sorted((r.header("Cookie") or "").split("; ")) for r in recorder.requests]
            return sent, _jar(session)

    sent, jar = await same(scenario)
    assert sent[1] == sent[2] == ["expires=never", 'path="/x"', "plain=1", "secure=yes"]
    assert len(jar) == 4


async def test_an_illegal_cookie_name_is_dropped_with_a_warning(recorder: Recorder, caplog: Any) -> None:
    base = recorder.url.replace("127.0.0.1", "localhost")
    recorder.reply_for = lambda request: Reply(
        headers=[("Set-Cookie", "bad name=1; Path=/"), ("Set-Cookie", "good=2; Path=/")]
    )

    async def scenario(http: Any) -> Any:
        caplog.clear()
        recorder.requests.clear()
        async with http.ClientSession() as session:
            for _ in range(2):
                async with session.get(base + "/") as resp:
                    await resp.read()
            warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
            return recorder.requests[1].header("Cookie"), _jar(session), warned

    with caplog.at_level("WARNING"):
        cookie, jar, warned = await same(scenario)
    assert cookie == "good=2"
    assert [name for name, *_ in jar] == ["good"]
    assert warned == ["Can not load cookies: Illegal cookie name 'bad name'"] * 2  # one per response


async def test_the_jar_is_bounded_per_domain(recorder: Recorder) -> None:
    """220 distinct cookies set across a redirect chain (44 per hop): the jar keeps at most 180
    for the domain, evicting the least recently used down to 150 each time it fills, and sends
    at most 150 (aiohttp's and Firefox's numbers; SECURITY.md)."""
    base = recorder.url.replace("127.0.0.1", "localhost")

    def reply(request: Any) -> Reply:
        hop = int(request.target.rsplit("/", 1)[1])
        cookies = [("Set-Cookie", f"c{hop * 44 + i}=v; Path=/") for i in range(44)]
        if hop < 4:
            return Reply(status=302, reason="Found", headers=[*cookies, ("Location", f"/hop/{hop + 1}")])
        return Reply(headers=cookies)

    recorder.reply_for = reply

    async def scenario(http: Any) -> Any:
        recorder.requests.clear()
        async with http.ClientSession() as session:
            async with session.get(base + "/hop/0") as resp:
                await resp.read()
            names = {m.key for m in session.cookie_jar}
            sent_last = len((recorder.requests[-1].header("Cookie") or "").split("; "))
            return len(session.cookie_jar), sorted(names, key=lambda n: int(n[1:]))[:3], sent_last

    count, oldest_kept, sent_last = await same(scenario)
    assert count <= 180
    assert oldest_kept == ["c26", "c27", "c28"]  # the least recently sent went first
    assert sent_last == 150  # one request sends at most 150


async def test_a_morsel_is_sent_under_its_own_name(recorder: Recorder) -> None:
    """``cookies={"alias": morsel}``: the morsel's own name goes on the wire, also when the jar
    (here aiohttp's own, which files it under the alias) hands it back under the alias."""

    async def scenario(http: Any) -> Any:
        recorder.requests.clear()
        morsel: Morsel[str] = Morsel()
        morsel.set("real", "1", "1")
        other: Morsel[str] = Morsel()
        other.set("per_request", "2", "2")
        jar = aiohttp.CookieJar(unsafe=True)
        async with http.ClientSession(cookie_jar=jar, cookies={"alias": morsel}) as session:
            async with session.get(recorder.url + "/", cookies={"other_alias": other}) as resp:
                await resp.read()
        return recorder.requests[0].header("Cookie")

    assert await same(scenario) == "real=1; per_request=2"


async def test_a_requests_own_cookies_are_not_bounded(recorder: Recorder) -> None:
    """The jar's per-request bound (150) is for stored cookies; ``cookies=`` go out whole."""

    async def scenario(http: Any) -> Any:
        recorder.requests.clear()
        cookies = {f"c{i}": "v" for i in range(151)}
        async with http.ClientSession() as session:
            async with session.get(recorder.url + "/", cookies=cookies) as resp:
                await resp.read()
        return len((recorder.requests[0].header("Cookie") or "").split("; "))

    assert await same(scenario) == 151


async def test_a_requests_secure_cookie_honours_the_jars_trusted_origins(recorder: Recorder) -> None:
    async def scenario(http: Any) -> Any:
        recorder.requests.clear()
        secure: Morsel[str] = Morsel()
        secure.set("auth", "token", "token")
        secure["secure"] = True
        jar = http.CookieJar(unsafe=True, treat_as_secure_origin=[URL(recorder.url)])
        async with http.ClientSession(cookie_jar=jar) as session:
            async with session.get(recorder.url + "/", cookies={"auth": secure}) as resp:
                await resp.read()
        async with http.ClientSession() as session:
            async with session.get(recorder.url + "/", cookies={"auth": secure}) as resp:
                await resp.read()
        return [r.header("Cookie") for r in recorder.requests]

    assert await same(scenario) == ["auth=token", None]
