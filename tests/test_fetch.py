"""``fetch``: request options, redirects, content decoding and the body-size limit."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import ferrofetch
import pytest

from tests.servers import COMPRESSED_PAYLOAD, HttpServer, pattern_bytes, run_python


async def fetch(url: str, *, limit: float = 15.0, **options: Any) -> ferrofetch.Response:
    """``ferrofetch.fetch`` with a bound on the wait."""
    return await asyncio.wait_for(ferrofetch.fetch(url, **options), limit)


def echoed(response: ferrofetch.Response) -> dict[str, Any]:
    data: dict[str, Any] = response.json()
    return data


def header(data: dict[str, Any], name: str) -> list[str]:
    """Every value the server saw for header ``name`` (case-insensitive)."""
    return [value for key, value in data["headers"] if key.lower() == name.lower()]


# --------------------------------------------------------------------------------------------
# the call itself


def test_asyncio_run_takes_fetch_directly(http_server: HttpServer) -> None:
    # The everyday form: no wrapper coroutine, no running loop when fetch() is called.
    response = asyncio.run(ferrofetch.fetch(http_server.url_for("/bytes/3")))
    assert response.content == pattern_bytes(3)
    responses = asyncio.run(ferrofetch.fetch_all([http_server.url_for("/bytes/1")]))
    assert [r.content for r in responses] == [pattern_bytes(1)]


def test_run_until_complete_takes_fetch_directly(http_server: HttpServer) -> None:
    loop = asyncio.new_event_loop()
    try:
        response = loop.run_until_complete(ferrofetch.fetch(http_server.url_for("/bytes/2")))
        assert response.content == pattern_bytes(2)
        responses = loop.run_until_complete(ferrofetch.fetch_all([http_server.url_for("/bytes/4")]))
        assert responses[0].content == pattern_bytes(4)
    finally:
        loop.close()


async def test_fetch_works_as_a_task(http_server: HttpServer) -> None:
    task = asyncio.create_task(ferrofetch.fetch(http_server.url_for("/bytes/7")))
    response = await asyncio.wait_for(task, 10)
    assert response.content == pattern_bytes(7)
    batch = asyncio.ensure_future(ferrofetch.fetch_all([http_server.url_for("/bytes/1")]))
    assert [r.status for r in await asyncio.wait_for(batch, 10)] == [200]


@pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.TaskGroup is new in 3.11")
async def test_fetch_works_in_a_task_group(http_server: HttpServer) -> None:
    async with asyncio.TaskGroup() as group:
        one = group.create_task(ferrofetch.fetch(http_server.url_for("/bytes/5")))
        many = group.create_task(ferrofetch.fetch_all([http_server.url_for("/bytes/6")]))
    assert one.result().content == pattern_bytes(5)
    assert many.result()[0].content == pattern_bytes(6)


async def test_fetch_works_under_shield_and_as_completed(http_server: HttpServer) -> None:
    shielded = await asyncio.wait_for(asyncio.shield(ferrofetch.fetch(http_server.url_for("/bytes/8"))), 10)
    assert shielded.content == pattern_bytes(8)
    sizes: list[Any] = []
    for next_done in asyncio.as_completed(
        [ferrofetch.fetch(http_server.url_for(f"/bytes/{n}")) for n in range(3)]
    ):
        sizes.append(len((await asyncio.wait_for(next_done, 10)).content))
    assert sorted(sizes) == [0, 1, 2]


async def test_ensure_future_result_goes_to_asyncio_wait(http_server: HttpServer) -> None:
    # The aiohttp-era idiom: ensure_future() what a call returns, then asyncio.wait() the lot.
    # asyncio.wait refuses coroutines, so ensure_future must hand back something it accepts.
    futures = [asyncio.ensure_future(ferrofetch.fetch(http_server.url_for(f"/bytes/{n}"))) for n in range(3)]
    done, pending = await asyncio.wait(futures, timeout=10)
    assert not pending
    assert sorted(len(f.result().content) for f in done) == [0, 1, 2]


async def test_many_concurrent_fetches_under_gather(http_server: HttpServer) -> None:
    responses = await asyncio.wait_for(
        asyncio.gather(*(ferrofetch.fetch(http_server.url_for(f"/bytes/{n}")) for n in range(30))), 15
    )
    assert [r.content for r in responses] == [pattern_bytes(n) for n in range(30)]


# --------------------------------------------------------------------------------------------
# request options


async def test_default_request_headers(http_server: HttpServer) -> None:
    data = echoed(await fetch(http_server.url_for("/echo")))
    assert data["method"] == "GET"
    assert header(data, "User-Agent") == [f"ferrofetch/{ferrofetch.__version__}"]
    accepted = {part.strip() for part in header(data, "Accept-Encoding")[0].split(",")}
    assert {"gzip", "br", "zstd", "deflate"} <= accepted
    assert header(data, "Host") == [f"127.0.0.1:{http_server.port}"]


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
async def test_method(http_server: HttpServer, method: str) -> None:
    response = await fetch(http_server.url_for("/echo"), method=method)
    assert response.method == method
    assert echoed(response)["method"] == method


async def test_head_has_no_body(http_server: HttpServer) -> None:
    response = await fetch(http_server.url_for("/bytes/100"), method="HEAD")
    assert response.status == 200
    assert response.content == b""
    assert response.headers["Content-Length"] == "100"


async def test_headers_as_mapping_and_as_pairs(http_server: HttpServer) -> None:
    data = echoed(await fetch(http_server.url_for("/echo"), headers={"X-One": "1", "User-Agent": "mine/1.0"}))
    assert header(data, "X-One") == ["1"]
    assert header(data, "User-Agent") == ["mine/1.0"]
    data = echoed(await fetch(http_server.url_for("/echo"), headers=[("X-Two", "a"), ("X-Two", "b")]))
    assert header(data, "X-Two") in (["a", "b"], ["a, b"])


async def test_params_are_appended_to_the_query(http_server: HttpServer) -> None:
    data = echoed(await fetch(http_server.url_for("/echo?a=1"), params={"b": "two words", "c": 3}))
    assert data["query"] == [["a", "1"], ["b", "two words"], ["c", "3"]]
    data = echoed(await fetch(http_server.url_for("/echo"), params=[("k", "1"), ("k", "2")]))
    assert data["query"] == [["k", "1"], ["k", "2"]]


@pytest.mark.parametrize(
    ("data", "body"),
    [
        (b"raw \x00 bytes", "raw \x00 bytes"),
        (bytearray(b"a bytearray"), "a bytearray"),
        (memoryview(b"a memoryview"), "a memoryview"),
        ("text é", "text é"),
    ],
)
async def test_data_raw_body(http_server: HttpServer, data: Any, body: str) -> None:
    echo = echoed(await fetch(http_server.url_for("/echo"), method="POST", data=data))
    assert echo["body"] == body
    assert header(echo, "Content-Length") == [str(len(body.encode()))]


@pytest.mark.parametrize("data", [{"a": "1", "b": "x y&z"}, [("a", "1"), ("b", "x y&z")]])
async def test_data_form_encoded(http_server: HttpServer, data: Any) -> None:
    echo = echoed(await fetch(http_server.url_for("/echo"), method="POST", data=data))
    assert echo["body"] == "a=1&b=x+y%26z"
    assert header(echo, "Content-Type")[0].startswith("application/x-www-form-urlencoded")


async def test_json_body(http_server: HttpServer) -> None:
    payload = {"n": 1, "list": [1, 2], "text": "é", "none": None}
    echo = echoed(await fetch(http_server.url_for("/echo"), method="POST", json=payload))
    assert json.loads(echo["body"]) == payload
    assert header(echo, "Content-Type")[0].startswith("application/json")


async def test_json_that_cannot_be_encoded_is_a_type_error(http_server: HttpServer) -> None:
    with pytest.raises(TypeError):
        await fetch(http_server.url_for("/echo"), method="POST", json={"x": object()})
    assert http_server.stats.requests == 0


@pytest.mark.parametrize(
    "headers",
    [{"X-Bad": "a\r\nInjected: yes"}, {"X-Bad": "nul\x00"}, {"Bad\nName": "v"}, {"": "v"}],
)
async def test_bad_header_is_a_value_error_before_sending(
    http_server: HttpServer, headers: dict[str, str]
) -> None:
    with pytest.raises(ValueError):
        await fetch(http_server.url_for("/echo"), headers=headers)
    await asyncio.sleep(0.1)
    assert http_server.stats.connections_accepted == 0


async def test_unknown_option_is_a_type_error(http_server: HttpServer) -> None:
    with pytest.raises(TypeError):
        await fetch(http_server.url_for("/echo"), no_such_option=True)


# --------------------------------------------------------------------------------------------
# redirects


async def test_redirects_are_followed_with_history(http_server: HttpServer) -> None:
    response = await fetch(http_server.url_for("/redirect/3"))
    assert response.status == 200
    assert response.text == "redirects done"
    assert response.url == http_server.url_for("/redirect/0")
    assert response.history == [http_server.url_for(f"/redirect/{n}") for n in (3, 2, 1)]


async def test_redirects_not_followed_when_disabled(http_server: HttpServer) -> None:
    response = await fetch(http_server.url_for("/redirect/3"), follow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == "/redirect/2"
    assert response.url == http_server.url_for("/redirect/3")
    assert response.history == []
    assert http_server.stats.requests == 1


async def test_redirect_limit(http_server: HttpServer) -> None:
    response = await fetch(http_server.url_for("/redirect/2"), max_redirects=2)
    assert response.status == 200
    with pytest.raises(ferrofetch.TooManyRedirects) as info:
        await fetch(http_server.url_for("/redirect/3"), max_redirects=2)
    assert isinstance(info.value, ferrofetch.ClientResponseError)
    assert info.value.url is not None and info.value.url.startswith(http_server.url)
    assert http_server.stats.requests <= 3 + 3


async def test_default_redirect_limit_is_ten(http_server: HttpServer) -> None:
    assert (await fetch(http_server.url_for("/redirect/10"))).status == 200
    with pytest.raises(ferrofetch.TooManyRedirects):
        await fetch(http_server.url_for("/redirect/11"))


async def test_redirect_loop(http_server: HttpServer) -> None:
    with pytest.raises(ferrofetch.TooManyRedirects) as info:
        await fetch(http_server.url_for("/redirect-loop"))
    assert info.value.url == http_server.url_for("/redirect-loop")
    assert http_server.stats.requests <= 11


@pytest.mark.parametrize(
    ("status", "method", "final_method", "body_kept"),
    [
        (301, "POST", "GET", False),
        (302, "POST", "GET", False),
        (303, "POST", "GET", False),
        (303, "PUT", "GET", False),
        (307, "POST", "POST", True),
        (308, "PUT", "PUT", True),
        (302, "PUT", "PUT", True),
    ],
)
async def test_redirect_method_and_body(
    http_server: HttpServer, status: int, method: str, final_method: str, body_kept: bool
) -> None:
    url = http_server.url_for(f"/redirect-to?url=/echo&status={status}")
    response = await fetch(url, method=method, data=b"payload")
    echo = echoed(response)
    assert echo["method"] == final_method
    assert response.history == [url]
    if body_kept:
        assert echo["body"] == "payload"
        assert header(echo, "Content-Length") == ["7"]
    else:
        assert echo["body"] == ""
        assert header(echo, "Content-Length") in ([], ["0"])
        assert header(echo, "Content-Type") == []


async def test_redirect_to_another_port_drops_credentials(http_server: HttpServer) -> None:
    with HttpServer() as other:
        target = other.url_for("/echo")
        response = await fetch(
            http_server.url_for(f"/redirect-to?url={target}"),
            headers={"Authorization": "Bearer secret", "Cookie": "a=1", "X-Kept": "yes"},
        )
        echo = echoed(response)
        assert response.url == target
        assert header(echo, "Authorization") == []
        assert header(echo, "Cookie") == []
        assert header(echo, "X-Kept") == ["yes"]


async def test_redirect_on_same_origin_keeps_credentials(http_server: HttpServer) -> None:
    response = await fetch(
        http_server.url_for("/redirect-to?url=/echo"), headers={"Authorization": "Bearer secret"}
    )
    assert header(echoed(response), "Authorization") == ["Bearer secret"]


async def test_redirect_to_non_http_scheme(http_server: HttpServer) -> None:
    with pytest.raises(ferrofetch.NonHttpUrlRedirectClientError) as info:
        await fetch(http_server.url_for("/redirect-to?url=ftp://127.0.0.1/file"))
    assert isinstance(info.value, ferrofetch.RedirectClientError)
    assert info.value.url is not None


# --------------------------------------------------------------------------------------------
# decoding and body size


@pytest.mark.parametrize("path", ["/gzip", "/deflate", "/brotli", "/zstd"])
async def test_compressed_bodies_are_decoded(http_server: HttpServer, path: str) -> None:
    response = await fetch(http_server.url_for(path))
    assert response.status == 200
    assert response.content == COMPRESSED_PAYLOAD
    assert response.text.startswith("line 0: ferrofetch decodes this body\n")


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "zstd"])
async def test_undecodable_body_is_a_payload_error(http_server: HttpServer, coding: str) -> None:
    url = http_server.url_for(f"/broken-encoding?coding={coding}")
    with pytest.raises(ferrofetch.ClientPayloadError) as info:
        await fetch(url)
    assert info.value.url == url


async def test_max_body_size(http_server: HttpServer) -> None:
    url = http_server.url_for("/bytes/5000")
    assert len((await fetch(url, max_body_size=5000)).content) == 5000
    assert len((await fetch(url, max_body_size=None)).content) == 5000
    with pytest.raises(ferrofetch.BodyTooLargeError) as info:
        await fetch(url, max_body_size=4999)
    assert isinstance(info.value, ferrofetch.ClientPayloadError)
    assert info.value.url == url


async def test_max_body_size_counts_decoded_bytes(http_server: HttpServer) -> None:
    # The gzip body on the wire is ~1 KiB, the decoded one is larger than the limit.
    with pytest.raises(ferrofetch.BodyTooLargeError):
        await fetch(http_server.url_for("/gzip"), max_body_size=len(COMPRESSED_PAYLOAD) - 1)
    assert (await fetch(http_server.url_for("/gzip"), max_body_size=len(COMPRESSED_PAYLOAD))).ok


def test_default_max_body_size_is_128_mib() -> None:
    assert ferrofetch.DEFAULT_MAX_BODY_SIZE == 128 * 1024 * 1024


_BOMB_CLIENT = """
import asyncio, resource, sys, time
import ferrofetch

