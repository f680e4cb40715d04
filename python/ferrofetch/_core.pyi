"""Stubs for the native core (``ferrofetch._core``), built from ``src/`` by maturin.

Everything that waits returns a ``Pending`` bound to the running event loop; the request runs
on ferrofetch's own tokio runtime and the ``Pending`` completes on the loop that made the call.
Cancelling it aborts the request and closes its connection.
"""

import asyncio
import contextvars
from collections.abc import AsyncIterable, Awaitable, Callable, Coroutine, Generator, Iterable
from typing import Any, Literal, TypeVar, final, overload

from multidict import CIMultiDictProxy
from typing_extensions import Unpack

from .options import ClientRequestOptions, FetchOptions

_T = TypeVar("_T")

__version__: str
DEFAULT_MAX_BODY_SIZE: int
DEFAULT_USER_AGENT: str

def json_text(body: bytes, encoding: str | None = None) -> str:
    """``body`` decoded as JSON text: with ``encoding`` (UTF-8 when ``None`` or unknown to
    Python), strict, and one leading byte order mark dropped (RFC 8259 §8.1)."""

def configure(*, worker_threads: int | None = None) -> None:
    """Set the runtime's worker-thread count before first use (raises ``RuntimeError`` after)."""

def runtime_info() -> dict[str, Any]:
    """``{"started": bool, "worker_threads": int, "flavor": "current_thread" | "multi_thread"}``."""

@final
class Pending(Coroutine[Any, Any, _T]):
    """The result of a ferrofetch call: a coroutine to asyncio, and its own future when awaited.

    ``await`` it, or hand it to ``asyncio.run``, ``create_task``, ``TaskGroup.create_task``,
    ``gather``, ``wait_for`` or ``ensure_future`` like any coroutine. Made inside a running loop,
    the request starts at once; made outside one, it starts when first awaited.
    """

    _asyncio_future_blocking: bool
    def get_loop(self) -> asyncio.AbstractEventLoop: ...
    def done(self) -> bool: ...
    def cancelled(self) -> bool: ...
    def result(self) -> _T: ...
    def exception(self) -> BaseException | None: ...
    def add_done_callback(
        self, callback: Callable[[Pending[_T]], object], *, context: contextvars.Context | None = None
    ) -> None: ...
    def remove_done_callback(self, callback: Callable[[Pending[_T]], object]) -> int: ...
    def cancel(self, msg: Any | None = None) -> bool: ...
    def __await__(self) -> Generator[Any, None, _T]: ...
    def __iter__(self) -> Generator[Any, None, _T]: ...
    def __next__(self) -> Any: ...
    def send(self, _value: Any, /) -> Any: ...
    def throw(self, kind: Any, value: Any = None, _traceback: Any = None, /) -> Any: ...
    def close(self) -> None: ...

@final
class Response:
    """A completed response whose body has been read whole (and decoded: gzip, br, zstd, deflate).

    Headers and ``content`` become Python objects only when first read, so a batch of 100,000
    results costs little until used.
    """

    @property
    def url(self) -> str:
        """The final URL, after redirects (without credentials)."""
    @property
    def method(self) -> str:
        """The method of the last request sent (a 303 turns POST into GET)."""
    @property
    def status(self) -> int:
        """The HTTP status code."""
    @property
    def reason(self) -> str:
        """The status's reason phrase (``"OK"``), from the status code."""
    @property
    def ok(self) -> bool:
        """``status < 400``, as aiohttp's ``ClientResponse.ok``."""
    @property
    def headers(self) -> CIMultiDictProxy[str]:
        """Response headers: read-only, case-insensitive, multi-valued; names in lower case."""
    @property
    def raw_headers(self) -> tuple[tuple[bytes, bytes], ...]:
        """``(name, value)`` byte pairs, as aiohttp's ``raw_headers``."""
    @property
    def content(self) -> bytes:
        """The body, decoded (at most ``max_body_size`` bytes)."""
    @property
    def text(self) -> str:
        """The body decoded by the Content-Type charset, UTF-8 otherwise; undecodable bytes are
        replaced."""
    @property
    def charset(self) -> str | None:
        """The Content-Type's ``charset`` parameter, if any."""
    @property
    def content_type(self) -> str:
        """The Content-Type's media type (``"application/json"``), ``"application/octet-stream"``
        when absent (RFC 9110 §8.3)."""
    @property
    def elapsed(self) -> float:
        """Seconds from sending the request to the whole body read."""
    @property
    def http_version(self) -> str:
        """The protocol the response came over: ``"HTTP/1.0"``, ``"HTTP/1.1"`` or ``"HTTP/2"``."""
    @property
    def history(self) -> list[str]:
        """The URLs redirected from, in order (without credentials)."""
    def json(self, **loads_kwargs: Any) -> Any:
        """The body parsed by ``json.loads(content, **loads_kwargs)``: from bytes, so UTF-8, -16
        and -32 are detected and a UTF-8 BOM is skipped (RFC 8259 §8.1 lets a parser ignore it)."""
    def raise_for_status(self) -> None:
        """Raises ``ClientResponseError`` (with ``status``, ``message``, ``headers``, ``url``) for
        a 4xx or 5xx status; does nothing otherwise."""
    def __reduce__(self) -> tuple[Callable[..., Response], tuple[Any, ...]]:
        """Pickling: the attributes as plain values (headers as raw pairs, the body as bytes)."""
    @staticmethod
    def _from_state(
        url: str,
        method: str,
        status: int,
        reason: str | None,
        http_version: str,
        raw_headers: list[tuple[bytes, bytes]],
        history: list[str],
        content: bytes,
        elapsed_ns: int,
    ) -> Response: ...

