"""Bodies the test servers send: the byte pattern, compressed payloads and decompression bombs."""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable

import brotli  # type: ignore[import-untyped]
import zstandard

MiB = 1 << 20

#: The body that ``/gzip``, ``/deflate``, ``/brotli`` and ``/zstd`` send compressed.
COMPRESSED_PAYLOAD = b"".join(
    f"line {i}: ferrofetch decodes this body\n".encode() for i in range(300)
) + bytes(range(256))

#: One compressor per content coding (RFC 9110 §8.4.1 names; ``br`` is RFC 7932, ``zstd`` RFC 8878).
COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": lambda data: zlib.compress(data, wbits=31),
    "deflate": zlib.compress,
    "br": lambda data: bytes(brotli.compress(data)),
    "zstd": lambda data: zstandard.ZstdCompressor().compress(data),
}

#: The ten-byte gzip member header (RFC 1952 §2.3) with no name, time or extra fields.
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"


def pattern_bytes(n: int) -> bytes:
    """The ``n`` bytes that ``/bytes/{n}`` answers: 0, 1, ..., 255, 0, 1, ... ."""
    whole, rest = divmod(n, 256)
    return bytes(range(256)) * whole + bytes(range(rest))


@functools.cache
def zero_mib_deflate_unit() -> bytes:
    """One MiB of zeros as raw deflate blocks ending on a full flush: units concatenate freely."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return compressor.compress(bytes(MiB)) + compressor.flush(zlib.Z_FULL_FLUSH)


def _compress_zeros(encoding: str, mebibytes: int) -> bytes:
    chunk = bytes(MiB)
    if encoding in ("gzip", "deflate"):
        deflater = zlib.compressobj(9, zlib.DEFLATED, 31 if encoding == "gzip" else 15)
        parts = [deflater.compress(chunk) for _ in range(mebibytes)]
        parts.append(deflater.flush())
        return b"".join(parts)
    if encoding == "br":
        compressor = brotli.Compressor(quality=5)
        parts = [compressor.process(chunk) for _ in range(mebibytes)]
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
