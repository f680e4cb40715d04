"""Options that change where a request goes or what it sends are honoured or refused, never
silently ignored: ``chunked``, ``expect100``, ``json_serialize_bytes``, a resolver of one's own,
an address family. Options that change neither are accepted (README, "Not supported")."""

from __future__ import annotations

import socket
import warnings
from typing import Any

import aiohttp
import ferrofetch
import pytest
from aiohttp.abc import AbstractResolver

from tests.servers import HttpServer, observe

from .conftest import Recorder
from .support import FERROFETCH, run_both, same


async def test_chunked_sends_transfer_encoding_chunked(recorder: Recorder) -> None:
    async def scenario(http: Any) -> Any:
        recorder.requests.clear()
        async with http.ClientSession() as session:
            async with session.post(recorder.url + "/c", data=b"0123456789", chunked=True) as resp:
                await resp.read()
            refused = [
                await observe(session.post(recorder.url + "/c", data=b"x", chunked=True, headers=headers))
                for headers in ({"Content-Length": "1"}, {"Transfer-Encoding": "chunked"})
            ]
        request = recorder.requests[0]
        return request.body, request.header("Transfer-Encoding"), request.header("Content-Length"), refused

    assert await same(scenario) == (
        b"0123456789",
        "chunked",
        None,
        [("error", "ValueError"), ("error", "ValueError")],
    )


async def test_expect100_sends_expect_and_the_body(http_server: HttpServer) -> None:
    """aiohttp.web answers ``100 Continue``; aiohttp waits for it, ferrofetch sends the body at
    once (RFC 9110 10.1.1 allows both); the server sees the same request."""

    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            async with session.post(http_server.url + "/echo", data=b"payload", expect100=True) as resp:
                echoed = await resp.json()
        return resp.status, dict(echoed["headers"]).get("Expect"), echoed["body"]

    assert await same(scenario) == (200, "100-continue", "payload")


async def test_json_serialize_bytes(recorder: Recorder) -> None:
    async def scenario(http: Any) -> Any:
        recorder.requests.clear()

        def dumps(value: Any) -> bytes:
            return b'{"custom": true}'

        async with http.ClientSession(json_serialize_bytes=dumps) as session:
            async with session.post(recorder.url + "/j", json={"ignored": 1}) as resp:
                await resp.read()
        request = recorder.requests[0]
        return request.body, request.header("Content-Type")

    assert await same(scenario) == (b'{"custom": true}', "application/json")


class _ToLoopback(AbstractResolver):
    """An aiohttp ``AbstractResolver`` that maps every name to 127.0.0.1."""

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> Any:
        return [
            {
                "hostname": host,
                "host": "127.0.0.1",
                "port": port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": 0,
            }
        ]

    async def close(self) -> None:
        pass


async def test_a_resolver_of_ones_own_is_refused_not_ignored(recorder: Recorder) -> None:
    """aiohttp asks the resolver; ferrofetch refuses it (its names are resolved in Rust threads),
    rather than sending the request to whatever the system resolver says (README)."""
    url = recorder.url.replace("127.0.0.1", "host1.example")
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=_ToLoopback())) as session:
        async with session.get(url + "/r") as resp:
            assert resp.status == 200
    assert recorder.requests[-1].header("Host") == url.split("//")[1]
    with pytest.raises(NotImplementedError, match="resolver"):
        ferrofetch.TCPConnector(resolver=_ToLoopback())


def test_an_address_family_is_refused_not_ignored() -> None:
    with pytest.raises(NotImplementedError, match="family"):
        ferrofetch.TCPConnector(family=socket.AF_INET)
    assert ferrofetch.TCPConnector(family=0).family == 0


async def test_read_until_eof_false_is_refused(recorder: Recorder) -> None:
    async with ferrofetch.ClientSession() as session:
        with pytest.raises(NotImplementedError, match="read_until_eof"):
            await session.get(recorder.url, read_until_eof=False)


async def test_connector_as_async_context_manager_and_dns_cache() -> None:
    async def scenario(http: Any) -> Any:
        async with http.TCPConnector() as connector:
            connector.clear_dns_cache()
            half = await observe(_clear(connector, host="localhost"))
            inside = connector.closed
        return inside, connector.closed, half

    assert await same(scenario) == (False, True, ("error", "ValueError"))


async def _clear(connector: Any, **kwargs: Any) -> None:
    connector.clear_dns_cache(**kwargs)


@pytest.mark.parametrize("where", ["session", "connector"])
async def test_ssl_shutdown_timeout_is_deprecated_and_accepted(where: str) -> None:
    async def scenario(http: Any) -> Any:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if where == "session":
                async with http.ClientSession(ssl_shutdown_timeout=0.1):
                    pass
            else:
                await http.TCPConnector(ssl_shutdown_timeout=0.1).close()
        return {w.category.__name__ for w in caught if "ssl_shutdown_timeout" in str(w.message)}

    assert await same(scenario) == {"DeprecationWarning"}


async def test_harmless_options_are_accepted(recorder: Recorder) -> None:
    """Tuning of aiohttp's own parser, DNS cache and connection racing: the request is the same."""

    async def scenario(http: Any) -> Any:
        recorder.requests.clear()
        connector = http.TCPConnector(
            use_dns_cache=False,
            ttl_dns_cache=1,
            happy_eyeballs_delay=0.1,
            interleave=1,
            enable_cleanup_closed=True,
            timeout_ceil_threshold=1,
        )
        async with http.ClientSession(
            connector=connector, read_bufsize=1024, max_line_size=9000, max_field_size=9000, max_headers=50
        ) as session:
            async with session.get(
                recorder.url + "/h",
                read_bufsize=512,
                max_line_size=9000,
                max_field_size=9000,
                trace_request_ctx={},
            ) as resp:
                body = await resp.read()
        return resp.status, body, recorder.requests[0].target

    assert await same(scenario) == (200, b"ok", "/h")


def test_harness_sees_the_same_connector_class() -> None:
    assert FERROFETCH.TCPConnector is ferrofetch.TCPConnector


async def test_total_raw_bytes(http_server: HttpServer) -> None:
    """Without a Content-Encoding both count the body; for a gzip body ferrofetch cannot tell the
    wire size and refuses (README, "Not supported")."""

    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            async with session.get(http_server.url + "/bytes/1000") as resp:
                await resp.read()
                plain = resp.content.total_raw_bytes
            async with session.get(http_server.url + "/gzip") as resp:
                await resp.read()
                encoded = await observe(_raw_bytes(resp))
        return plain, encoded[0]

    results = await run_both(scenario)
    assert results["aiohttp"] == (1000, "ok")
    assert results["ferrofetch"] == (1000, "error")
    async with ferrofetch.ClientSession() as session:
        async with session.get(http_server.url + "/gzip") as resp:
            with pytest.raises(NotImplementedError, match="total_raw_bytes"):
                resp.content.total_raw_bytes  # noqa: B018


async def _raw_bytes(resp: Any) -> int:
    return int(resp.content.total_raw_bytes)


async def test_chunk_size_is_deprecated(recorder: Recorder) -> None:
    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            with pytest.warns(DeprecationWarning, match="Chunk size is deprecated"):
                async with session.post(recorder.url + "/", data=b"x", chunked=1024) as resp:
                    return resp.status

    assert await same(scenario) == 200
