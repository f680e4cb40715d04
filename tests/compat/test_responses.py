"""What a response offers: the head, the body read whole or as a stream, decoding, release."""

from __future__ import annotations

import asyncio
import gc
import json
import weakref
from typing import Any

import pytest
from multidict import CIMultiDictProxy
from yarl import URL

from tests.servers import HttpServer, observe

from .conftest import Recorder, Reply
from .support import FERROFETCH, run_both, same, seen


async def test_head_attributes(httpbin: Any) -> None:
    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            url = httpbin.url + "/response-headers?X-One=1&Content-Type=text/plain%3B+charset%3Dlatin-1#frag"
            async with session.get(url) as resp:
                body = await resp.read()
                # type() of an Any value is type[Unknown] to pyright.
                return {  # pyright: ignore[reportUnknownVariableType]
                    "status": resp.status,
                    "reason": resp.reason,
                    "ok": resp.ok,
                    "method": resp.method,
                    "url": (type(resp.url), str(resp.url)),
                    "real_url": (type(resp.real_url), str(resp.real_url)),
                    "host": resp.host,
                    "headers_type": type(resp.headers),
                    "x_one": resp.headers.getall("x-one"),
                    "content_type": resp.content_type,
                    "charset": resp.charset,
                    "content_length": resp.content_length,
                    "length_matches": resp.content_length == len(body),
                    "version": (resp.version, tuple(resp.version), resp.version.major),
                    "history": resp.history,
                    "closed": resp.closed,
                    "request_info": (
                        resp.request_info.method,
                        str(resp.request_info.url),
                        str(resp.request_info.real_url),
                        type(resp.request_info.headers),
                    ),
                }

    observed = await same(scenario)
    assert observed["url"] == (URL, observed["url"][1])
    assert observed["headers_type"] is CIMultiDictProxy
    assert observed["real_url"][1].endswith("#frag") and not observed["url"][1].endswith("#frag")
    assert observed["version"] == ((1, 1), (1, 1), 1)


async def test_raw_headers(httpbin: Any) -> None:
    """Values and order per name match; ferrofetch gives header names lower-case (HTTP/2 style,
    how the native client stores them) where aiohttp keeps the server's spelling."""

    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            async with session.get(httpbin.url + "/response-headers?X-Multi=a&X-Multi=b") as resp:
                raw = resp.raw_headers
                return (
                    sorted((k.lower(), v) for k, v in raw if k.lower() != b"date"),
                    all(isinstance(k, bytes) and isinstance(v, bytes) for k, v in raw),
                    [v for k, v in raw if k.lower() == b"x-multi"],
                )

    assert (await same(scenario))[2] == [b"a", b"b"]
    results = await run_both(lambda http: _raw_names(http, httpbin.url))
    assert b"Content-Type" in results["aiohttp"]
    assert b"content-type" in results["ferrofetch"]


async def _raw_names(http: Any, base: str) -> list[bytes]:
    async with http.ClientSession() as session:
        async with session.get(base + "/get") as resp:
            return [k for k, _ in resp.raw_headers]


async def test_response_cookies(httpbin: Any) -> None:
    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            url = httpbin.url + "/response-headers?Set-Cookie=a%3D1%3B+Path%3D%2F&Set-Cookie=b%3D2"
            async with session.get(url) as resp:
                return {name: (m.value, m["path"]) for name, m in resp.cookies.items()}

    assert await same(scenario) == {"a": ("1", "/"), "b": ("2", "")}


@pytest.mark.parametrize("path", ["/gzip", "/deflate", "/brotli", "/encoding/utf8", "/html", "/xml"])
async def test_text_and_decoding(httpbin: Any, path: str) -> None:
    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            async with session.get(httpbin.url + path) as resp:
                text: Any = await resp.text()
                if path in ("/gzip", "/deflate", "/brotli"):
                    text = json.loads(text)
                    text["headers"] = seen(text["headers"])
                return resp.content_type, resp.charset, resp.get_encoding(), text

    await same(scenario)