@final
class StreamResponse:
    """A response whose head has arrived and whose body is read on demand (``Client.open``)."""

    @property
    def url(self) -> str:
        """The URL of this response (after any redirects), fragment kept, credentials removed."""
    @property
    def method(self) -> str:
        """The method of the request that got this response (``"GET"`` after a 303)."""
    @property
    def status(self) -> int:
        """The status code (``200``)."""
    @property
    def reason(self) -> str:
        """The reason phrase as the server sent it, else the standard one for the status."""
    @property
    def headers(self) -> CIMultiDictProxy[str]:
        """The response headers, case-insensitive, in the order received."""
    @property
    def raw_headers(self) -> tuple[tuple[bytes, bytes], ...]:
        """The response headers as the bytes received: ``((name, value), ...)``."""
    def has_header(self, name: str) -> bool:
        """Whether the response has a header of this name (any case), without converting the
        headers for Python."""
    @property
    def http_version(self) -> str:
        """The protocol the response came over: ``"HTTP/1.0"``, ``"HTTP/1.1"`` or ``"HTTP/2"``."""
    @property
    def history(self) -> list[str]:
        """The URLs redirected from, in order (without credentials)."""
    @property
    def content_length(self) -> int | None:
        """``Content-Length`` in bytes (a list of equal values counts as one, RFC 9110 §8.6),
        else None."""
    @property
    def elapsed(self) -> float:
        """Seconds since the request's first hop was sent, read at each access."""
    @property
    def request_headers(self) -> list[tuple[str, str]] | None:
        """What the request sent for this response (``each_redirect=True`` only), else None."""
    def take_complete_body(self) -> bytes | None:
        """The whole body if it has already arrived (small bodies come with the head), else None.

        Taking it consumes it, as reading would; it saves a trip through the event loop.
        """
    def read_chunk(self) -> Pending[bytes]:
        """The next decoded chunk as it arrives from the network; ``b""`` at the end."""
    def read_all(self) -> Pending[bytes]:
        """The rest of the body (bounded by ``max_body_size``)."""
    def close(self) -> None:
        """Stop reading; the connection is closed at once unless the body was received whole
        (a pending read then raises ``ClientConnectionError``)."""
    @property
    def closed(self) -> bool:
        """True once closed, or once the client it came from was closed."""
    def check_deadline(self) -> None:
        """Raise ``ServerTimeoutError`` once the total timeout (``timeout=`` of ``open``) has
        passed; the stream keeps that deadline for every read."""
    @property
    def finished(self) -> bool:
        """True once the whole body has been received (or released)."""

