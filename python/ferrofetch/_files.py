"""File objects as request bodies, read in a worker thread so the event loop never blocks on disk.

A file is read from the position it had when it was given, in :data:`CHUNK_SIZE` pieces, each by
``asyncio.to_thread``; the chunks are streamed to the native client as they come, so a file of
any size is never held whole. An OS file has a known length (sent as ``Content-Length``, as
aiohttp does); any seekable file can be sent again (a 307/308 redirect), from the same position.
"""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import AsyncIterator, Sequence
from typing import Any, Optional, Union

__all__ = ["CHUNK_SIZE", "FileSource", "Segments", "on_disk"]

#: Bytes read from a file per worker-thread call (aiohttp reads 256 KiB too).
CHUNK_SIZE = 2**18


def on_disk(value: Any) -> bool:
    """True for a binary file object whose reads may block (anything but an in-memory buffer)."""
    return isinstance(value, io.IOBase) and not isinstance(value, (io.BytesIO, io.TextIOBase))


class FileSource:
    """A binary file object's bytes from position ``start`` (None: not seekable), ``length``
    bytes long (None: until its end, size not announced)."""

    __slots__ = ("file", "length", "start")

    def __init__(self, file: Any, start: Optional[int], length: Optional[int]) -> None:
        self.file = file
        self.start = start
        self.length = length

    @classmethod
    async def of(cls, file: Any) -> FileSource:
        """Measure ``file`` (in a worker thread: seeking may touch the disk)."""
        return await asyncio.to_thread(cls._measure, file)

    @classmethod
    def _measure(cls, file: Any) -> FileSource:
        try:
            if not file.seekable():
                return cls(file, None, None)
            start = file.tell()
            end = file.seek(0, os.SEEK_END)
            file.seek(start)
        except (OSError, ValueError, AttributeError):
            return cls(file, None, None)
        # Only an OS file's size is announced (as aiohttp does); other seekable objects (a tar
        # member) are sent chunked, to their end, but can still be sent again.
        if not isinstance(getattr(file, "raw", file), io.FileIO):
            return cls(file, start, None)
        return cls(file, start, max(end - start, 0))

    async def chunks(self) -> AsyncIterator[bytes]:
        """The bytes, read off the event loop one chunk at a time."""
        if self.start is not None:
            await asyncio.to_thread(self.file.seek, self.start)
        remaining = self.length
        while remaining is None or remaining > 0:
            size = CHUNK_SIZE if remaining is None else min(CHUNK_SIZE, remaining)
            chunk = await asyncio.to_thread(self.file.read, size)
            if not chunk:
                break
            if remaining is not None:
                remaining -= len(chunk)
            yield bytes(chunk)


class Segments:
    """A body made of bytes and files, streamed in order. Each ``async for`` starts over, so the
    body can be sent again when every file in it is seekable (``replayable``)."""

    __slots__ = ("length", "parts", "replayable")

    def __init__(self, parts: Sequence[Union[bytes, FileSource]]) -> None:
        self.parts = parts
        files = [p for p in parts if isinstance(p, FileSource)]
        self.replayable = all(f.start is not None for f in files)
        lengths = [len(p) if isinstance(p, bytes) else p.length for p in parts]
        self.length: Optional[int] = None if None in lengths else sum(n or 0 for n in lengths)

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[bytes]:
        for part in self.parts:
            if isinstance(part, bytes):
                if part:
                    yield part
            else:
                async for chunk in part.chunks():
                    yield chunk
