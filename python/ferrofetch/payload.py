"""aiohttp's payload objects (``aiohttp.payload``) as request bodies: ``data=BytesPayload(...)``.

A payload is a value with the ``Content-Type`` (and other part headers) it is sent with. Given as
``data=`` or as a :class:`~ferrofetch.FormData` field, it is sent like the value it wraps: bytes
and text whole, files read in a worker thread and streamed (see ``_files``), async iterables
streamed. :func:`get_payload` picks the class for a value as aiohttp's registry does; a value of
no known kind raises :class:`LookupError`.

Payloads here describe a body; they do not write themselves (aiohttp's ``write()`` /
``write_with_length()`` take aiohttp's own stream writer, which ferrofetch does not have).
"""

from __future__ import annotations

import asyncio
import email.message
import io
import json
import mimetypes
import warnings
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Iterable
from pathlib import Path
from typing import Any, Callable, Optional, Union, cast
from urllib.parse import quote

from multidict import CIMultiDict

__all__ = (
    "AsyncIterablePayload",
    "BufferedReaderPayload",
    "BytesIOPayload",
    "BytesPayload",
    "IOBasePayload",
    "JsonBytesPayload",
    "JsonPayload",
    "LookupError",
    "Payload",
    "StringIOPayload",
    "StringPayload",
    "TextIOPayload",
    "get_payload",
    "streamer",
)

_UNSET: Any = object()
_CONTENT_TYPE = "Content-Type"


class LookupError(Exception):
    """:func:`get_payload` has no payload class for the value."""


def charset_of(content_type: Optional[str]) -> Optional[str]:
    """The ``charset`` parameter of a media type, or None."""
    if not content_type:
        return None
    message = email.message.Message()
    message["content-type"] = content_type
    charset = message.get_param("charset")
    return charset if isinstance(charset, str) and charset else None


def _guess_filename(value: Any) -> Optional[str]:
    name = getattr(value, "name", None)
    if isinstance(name, str) and name and not (name.startswith("<") and name.endswith(">")):
        return Path(name).name
    return None


class Payload:
    """A body value with its headers. ``content_type`` defaults by class, or is guessed from
    ``filename``; ``headers`` are extra part headers (used inside a multipart form)."""

    _default_content_type = "application/octet-stream"

    def __init__(
        self,
        value: Any,
        headers: Union[CIMultiDict[str], dict[str, str], Iterable[tuple[str, str]], None] = None,
        content_type: Optional[str] = _UNSET,
        filename: Optional[str] = None,
        encoding: Optional[str] = None,
        **kwargs: Any,
    ) -> None:
        self._value = value
        self._encoding = encoding
        self._filename = filename
        self._headers: CIMultiDict[str] = CIMultiDict()
        self._size: Optional[int] = None
        self._consumed = False
        if content_type is not _UNSET and content_type is not None:
            self._headers[_CONTENT_TYPE] = content_type
        elif filename is not None:
            self._headers[_CONTENT_TYPE] = mimetypes.guess_type(filename)[0] or self._default_content_type
        else:
            self._headers[_CONTENT_TYPE] = self._default_content_type
        if headers:
            self._headers.update(headers)

    @property
    def value(self) -> Any:
        return self._value

    @property
    def size(self) -> Optional[int]:
        """Bytes the body will take when sent, if known beforehand."""
        return self._size

    @property
    def filename(self) -> Optional[str]:
        return self._filename

    @property
    def headers(self) -> CIMultiDict[str]:
        return self._headers

    @property
    def encoding(self) -> Optional[str]:
        return self._encoding

    @property
    def content_type(self) -> str:
        return self._headers[_CONTENT_TYPE]

    @property
    def consumed(self) -> bool:
        return self._consumed

    @property
    def autoclose(self) -> bool:
        return True

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        raise TypeError("Unable to decode.")

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return self.decode(self._encoding or encoding, errors).encode(self._encoding or encoding)

    async def close(self) -> None:
        self._consumed = True

    async def write(self, writer: Any) -> None:
        raise NotImplementedError("ferrofetch payloads are sent by the session, not written to a writer")

    async def write_with_length(self, writer: Any, content_length: Optional[int]) -> None:
        raise NotImplementedError("ferrofetch payloads are sent by the session, not written to a writer")


class BytesPayload(Payload):
    """Bytes (``bytes``, ``bytearray``, ``memoryview``), sent whole."""

    def __init__(self, value: Union[bytes, bytearray, memoryview], *args: Any, **kwargs: Any) -> None:
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise TypeError(f"value argument must be byte-ish, not {type(value)!r}")
        kwargs.setdefault("content_type", "application/octet-stream")
        super().__init__(value, *args, **kwargs)
        self._size = value.nbytes if isinstance(value, memoryview) else len(value)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return bytes(self._value).decode(encoding, errors)

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return bytes(self._value)


class StringPayload(BytesPayload):
    """Text, encoded in ``encoding``, else the ``charset`` of ``content_type``, else UTF-8."""

    def __init__(
        self,
        value: str,
        *args: Any,
        encoding: Optional[str] = None,
        content_type: Optional[str] = None,
        **kwargs: Any,
    ) -> None:
        if encoding is None:
            if content_type is None:
                real_encoding = "utf-8"
                content_type = "text/plain; charset=utf-8"
            else:
                real_encoding = charset_of(content_type) or "utf-8"
        else:
            real_encoding = encoding
            if content_type is None:
                content_type = f"text/plain; charset={encoding}"
        super().__init__(
            value.encode(real_encoding), *args, encoding=real_encoding, content_type=content_type, **kwargs
        )


