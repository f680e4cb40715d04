"""Measuring and waiting: descriptors, sockets and RSS of this process, bounded awaits, subprocesses."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from ..servers import async_wait_until
from .rawserver import LOOPBACK

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


# The hostile battery's name for the shared poller.
wait_until = async_wait_until


async def outcome(
    call: Callable[[], Awaitable[T]], seconds: float = 20.0
) -> tuple[T | None, BaseException | None, float]:
    """(result, exception, elapsed seconds) of calling ``call`` and awaiting what it returns.

    Errors raised by the call itself (input refused before any I/O) count like errors on await.
    An await that outlasts ``seconds`` fails the test: every case must end on its own.
    """
    started = time.monotonic()
    try:
        result = await asyncio.wait_for(_invoke(call), seconds)
    except asyncio.TimeoutError as exc:
        if time.monotonic() - started >= seconds:
            raise AssertionError(f"no outcome within {seconds} s") from exc
        return None, exc, time.monotonic() - started
    except Exception as exc:
        return None, exc, time.monotonic() - started
    return result, None, time.monotonic() - started


async def _invoke(call: Callable[[], Awaitable[T]]) -> T:
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
    returncode: int
    stdout: str
    stderr: str
    elapsed: float


async def run_python(
    code: str, *, env: Mapping[str, str] | None = None, timeout: float = 30.0, args: Sequence[str] = ()
) -> Completed:
    """Run ``code`` in a fresh interpreter (this venv), keeping the event loop free for servers."""
    full_env = {key: value for key, value in os.environ.items() if not key.lower().endswith("_proxy")}
    if env:
        full_env.update(env)
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        code,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=full_env,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout)
    except asyncio.TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"subprocess did not finish within {timeout} s") from None
    return Completed(
        process.returncode if process.returncode is not None else -1,
        stdout.decode(errors="replace"),
        stderr.decode(errors="replace"),
        time.monotonic() - started,
    )


class StreamServer:
    """An asyncio server on loopback that tracks its connections, so ``close()`` ends every handler.

    Subclasses answer connections in ``_serve``; a connection dropped by the client is not an error.
    """

    backlog = 100

    def __init__(self) -> None:
        self.port = 0
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self: S) -> S:
        self._server = await asyncio.start_server(self._handle, LOOPBACK, 0, backlog=self.backlog)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        # Abort the connections rather than cancel their handlers, so every handler ends normally.
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self._writers.add(writer)
        try:
            await self._serve(reader, writer)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError):
            pass
        except Exception as exc:
            self._failed(exc)
        finally:
            writer.close()
            self._writers.discard(writer)
            if task is not None:
                self._tasks.discard(task)

    def _failed(self, exc: Exception) -> None:
        """A handler's own error: raised (asyncio reports it) unless a subclass records it."""
        raise exc

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError


S = TypeVar("S", bound=StreamServer)
