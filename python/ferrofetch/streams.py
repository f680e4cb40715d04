"""``StreamReader``: a response body read on demand from the native stream (``resp.content``).

Data is pulled from Rust one decoded chunk at a time, only when the buffer here is empty, so a
body of any size is read in bounded memory with ``read(n)``, ``readany()``, ``iter_chunked(n)``
and friends. ``read()`` with no size reads the rest in one native call. Once the core has the
whole body (``StreamResponse.finished``), what is left of it is taken at once, without waiting,
so ``at_eof()`` is true as soon as the last byte has been read.

The total timeout bounds the whole exchange: while the body is still coming, no bytes are handed
out once it has passed, not even those already buffered here (the native stream keeps the one
deadline; aiohttp's timer fires regardless of where the bytes are too).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable
from typing import TYPE_CHECKING, Callable, Optional

from ._native import translate_error

if TYPE_CHECKING:
    from . import _core

__all__ = ["EofStream", "StreamReader"]


class EofStream(Exception):
    """End of a stream (kept for code that catches it)."""


class _Iterator:
    __slots__ = ("_read",)

    def __init__(self, read: Callable[[], Awaitable[bytes]]) -> None:
        self._read = read

    def __aiter__(self) -> _Iterator:
        return self

    async def __anext__(self) -> bytes:
        data = await self._read()
        if not data:
            raise StopAsyncIteration
        return data


class _ChunkIterator:
    __slots__ = ("_stream",)

    def __init__(self, stream: StreamReader) -> None:
        self._stream = stream

    def __aiter__(self) -> _ChunkIterator:
        return self

    async def __anext__(self) -> tuple[bytes, bool]:
        chunk = await self._stream.readchunk()
        if chunk == (b"", False):
            raise StopAsyncIteration
        return chunk


class StreamReader:
    """The body of a :class:`~ferrofetch.response.ClientResponse`, readable piece by piece."""

    def __init__(
        self,
        source: Optional[_core.StreamResponse],
        *,
        on_eof: Optional[Callable[[], None]] = None,
        translate: Callable[[BaseException], BaseException] = translate_error,
    ) -> None:
        self._source = source
        self._on_eof = on_eof
        self._translate = translate
        self._buffer: deque[bytes] = deque()
        self._offset = 0  # bytes of _buffer[0] already consumed
        self._size = 0
        self._eof = source is None
        self._exception: Optional[BaseException] = None
        self._total_bytes = 0
        self._waiting = False

    def __repr__(self) -> str:
        state = "eof" if self._eof else "open"
        return f"<StreamReader {self._size} bytes buffered, {state}>"

    # --- state -------------------------------------------------------------------------------

    @property
    def total_bytes(self) -> int:
        """Bytes received from the native stream so far."""
        return self._total_bytes

    @property
    def total_raw_bytes(self) -> int:
        """Body bytes received as they came off the wire: :attr:`total_bytes` for a body
        without ``Content-Encoding``. For an encoded body, whose wire size the native client
        does not report, ``NotImplementedError``."""
        if self._source is not None and self._source.has_header("content-encoding"):
            raise NotImplementedError(
                "total_raw_bytes of a body with a Content-Encoding is not supported by ferrofetch"
            )
        return self._total_bytes

    def exception(self) -> Optional[BaseException]:
        return self._exception

    def set_exception(self, exc: BaseException) -> None:
        """Make every later read raise ``exc`` (used when the response is released)."""
        self._exception = exc

    def is_eof(self) -> bool:
        """The whole body has arrived (some of it may still be buffered here)."""
        self._take_received_rest()
        return self._eof

    def at_eof(self) -> bool:
        """The whole body has arrived and been read."""
        if not self._buffer:
            self._take_received_rest()
        return self._eof and not self._buffer

    async def wait_eof(self) -> None:
        """Read until the end of the body, discarding it."""
        while not self._eof:
            await self._fill()
        self._buffer.clear()
        self._offset = self._size = 0

    # --- pulling from the native stream ---------------------------------------------------------

    async def _pull(self, read: Callable[[], Awaitable[bytes]]) -> bytes:
        """One native read; a failure is kept, so every later read raises it too."""
        if self._waiting:
            raise RuntimeError("Another coroutine is already waiting for incoming data")
        self._waiting = True
        try:
            return await read()
        except asyncio.CancelledError:
            raise
        except BaseException as error:
            translated = self._translate(error)
            self._exception = translated
            raise translated from error
        finally:
            self._waiting = False

    def _take_received_rest(self) -> bool:
        """If the core has received the rest of the body, move it here without waiting and mark
        the end; whether it did."""
        source = self._source
        if self._eof or self._waiting or self._exception is not None or source is None:
            return False
        rest = source.take_complete_body()
        if rest is None:
            return False  # still coming, released, or over the size limit: a read reports it
        self._append(rest)
        self._set_eof()
        return True

    async def _fill(self) -> None:
        """Wait for the next chunk from the network (or the end of the body)."""
        if self._exception is not None:
            raise self._exception
        if self._take_received_rest():
            return
        assert self._source is not None
        chunk = await self._pull(self._source.read_chunk)
        if not chunk:
            self._set_eof()
            return
        self._append(chunk)
        if self._take_received_rest():
            return
        length = self._source.content_length
        if length is not None and self._total_bytes >= length:
            # The declared length has arrived: collect the end now, so at_eof() is true as soon
            # as the data is read (and the connection goes back to the pool at once).
            try:
                rest = await self._pull(self._source.read_chunk)
            except asyncio.CancelledError:
                raise
            except BaseException:
                return  # kept for the next read, after the data that came before it
            if rest:
                self._append(rest)
            else:
                self._set_eof()

    def _append(self, data: bytes) -> None:
        if data:
            self._buffer.append(data)
            self._size += len(data)
            self._total_bytes += len(data)

    def _set_eof(self) -> None:
        if not self._eof:
            self._eof = True
            if self._on_eof is not None:
                self._on_eof()

    def _check_deadline(self) -> None:
        """The total timeout bounds the whole exchange, so bytes that have already arrived are
        not handed out once it has passed while the rest of the body is still coming (the stream
        keeps the deadline: one clock). A body received whole is past the network's reach."""
        source = self._source
        if self._eof or source is None:
            return
        try:
            source.check_deadline()
        except Exception as error:
            translated = self._translate(error)
            self._exception = translated
            raise translated from error

    def _take(self, n: int) -> bytes:
        """Up to ``n`` buffered bytes (all of them for ``n < 0``), without waiting; the total
        timeout's ``asyncio.TimeoutError`` once it has passed (see :meth:`_check_deadline`)."""
        self._check_deadline()
        if n < 0 or n >= self._size:
            if self._offset:
                self._buffer[0] = self._buffer[0][self._offset :]
                self._offset = 0
            data = self._buffer.popleft() if len(self._buffer) == 1 else b"".join(self._buffer)
            self._buffer.clear()
            self._size = 0
            return data
        parts: list[bytes] = []
        while n > 0:
            first = self._buffer[0]
            available = len(first) - self._offset
            if available <= n:
                parts.append(first[self._offset :] if self._offset else first)
                self._buffer.popleft()
                self._offset = 0
                n -= available
                self._size -= available
            else:
                parts.append(first[self._offset : self._offset + n])
                self._offset += n
                self._size -= n
                n = 0
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _take_first_chunk(self) -> bytes:
        self._check_deadline()
        first = self._buffer.popleft()
        if self._offset:
            first = first[self._offset :]
            self._offset = 0
        self._size -= len(first)
        return first

    # --- aiohttp's reading API ------------------------------------------------------------------

    async def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes as soon as any are available; the rest of the body for ``n < 0``;
        ``b""`` at the end."""
        if self._exception is not None:
            raise self._exception
        if n == 0:
            return b""
        if n < 0:
            return await self._read_rest()
        while not self._buffer and not self._eof:
            await self._fill()
        return self._take(n)

    def _received_rest(self) -> Optional[bytes]:
        """The rest of the body if it has all arrived (taken without waiting), else ``None``
        (also when a read would raise: the waiting path reports it)."""
        if self._exception is not None or self._waiting:
            return None
        if not self._eof and not self._take_received_rest():
            return None
        # The usual case, nothing read before: the one buffered piece is handed over, not joined.
        return self._take(-1) if self._buffer else b""

    async def _read_rest(self) -> bytes:
        self._take_received_rest()
        if not self._eof and not self._buffer:
            # Nothing buffered: one native call reads the whole remaining body.
            assert self._source is not None
            body = await self._pull(self._source.read_all)
            self._total_bytes += len(body)
            self._set_eof()
            return body
        while not self._eof:
            await self._fill()
        return self._take(-1) if self._buffer else b""

    async def readany(self) -> bytes:
        """Whatever is available (waiting for at least one byte); ``b""`` at the end."""
        if self._exception is not None:
            raise self._exception
        while not self._buffer and not self._eof:
            await self._fill()
        return self._take(-1) if self._buffer else b""

    async def readchunk(self) -> tuple[bytes, bool]:
        """``(data, end_of_http_chunk)`` as received; the flag is always ``False`` here (the
        native stream does not report HTTP chunk boundaries). ``(b"", False)`` at the end."""
        if self._exception is not None:
            raise self._exception
        while not self._buffer and not self._eof:
            await self._fill()
        if self._buffer:
            return self._take_first_chunk(), False
        return b"", False

    async def readexactly(self, n: int) -> bytes:
        """Exactly ``n`` bytes, or ``asyncio.IncompleteReadError`` if the body ends first."""
        if self._exception is not None:
            raise self._exception
        parts: list[bytes] = []
        remaining = n
        while remaining > 0:
            block = await self.read(remaining)
            if not block:
                partial = b"".join(parts)
                raise asyncio.IncompleteReadError(partial, n)
            parts.append(block)
            remaining -= len(block)
        return b"".join(parts)

    async def readuntil(self, separator: bytes = b"\n", *, max_size: Optional[int] = None) -> bytes:
        """Bytes up to and including ``separator`` (or to the end of the body)."""
        if not separator:
            raise ValueError("Separator should be at least one-byte string")
        if self._exception is not None:
            raise self._exception
        limit = max_size or 2**17
        searched = 0
        while True:
            if self._buffer:
                joined = self._take(-1)
                self._buffer.appendleft(joined)
                self._size = len(joined)
                index = joined.find(separator, max(0, searched - len(separator) + 1))
                if index != -1:
                    return self._take(index + len(separator))
                searched = len(joined)
                if searched > limit:
                    raise ValueError(f"Line is too long: more than {limit} bytes without {separator!r}")
            if self._eof:
                return self._take(-1) if self._buffer else b""
            await self._fill()

    async def readline(self, *, max_line_length: Optional[int] = None) -> bytes:
        """One line, ``\\n`` included (the last one may lack it)."""
        return await self.readuntil(b"\n", max_size=max_line_length)

    def read_nowait(self, n: int = -1) -> bytes:
        """Up to ``n`` buffered bytes (all for ``n < 0``) without waiting for the network."""
        if self._exception is not None:
            raise self._exception
        if self._waiting:
            raise RuntimeError("Called while some coroutine is waiting for incoming data.")
        return self._take(n) if self._buffer else b""

    def unread_data(self, data: bytes) -> None:
        """Push ``data`` back to the front of the buffer."""
        if not data:
            return
        if self._offset:
            self._buffer[0] = self._buffer[0][self._offset :]
            self._offset = 0
        self._buffer.appendleft(data)
        self._size += len(data)

    # --- iteration ---------------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[bytes]:
        """Line by line, like aiohttp."""
        return _Iterator(self.readline)

    def iter_chunked(self, n: int) -> AsyncIterator[bytes]:
        """Pieces of at most ``n`` bytes."""
        return _Iterator(lambda: self.read(n))

    def iter_any(self) -> AsyncIterator[bytes]:
        """Pieces as they arrive."""
        return _Iterator(self.readany)

    def iter_chunks(self) -> AsyncIterator[tuple[bytes, bool]]:
        """``(data, end_of_http_chunk)`` pairs as they arrive (see :meth:`readchunk`)."""
        return _ChunkIterator(self)