async def test_text_with_charsets(http_server: HttpServer) -> None:
    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            async with session.get(http_server.url + "/charset?charset=iso-8859-1") as resp:
                latin = await resp.text(), resp.get_encoding()
            async with session.get(http_server.url + "/bad-utf8") as resp:
                strict = await observe(resp.text())
                replaced = await resp.text(errors="replace")
                explicit = await resp.text(encoding="latin-1")
        return latin, strict, replaced, explicit

    latin, strict, _, _ = await same(scenario)
    assert latin == ("café ñandú", "iso8859-1")
    assert strict == ("error", "UnicodeDecodeError")


async def test_session_fallback_charset_resolver(http_server: HttpServer) -> None:
    async def scenario(http: Any) -> Any:
        async with http.ClientSession(fallback_charset_resolver=lambda r, b: "cp1252") as session:
            async with session.get(http_server.url + "/bad-utf8") as resp:
                return await resp.text(), resp.get_encoding()

    await same(scenario)


async def test_json(httpbin: Any) -> None:
    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            async with session.get(httpbin.url + "/json") as resp:
                document = await resp.json()
            async with session.get(httpbin.url + "/html") as resp:
                wrong_type = await observe(resp.json())
                error = None
                try:
                    await resp.json()
                except http.ContentTypeError as e:
                    error = (e.status, e.message, str(e.request_info.url))
            async with session.get(httpbin.url + "/base64/eyJhIjogMX0=") as resp:
                unchecked = await resp.json(content_type=None)
            async with session.get(httpbin.url + "/bytes/0") as resp:
                empty = await resp.json(content_type=None)
            async with session.get(httpbin.url + "/json") as resp:

                def length(text: str) -> int:
                    return len(text)

                custom = await resp.json(loads=length)
        return document["slideshow"]["title"], wrong_type, error, unchecked, empty, custom

    observed = await same(scenario)
    assert observed[1] == ("error", "ContentTypeError")
    assert observed[3:5] == ({"a": 1}, None)


async def test_read_is_cached_and_text_reuses_it(httpbin: Any) -> None:
    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            async with session.get(httpbin.url + "/bytes/1000?seed=1") as resp:
                first = await resp.read()
                second = await resp.read()
                closed_after_read = resp.closed
                return first == second, len(first), closed_after_read

    assert await same(scenario) == (True, 1000, True)


async def test_reading_a_released_response(httpbin: Any) -> None:
    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            async with session.get(httpbin.url + "/bytes/100") as resp:
                pass
            unread = await observe(resp.read()), await observe(resp.content.read(10)), resp.closed
            async with session.get(httpbin.url + "/encoding/utf8") as resp:
                text = await resp.text()
            after_read = await observe(resp.read()), (await resp.text()) == text
            resp = await session.get(httpbin.url + "/bytes/10")
            resp.release()
            released = await observe(resp.read())
            resp = await session.get(httpbin.url + "/bytes/10")
            resp.close()
            closed = await observe(resp.text()), resp.closed
        return unread, after_read, released, closed

    unread, after_read, released, closed = await same(scenario)
    assert unread == (("error", "ClientConnectionError"), ("error", "ClientConnectionError"), True)
    assert after_read == (("error", "ClientConnectionError"), True)
    assert released == ("error", "ClientConnectionError")
    assert closed == (("error", "ClientConnectionError"), True)


async def test_release_message(httpbin: Any) -> None:
    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            resp = await session.get(httpbin.url + "/bytes/10")
            await resp.release()  # aiohttp lets callers await release()
            try:
                await resp.read()
            except http.ClientConnectionError as error:
                return str(error), isinstance(error, http.ClientError)
        return None

    assert await same(scenario) == ("Connection closed", True)


