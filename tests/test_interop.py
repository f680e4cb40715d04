"""The public API under other event loops and async frameworks.

asyncio's own loop, uvloop, and anyio on its asyncio backend (with either loop) run the same
scenario. trio is not an asyncio loop: every call made under it raises ``RuntimeError`` at once,
as does a call driven by hand with no running loop, rather than waiting for a loop that never
comes.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
import ferrofetch
import ferrofetch.testing
import pytest
import trio

from tests.servers import HttpServer

REFUSED = "http://127.0.0.1:1/"

Scenario = Callable[[], Awaitable[None]]


def run_asyncio(scenario: Scenario) -> None:
    async def main() -> None:
        await scenario()

    asyncio.run(main())


def run_uvloop(scenario: Scenario) -> None:
    import uvloop

    async def main() -> None:
        assert isinstance(asyncio.get_running_loop(), uvloop.Loop)
        await scenario()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main())


def run_anyio(scenario: Scenario) -> None:
    anyio.run(scenario, backend="asyncio")


def run_anyio_uvloop(scenario: Scenario) -> None:
    anyio.run(scenario, backend="asyncio", backend_options={"use_uvloop": True})


RUNNERS = [
    pytest.param(run_asyncio, id="asyncio"),
    pytest.param(
        run_uvloop,
        id="uvloop",
        marks=pytest.mark.skipif(sys.platform == "win32", reason="uvloop has no Windows build"),
    ),
    pytest.param(run_anyio, id="anyio-asyncio"),
    pytest.param(
        run_anyio_uvloop,
        id="anyio-asyncio-uvloop",
        marks=pytest.mark.skipif(sys.platform == "win32", reason="uvloop has no Windows build"),
    ),
]


@pytest.mark.parametrize("runner", RUNNERS)
def test_public_api(runner: Callable[[Scenario], None], http_server: HttpServer) -> None:
    async def scenario() -> None:
        response = await ferrofetch.fetch(http_server.url_for("/bytes/100"), timeout=10)
        assert response.status == 200 and len(response.content) == 100

        results = await ferrofetch.fetch_all(
            [http_server.url_for("/bytes/10"), REFUSED], return_exceptions=True, timeout=10
        )
        assert isinstance(results[0], ferrofetch.Response) and results[0].content == bytes(range(10))
        assert isinstance(results[1], ferrofetch.ClientConnectorError)

        client = ferrofetch.Client(limit=4)
        try:
            stream = await client.open(http_server.url_for("/bytes/200000"), timeout=10)
            received = 0
            while chunk := await stream.read_chunk():
                received += len(chunk)
            assert received == 200000
        finally:
            client.close()

        async with ferrofetch.ClientSession() as session:
            async with session.post(http_server.url_for("/echo"), data=upload()) as reply:
                assert reply.status == 200
                echoed = await reply.json()
                assert echoed["method"] == "POST" and echoed["body"] == "streamed body", echoed

        started = time.monotonic()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(ferrofetch.fetch(http_server.url_for("/slow?delay=30")), 0.3)
        assert time.monotonic() - started < 5

        # Requests in flight together, from the framework's own task group.
        bodies: list[bytes] = []

        async def one(n: int) -> None:
            bodies.append((await ferrofetch.fetch(http_server.url_for(f"/bytes/{n}"))).content)

        async with anyio.create_task_group() as group:
            for n in range(1, 6):
                group.start_soon(one, n)
        assert sorted(len(body) for body in bodies) == [1, 2, 3, 4, 5]

    runner(scenario)


async def upload() -> AsyncIterator[bytes]:
    for part in (b"streamed", b" ", b"body"):
        yield part


@pytest.mark.parametrize("runner", [p for p in RUNNERS if "anyio" in str(p.id)])
def test_anyio_cancel_scope_cancels_a_request(
    runner: Callable[[Scenario], None], http_server: HttpServer
) -> None:
    async def scenario() -> None:
        started = time.monotonic()
        with anyio.move_on_after(0.3) as scope:
            await ferrofetch.fetch(http_server.url_for("/slow?delay=30"))
        assert scope.cancelled_caught
        with anyio.move_on_after(0.3) as scope:
            await ferrofetch.fetch_all([http_server.url_for("/slow?delay=30")] * 3)
        assert scope.cancelled_caught
        assert time.monotonic() - started < 5

    runner(scenario)


async def _session_get(url: str) -> bytes:
    async with ferrofetch.ClientSession() as session:
        async with session.get(url) as response:
            return await response.read()


async def _stream_upload(url: str) -> ferrofetch.Response:
    return await ferrofetch.fetch(url, method="POST", data=upload())


CALLS: dict[str, Callable[[str], Awaitable[Any]]] = {
    "fetch": lambda url: ferrofetch.fetch(url),
    "fetch_all": lambda url: ferrofetch.fetch_all([url, url]),
    "Client.open": lambda url: ferrofetch.Client().open(url),
    "ClientSession.get": _session_get,
    "streamed upload": _stream_upload,
}


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_under_trio_a_clear_error_not_a_hang(
    call: Callable[[str], Awaitable[Any]], loopback_server: ferrofetch.testing.LoopbackServer
) -> None:
    async def main() -> None:
        with trio.fail_after(10):  # a hang fails here, not at pytest's timeout
            await call(loopback_server.url)

    started = time.monotonic()
    with pytest.raises(RuntimeError, match="event loop"):
        trio.run(main)
    assert time.monotonic() - started < 2


MADE_OUTSIDE_A_LOOP: dict[str, Callable[[str], ferrofetch.Pending[Any]]] = {
    "fetch": lambda url: ferrofetch.fetch(url),
    "fetch_all": lambda url: ferrofetch.fetch_all([url]),
    "Client.fetch": lambda url: ferrofetch.Client().fetch(url),
    "Client.open": lambda url: ferrofetch.Client().open(url),
}


@pytest.mark.parametrize("make", MADE_OUTSIDE_A_LOOP.values(), ids=MADE_OUTSIDE_A_LOOP.keys())
def test_driven_with_no_running_loop_a_clear_error(
    make: Callable[[str], ferrofetch.Pending[Any]], loopback_server: ferrofetch.testing.LoopbackServer
) -> None:
    pending = make(loopback_server.url)
    with pytest.raises(RuntimeError, match="event loop"):
        pending.send(None)
    pending.close()
    # Made outside a loop, the same call runs when handed to one.
    assert asyncio.run(_awaited(make(loopback_server.url))) is not None


async def _awaited(pending: ferrofetch.Pending[Any]) -> Any:
    return await pending


def test_a_streamed_body_with_no_running_loop_is_refused(
    loopback_server: ferrofetch.testing.LoopbackServer,
) -> None:
    pending = ferrofetch.fetch(loopback_server.url, method="POST", data=upload())
    with pytest.raises(RuntimeError, match="event loop"):
        pending.send(None)
