"""Request bodies: what aiohttp accepts as ``data=``/``json=``, turned into bytes and a Content-Type.

bytes -> ``application/octet-stream``; str -> ``text/plain; charset=utf-8``; a mapping, a
multidict or ``(name, value)`` pairs -> a form (:class:`~ferrofetch.formdata.FormData`); a
``FormData`` -> URL-encoded or multipart; a binary file object -> its contents (type guessed from
its name), read in a worker thread and streamed with its ``Content-Length``, never held whole
(see ``_files``); an async iterable of bytes -> streamed by the native client with chunked
encoding, never held whole (and so not replayable by a 307/308 redirect, as in aiohttp);
``json=`` -> the session's ``json_serialize`` output as ``application/json``.
"""

from __future__ import annotations

import asyncio
import io
import mimetypes
import zlib
from collections.abc import AsyncIterable, Iterable, Mapping
from typing import Any, Callable, Optional, Union, cast

from multidict import MultiDict, MultiDictProxy

from ._files import FileSource, Segments, on_disk
from .formdata import FormData
from .payload import AsyncIterablePayload, BytesPayload, IOBasePayload, Payload, TextIOPayload, streamer
from .upload_tracker import TrackedBody, UploadTracker

__all__ = ["Body", "as_chunked", "compress_body", "encode_data", "encode_json", "request_body", "tracked"]


class Body:
    """An encoded request body and the headers it implies."""

    __slots__ = ("content", "content_type", "headers", "length", "replayable", "stream", "streamed")

    def __init__(
        self, content: bytes, content_type: Optional[str], stream: Optional[AsyncIterable[Any]] = None
    ) -> None:
        self.content = content
        self.content_type = content_type
        # An async iterable body: sent as it yields, once (unless it is replayable: files).
        self.stream = stream
        self.streamed = False
        self.replayable = isinstance(stream, Segments) and stream.replayable
        # A streamed body's size when known beforehand (sent as Content-Length).
        self.length: Optional[int] = stream.length if isinstance(stream, Segments) else None
        # Further headers the body brings (a payload's Content-Disposition); the request's win.
        self.headers: tuple[tuple[str, str], ...] = ()

    async def collected(self) -> bytes:
        """The whole body (a stream is read to the end here)."""
        if self.stream is None:
            return self.content
        stream, self.stream = self.stream, None
        self.content = b"".join([bytes(chunk) async for chunk in stream])
        return self.content


async def request_body(data: Any, json: Any, dumps: Callable[[Any], Union[str, bytes]]) -> Optional[Body]:
    """The body of a request given ``data=`` or ``json=`` (not both); ``None`` for neither."""
    if data is not None and json is not None:
        raise ValueError("data and json parameters can not be used at the same time")
    if json is not None:
        return encode_json(json, dumps)
    if data is not None:
        return await encode_data(data)
    return None


def encode_json(value: Any, dumps: Callable[[Any], Union[str, bytes]]) -> Body:
    """``dumps(value)`` as an ``application/json`` body: text as UTF-8, bytes as they are."""
    encoded = dumps(value)
    return Body(encoded.encode("utf-8") if isinstance(encoded, str) else bytes(encoded), "application/json")


