"""Lifecycle: cancellation at every stage, closing with requests in flight, interpreter exit, fork.

A cancelled request must give back everything it held: its socket (counted from /proc), its slot
in the client's limit (the pool-exhaustion-after-cancel bug, httpx #1171, #1461, #2139) and its
memory.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from typing import Any

import ferrofetch
import pytest

from ..servers import (
    LOOPBACK,
    Blackhole,
    Conn,
    StartServer,
    async_run_python,
    async_wait_until,
    echo_app,
    http_response,
    open_fds,
    rss_mib,
    serve,
    settle,
    silent,
    sockets_to,
)


def _body_then_stall(conn: Conn) -> None:
    if conn.read_request() is not None:
        conn.send(http_response(200, b"b" * 10_000)[:-5_000])
        conn.hold()


@pytest.fixture
def blackhole() -> Iterator[Blackhole]:
    hole = Blackhole()
    yield hole
    hole.close()


@pytest.mark.parametrize("stage", ["connect", "tls-handshake", "head", "body"])
async def test_cancelling_at_each_stage_gives_everything_back(
    start_server: StartServer, blackhole: Blackhole, stage: str
) -> None:
    good = start_server(serve(echo_app))
    client = ferrofetch.Client(limit=4)
    try:
        await asyncio.wait_for(client.fetch(good.url, timeout=5), 10)
        if stage == "connect":
            port, url = blackhole.port, blackhole.url
        else:
            server = start_server(_body_then_stall if stage == "body" else silent)
            port = server.port
            url = f"https://{LOOPBACK}:{port}/" if stage == "tls-handshake" else server.url
        fds_before, sockets_before = open_fds(), sockets_to(port)
        futures = [client.fetch(url, timeout=30) for _ in range(20)]
        if stage == "connect":
            await asyncio.sleep(0.3)
        elif stage == "body":
            assert await async_wait_until(lambda: len(server.requests) == 4, 5.0)
            await asyncio.sleep(0.1)
        else:
            assert await async_wait_until(lambda: server.connections == 4, 5.0)
        assert sockets_to(port) - sockets_before == 4, "four requests in flight, sixteen waiting"
        for future in futures:
            future.cancel()
        results = await settle(futures)
        assert all(isinstance(result, asyncio.CancelledError) for result in results), results
        assert await async_wait_until(lambda: sockets_to(port) == sockets_before, 2.0), (
            "a cancelled socket stayed open"
        )
        assert await async_wait_until(lambda: open_fds() <= fds_before, 2.0), (open_fds(), fds_before)
        # Every slot of the limit came back: eight more requests go through at once.
        batch = [client.fetch(good.url_for(f"/after/{index}"), timeout=5) for index in range(8)]
        responses = await asyncio.wait_for(asyncio.gather(*batch), 10)
        assert [response.status for response in responses] == [200] * 8
    finally:
        client.close()


async def test_cancelling_the_coroutine_api_closes_the_socket(start_server: StartServer) -> None:
    server = start_server(silent)
    await asyncio.wait_for(ferrofetch.fetch(start_server(serve(echo_app)).url, timeout=5), 10)
    task = asyncio.ensure_future(ferrofetch.fetch(server.url, timeout=30))
    assert await async_wait_until(lambda: server.connections == 1, 5.0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)
    assert await async_wait_until(lambda: sockets_to(server.port) == 0, 1.0)


async def test_a_wait_for_timeout_cancels_the_request(start_server: StartServer) -> None:
    server = start_server(silent)
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(ferrofetch.fetch(server.url, timeout=30), 0.3)
    assert await async_wait_until(lambda: sockets_to(server.port) == 0, 1.0)
    assert await async_wait_until(lambda: server.open_connections == 0, 1.0)


GATHER_PROBE = """
import asyncio, os, sys, threading
import ferrofetch

def watchdog(label):
    def fire():
        print("hung:", label, flush=True)
        os._exit(3)
    timer = threading.Timer(5, fire)
    timer.start()
    return timer

async def main(url):
    client = ferrofetch.Client()
    futures = [client.fetch(url, timeout=30) for _ in range(3)]
    await asyncio.sleep(0.2)
    for future in futures:
        future.cancel()
    timer = watchdog("gather(return_exceptions=True) over cancelled requests")
    results = await asyncio.gather(*futures, return_exceptions=True)
    timer.cancel()
    print("gathered", [type(result).__name__ for result in results], flush=True)
    outer = asyncio.gather(*[client.fetch(url, timeout=30) for _ in range(3)])
    await asyncio.sleep(0.2)
    outer.cancel()
    timer = watchdog("cancelling a gather of requests")
    try:
        await outer
    except asyncio.CancelledError:
        print("outer cancelled", flush=True)
    timer.cancel()
    client.close()

