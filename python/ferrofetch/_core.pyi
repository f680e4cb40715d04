"""Stubs for the native core (``ferrofetch._core``), built from ``src/`` by maturin.

Everything that waits returns an ``asyncio.Future`` bound to the running event loop; the
request runs on ferrofetch's own tokio runtime and the future completes on the loop that
made the call. Cancelling the future aborts the request and closes its connection.
"""

import asyncio
from collections.abc import Iterable
from typing import Any, final

from multidict import CIMultiDictProxy

__version__: str
DEFAULT_MAX_BODY_SIZE: int
DEFAULT_USER_AGENT: str

def configure(*, worker_threads: int | None = None) -> None:
    """Set the runtime's worker-thread count before first use (raises ``RuntimeError`` after)."""

def runtime_info() -> dict[str, Any]:
    """``{"started": bool, "worker_threads": int, "flavor": "current_thread" | "multi_thread"}``."""

@final
class Response:
    """A completed response whose body has been read whole."""

    @property
    def url(self) -> str: ...
    @property
    def method(self) -> str: ...
    @property
    def status(self) -> int: ...
    @property
    def reason(self) -> str: ...
    @property
    def ok(self) -> bool: ...
    @property
    def headers(self) -> CIMultiDictProxy[str]: ...
    @property
    def raw_headers(self) -> tuple[tuple[bytes, bytes], ...]: ...
    @property
    def content(self) -> bytes: ...
    @property
    def text(self) -> str: ...
    @property
    def charset(self) -> str | None: ...
    @property
    def content_type(self) -> str: ...
    @property
    def elapsed(self) -> float: ...
    @property
    def http_version(self) -> str: ...
    @property
    def history(self) -> list[str]: ...
    def json(self, **loads_kwargs: Any) -> Any: ...
    def raise_for_status(self) -> None: ...

@final
class StreamResponse:
    """A response whose head has arrived and whose body is read on demand (``Client.open``)."""

    @property
    def url(self) -> str: ...
    @property
    def method(self) -> str: ...
    @property
    def status(self) -> int: ...
    @property
    def reason(self) -> str: ...
    @property
    def headers(self) -> CIMultiDictProxy[str]: ...
    @property
    def raw_headers(self) -> tuple[tuple[bytes, bytes], ...]: ...
    @property
    def http_version(self) -> str: ...
    @property
    def history(self) -> list[str]: ...
    @property
    def content_length(self) -> int | None: ...
    @property
    def elapsed(self) -> float: ...
    def take_complete_body(self) -> bytes | None:
        """The whole body if it has already arrived (small bodies come with the head), else None.

        Taking it consumes it, as reading would; it saves a trip through the event loop.
        """
    def read_chunk(self) -> asyncio.Future[bytes]:
        """The next decoded chunk as it arrives from the network; ``b""`` at the end."""
    def read_all(self) -> asyncio.Future[bytes]:
        """The rest of the body (bounded by ``max_body_size``)."""
    def close(self) -> None:
        """Stop reading; the connection is dropped unless the body was read whole."""
    @property
    def closed(self) -> bool: ...

@final
class Client:
    """A connection pool with its settings. The module-level functions share a default one."""

    def __new__(
        cls,
        *,
        verify: bool = True,
        ca_bundle: str | None = None,
        client_cert: str | None = None,
        client_key: str | None = None,
        http2: bool | str = True,
        connect_timeout: float | None = 30.0,
        read_timeout: float | None = None,
        pool_idle_timeout: float | None = 15.0,
        limit: int = 0,
        limit_per_host: int = 0,
        force_close: bool = False,
        proxy: str | None = None,
        trust_env: bool = False,
        user_agent: str | None = None,
    ) -> Client: ...
    def fetch(self, url: str, **options: Any) -> asyncio.Future[Response]: ...
    def fetch_all(self, urls: Iterable[str], **options: Any) -> asyncio.Future[list[Any]]: ...
    def open(self, url: str, **options: Any) -> asyncio.Future[StreamResponse]:
        """Send the request and complete once the response head has arrived."""
    def close(self) -> None: ...
    @property
    def closed(self) -> bool: ...

def fetch(url: str, **options: Any) -> asyncio.Future[Response]: ...
def fetch_all(urls: Iterable[str], **options: Any) -> asyncio.Future[list[Any]]: ...
def _after_fork_in_child() -> None: ...
def _shutdown() -> None: ...

@final
class LoopbackServer:
    """A fast HTTP/1.1 server on 127.0.0.1 in its own thread, for the demo, tests and benchmarks.

    ``GET /bytes/N`` answers N bytes; ``GET /status/N`` answers that status; ``GET /redirect/N``
    redirects N times then answers; any other path answers a short text. Query strings are ignored.
    """

    def __new__(cls, port: int = 0) -> LoopbackServer: ...
    @property
    def port(self) -> int: ...
    @property
    def url(self) -> str: ...
    @property
    def requests_served(self) -> int: ...
    @property
    def connections_accepted(self) -> int: ...
    def close(self) -> None: ...
    def __enter__(self) -> LoopbackServer: ...
    def __exit__(self, *_exc_info: object) -> None: ...