url, limit = sys.argv[1], sys.argv[2]
limit = None if limit == "default" else int(limit)

async def main():
    # Start the runtime and warm the pool before measuring.
    await ferrofetch.fetch(url.replace("/gzip-bomb", "/bytes/10").split("?")[0])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    options = {} if limit is None else {"max_body_size": limit}
    try:
        await asyncio.wait_for(ferrofetch.fetch(url, **options), 60)
    except ferrofetch.BodyTooLargeError as error:
        assert error.url == url, error.url
        kind = "too-large"
    else:
        kind = "read-whole"
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(kind, grown // 1024, round(time.monotonic() - started, 2))

asyncio.run(main())
"""


@pytest.mark.parametrize(("limit", "max_growth_mib"), [("8388608", 64), ("default", 400)])
def test_gzip_bomb_is_stopped_without_reading_it_whole(
    http_server: HttpServer, limit: str, max_growth_mib: int
) -> None:
    """1 GiB of zeros, gzip-compressed (~1 MiB on the wire), generated while it is sent."""
    url = http_server.url_for(f"/gzip-bomb?size={1 << 30}")
    process = run_python(_BOMB_CLIENT, args=(url, limit), timeout=45)
    assert process.returncode == 0, process.stderr
    kind, grown_mib, _seconds = process.stdout.split()
    assert kind == "too-large", process.stdout
    # Peak memory grew by about the limit, nowhere near the 1 GiB of the whole body.
    assert int(grown_mib) < max_growth_mib, process.stdout


# --------------------------------------------------------------------------------------------
# streamed request bodies


async def _chunks(count: int, size: int) -> Any:
    for _ in range(count):
        await asyncio.sleep(0)
        yield b"z" * size


async def test_async_iterator_body_is_streamed_chunked(http_server: HttpServer) -> None:
    data = echoed(await fetch(http_server.url_for("/echo"), method="POST", data=_chunks(40, 20_000)))
    headers = {k.lower(): v for k, v in data["headers"]}
    assert headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in headers
    assert data["body"] == "z" * 800_000


async def test_failing_body_stream_raises_payload_error(http_server: HttpServer) -> None:
    async def broken() -> Any:
        yield b"start"
        raise ValueError("the source went away")

    with pytest.raises(ferrofetch.ClientPayloadError, match="the source went away"):
        await fetch(http_server.url_for("/echo"), method="POST", data=broken())


async def test_streamed_body_is_not_replayed_by_a_307(http_server: HttpServer) -> None:
    target = http_server.url_for("/echo")
    url = http_server.url_for("/redirect-to")
    params = {"url": target, "status": "307"}
    with pytest.raises(ferrofetch.ClientPayloadError, match="cannot be sent again"):
        await fetch(url, method="POST", params=params, data=_chunks(2, 10))


async def test_fetch_all_refuses_a_streamed_body(http_server: HttpServer) -> None:
    with pytest.raises(ValueError, match="same body to every URL"):
        await ferrofetch.fetch_all([http_server.url_for("/echo")], method="POST", data=_chunks(1, 1))  # pyright: ignore[reportArgumentType]  # the refused type is the point