asyncio.run(main(sys.argv[1]))
"""


async def test_gather_over_cancelled_requests_completes(start_server: StartServer) -> None:
    # asyncio.gather reads private Future state of its children when one is cancelled; a request
    # must support that, or gather (and wait_for around it) never completes.
    server = start_server(silent)
    completed = await async_run_python(GATHER_PROBE, args=[server.url], timeout=20)
    output = completed.stdout + completed.stderr
    assert "hung:" not in completed.stdout, output
    assert "gathered ['CancelledError', 'CancelledError', 'CancelledError']" in completed.stdout, output
    assert "outer cancelled" in completed.stdout, output
    assert completed.returncode == 0, output


async def test_repeated_cancellation_does_not_grow_memory(start_server: StartServer) -> None:
    server = start_server(silent)
    urls = [server.url_for(f"/{index}") for index in range(20)]

    async def cycle() -> None:
        batch = asyncio.ensure_future(ferrofetch.fetch_all(urls, timeout=30))
        await asyncio.sleep(0.01)
        batch.cancel()
        await settle([batch])

    for _ in range(30):
        await cycle()
    assert await async_wait_until(lambda: sockets_to(server.port) == 0, 2.0)
    before = rss_mib()
    for _ in range(150):
        await cycle()
    assert await async_wait_until(lambda: sockets_to(server.port) == 0, 2.0)
    growth = rss_mib() - before
    assert growth < 25, f"RSS grew by {growth:.1f} MiB over 3,000 cancelled requests"


@pytest.mark.parametrize("api", ["tasks", "fetch_all"])
async def test_cancelling_1000_in_flight_requests_closes_every_socket_within_half_a_second(api: str) -> None:
    # A listener that never accepts: the kernel completes the handshakes into its backlog, so
    # every request is connected and waiting for an answer that never comes.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((LOOPBACK, 0))
    listener.listen(2048)
    port = listener.getsockname()[1]
    urls = [f"http://{LOOPBACK}:{port}/{index}" for index in range(1000)]
    try:
        futures: list[asyncio.Future[Any]]
        if api == "tasks":
            futures = [asyncio.ensure_future(ferrofetch.fetch(url, timeout=60)) for url in urls]
        else:
            futures = [asyncio.ensure_future(ferrofetch.fetch_all(urls, concurrency=1000, timeout=60))]
        assert await async_wait_until(lambda: sockets_to(port) == 1000, 20.0, interval=0.05), sockets_to(port)
        started = time.monotonic()
        for future in futures:
            future.cancel()
        closed = await async_wait_until(lambda: sockets_to(port) == 0, 5.0, interval=0.002)
        elapsed = time.monotonic() - started
        await settle(futures)
    finally:
        listener.close()
    assert closed, f"{sockets_to(port)} sockets still open"
    assert elapsed <= 0.5, f"closing 1,000 sockets took {elapsed:.3f} s"


async def test_closing_a_client_fails_its_in_flight_requests_cleanly(start_server: StartServer) -> None:
    server = start_server(silent)
    client = ferrofetch.Client()
    futures = [client.fetch(server.url_for(f"/{index}"), timeout=30) for index in range(5)]
    assert await async_wait_until(lambda: server.connections == 5, 5.0)
    client.close()
    results = await settle(futures)
    assert all(isinstance(result, ferrofetch.ClientConnectionError) for result in results), results
    assert client.closed
    assert await async_wait_until(lambda: sockets_to(server.port) == 0, 1.0)
    with pytest.raises(RuntimeError):
        await client.fetch(server.url, timeout=5)


async def test_closing_a_session_fails_its_in_flight_requests_cleanly(start_server: StartServer) -> None:
    if getattr(ferrofetch, "ClientSession", None) is None:
        pytest.skip("ferrofetch.ClientSession is not available yet")
    server = start_server(silent)
    session = ferrofetch.ClientSession()

    async def one(index: int) -> None:
        async with session.get(server.url_for(f"/{index}")) as response:
            await response.read()

    tasks = [asyncio.ensure_future(one(index)) for index in range(5)]
    assert await async_wait_until(lambda: server.connections == 5, 5.0)
    await asyncio.wait_for(session.close(), 5)
    results = await settle(tasks)
    assert all(isinstance(result, ferrofetch.ClientConnectionError) for result in results), results
    assert session.closed
    assert await async_wait_until(lambda: sockets_to(server.port) == 0, 1.0)


EXIT_SCENARIOS = {
    # asyncio.run cancels the tasks still pending when main() returns.
    "run-returns": """