async def test_stream_reader_methods(recorder: Recorder) -> None:
    text = b"line one\nline two\r\nlast line without newline"
    recorder.reply_for = lambda request: Reply(body=text)

    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            async with session.get(recorder.url + "/s") as resp:
                content = resp.content
                steps: list[Any] = [content.at_eof()]
                steps.append(await content.readline())
                steps.append(await content.read(4))
                steps.append(await content.readexactly(6))
                steps.append(await content.readuntil(b"last"))
                steps.append(await content.readany())
                steps.append(content.at_eof())
                steps.append(await content.read())
                steps.append(await content.readany())
                steps.append(await observe(content.readexactly(1)))
                return steps

    observed = await same(scenario)
    assert observed[1] == b"line one\n"
    assert observed[-1] == ("error", "IncompleteReadError")


async def test_iter_chunked_any_chunks_and_lines(httpbin: Any) -> None:
    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            async with session.get(httpbin.url + "/bytes/70000?seed=3") as resp:
                pieces = [piece async for piece in resp.content.iter_chunked(1024)]
                sizes_ok = all(0 < len(p) <= 1024 for p in pieces)
                chunked = b"".join(pieces)
            async with session.get(httpbin.url + "/bytes/70000?seed=3") as resp:
                any_body = b"".join([piece async for piece in resp.content.iter_any()])
            async with session.get(httpbin.url + "/bytes/70000?seed=3") as resp:
                pairs = [pair async for pair in resp.content.iter_chunks()]
                chunks_body = b"".join(data for data, _ in pairs)
            async with session.get(httpbin.url + "/stream/5") as resp:
                lines = [line async for line in resp.content]
            return sizes_ok, len(chunked), chunked == any_body == chunks_body, len(lines), resp.closed

    assert await same(scenario) == (True, 70000, True, 5, True)


async def test_content_length_absent_for_streamed_response(httpbin: Any) -> None:
    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            async with session.get(httpbin.url + "/stream-bytes/3000?chunk_size=100&seed=1") as resp:
                return resp.content_length, resp.headers.get("Transfer-Encoding"), len(await resp.read())

    assert await same(scenario) == (None, None, 3000)


async def test_head_response_has_no_body(httpbin: Any) -> None:
    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            async with session.head(httpbin.url + "/bytes/50") as resp:
                return resp.status, resp.content_length, await resp.read(), resp.content.at_eof()

    assert await same(scenario) == (200, 50, b"", True)


async def test_raise_for_status_on_the_response(httpbin: Any) -> None:
    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            async with session.get(httpbin.url + "/status/418") as resp:
                try:
                    resp.raise_for_status()
                except http.ClientResponseError as error:
                    inside = (error.status, error.message, str(error.request_info.url), error.history)
                still_readable = len(await resp.read()) > 0
            resp = await session.get(httpbin.url + "/status/404")
            try:
                resp.raise_for_status()
            except http.ClientResponseError as error:
                outside = (error.status, type(error.headers).__name__, resp.closed)
            ok = await session.get(httpbin.url + "/status/204")
            ok.raise_for_status()
            ok.release()
            return inside, still_readable, outside

    inside, still_readable, outside = await same(scenario)
    assert inside[0] == 418 and still_readable and outside == (404, "CIMultiDictProxy", True)


async def test_repr(httpbin: Any) -> None:
    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            async with session.get(httpbin.url + "/status/201") as resp:
                return repr(resp).split("\n")[0]

    assert (await same(scenario)).endswith("/status/201) [201 CREATED]>")


async def test_concurrent_reads_of_one_body_are_refused(http_server: HttpServer) -> None:
    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            async with session.get(http_server.url + "/drip?n=3&delay=0.05") as resp:
                first = asyncio.ensure_future(resp.content.read(1))
                await asyncio.sleep(0.01)
                second = await observe(resp.content.read(1))
                return await first, second

    assert await same(scenario) == (b"*", ("error", "RuntimeError"))


