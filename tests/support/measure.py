"""Measuring and waiting: descriptors, sockets and RSS of this process, bounded awaits, subprocesses."""

from __future__ import annotations

import asyncio
import inspect
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, TypeVar, Union

T = TypeVar("T")


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _socket_inodes_to(port: int) -> set[int]:
    inodes: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as handle:
                lines = handle.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10:
                continue
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if remote_port == port:
                inodes.add(int(fields[9]))
    return inodes


def sockets_to(port: int) -> int:
    """How many descriptors of this process are TCP sockets connected (or connecting) to ``port``."""
    inodes = _socket_inodes_to(port)
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            link = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:[") and int(link[8:-1]) in inodes:
            count += 1
    return count


def rss_mib() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Outcome(NamedTuple, Generic[T]):
    """How an awaited call ended: ``(result, error, elapsed seconds)``, one of the first two None."""

    result: T | None
    error: BaseException | None
    elapsed: float

    @property
    def observed(self) -> tuple[str, Any]:
        """As plain data to compare across implementations: ``("ok", result)`` or
        ``("error", the exception's class name)``."""
        if self.error is not None:
            return "error", type(self.error).__name__
        return "ok", self.result


Call = Union[Awaitable[T], Callable[[], Awaitable[T]]]


async def outcome(call: Call[T], seconds: float = 20.0) -> Outcome[T]:
    """Await ``call`` (an awaitable, or a function returning one) and say how it ended.

    Errors raised by calling the function itself (input refused before any I/O) count like
    errors on await. An await that outlasts ``seconds`` fails the test: every case must end on
    its own.
    """
    started = time.monotonic()
    try:
        result = await asyncio.wait_for(_invoke(call), seconds)
    except asyncio.TimeoutError as exc:
        if time.monotonic() - started >= seconds:
            raise AssertionError(f"no outcome within {seconds} s") from exc
        return Outcome(None, exc, time.monotonic() - started)
    except Exception as exc:
        return Outcome(None, exc, time.monotonic() - started)
    return Outcome(result, None, time.monotonic() - started)


async def observe(call: Call[Any], seconds: float = 20.0) -> tuple[str, Any]:
    """``(await outcome(call, seconds)).observed``: ``("ok", value)`` or ``("error", class name)``."""
    return (await outcome(call, seconds)).observed


async def _invoke(call: Call[T]) -> T:
    if inspect.isawaitable(call):
        return await call
    return await call()


async def settle(futures: Sequence[Any], seconds: float = 5.0) -> list[Any]:
    """Wait until every future is done, through done-callbacks only; then each one's outcome.

    The outcome is the result, the exception, or a ``CancelledError`` instance. Unlike
    ``asyncio.gather``, this relies on nothing but ``add_done_callback``/``done``/``cancelled``.
    """
    remaining = {id(future) for future in futures if not future.done()}
    finished = asyncio.Event()

    def on_done(future: Any) -> None:
        remaining.discard(id(future))
        if not remaining:
            finished.set()

    for future in futures:
        if not future.done():
            future.add_done_callback(on_done)
    if remaining:
        try:
            await asyncio.wait_for(finished.wait(), seconds)
        except asyncio.TimeoutError:
            raise AssertionError(f"{len(remaining)} of {len(futures)} futures never finished") from None
    outcomes: list[Any] = []
    for future in futures:
        if future.cancelled():
            outcomes.append(asyncio.CancelledError())
        elif future.exception() is not None:
            outcomes.append(future.exception())
        else:
            outcomes.append(future.result())
    return outcomes


# --- subprocesses -------------------------------------------------------------------------------


@dataclass
class Completed:
    """A finished child interpreter: exit status, its output as text, and how long it ran (s)."""

    returncode: int
    stdout: str
    stderr: str
    elapsed: float


def run_python(
    code: str, *, timeout: float = 30.0, env: Mapping[str, str] | None = None, args: Sequence[str] = ()
) -> Completed:
    """Run ``code`` in a fresh interpreter (this one's executable) and wait for it to finish.

    The child gets this process's environment without proxy variables or ``PYTHONWARNINGS``,
    with ``PYTHONFAULTHANDLER=1``, then ``env`` on top. A child still running after ``timeout``
    seconds is killed and the test fails (``AssertionError``).
    """
    full_env = {key: value for key, value in os.environ.items() if not key.lower().endswith("_proxy")}
    full_env["PYTHONFAULTHANDLER"] = "1"
    full_env.pop("PYTHONWARNINGS", None)
    if env:
        full_env.update(env)
    started = time.monotonic()
    try:
        process = subprocess.run(
            [sys.executable, "-c", code, *args],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            env=full_env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise AssertionError(f"subprocess did not finish within {timeout} s") from None
    return Completed(process.returncode, process.stdout, process.stderr, time.monotonic() - started)


async def async_run_python(
    code: str, *, timeout: float = 30.0, env: Mapping[str, str] | None = None, args: Sequence[str] = ()
) -> Completed:
    """:func:`run_python` in a worker thread, so the test's event loop (and any server on it) runs on."""
    return await asyncio.to_thread(run_python, code, timeout=timeout, env=env, args=args)


# --- peak memory of one request, in a fresh interpreter -----------------------------------------

# Runs alone in its interpreter so that its peak RSS belongs to the one request it makes.
_PEAK_RSS_PROBE = """
import asyncio, json, sys
import ferrofetch

def status(field):
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0

async def main(warm_url, url, options):
    options = json.loads(options)
    await ferrofetch.fetch(warm_url, **{**options, "timeout": 30, "max_body_size": None})
    before = status("VmRSS")
    started = asyncio.get_running_loop().time()
    try:
        response = await ferrofetch.fetch(url, **options)
        result = ["ok", response.status, len(response.content)]
    except Exception as exc:
        result = [type(exc).__name__, str(exc)[:300]]
    elapsed = asyncio.get_running_loop().time() - started
    print(json.dumps({"result": result, "growth": status("VmHWM") - before, "elapsed": elapsed}))

asyncio.run(main(*sys.argv[1:]))
"""


class PeakRss(NamedTuple):
    """How one request ended in a fresh interpreter: ``result`` is ``["ok", status, length]`` or
    ``[exception class name, message]``; ``growth`` the peak RSS over the RSS before it (MiB);
    ``elapsed`` its seconds."""

    result: list[Any]
    growth: float
    elapsed: float


async def peak_rss_of_fetch(url: str, *, warm_url: str, timeout: float = 60.0, **options: Any) -> PeakRss:
    """``ferrofetch.fetch(url, **options)`` alone in a fresh interpreter, after one request to
    ``warm_url`` (same options, no size limit) has started the runtime and the pool."""
    import json

    completed = await async_run_python(
        _PEAK_RSS_PROBE, args=[warm_url, url, json.dumps(options)], timeout=timeout
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    return PeakRss(report["result"], report["growth"], report["elapsed"])