@final
class Redirect:
    """A redirect met by ``Client.open(..., each_redirect=True)``: the request waits here until
    ``follow()``, so that a cookie jar can see the hop."""

    @property
    def response(self) -> StreamResponse:
        """The redirect's own response (head only; its body is not read)."""
    @property
    def location(self) -> str:
        """Where it leads; the request's fragment is kept when the Location has none."""
    @property
    def same_origin(self) -> bool:
        """Whether it stays on the scheme, host and port of the redirect's URL."""
    @property
    def method(self) -> str:
        """The method the next hop sends: ``"GET"`` after a 303 (``HEAD`` stays ``HEAD``) and
        after a 301/302 of a ``POST``; the request's own otherwise (RFC 9110 §15.4)."""
    @property
    def keeps_body(self) -> bool:
        """Whether the next hop sends the request's body again (307/308, 301/302 but for POST)."""
    def follow(
        self, cookie: str | None = None, data: AsyncIterable[Any] | None = None
    ) -> Pending[StreamResponse | Redirect]:
        """Send the next hop with ``cookie`` as its ``Cookie`` header (``None``: none), and
        ``data`` (an async iterable, given again) as its body when it keeps one.

        Raises ``TooManyRedirects`` once ``max_redirects`` have been followed.
        """

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
    def fetch(self, url: str, **options: Unpack[ClientRequestOptions]) -> Pending[Response]:
        """``ferrofetch.fetch`` on this pool: the request options only."""
    @overload
    def fetch_all(
        self,
        urls: Iterable[str],
        *,
        concurrency: int = 100,
        return_exceptions: Literal[False] = False,
        **options: Unpack[ClientRequestOptions],
    ) -> Pending[list[Response]]: ...
    @overload
    def fetch_all(
        self,
        urls: Iterable[str],
        *,
        concurrency: int = 100,
        return_exceptions: Literal[True],
        **options: Unpack[ClientRequestOptions],
    ) -> Pending[list[Response | BaseException]]: ...
    @overload
    def fetch_all(
        self,
        urls: Iterable[str],
        *,
        concurrency: int = 100,
        return_exceptions: bool,
        **options: Unpack[ClientRequestOptions],
    ) -> Pending[list[Response | BaseException]]: ...
    @overload
    def open(
        self,
        url: str,
        *,
        each_redirect: Literal[False] = False,
        **options: Unpack[ClientRequestOptions],
    ) -> Pending[StreamResponse]: ...
    @overload
    def open(
        self, url: str, *, each_redirect: bool, **options: Unpack[ClientRequestOptions]
    ) -> Pending[StreamResponse | Redirect]:
        """Send the request and complete once the response head has arrived.

        Connection settings given (``verify``, ``ca_pem``, ``connect_timeout``, ``read_timeout``,
        ``proxy``, ``trust_env``; also on ``fetch`` and ``fetch_all``) select a pool of this
        client made for them. With ``each_redirect=True`` each redirect completes as a
        ``Redirect``, and the request goes on with ``Redirect.follow()``.
        """
    def prepare(self, **options: Any) -> PreparedOpen:
        """``open``'s options (and ``each_redirect``) read once, for requests that differ only
        in what ``PreparedOpen.open`` takes; the pool is chosen here, as ``open`` chooses it."""
    def close(self) -> None: ...
    @property
    def closed(self) -> bool: ...

@final
class PreparedOpen:
    """``Client.prepare(**options)``: a session's usual request, its options read once."""

    def open(
        self,
        url: str,
        method: str,
        follow_redirects: bool,
        data: bytes | None = None,
        content_type: str | None = None,
        cookie: str | None = None,
    ) -> Pending[StreamResponse | Redirect]:
        """Like ``Client.open(url, **options)`` with this ``method`` (upper case), these
        ``follow_redirects``, ``data`` and ``content_type``, and ``cookie`` (``None``: none) as a
        ``Cookie`` header added to the prepared ones. ``RuntimeError`` once the client is
        closed; ``ValueError`` for a method that is not a token or a value with control
        characters."""

def fetch(url: str, **options: Unpack[FetchOptions]) -> Pending[Response]: ...
@overload
def fetch_all(
    urls: Iterable[str],
    *,
    concurrency: int = 100,
    return_exceptions: Literal[False] = False,
    **options: Unpack[FetchOptions],
) -> Pending[list[Response]]: ...
@overload
def fetch_all(
    urls: Iterable[str],
    *,
    concurrency: int = 100,
    return_exceptions: Literal[True],
    **options: Unpack[FetchOptions],
) -> Pending[list[Response | BaseException]]: ...
@overload
def fetch_all(
    urls: Iterable[str],
    *,
    concurrency: int = 100,
    return_exceptions: bool,
    **options: Unpack[FetchOptions],
) -> Pending[list[Response | BaseException]]: ...
def _after_fork_in_child() -> None: ...
def _shutdown() -> None: ...
def _install_router(
    router: Callable[
        [str, str, list[tuple[str, str]], bytes],
        Awaitable[tuple[int, str | None, list[tuple[str, str]], bytes] | None],
    ]
    | None,
    /,
) -> None: ...

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