async def test_headers_of_a_decoded_body(http_server: HttpServer) -> None:
    """The decoded body, with Content-Encoding and Content-Length (which describe the encoded
    bytes) kept in the headers as the server sent them."""

    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            async with session.get(http_server.url + "/gzip") as resp:
                body = await resp.read()
                return body, resp.headers.get("Content-Encoding"), resp.content_length

    results = await run_both(scenario)
    assert results["aiohttp"] == results["ferrofetch"]
    assert results["aiohttp"][1:] == ("gzip", results["aiohttp"][2]) and results["aiohttp"][2] > 0


@pytest.mark.parametrize("route", ["/gzip", "/deflate", "/brotli"])
async def test_auto_decompress_false_keeps_the_body_as_sent(http_server: HttpServer, route: str) -> None:
    """Session-wide and per request (which wins over the session), read whole and streamed."""

    async def scenario(http: Any) -> Any:
        seen_bodies: list[Any] = []
        async with http.ClientSession(auto_decompress=False) as session:
            assert session.auto_decompress is False
            async with session.get(http_server.url + route) as resp:
                seen_bodies.append((await resp.read(), resp.headers.get("Content-Encoding")))
            async with session.get(http_server.url + route, auto_decompress=True) as resp:
                seen_bodies.append((await resp.read(), resp.headers.get("Content-Encoding")))
        async with http.ClientSession() as session:
            async with session.get(http_server.url + route, auto_decompress=False) as resp:
                seen_bodies.append((b"".join([c async for c in resp.content.iter_chunked(7)]), resp.status))
        return seen_bodies

    results = await run_both(scenario)
    assert results["aiohttp"] == results["ferrofetch"]
    raw, decoded, streamed = results["ferrofetch"]
    assert raw[0] != decoded[0] and raw[0] == streamed[0]


async def test_request_info_headers(httpbin: Any) -> None:
    """What each client reports having sent (Host included), compared name-insensitively."""

    async def scenario(http: Any) -> Any:
        reported: list[Any] = []
        async with http.ClientSession(headers={"X-Session": "s"}, cookies={"c": "1"}) as session:
            for method, kwargs in (
                ("GET", {}),
                ("POST", {"data": {"a": "1"}}),
                ("PUT", {"json": [1], "auth": http.BasicAuth("u", "p")}),
                ("DELETE", {"headers": {"X-Request": "r"}}),
            ):
                async with session.request(method, httpbin.url + "/anything", **kwargs) as resp:
                    await resp.read()
                    reported.append(sorted(seen(resp.request_info.headers).items()))
        return reported

    await same(scenario)


async def test_reading_after_the_session_closed(http_server: HttpServer) -> None:
    """aiohttp raises ``RuntimeError("Connection closed.")`` for a body read after its session
    closed; so does ferrofetch."""

    async def scenario(http: Any) -> Any:
        session = http.ClientSession()
        resp = await session.get(http_server.url + "/drip?n=5&delay=0.05")
        await session.close()
        result = await observe(resp.read())
        resp.release()
        return result

    assert await same(scenario) == ("error", "RuntimeError")


async def test_a_response_is_freed_by_its_reference_count(http_server: HttpServer) -> None:
    """Nothing a response holds (its ``content`` included) refers back to it, so it is freed as
    soon as it is dropped, without the garbage collector (ferrofetch only)."""
    url = http_server.url_for("/bytes/100")
    async with FERROFETCH.ClientSession() as session:
        gc.disable()
        try:
            async with session.get(url) as resp:
                assert len(await resp.read()) == 100
                assert resp.closed
            read_whole = weakref.ref(resp)
            async with session.get(url) as resp:
                assert len(await resp.content.read(10)) == 10
            read_partly = weakref.ref(resp)
            resp = await session.get(url)
            resp.release()
            released = weakref.ref(resp)
            del resp
            assert (read_whole(), read_partly(), released()) == (None, None, None)
        finally:
            gc.enable()
