"""Request hooks in aiohttp's shape: ``ClientSession(trace_configs=[TraceConfig(), ...])``.

A :class:`TraceConfig` holds signals (``aiosignal.Signal``, lists of coroutine functions) that a
session sends for each request: ``on_request_start`` before it is sent, ``on_request_redirect``
for each redirect followed, then ``on_request_end`` with the response or
``on_request_exception`` with the exception. Each callback is awaited as
``callback(session, trace_config_ctx, params)``; ``trace_config_ctx`` is a fresh
``types.SimpleNamespace`` per request and config whose ``trace_request_ctx`` is the request's
``trace_request_ctx=`` argument, as in aiohttp.

Where ferrofetch differs: the redirect signals are sent after the last hop, just before
``on_request_end`` (the hops themselves run in the engine); aiohttp's connection, DNS and chunk
signals do not exist (the engine's connection events go to the ``ferrofetch`` logger instead).
"""

from __future__ import annotations

from collections.abc import Awaitable, Coroutine
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Callable, Optional, TypeVar

from aiosignal import Signal
from multidict import CIMultiDict
from yarl import URL

from ._headers import LooseHeaders, StrOrURL, merge_headers

if TYPE_CHECKING:
    from ._session_view import SessionView
    from .response import ClientResponse

    _P = TypeVar("_P", contravariant=True)
    # A signal of ``callback(session, trace_config_ctx, params: _P)``, as aiohttp types it. The
    # session is ``Any`` so that callbacks annotated with ``ClientSession`` type-check, without
    # this module importing ``session`` (which imports it).
    _TracingSignal = Signal[Any, SimpleNamespace, _P]

__all__ = [
    "TraceConfig",
    "TraceRequestEndParams",
    "TraceRequestExceptionParams",
    "TraceRequestRedirectParams",
    "TraceRequestStartParams",
]


@dataclass(frozen=True)
class TraceRequestStartParams:
    """Sent by ``on_request_start``: the method, the URL with ``params`` applied, and the
    headers given (the session's merged with the request's, before automatic ones)."""

    method: str
    url: URL
    headers: CIMultiDict[str]


@dataclass(frozen=True)
class TraceRequestEndParams:
    """Sent by ``on_request_end``: the final hop's method and URL, and the response."""

    method: str
    url: URL
    headers: CIMultiDict[str]
    response: ClientResponse


@dataclass(frozen=True)
class TraceRequestExceptionParams:
    """Sent by ``on_request_exception``: the request and the exception it ended with."""

    method: str
    url: URL
    headers: CIMultiDict[str]
    exception: BaseException


@dataclass(frozen=True)
class TraceRequestRedirectParams:
    """Sent by ``on_request_redirect``: the hop that redirected and its response."""

    method: str
    url: URL
    headers: CIMultiDict[str]
    response: ClientResponse


class TraceConfig:
    """The request hooks of a session (aiohttp's ``TraceConfig``).

    >>> trace = ferrofetch.TraceConfig()  # doctest: +SKIP
    >>> trace.on_request_start.append(on_start)  # async def on_start(session, ctx, params)
    >>> session = ferrofetch.ClientSession(trace_configs=[trace])

    ``trace_config_ctx_factory`` makes each request's context (default ``SimpleNamespace``),
    called with ``trace_request_ctx=``. The signals are frozen (no more callbacks can be added)
    when a session takes the config.
    """

    def __init__(self, trace_config_ctx_factory: Callable[..., SimpleNamespace] = SimpleNamespace) -> None:
        self._on_request_start: _TracingSignal[TraceRequestStartParams] = Signal(self)
        self._on_request_end: _TracingSignal[TraceRequestEndParams] = Signal(self)
        self._on_request_exception: _TracingSignal[TraceRequestExceptionParams] = Signal(self)
        self._on_request_redirect: _TracingSignal[TraceRequestRedirectParams] = Signal(self)
        self._trace_config_ctx_factory = trace_config_ctx_factory

    def trace_config_ctx(self, trace_request_ctx: Any = None) -> SimpleNamespace:
        """A new context for one request."""
        return self._trace_config_ctx_factory(trace_request_ctx=trace_request_ctx)

    def freeze(self) -> None:
        """Freeze the signals: callbacks can no longer be added or removed."""
        for signal in self._signals():
            signal.freeze()

    def _signals(self) -> tuple[Signal[Any, Any, Any], ...]:
        return (
            self._on_request_start,
            self._on_request_end,
            self._on_request_exception,
            self._on_request_redirect,
        )

    @property
    def on_request_start(self) -> _TracingSignal[TraceRequestStartParams]:
        return self._on_request_start

    @property
    def on_request_end(self) -> _TracingSignal[TraceRequestEndParams]:
        return self._on_request_end

    @property
    def on_request_exception(self) -> _TracingSignal[TraceRequestExceptionParams]:
        return self._on_request_exception

    @property
    def on_request_redirect(self) -> _TracingSignal[TraceRequestRedirectParams]:
        return self._on_request_redirect


async def traced(
    session: SessionView,
    configs: list[TraceConfig],
    method: str,
    str_or_url: StrOrURL,
    params: Any,
    headers: Optional[LooseHeaders],
    trace_request_ctx: Any,
    request: Coroutine[Any, Any, ClientResponse],
) -> ClientResponse:
    """Await ``request`` (the session request for these arguments) between the signals of
    ``configs``, in aiohttp's order."""
    try:
        url = session._request_url(str_or_url, params)[1]
        merged = merge_headers(session.headers, headers)
    except Exception:
        # aiohttp sends no signal for a request refused before it starts: the request raises.
        return await request
    method = method.upper()
    contexts = [(config, config.trace_config_ctx(trace_request_ctx=trace_request_ctx)) for config in configs]
    await _send(session, contexts, "_on_request_start", TraceRequestStartParams(method, url, merged))
    try:
        response = await request
    except BaseException as error:
        await _send(
            session,
            contexts,
            "_on_request_exception",
            TraceRequestExceptionParams(method, url, merged, error),
        )
        raise
    for hop in response.history:
        await _send(
            session,
            contexts,
            "_on_request_redirect",
            TraceRequestRedirectParams(hop.method, hop.url, merged, hop),
        )
    await _send(
        session,
        contexts,
        "_on_request_end",
        TraceRequestEndParams(response.method, response.url, merged, response),
    )
    return response


async def _send(
    session: SessionView, contexts: list[tuple[TraceConfig, SimpleNamespace]], signal: str, params: object
) -> None:
    for config, context in contexts:
        sending: Awaitable[None] = getattr(config, signal).send(session, context, params)
        await sending
