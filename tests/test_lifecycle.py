"""The runtime's life: several loops, threads, fork, configuration, loops that go away, exit.

Most tests run a short script in a fresh interpreter, so each starts from a runtime that has
never run and nothing it does can leak into this process.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import ferrofetch
import pytest

from tests.servers import HttpServer, pattern_bytes, run_python

CRASH_MARKERS = ("Traceback", "panicked", "Fatal Python error", "Segmentation fault", "Event loop is closed")


def assert_clean(process: Any, expected_stdout: str | None = None) -> None:
    """Exit code 0, nothing alarming on stderr, and (optionally) exactly this output."""
    assert process.returncode == 0, (
        f"exit {process.returncode}\nstdout:\n{process.stdout}\nstderr:\n{process.stderr}"
    )
    for marker in CRASH_MARKERS:
        assert marker not in process.stderr, process.stderr
    if expected_stdout is not None:
        assert process.stdout == expected_stdout, process.stderr


def test_several_asyncio_run_in_one_process(http_server: HttpServer) -> None:
    code = """
import asyncio, sys
import ferrofetch

base = sys.argv[1]

async def batch(urls):
    return await ferrofetch.fetch_all(urls)

async def one(url):
    return await ferrofetch.fetch(url)

for i in range(4):
    responses = asyncio.run(batch([f"{base}/bytes/{i}", f"{base}/bytes/{i + 1}"]))
    print(i, [len(r.content) for r in responses])
print(asyncio.run(one(f"{base}/status/201")).status)
"""
    process = run_python(code, args=(http_server.url,), timeout=30)
    assert_clean(process, "0 [0, 1]\n1 [1, 2]\n2 [2, 3]\n3 [3, 4]\n201\n")
    # The pool outlived each loop: the runs shared connections.
    assert http_server.stats.connections_accepted <= 3, http_server.stats


def test_fetch_in_a_child_after_fork(http_server: HttpServer) -> None:
    code = """
import asyncio, os, sys
import ferrofetch

base = sys.argv[1]

async def fetch(path):
    return await ferrofetch.fetch(base + path)

async def fetch_all(paths):
    return await ferrofetch.fetch_all([base + path for path in paths])

def get(path):
    return asyncio.run(fetch(path))

# The parent's runtime and pool are in use before the fork.
assert get("/bytes/3").content == bytes([0, 1, 2])
pid = os.fork()
if pid == 0:
    try:
        ok = get("/bytes/4").content == bytes([0, 1, 2, 3])
        ok = ok and [len(r.content) for r in asyncio.run(fetch_all(["/bytes/1", "/bytes/2"]))] == [1, 2]
        os._exit(0 if ok else 3)
    except BaseException as error:
        print("child failed:", repr(error), file=sys.stderr, flush=True)
        os._exit(4)
_, status = os.waitpid(pid, 0)
print("child", os.waitstatus_to_exitcode(status))
# The parent keeps working after the fork.
print("parent", get("/bytes/5").status)
"""
    process = run_python(code, args=(http_server.url,), timeout=30)
    assert_clean(process, "child 0\nparent 200\n")


def test_fork_before_first_use(http_server: HttpServer) -> None:
    code = """
import asyncio, os, sys
import ferrofetch

base = sys.argv[1]

async def get(url):
    return await ferrofetch.fetch(url)

pid = os.fork()
response = asyncio.run(get(base + "/bytes/2"))
if pid == 0:
    os._exit(0 if response.content == bytes([0, 1]) else 3)
_, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status), response.status)
"""
    process = run_python(code, args=(http_server.url,), timeout=30)
    assert_clean(process, "0 200\n")


def test_batch_abandoned_by_a_closed_loop_ends_quietly(http_server: HttpServer) -> None:
    # The requests finish (0.5 s) after their loop was closed (0.2 s): their results have nowhere
    # to go and must be dropped without noise.
    code = """
import asyncio, sys, time
import ferrofetch

base = sys.argv[1]

async def batch():
    return await ferrofetch.fetch_all([f"{base}/slow?delay=0.5&i={i}" for i in range(10)])

loop = asyncio.new_event_loop()
future = loop.create_task(batch())
loop.run_until_complete(asyncio.sleep(0.2))
loop.close()
time.sleep(1.5)
print("done")
"""
    started = time.monotonic()
    process = run_python(code, args=(http_server.url,), timeout=20)
    assert time.monotonic() - started < 15
    assert_clean(process, "done\n")
    assert http_server.stats.requests == 10


def test_loop_stopped_with_a_pending_fetch_ends_quietly(http_server: HttpServer) -> None:
    code = """
