"""The server thread, the counters every server keeps, and polling with a deadline."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from types import TracebackType
from typing import Any, TypeVar

T = TypeVar("T")

LOOPBACK = "127.0.0.1"
# Linux routes the whole of 127.0.0.0/8 to the loopback interface: a second "host" for redirects.
OTHER_HOST = "127.0.0.2"


class ServerStats:
    """What a server has seen. Written on the server's thread, readable from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.connections_accepted = 0
        self.connections_open = 0
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.paths: list[str] = []
        #: bytes of response body written by the streaming routes (``/drip``, ``/gzip-bomb``)
        self.body_bytes_written = 0

    def connection_opened(self) -> None:
        with self._lock:
            self.connections_accepted += 1
            self.connections_open += 1

    def connection_closed(self) -> None:
        with self._lock:
            self.connections_open -= 1

    def request_started(self, path: str) -> None:
        with self._lock:
            self.requests += 1
            self.paths.append(path)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def request_finished(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def add_body_bytes(self, n: int) -> None:
        with self._lock:
            self.body_bytes_written += n

    def __repr__(self) -> str:
        return (
            f"ServerStats(connections_accepted={self.connections_accepted}, "
            f"connections_open={self.connections_open}, requests={self.requests}, "
            f"in_flight={self.in_flight}, max_in_flight={self.max_in_flight})"
        )


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0, interval: float = 0.01) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return predicate()
        time.sleep(interval)


async def async_wait_until(
    predicate: Callable[[], bool], timeout: float = 5.0, interval: float = 0.01
) -> bool:
    """Like :func:`wait_until`, but sleeps with ``asyncio.sleep`` so the running loop keeps going."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return predicate()
        await asyncio.sleep(interval)


class LoopThread:
    """An asyncio event loop running forever in a daemon thread."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._thread.start()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
            pending = asyncio.all_tasks(self.loop)
            for task in pending:
                task.cancel()
            if pending:
                self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        finally:
            self.loop.close()

    def submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        """Run ``coro`` on the server loop and wait (at most ``timeout`` s) for its result."""
        return self.submit(coro).result(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout)
        if self._thread.is_alive():  # pragma: no cover - only on a wedged server
            raise RuntimeError("the server thread did not stop")


def listening_socket(host: str = LOOPBACK, port: int = 0, backlog: int = 1024) -> socket.socket:
    """A bound, listening TCP socket (the kernel picks the port when ``port`` is 0)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    return sock


async def abort_all(transports: set[asyncio.BaseTransport]) -> None:
    """Abort every transport (RST where it can) and let the loop finish closing them."""
    for transport in list(transports):
        if isinstance(transport, asyncio.WriteTransport):
            transport.abort()
        else:
            transport.close()
    # Closing completes on the next loop iterations (connection_lost, then the socket's close).
    for _ in range(3):
        await asyncio.sleep(0)


class LoopServer:
    """A server whose work runs on its own :class:`LoopThread`; subclasses start it and define ``_stop``."""

    scheme = "http"

    def __init__(self, name: str) -> None:
        self.stats = ServerStats()
        self._thread = LoopThread(name)
        self._closed = False
        self.port = 0

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def url(self) -> str:
        """The base URL, without a trailing slash: ``http://127.0.0.1:PORT``."""
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def url_for(self, path: str) -> str:
        return self.url + path

    async def _stop(self) -> None:  # overridden
        return None

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._thread.run(self._stop(), timeout=10.0)
        finally:
            self._thread.stop()

    def __enter__(self: _S) -> _S:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


_S = TypeVar("_S", bound=LoopServer)
