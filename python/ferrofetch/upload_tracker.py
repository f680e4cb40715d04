"""``UploadTracker`` (aiohttp 3.14): the progress of one request's body upload.

``bytes_written`` counts the body bytes handed to the native client for the current attempt
(each redirect that sends the body again is a new attempt, counted in ``attempts``); it is read
as the body is pulled, so bytes still in the client's or the kernel's buffers are counted, where
aiohttp subtracts its own transport buffer. ``upload_complete`` resolves once the request ends
with the body sent whole, or fails with the upload's error, or with
:class:`~ferrofetch.exceptions.UploadAbortedError` when the body was not sent whole.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterable, AsyncIterator, Awaitable
from typing import Any, Callable, Optional, TypeVar, cast

from .exceptions import UploadAbortedError

__all__ = ["TrackedBody", "UploadTracker", "tracks_uploads"]

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


class UploadTracker:
    """Pass a fresh one as ``upload_tracker=`` to one request; made inside a running event loop.
    A second request with the same tracker raises ``RuntimeError``."""

    def __init__(self) -> None:
        self.attempts = 0
        self.upload_complete: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._bound = False
        self._final = False
        self._finished = False
        self._writing = False
        self._exc: Optional[BaseException] = None
        self._written = 0

    @property
    def bytes_written(self) -> int:
        """Body bytes of the current attempt handed to the native client so far."""
        return self._written

    def _bind(self) -> None:
        if self._bound:
            raise RuntimeError("UploadTracker is already bound to a request")
        self._bound = True

    def _attempt_started(self, has_body: bool) -> None:
        """A request of the chain is about to be sent; one without a body has sent it all."""
        self.attempts += 1
        self._written = 0
        self._finished = not has_body
        self._exc = None

    def _attempt_ended(self, finished: bool, exc: Optional[BaseException] = None) -> None:
        self._writing = False
        self._finished = finished
        self._exc = exc
        if self._final:
            self._settle()

    def _finalize(self, failed: bool = False) -> None:
        """The request ended (returned or raised): no attempt starts after this. A request that
        returned may still be sending its body (the server answered early); one that raised
        (or was cancelled) sends no more of it."""
        self._final = True
        if failed:
            self._writing = False
        if not self._writing:
            self._settle()

    def _settle(self) -> None:
        future = self.upload_complete
        if future.done():
            return
        if self._finished:
            future.set_result(None)
            return
        future.set_exception(self._exc or UploadAbortedError("The request body was not fully sent"))
        future.exception()  # retrieved: a poll with .done() must not log "never retrieved"


def tracks_uploads(send: F) -> F:
    """Wraps a request function: its ``upload_tracker=`` is bound first and settled however the
    request ends, also when it fails before anything is sent (as in aiohttp)."""

    @functools.wraps(send)
    async def send_tracked(*args: Any, **kwargs: Any) -> Any:
        tracker = kwargs.get("upload_tracker")
        if not isinstance(tracker, UploadTracker):
            return await send(*args, **kwargs)
        tracker._bind()
        try:
            result = await send(*args, **kwargs)
        except BaseException:
            tracker._finalize(failed=True)
            raise
        tracker._finalize()
        return result

    return cast(F, send_tracked)


class TrackedBody:
    """``inner`` (an async iterable of bytes, ``length`` bytes if known) counted into
    ``tracker`` as it is pulled; every ``async for`` is a new attempt."""

    def __init__(self, inner: AsyncIterable[Any], tracker: UploadTracker, length: Optional[int]) -> None:
        self._inner = inner
        self._tracker = tracker
        self._length = length

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[Any]:
        tracker = self._tracker
        tracker._written = 0
        tracker._writing = True
        try:
            async for chunk in self._inner:
                tracker._written += len(chunk)
                if self._length is not None and tracker._written >= self._length:
                    # A body of known length is not pulled past its last byte.
                    tracker._attempt_ended(True)
                yield chunk
        except Exception as error:
            if tracker._writing:
                tracker._attempt_ended(False, error)
            raise
        except BaseException:
            if tracker._writing:
                tracker._attempt_ended(False)
            raise
        if tracker._writing:
            tracker._attempt_ended(True)