import asyncio, sys, time
import ferrofetch

base = sys.argv[1]

async def one():
    return await ferrofetch.fetch(f"{base}/slow?delay=0.4")

loop = asyncio.new_event_loop()
loop.call_later(0.2, loop.stop)
task = loop.create_task(one())
loop.run_forever()          # stopped at 0.2 s, the request still in flight
time.sleep(0.8)             # it finishes while nobody runs the loop
loop.close()
time.sleep(0.3)
print("done")
"""
    process = run_python(code, args=(http_server.url,), timeout=20)
    assert_clean(process, "done\n")


def test_native_future_whose_loop_is_closed_is_dropped_quietly(http_server: HttpServer) -> None:
    # The core's own future (not the coroutine wrapper), created on a loop that is then closed.
    code = """
import asyncio, sys, time
import ferrofetch
from ferrofetch import _core

base = sys.argv[1]
loop = asyncio.new_event_loop()

async def start():
    return _core.fetch_all([f"{base}/slow?delay=0.3&i={i}" for i in range(5)])

future = loop.run_until_complete(start())
loop.close()
time.sleep(1.0)
print("done")
"""
    process = run_python(code, args=(http_server.url,), timeout=20)
    assert_clean(process, "done\n")


@pytest.mark.parametrize("closing", ["sys.exit", "fall-off", "daemon-thread"])
def test_interpreter_exit_with_requests_in_flight(http_server: HttpServer, closing: str) -> None:
    code = """
import asyncio, sys, threading, time
import ferrofetch

base, closing = sys.argv[1], sys.argv[2]
urls = [f"{base}/slow?delay=30&i={i}" for i in range(20)]

async def batch():
    return await ferrofetch.fetch_all(urls)

if closing == "daemon-thread":
    thread = threading.Thread(target=lambda: asyncio.run(batch()), daemon=True)
    thread.start()
    time.sleep(0.5)
else:
    loop = asyncio.new_event_loop()
    loop.create_task(batch())
    loop.run_until_complete(asyncio.sleep(0.5))
print("exiting", flush=True)
if closing == "sys.exit":
    sys.exit(0)
"""
    started = time.monotonic()
    process = run_python(code, args=(http_server.url, closing), timeout=20)
    elapsed = time.monotonic() - started
    if closing == "daemon-thread":
        # A daemon thread may be torn down mid-await; it must not crash the process.
        assert process.returncode == 0, process.stderr
        assert process.stdout == "exiting\n"
        for marker in ("panicked", "Fatal Python error", "Segmentation fault"):
            assert marker not in process.stderr, process.stderr
    else:
        assert_clean(process, "exiting\n")
    assert elapsed < 10, elapsed
    assert http_server.stats.requests == 20
    # Every connection the child had open went away with it.
    deadline = time.monotonic() + 2
    while http_server.stats.connections_open and time.monotonic() < deadline:
        time.sleep(0.02)
    assert http_server.stats.connections_open == 0


def test_configure_before_first_use() -> None:
    code = """
import ferrofetch
print(ferrofetch.runtime_info()["started"])
ferrofetch.configure(worker_threads=3)
print(ferrofetch.runtime_info()["started"])
"""
    process = run_python(code, timeout=20)
    assert_clean(process, "False\nFalse\n")


def test_configure_after_first_use_raises(http_server: HttpServer) -> None:
    code = """
import asyncio, sys
import ferrofetch

async def get(url):
    return await ferrofetch.fetch(url)

ferrofetch.configure(worker_threads=3)
asyncio.run(get(sys.argv[1] + "/bytes/1"))
info = ferrofetch.runtime_info()
print(info["started"], info["worker_threads"], info["flavor"])
try:
    ferrofetch.configure(worker_threads=5)
except RuntimeError as error:
    print("RuntimeError", bool(str(error)))
print(ferrofetch.runtime_info()["worker_threads"])
"""
    process = run_python(code, args=(http_server.url,), timeout=20)
    assert_clean(process, "True 3 multi_thread\nRuntimeError True\n3\n")


@pytest.mark.parametrize("bad", [0, -1])
def test_configure_rejects_nonsense(bad: int) -> None:
    code = f"""
import ferrofetch
try:
    ferrofetch.configure(worker_threads={bad})
except (ValueError, OverflowError):
    print("rejected")
print(ferrofetch.runtime_info()["started"])
"""
    process = run_python(code, timeout=20)
    assert_clean(process, "rejected\nFalse\n")


@pytest.mark.parametrize("value", ["0", "-2", "many", ""])
def test_nonsense_worker_threads_in_the_environment_does_not_crash(
    http_server: HttpServer, value: str
) -> None:
    # Ignored or reported as a Python exception, never a panic or an abort.
    code = """
