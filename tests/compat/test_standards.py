"""Inputs where aiohttp departs from an RFC and ferrofetch follows it, on every API.

Each test runs the input through aiohttp and ferrofetch's session, asserts the value the RFC
gives for ferrofetch and aiohttp's own value beside it (so a change on either side shows up),
and checks that ``fetch`` and ``fetch_all`` agree with the session. The README's "Known
differences" lists each one as a fix.
"""

from __future__ import annotations

import base64
import ssl
from collections.abc import Callable
from typing import Any

import ferrofetch
import pytest

from tests.servers import RawServer, TlsFiles

from .conftest import Recorder, Reply
from .support import run_both

# Reserved characters percent-encoded on purpose (RFC 3986 §2.2): an encoded "/" in a path
# segment, "?" and "&" inside a query value, a "+" that is data. Normalizing any of them
# changes the resource named (RFC 3986 §6.2.2.2 allows decoding unreserved characters only).
AS_GIVEN = "/db/a%2Fb/x+y/100%25?next=%2Fhome%3Fa%3D1%26b%3D2&q=a+b&p=%2B"


async def _session_get(http: Any, url: str, **options: Any) -> Any:
    async with http.ClientSession() as session:
        async with session.get(url, **options) as resp:
            await resp.read()
            return resp


async def test_request_url_is_sent_byte_for_byte(recorder: Recorder) -> None:
    async def scenario(http: Any) -> Any:
        recorder.requests.clear()
        await _session_get(http, recorder.url + AS_GIVEN)
        await _session_get(http, recorder.url + AS_GIVEN, params={"z": "1 2"})
        return [r.target for r in recorder.requests]

    results = await run_both(scenario)
    assert results["ferrofetch"] == [AS_GIVEN, AS_GIVEN + "&z=1+2"]
    # aiohttp decodes %2F, %3F, %3D and %26 inside the query value (yarl requotes it).
    assert results["aiohttp"][0] != AS_GIVEN

    recorder.requests.clear()
    await ferrofetch.fetch(recorder.url + AS_GIVEN)
    await ferrofetch.fetch_all([recorder.url + AS_GIVEN])
    assert [r.target for r in recorder.requests] == [AS_GIVEN, AS_GIVEN]


@pytest.mark.parametrize(
    ("userinfo", "user", "password"),
    [
        ("us%C3%A9r:p%C3%A4ss", "usér", "päss"),
        ("%D0%B8%D0%B2%D0%B0%D0%BD:%D0%BF%D0%B0%D1%80%D0%BE%D0%BB%D1%8C", "иван", "пароль"),
    ],
)
async def test_credentials_in_the_url_are_sent_as_utf8(
    recorder: Recorder, userinfo: str, user: str, password: str
) -> None:
    """RFC 7617 §2.1: user-id and password as UTF-8 octets (``charset="UTF-8"``); aiohttp
    encodes them as Latin-1, and fails on characters Latin-1 lacks."""
    expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    url = recorder.url.replace("http://", f"http://{userinfo}@") + "/"

    async def scenario(http: Any) -> Any:
        recorder.requests.clear()
        try:
            await _session_get(http, url)
        except Exception as error:
            return type(error).__name__
        return recorder.requests[-1].header("Authorization")

    results = await run_both(scenario)
    assert results["ferrofetch"] == expected
    assert results["aiohttp"] != expected

    recorder.requests.clear()
    await ferrofetch.fetch(url)
    await ferrofetch.fetch_all([url])
    assert [r.header("Authorization") for r in recorder.requests] == [expected, expected]


def _redirect_to(location: str) -> Any:
    def reply(request: Any) -> Reply:
        if request.target.startswith("/start"):
            return Reply(status=302, reason="Found", headers=[("Location", location)], body=b"")
        return Reply(body=b"end")

    return reply