async def encode_data(data: Any) -> Body:
    """The body for a ``data=`` value (never ``None``)."""
    if isinstance(data, Body):
        return data
    if isinstance(data, (bytes, bytearray, memoryview)):
        return Body(bytes(cast("Union[bytes, bytearray, memoryview[int]]", data)), "application/octet-stream")
    if isinstance(data, str):
        return Body(data.encode("utf-8"), "text/plain; charset=utf-8")
    if isinstance(data, Payload):
        body = await _payload_body(data)
        body.headers = tuple((k, v) for k, v in data.headers.items() if k.lower() != "content-type")
        return body
    if isinstance(data, streamer):
        data = data()  # aiohttp takes an uncalled @streamer function as a body too
    if isinstance(data, FormData):
        encoded, content_type = await data.encode_streamed()
        if isinstance(encoded, Segments):
            return Body(b"", content_type, stream=encoded)
        return Body(encoded, content_type)
    if on_disk(data):
        return Body(b"", _guessed_type(data), stream=Segments([await FileSource.of(data)]))
    if isinstance(data, io.IOBase):
        return await _file_body(data)
    if isinstance(data, AsyncIterable):
        return Body(b"", "application/octet-stream", stream=cast("AsyncIterable[bytes]", data))
    if isinstance(data, (Mapping, MultiDict, MultiDictProxy, list, tuple)):
        return await encode_data(FormData(cast("Iterable[Any]", data)))
    raise TypeError(
        f"data of type {type(data).__name__} cannot be sent: pass bytes, str, a mapping or "
        "(name, value) pairs, FormData, a file object or an async iterable of bytes"
    )


async def _payload_body(payload: Payload) -> Body:
    """An aiohttp-style payload: sent as the value it wraps, with its ``Content-Type``."""
    value, content_type = payload.value, payload.content_type
    if isinstance(payload, BytesPayload):
        return Body(bytes(value), content_type)
    if isinstance(payload, TextIOPayload):
        text = await asyncio.to_thread(value.read)
        # Sent chunked, as aiohttp does: a text file's encoded size is not known beforehand.
        return as_chunked(Body(str(text).encode(payload.encoding or "utf-8"), content_type))
    if isinstance(payload, IOBasePayload):
        if on_disk(value):
            return Body(b"", content_type, stream=Segments([await FileSource.of(value)]))
        return Body(bytes(value.read()), content_type)
    if isinstance(payload, AsyncIterablePayload):
        return Body(b"", content_type, stream=value)
    raise TypeError(f"a payload of type {type(payload).__name__} cannot be sent")


async def _file_body(file: io.IOBase) -> Body:
    """An in-memory buffer, or a text file (read whole, in a worker thread: it is encoded)."""
    content = (
        file.read() if isinstance(file, (io.BytesIO, io.StringIO)) else await asyncio.to_thread(file.read)
    )
    if isinstance(content, str):
        return Body(content.encode("utf-8"), "text/plain; charset=utf-8")
    return Body(bytes(content), _guessed_type(file))


def _guessed_type(file: Any) -> str:
    name = getattr(file, "name", None)
    guessed = None
    if isinstance(name, str) and name and not (name.startswith("<") and name.endswith(">")):
        guessed = mimetypes.guess_type(name)[0]
    return guessed or "application/octet-stream"


def as_chunked(body: Optional[Body]) -> Body:
    """``chunked=True``: the body (or an empty one) sent with chunked transfer encoding."""
    if body is None:
        body = Body(b"", None)
    if body.stream is not None:
        return body
    chunked = Body(b"", body.content_type, stream=Segments([body.content]))
    chunked.length = None  # no Content-Length: the framing is chunked
    chunked.headers = body.headers
    return chunked


def tracked(body: Optional[Body], tracker: UploadTracker) -> Optional[Body]:
    """``upload_tracker=``: the body pulled through a counter (same framing, same replays)."""
    if body is None:
        return None
    inner = body.stream if body.stream is not None else Segments([body.content])
    length = len(body.content) if body.stream is None else body.length
    counted = Body(b"", body.content_type, stream=TrackedBody(inner, tracker, length))
    counted.length = length
    counted.headers = body.headers
    counted.replayable = body.stream is None or body.replayable
    return counted


def compress_body(content: bytes, encoding: str) -> bytes:
    """``compress=`` for a request body: ``deflate`` (zlib stream) or ``gzip``."""
    if encoding == "gzip":
        compressor = zlib.compressobj(wbits=16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        compressor = zlib.compressobj(wbits=zlib.MAX_WBITS)
    else:
        raise ValueError(f"compress={encoding!r} is not supported: use 'deflate' or 'gzip'")
    return compressor.compress(content) + compressor.flush()