import asyncio, sys

try:
    import ferrofetch

    async def get(url):
        return await ferrofetch.fetch(url)

    response = asyncio.run(get(sys.argv[1] + "/bytes/1"))
    print("fetched", response.status)
except Exception as error:
    print("error", type(error).__name__)
"""
    process = run_python(code, args=(http_server.url,), env={"FERROFETCH_WORKER_THREADS": value}, timeout=20)
    assert_clean(process)
    assert process.stdout.startswith(("fetched 200", "error ")), process.stdout


def test_worker_threads_from_the_environment(http_server: HttpServer) -> None:
    code = """
import asyncio, sys
import ferrofetch

async def get(url):
    return await ferrofetch.fetch(url)

asyncio.run(get(sys.argv[1] + "/bytes/1"))
info = ferrofetch.runtime_info()
print(info["started"], info["worker_threads"])
"""
    process = run_python(code, args=(http_server.url,), env={"FERROFETCH_WORKER_THREADS": "3"}, timeout=20)
    assert_clean(process, "True 3\n")
    process = run_python(code, args=(http_server.url,), env={"FERROFETCH_WORKER_THREADS": "1"}, timeout=20)
    assert_clean(process, "True 1\n")


def test_runtime_info_shape() -> None:
    info = ferrofetch.runtime_info()
    assert set(info) >= {"started", "worker_threads", "flavor"}
    assert isinstance(info["started"], bool)
    assert isinstance(info["worker_threads"], int) and info["worker_threads"] >= 1
    assert info["flavor"] in ("current_thread", "multi_thread")


def test_event_loops_in_several_threads_at_once(http_server: HttpServer) -> None:
    results: dict[int, list[bytes]] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def worker(index: int) -> None:
        async def main() -> list[bytes]:
            urls = [http_server.url_for(f"/bytes/{index * 10 + n}") for n in range(10)]
            urls.append(http_server.url_for("/slow?delay=0.2"))
            responses = await asyncio.wait_for(ferrofetch.fetch_all(urls), 15)
            single = await asyncio.wait_for(ferrofetch.fetch(http_server.url_for(f"/bytes/{index}")), 15)
            return [r.content for r in responses[:10]] + [single.content]

        try:
            barrier.wait(5)
            results[index] = asyncio.run(main())
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    for index in range(4):
        expected = [pattern_bytes(index * 10 + n) for n in range(10)] + [pattern_bytes(index)]
        assert results[index] == expected
    # The four loops' slow requests overlapped.
    assert http_server.stats.max_in_flight >= 2


async def test_futures_complete_on_the_calling_loop(http_server: HttpServer) -> None:
    pending = ferrofetch._core.fetch(http_server.url_for("/bytes/1"))
    # To asyncio it is a coroutine (so ensure_future wraps it in a task) bound to this loop.
    assert asyncio.iscoroutine(pending)
    assert not asyncio.isfuture(pending)
    assert pending.get_loop() is asyncio.get_running_loop()
    response = await asyncio.wait_for(pending, 10)
    assert response.content == b"\x00"


async def test_cancelling_a_single_fetch_closes_its_connection(http_server: HttpServer) -> None:
    task = asyncio.ensure_future(ferrofetch.fetch(http_server.url_for("/slow?delay=30")))
    deadline = time.monotonic() + 10
    while http_server.stats.in_flight < 1 and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    deadline = time.monotonic() + 0.5
    while http_server.stats.connections_open and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert http_server.stats.connections_open == 0


GUIDE_EXAMPLE = """
import asyncio
import sys

import ferrofetch as aiohttp

URL = sys.argv[1]


async def fetch(session, url):
    async with session.get(url) as response:
        return await response.text()


async def main():
    async with aiohttp.ClientSession() as session:
        pages = await asyncio.gather(*(fetch(session, f"{URL}/bytes/{n}") for n in range(5)))
        html = await fetch(session, f"{URL}/json")
    print([len(page) for page in pages])
    print(html)


loop = asyncio.get_event_loop()
loop.run_until_complete(main())
"""


def test_the_asyncio_guide_example_with_only_the_import_changed(http_server: HttpServer) -> None:
    process = run_python(GUIDE_EXAMPLE, args=(http_server.url,), timeout=30)
    assert process.returncode == 0, process.stderr
    lines = process.stdout.splitlines()
    assert lines[0] == "[0, 1, 2, 3, 4]"
    assert '"name": "ferrofetch"' in lines[1]