class StringIOPayload(StringPayload):
    def __init__(self, value: io.StringIO, *args: Any, **kwargs: Any) -> None:
        super().__init__(value.read(), *args, **kwargs)


class IOBasePayload(Payload):
    """A file object: read in a worker thread and streamed when sent (never whole)."""

    def __init__(
        self, value: Any, disposition: Optional[str] = "attachment", *args: Any, **kwargs: Any
    ) -> None:
        kwargs.setdefault("filename", _guess_filename(value))
        super().__init__(value, *args, **kwargs)
        if (
            self._filename is not None
            and disposition is not None
            and "Content-Disposition" not in self._headers
        ):
            # Sent as a request header when the payload is the body (aiohttp's behaviour).
            self._headers["Content-Disposition"] = f'{disposition}; filename="{quote(self._filename, "")}"'

    @property
    def autoclose(self) -> bool:
        return False

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return bytes(self._value.read()).decode(encoding, errors)

    async def close(self) -> None:
        self._consumed = True
        await asyncio.to_thread(self._value.close)


class BufferedReaderPayload(IOBasePayload):
    """An ``open(path, "rb")`` file."""


class BytesIOPayload(IOBasePayload):
    """An ``io.BytesIO`` (in memory: read whole)."""

    @property
    def autoclose(self) -> bool:
        return True

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return bytes(self._value.getvalue()).decode(encoding, errors)


class TextIOPayload(IOBasePayload):
    """A text file: read whole (in a worker thread) and encoded."""

    def __init__(
        self,
        value: Any,
        *args: Any,
        encoding: Optional[str] = None,
        content_type: Optional[str] = None,
        **kwargs: Any,
    ) -> None:
        if encoding is None:
            encoding = "utf-8"
            if content_type is None:
                content_type = "text/plain; charset=utf-8"
        elif content_type is None:
            content_type = f"text/plain; charset={encoding}"
        super().__init__(value, *args, content_type=content_type, encoding=encoding, **kwargs)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return str(self._value.read())


class JsonPayload(BytesPayload):
    def __init__(
        self,
        value: Any,
        encoding: str = "utf-8",
        content_type: str = "application/json",
        dumps: Callable[[Any], str] = json.dumps,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            dumps(value).encode(encoding), *args, content_type=content_type, encoding=encoding, **kwargs
        )


class JsonBytesPayload(BytesPayload):
    """JSON from an encoder that returns bytes (such as orjson's)."""

    def __init__(
        self,
        value: Any,
        dumps: Callable[[Any], bytes],
        content_type: str = "application/json",
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(dumps(value), *args, content_type=content_type, **kwargs)


class AsyncIterablePayload(Payload):
    """An async iterable of bytes: streamed with chunked encoding, once."""

    def __init__(self, value: AsyncIterable[bytes], *args: Any, **kwargs: Any) -> None:
        if not isinstance(value, AsyncIterable):
            raise TypeError(
                f"value argument must support collections.abc.AsyncIterable interface, got {type(value)!r}"
            )
        kwargs.setdefault("content_type", "application/octet-stream")
        super().__init__(value, *args, **kwargs)


class streamer:
    """Deprecated in aiohttp (use an async generator): ``@streamer`` on ``async def f(writer,
    ...)`` makes ``f(...)`` a body; each ``await writer.write(chunk)`` sends a chunk."""

    def __init__(self, coro: Callable[..., Awaitable[None]]) -> None:
        warnings.warn(
            "@streamer is deprecated, use async generators instead", DeprecationWarning, stacklevel=2
        )
        self.coro = coro

    def __call__(self, *args: Any, **kwargs: Any) -> _Streamed:
        return _Streamed(self.coro, args, kwargs)


class _QueueWriter:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[Optional[bytes]] = asyncio.Queue(maxsize=1)

    async def write(self, chunk: bytes) -> None:
        await self.queue.put(bytes(chunk))


class _Streamed:
    """A ``@streamer`` body: its coroutine runs as the body is sent, one chunk ahead at most."""

    def __init__(
        self, coro: Callable[..., Awaitable[None]], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        self._call = (coro, args, kwargs)

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        coro, args, kwargs = self._call
        writer = _QueueWriter()

        async def produce() -> None:
            try:
                await coro(writer, *args, **kwargs)
            finally:
                await writer.queue.put(None)

        task = asyncio.ensure_future(produce())
        try:
            while (chunk := await writer.queue.get()) is not None:
                yield chunk
            await task  # its exception, if any
        finally:
            task.cancel()


def get_payload(data: Any, *args: Any, **kwargs: Any) -> Payload:
    """The payload for ``data``, as aiohttp's registry chooses it; :class:`LookupError` if none."""
    if isinstance(data, Payload):
        return data
    if isinstance(data, (bytes, bytearray, memoryview)):
        return BytesPayload(cast("Union[bytes, bytearray, memoryview[int]]", data), *args, **kwargs)
    if isinstance(data, str):
        return StringPayload(data, *args, **kwargs)
    if isinstance(data, io.StringIO):
        return StringIOPayload(data, *args, **kwargs)
    if isinstance(data, io.TextIOBase):
        return TextIOPayload(data, *args, **kwargs)
    if isinstance(data, io.BytesIO):
        return BytesIOPayload(data, *args, **kwargs)
    if isinstance(data, (io.BufferedReader, io.BufferedRandom)):
        return BufferedReaderPayload(data, *args, **kwargs)
    if isinstance(data, io.IOBase):
        return IOBasePayload(data, *args, **kwargs)
    if isinstance(data, (AsyncIterable, _Streamed)):
        return AsyncIterablePayload(cast("AsyncIterable[bytes]", data), *args, **kwargs)
    raise LookupError()
