"""Compressed payloads for the decoding tests: bombs of zeros and one-shot compressors."""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable

import brotlicffi  # type: ignore[import-untyped]
import zstandard

MiB = 1 << 20


def _compress_zeros(encoding: str, mebibytes: int) -> bytes:
    chunk = bytes(MiB)
    if encoding in ("gzip", "deflate"):
        deflater = zlib.compressobj(9, zlib.DEFLATED, 31 if encoding == "gzip" else 15)
        parts = [deflater.compress(chunk) for _ in range(mebibytes)]
        parts.append(deflater.flush())
        return b"".join(parts)
    if encoding == "br":
        compressor = brotlicffi.Compressor(quality=5)
        parts = [compressor.compress(chunk) for _ in range(mebibytes)]
        parts.append(compressor.finish())
        return b"".join(parts)
    if encoding == "zstd":
        zstd = zstandard.ZstdCompressor(level=3).compressobj()
        parts = [zstd.compress(chunk) for _ in range(mebibytes)]
        parts.append(zstd.flush())
        return b"".join(parts)
    raise ValueError(encoding)


@functools.cache
def bomb(encoding: str, mebibytes: int) -> bytes:
    """``mebibytes`` MiB of zeros, compressed (cached: building one takes up to a second)."""
    return _compress_zeros(encoding, mebibytes)


COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": lambda data: zlib.compress(data, wbits=31),
    "deflate": zlib.compress,
    "br": lambda data: bytes(brotlicffi.compress(data)),
    "zstd": lambda data: zstandard.ZstdCompressor().compress(data),
}