@pytest.mark.parametrize(("location", "fragment"), [("/end", "sec"), ("/end#own", "own")])
async def test_fragment_is_kept_across_a_redirect(recorder: Recorder, location: str, fragment: str) -> None:
    """RFC 9110 §10.2.2: a Location without a fragment inherits the request's; one with its own
    keeps it."""
    recorder.reply_for = _redirect_to(location)
    expected = f"{recorder.url}/end#{fragment}"

    async def scenario(http: Any) -> Any:
        resp = await _session_get(http, recorder.url + "/start#sec")
        return str(resp.real_url), str(resp.url), str(resp.history[0].real_url)

    results = await run_both(scenario)
    # ``url`` is the URL without its fragment in both (aiohttp's definition of the attribute).
    start = f"{recorder.url}/start#sec"
    assert results["ferrofetch"] == (expected, f"{recorder.url}/end", start)
    if fragment == "sec":
        assert results["aiohttp"][0] == f"{recorder.url}/end"  # aiohttp drops the fragment
    else:
        assert results["aiohttp"] == results["ferrofetch"]

    assert (await ferrofetch.fetch(recorder.url + "/start#sec")).url == expected
    (bulk,) = await ferrofetch.fetch_all([recorder.url + "/start#sec"])
    assert bulk.url == expected


async def test_fetch_keeps_the_fragment_without_a_redirect(recorder: Recorder) -> None:
    assert (await ferrofetch.fetch(recorder.url + "/page#part")).url == recorder.url + "/page#part"
    assert recorder.requests[-1].target == "/page"


async def test_host_is_the_first_header_field(recorder: Recorder) -> None:
    """RFC 9112 §3.2: a client sends Host as the first field of the header section; aiohttp does."""

    async def scenario(http: Any) -> Any:
        recorder.requests.clear()
        await _session_get(http, recorder.url + "/", headers={"X-First": "1"})
        return recorder.requests[-1].headers[0][0].lower()

    assert (await run_both(scenario)) == {"aiohttp": "host", "ferrofetch": "host"}
    recorder.requests.clear()
    await ferrofetch.fetch(recorder.url + "/", headers={"X-First": "1"})
    await ferrofetch.fetch_all([recorder.url + "/"], headers={"X-First": "1"})
    assert [r.headers[0][0].lower() for r in recorder.requests] == ["host", "host"]


async def test_host_over_tls_is_left_to_the_protocol(
    raw_server: Callable[..., RawServer], tls_files: TlsFiles
) -> None:
    """Over TLS, ALPN chooses the protocol after the header section is built, so ferrofetch
    leaves ``Host`` to hyper: sent last over HTTP/1.1, and not at all over HTTP/2, where the
    authority is ``:authority`` (RFC 9113 §8.3.1). aiohttp (HTTP/1.1 only) sends it first. A
    difference listed in the migration guide."""

    def tls_server(handler: Any) -> RawServer:
        return raw_server(handler, tls=tls_files.server_context())

    recorder = Recorder(tls_server)
    trusting = ssl.create_default_context(cafile=tls_files.ca_pem)

    async def scenario(http: Any) -> Any:
        recorder.requests.clear()
        await _session_get(http, recorder.url + "/", headers={"X-First": "1"}, ssl=trusting)
        names = [name.lower() for name, _ in recorder.requests[-1].headers]
        return names[0], names.count("host")

    results = await run_both(scenario)
    assert results["aiohttp"] == ("host", 1)
    assert results["ferrofetch"][1] == 1 and results["ferrofetch"][0] != "host", results


async def test_only_location_is_followed(recorder: Recorder) -> None:
    """A redirect status with a ``URI`` header alone (HTTP/1.0 era, not in RFC 9110) is the final
    response, on every API; aiohttp follows ``URI``."""

    def reply(request: Any) -> Reply:
        if request.target == "/start":
            return Reply(status=302, reason="Found", headers=[("URI", "/end")], body=b"")
        return Reply(body=b"end")

    recorder.reply_for = reply

    async def scenario(http: Any) -> Any:
        resp = await _session_get(http, recorder.url + "/start")
        return resp.status, str(resp.url)

    results = await run_both(scenario)
    assert results["ferrofetch"] == (302, recorder.url + "/start")
    assert results["aiohttp"] == (200, recorder.url + "/end")
    assert (await ferrofetch.fetch(recorder.url + "/start")).status == 302
    (bulk,) = await ferrofetch.fetch_all([recorder.url + "/start"])
    assert bulk.status == 302
