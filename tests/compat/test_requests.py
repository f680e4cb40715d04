"""What a request sends: methods, query, every kind of body, headers, cookies and credentials.

Each test runs the same scenario through aiohttp and through ferrofetch against the same
server and compares what the server saw.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import pytest
from yarl import URL

from tests.servers import observe

from .conftest import Recorder
from .support import run_both, same, seen


async def _echo(http: Any, method: str, url: str, **kwargs: Any) -> Any:
    async with http.ClientSession() as session:
        async with session.request(method, url, **kwargs) as resp:
            body = await resp.json()
            body["headers"] = seen(body["headers"])
            body.pop("origin", None)
            return resp.status, body


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
async def test_method_helpers(httpbin: Any, method: str) -> None:
    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            async with getattr(session, method)(httpbin.url + "/anything/x?a=1") as resp:
                body = await resp.json()
                return resp.status, resp.method, body["method"], body["url"], seen(body["headers"])

    await same(scenario)


async def test_options_and_head(recorder: Recorder) -> None:
    async def scenario(http: Any) -> Any:
        recorder.requests.clear()
        async with http.ClientSession() as session:
            async with session.options(recorder.url + "/o") as resp:
                options = (resp.status, await resp.read())
            async with session.head(recorder.url + "/h") as resp:
                head = (resp.status, resp.headers["Content-Length"], await resp.read())
        return options, head, [(r.method, r.target, r.body) for r in recorder.requests]

    await same(scenario)


async def test_any_token_method_is_sent_upper_case(recorder: Recorder) -> None:
    async def scenario(http: Any) -> Any:
        recorder.requests.clear()
        async with http.ClientSession() as session:
            async with session.request("propfind", recorder.url + "/dav") as resp:
                return resp.method, resp.request_info.method, recorder.requests[0].method

    await same(scenario)


@pytest.mark.parametrize("method", ["GET X", "GET\r\n", "GÉT"])
async def test_method_that_is_not_a_token_is_a_value_error(httpbin: Any, method: str) -> None:
    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            return await observe(session.request(method, httpbin.url + "/get"))

    assert await same(scenario) == ("error", "ValueError")


@pytest.mark.parametrize(
    "params",
    [
        {"a": "1", "b": "two words"},
        [("a", "1"), ("a", "2"), ("c", "ü&=?")],
        {"n": 5, "f": 1.5},
    ],
)
async def test_params_extend_the_query(httpbin: Any, params: Any) -> None:
    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            async with session.get(httpbin.url + "/get?x=0", params=params) as resp:
                body = await resp.json()
                return str(resp.url), body["args"], body["url"]

    await same(scenario)


@pytest.mark.parametrize(
    "data",
    [
        b"\x00binary\xff",
        bytearray(b"bytearray"),
        "text body, café",
        {"a": "1", "b": "two words"},
        [("k", "v1"), ("k", "v2")],
        {"list": ["x", "y"]},
        b"",
    ],
    ids=["bytes", "bytearray", "str", "dict", "pairs", "dict-of-list", "empty"],
)
async def test_data_kinds(recorder: Recorder, data: Any) -> None:
    async def scenario(http: Any) -> Any:
        recorder.requests.clear()
        async with http.ClientSession() as session:
            async with session.post(recorder.url + "/p", data=data) as resp:
                await resp.read()
        request = recorder.requests[0]
        return request.method, request.body, seen(request.headers)

    await same(scenario)


async def test_post_without_body_sends_content_length_zero(recorder: Recorder) -> None:
    async def scenario(http: Any) -> Any:
        recorder.requests.clear()
        async with http.ClientSession() as session:
            for method in ("POST", "PUT", "PATCH", "DELETE", "GET", "OPTIONS"):
                async with session.request(method, recorder.url + "/p") as resp:
                    await resp.read()
        return [(r.method, r.header("Content-Length")) for r in recorder.requests]

    assert await same(scenario) == [
        ("POST", "0"),
        ("PUT", "0"),
        ("PATCH", "0"),
        ("DELETE", "0"),
        ("GET", None),
        ("OPTIONS", None),
    ]


async def test_form_through_httpbin(httpbin: Any) -> None:
    async def scenario(http: Any) -> Any:
        return await _echo(http, "POST", httpbin.url + "/post", data={"name": "ferro", "v": "ü"})

    _, body = await same(scenario)
    assert body["form"] == {"name": "ferro", "v": "ü"}


async def test_json_body(httpbin: Any) -> None:
    async def scenario(http: Any) -> Any:
        return await _echo(http, "PUT", httpbin.url + "/put", json={"a": [1, 2, {"b": None}]})

    _, body = await same(scenario)
    assert body["json"] == {"a": [1, 2, {"b": None}]}


async def test_session_json_serialize(recorder: Recorder) -> None:
    def compact(value: Any) -> str:
        import json

        return json.dumps(value, separators=(",", ":"), sort_keys=True)

    async def scenario(http: Any) -> Any:
        recorder.requests.clear()
        async with http.ClientSession(json_serialize=compact) as session:
            async with session.post(recorder.url + "/j", json={"b": 1, "a": [1, 2]}) as resp:
                await resp.read()
        return recorder.requests[0].body, seen(recorder.requests[0].headers)

    body, _ = await same(scenario)
    assert body == b'{"a":[1,2],"b":1}'


async def test_data_and_json_together_is_a_value_error(httpbin: Any) -> None:
    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            return await observe(session.post(httpbin.url + "/post", data=b"x", json={"a": 1}))

    assert await same(scenario) == ("error", "ValueError")


async def test_formdata_urlencoded(httpbin: Any) -> None:
    async def scenario(http: Any) -> Any:
        form = http.FormData()
        form.add_field("a", "1")
        form.add_field("a", "2")
        form.add_field("b", "spaced value")
        return await _echo(http, "POST", httpbin.url + "/post", data=form)

    _, body = await same(scenario)
    assert body["form"] == {"a": ["1", "2"], "b": "spaced value"}


async def test_formdata_multipart_with_files(httpbin: Any) -> None:
    async def scenario(http: Any) -> Any:
        form = http.FormData()
        form.add_field("field", "välue")
        form.add_field("upload", io.BytesIO(b"file contents\x00\x01"), filename="report.bin")
        form.add_field("doc", b"<p>hi</p>", filename="page.html", content_type="text/html; charset=utf-8")
        status, body = await _echo(http, "POST", httpbin.url + "/post", data=form)
        body["headers"].pop("content-type")  # carries the random boundary
        body["headers"].pop("content-length")
        return status, body

    _, body = await same(scenario)
    assert body["form"] == {"field": "välue"}
    assert set(body["files"]) == {"upload", "doc"}


async def test_multipart_body_bytes_match(recorder: Recorder) -> None:
    """Byte for byte, once the random boundary is replaced."""

    async def scenario(http: Any) -> Any:
        recorder.requests.clear()
        form = http.FormData()
        form.add_field("plain", 'a b "quoted"')
        form.add_field('name "with" spaces', "x")
        form.add_field("f", io.BytesIO(b"data"), filename="name with spaces.txt")
        form.add_field("g", b"raw", filename="g.png", content_type="image/png")
        async with http.ClientSession() as session:
            async with session.post(recorder.url + "/m", data=form) as resp:
                await resp.read()
        request = recorder.requests[0]
        content_type = request.header("Content-Type") or ""
        boundary = content_type.partition("boundary=")[2].encode()
        return content_type.partition(";")[0], request.body.replace(boundary, b"BOUNDARY")

    await same(scenario)


async def test_streaming_upload_from_async_iterator(recorder: Recorder) -> None:
    """The server receives the same body, streamed with chunked encoding by both."""

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(5):
            yield f"part {i};".encode()

    async def scenario(http: Any) -> Any:
        recorder.requests.clear()
        async with http.ClientSession() as session:
            async with session.post(recorder.url + "/upload", data=chunks()) as resp:
                await resp.read()
        request = recorder.requests[0]
        framing = "chunked" if request.header("Transfer-Encoding") else "length"
        return request.body, request.header("Content-Type"), framing

    results = await run_both(scenario)
    assert (
        results["aiohttp"][:2]
        == results["ferrofetch"][:2]
        == (
            b"part 0;part 1;part 2;part 3;part 4;",
            "application/octet-stream",
        )
    )
    assert (results["aiohttp"][2], results["ferrofetch"][2]) == ("chunked", "chunked")


async def test_file_object_as_body(recorder: Recorder, tmp_path: Any) -> None:
    path = tmp_path / "upload.json"
    path.write_bytes(b'{"from": "file"}')

    async def scenario(http: Any) -> Any:
        recorder.requests.clear()
        async with http.ClientSession() as session:
            with open(path, "rb") as f:
                async with session.post(recorder.url + "/f", data=f) as resp:
                    await resp.read()
            async with session.post(recorder.url + "/f", data=io.BytesIO(b"in memory")) as resp:
                await resp.read()
        return [(r.body, seen(r.headers)) for r in recorder.requests]

    await same(scenario)


async def test_session_and_request_headers_merge(httpbin: Any) -> None:
    async def scenario(http: Any) -> Any:
        async with http.ClientSession(headers={"X-Session": "s", "X-Both": "session"}) as session:
            session.headers["X-Added-Later"] = "later"
            async with session.get(
                httpbin.url + "/headers", headers={"X-Both": "request", "X-Request": "r"}
            ) as resp:
                return seen((await resp.json())["headers"])

    headers = await same(scenario)
    assert headers["x-both"] == "request"
    assert headers["x-added-later"] == "later"


async def test_repeated_request_headers_reach_the_server(recorder: Recorder) -> None:
    async def scenario(http: Any) -> Any:
        recorder.requests.clear()
        async with http.ClientSession() as session:
            headers = [("X-Multi", "one"), ("X-Multi", "two"), ("Accept", "text/html")]
            async with session.get(recorder.url + "/h", headers=headers) as resp:
                await resp.read()
        return sorted((k.lower(), v) for k, v in seen(recorder.requests[0].headers).items()), [
            v for k, v in recorder.requests[0].headers if k.lower() == "x-multi"
        ]

    await same(scenario)


@pytest.mark.parametrize("header", [("X-Bad", "a\r\nInjected: 1"), ("X-Bad", "a\nb"), ("X-Bad", "a\rb")])
async def test_header_injection_is_a_value_error(recorder: Recorder, header: tuple[str, str]) -> None:
    async def scenario(http: Any) -> Any:
        recorder.requests.clear()
        async with http.ClientSession() as session:
            result = await observe(session.get(recorder.url + "/h", headers=[header]))
        return result, len(recorder.requests)

    assert await same(scenario) == (("error", "ValueError"), 0)


async def test_header_name_that_is_not_a_token(recorder: Recorder) -> None:
    """A known difference: aiohttp sends a header name with a space as is; ferrofetch refuses it
    with ``ValueError`` before anything is sent."""

    async def scenario(http: Any) -> Any:
        recorder.requests.clear()
        async with http.ClientSession() as session:
            result = await observe(session.get(recorder.url + "/h", headers={"Bad Name": "v"}))
        return result[0] if result[0] == "ok" else result, len(recorder.requests)

    results = await run_both(scenario)
    assert results["aiohttp"] == ("ok", 1)
    assert results["ferrofetch"] == (("error", "ValueError"), 0)


async def test_user_agent_names_the_client(recorder: Recorder) -> None:
    """A known difference: each client names itself. A User-Agent given by the caller wins."""

    async def scenario(http: Any) -> Any:
        recorder.requests.clear()
        async with http.ClientSession() as session:
            async with session.get(recorder.url + "/ua") as resp:
                await resp.read()
            async with session.get(recorder.url + "/ua", headers={"User-Agent": "mine/1.0"}) as resp:
                await resp.read()
        return [r.header("User-Agent") for r in recorder.requests]

    import aiohttp
    import ferrofetch

    results = await run_both(scenario)
    assert results["aiohttp"][0].endswith(f"aiohttp/{aiohttp.__version__}")
    assert results["ferrofetch"][0] == f"ferrofetch/{ferrofetch.__version__}"
    assert results["aiohttp"][1] == results["ferrofetch"][1] == "mine/1.0"


async def test_request_cookies(httpbin: Any) -> None:
    async def scenario(http: Any) -> Any:
        async with http.ClientSession(cookies={"session_cookie": "s"}) as session:
            async with session.get(httpbin.url + "/cookies", cookies={"request_cookie": "r"}) as resp:
                return await resp.json()

    assert await same(scenario) == {"cookies": {"session_cookie": "s", "request_cookie": "r"}}


async def test_cookie_header_given_by_caller_is_merged(recorder: Recorder) -> None:
    async def scenario(http: Any) -> Any:
        recorder.requests.clear()
        async with http.ClientSession(cookies={"jar": "1"}) as session:
            async with session.get(recorder.url + "/c", headers={"Cookie": "own=2"}) as resp:
                await resp.read()
        return sorted(part.strip() for part in (recorder.requests[0].header("Cookie") or "").split(";"))

    assert await same(scenario) == ["jar=1", "own=2"]


async def test_basic_auth(httpbin: Any) -> None:
    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            good = session.get(httpbin.url + "/basic-auth/user/pa55", auth=http.BasicAuth("user", "pa55"))
            async with good as resp:
                first = resp.status, await resp.json()
            async with session.get(
                httpbin.url + "/basic-auth/user/pa55", auth=http.BasicAuth("user", "wrong")
            ) as resp:
                second = resp.status
        async with http.ClientSession(auth=http.BasicAuth("user", "pa55")) as session:
            async with session.get(httpbin.url + "/basic-auth/user/pa55") as resp:
                third = resp.status
        return first, second, third

    assert await same(scenario) == ((200, {"authenticated": True, "user": "user"}), 401, 200)


async def test_credentials_in_the_url(httpbin: Any) -> None:
    async def scenario(http: Any) -> Any:
        url = httpbin.url.replace("http://", "http://user:pa55@") + "/basic-auth/user/pa55"
        async with http.ClientSession() as session:
            async with session.get(url) as resp:
                return resp.status, str(resp.url), resp.request_info.headers.get("Authorization")

    status, url, authorization = await same(scenario)
    assert status == 200 and "user:" not in url and authorization.startswith("Basic ")


async def test_auth_and_authorization_header_together_is_a_value_error(httpbin: Any) -> None:
    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            return await observe(
                session.get(
                    httpbin.url + "/get", auth=http.BasicAuth("u", "p"), headers={"Authorization": "x"}
                )
            )

    assert await same(scenario) == ("error", "ValueError")


async def test_proxy_and_proxy_auth(recorder: Recorder) -> None:
    """The recorder stands in for an HTTP proxy: what it sees is the absolute-form request."""

    async def scenario(http: Any) -> Any:
        recorder.requests.clear()
        async with http.ClientSession() as session:
            async with session.get(
                "http://proxied.test/path?q=1", proxy=recorder.url, proxy_auth=http.BasicAuth("pu", "pp")
            ) as resp:
                body = await resp.read()
        request = recorder.requests[0]
        return body, request.method, request.target, request.header("Proxy-Authorization")

    assert await same(scenario) == (
        b"ok",
        "GET",
        "http://proxied.test/path?q=1",
        "Basic cHU6cHA=",
    )


async def test_compress_request_body(recorder: Recorder) -> None:
    """Same compressed body and Content-Encoding; aiohttp sends it chunked, ferrofetch with a
    Content-Length (a documented difference)."""

    async def scenario(http: Any) -> Any:
        import zlib

        recorder.requests.clear()
        async with http.ClientSession() as session:
            async with session.post(recorder.url + "/z", data=b"x" * 1000, compress="deflate") as resp:
                await resp.read()
        request = recorder.requests[0]
        framing = "chunked" if request.header("Transfer-Encoding") else "length"
        return zlib.decompress(request.body), request.header("Content-Encoding"), framing

    results = await run_both(scenario)
    assert results["aiohttp"] == (b"x" * 1000, "deflate", "chunked")
    assert results["ferrofetch"] == (b"x" * 1000, "deflate", "length")


async def test_trust_env_takes_the_proxy_from_the_environment(
    recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", recorder.url)
    monkeypatch.setenv("http_proxy", recorder.url)

    async def scenario(http: Any) -> Any:
        recorder.requests.clear()
        async with http.ClientSession(trust_env=True) as session:
            async with session.get("http://via-env.test/x") as resp:
                body = await resp.read()
        return body, [r.target for r in recorder.requests]

    assert await same(scenario) == (b"ok", ["http://via-env.test/x"])


async def test_basic_auth_helper() -> None:
    async def scenario(http: Any) -> Any:
        auth = http.BasicAuth("üser", "pä:ss", "utf-8")
        decoded = http.BasicAuth.decode(auth.encode(), encoding="utf-8")
        from_url = http.BasicAuth.from_url(URL("http://u%20x:p@host/"))
        checks = [
            auth.encode(),
            tuple(decoded),
            tuple(from_url) if from_url else None,
            http.BasicAuth.from_url(URL("http://host/")),
            http.BasicAuth("user").encode(),
            await observe(_make(lambda: http.BasicAuth("us:er", "x"))),
            await observe(_make(lambda: http.BasicAuth.decode("Bearer abc"))),
            await observe(_make(lambda: http.BasicAuth.decode("Basic !!!"))),
        ]
        return checks

    await same(scenario)


async def _make(factory: Any) -> Any:
    return factory()


async def test_empty_method(recorder: Recorder) -> None:
    """A known difference: aiohttp sends an empty method as is; ferrofetch raises ``ValueError``."""

    async def scenario(http: Any) -> Any:
        recorder.requests.clear()
        async with http.ClientSession() as session:
            result = await observe(_read(session.request("", recorder.url + "/e")))
        return result[0], len(recorder.requests)

    results = await run_both(scenario)
    assert results == {"aiohttp": ("ok", 1), "ferrofetch": ("error", 0)}


async def _read(request: Any) -> bytes:
    async with request as resp:
        return bytes(await resp.read())


async def test_skip_auto_headers(recorder: Recorder) -> None:
    """Skipping Content-Type works alike. A known difference: User-Agent, Accept and
    Accept-Encoding cannot be skipped; when skipped, the native client sends its own."""

    async def scenario(http: Any) -> Any:
        recorder.requests.clear()
        skipped = ("User-Agent", "Accept", "Accept-Encoding", "Content-Type")
        async with http.ClientSession(skip_auto_headers=skipped) as session:
            async with session.post(recorder.url + "/s", data=b"raw") as resp:
                await resp.read()
        return {k.lower() for k, _ in recorder.requests[0].headers}

    results = await run_both(scenario)
    assert results["aiohttp"] == {"host", "content-length"}
    assert results["ferrofetch"] == {"host", "content-length", "user-agent", "accept", "accept-encoding"}


async def test_skip_auto_headers_ignores_the_case_of_the_names(recorder: Recorder) -> None:
    """``skip_auto_headers=["content-type"]`` skips ``Content-Type``, on the session and per request."""

    async def scenario(http: Any) -> Any:
        recorder.requests.clear()
        async with http.ClientSession(skip_auto_headers=["content-TYPE"]) as session:
            async with session.post(recorder.url + "/s", data=b"raw") as resp:
                await resp.read()
        async with http.ClientSession() as session:
            skip = ["content-type"]
            async with session.post(recorder.url + "/s", data=b"raw", skip_auto_headers=skip) as resp:
                await resp.read()
            async with session.post(recorder.url + "/s", data=b"raw") as resp:
                await resp.read()
        return [request.header("Content-Type") for request in recorder.requests]

    results = await run_both(scenario)
    assert results["aiohttp"] == [None, None, "application/octet-stream"]
    assert results["ferrofetch"] == results["aiohttp"]