async def main():
    tasks = [asyncio.ensure_future(ferrofetch.fetch(url, timeout=60)) for _ in range(50)]
    await asyncio.sleep(0.3)
asyncio.run(main())
""",
    # SystemExit raised while requests are in flight.
    "sys-exit": """
async def main():
    tasks = [asyncio.ensure_future(ferrofetch.fetch(url, timeout=60)) for _ in range(50)]
    await asyncio.sleep(0.3)
    sys.exit(0)
asyncio.run(main())
""",
    # The loop is stopped and closed with futures pending; their results would arrive too late.
    "loop-closed": """
loop = asyncio.new_event_loop()
client = ferrofetch.Client()
async def start():
    return [client.fetch(url, timeout=0.5) for _ in range(50)]
futures = loop.run_until_complete(start())
loop.run_until_complete(asyncio.sleep(0.2))
loop.close()
time.sleep(1.0)  # the timeouts fire now, with no loop left to deliver them to
""",
    # The main thread ends while another thread's loop still awaits requests.
    "daemon-thread": """
def worker():
    async def main():
        await asyncio.gather(*[ferrofetch.fetch(url, timeout=60) for _ in range(50)])
    asyncio.run(main())
threading.Thread(target=worker, daemon=True).start()
time.sleep(0.5)
""",
    # A large batch against the embedded server, abandoned half-way.
    "busy-batch": """
server = ferrofetch.testing.LoopbackServer()
async def main():
    urls = [server.url.rstrip("/") + "/bytes/1000"] * 20000
    batch = asyncio.ensure_future(ferrofetch.fetch_all(urls, timeout=60))
    await asyncio.sleep(0.2)
asyncio.run(main())
""",
}


@pytest.mark.parametrize("scenario", list(EXIT_SCENARIOS))
async def test_interpreter_exit_with_requests_in_flight(start_server: StartServer, scenario: str) -> None:
    server = start_server(silent)
    code = (
        "import asyncio, sys, threading, time\nimport ferrofetch\nimport ferrofetch.testing\n"
        "url = sys.argv[1]\n" + EXIT_SCENARIOS[scenario]
    )
    completed = await async_run_python(code, args=[server.url], timeout=20)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert completed.elapsed < 10, f"exit took {completed.elapsed:.1f} s"
    for sign in ("panicked", "Fatal Python error", "Segmentation fault", "Event loop is closed", "Traceback"):
        assert sign not in output, output


FORK_PROBE = """
import asyncio, os, sys, threading, time
import ferrofetch

url, stalled = sys.argv[1], sys.argv[2]

async def get():
    response = await ferrofetch.fetch(url, timeout=5)
    return response.status

print("parent-before", asyncio.run(get()), flush=True)

# A request left in flight in another thread while the fork happens.
def stall():
    async def main():
        try:
            await ferrofetch.fetch(stalled, timeout=3)
        except ferrofetch.ClientError:
            pass
    asyncio.run(main())
thread = threading.Thread(target=stall)
thread.start()
time.sleep(0.3)

pid = os.fork()
if pid == 0:
    try:
        print("child", asyncio.run(asyncio.wait_for(get(), 10)), flush=True)
        os._exit(0)
    except BaseException as exc:
        print("child-error", type(exc).__name__, exc, flush=True)
        os._exit(1)
deadline = time.monotonic() + 15
while True:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        print("child-exit", os.waitstatus_to_exitcode(status), flush=True)
        break
    if time.monotonic() > deadline:
        os.kill(pid, 9)
        print("child-hung", flush=True)
        break
    time.sleep(0.05)
print("parent-after", asyncio.run(get()), flush=True)
thread.join()
"""


async def test_fork_after_use_the_child_can_make_requests(start_server: StartServer) -> None:
    good = start_server(serve(echo_app))
    stalled = start_server(silent)
    completed = await async_run_python(FORK_PROBE, args=[good.url, stalled.url], timeout=30)
    lines = completed.stdout.split("\n")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "parent-before 200" in lines
    assert "child 200" in lines, completed.stdout + completed.stderr
    assert "child-exit 0" in lines
    assert "parent-after 200" in lines
    assert "panicked" not in completed.stderr
