"""Fuzzing: a server answering random and mutated HTTP responses, with a fixed seed.

Every case is built from (seed, case number) alone, so a failure names a case that can be replayed:
``FERROFETCH_FUZZ_SEED=<seed> FERROFETCH_FUZZ_CASES=<n> pytest tests/hostile/test_fuzz_server.py``.
The default run has a few thousand cases; set FERROFETCH_FUZZ_CASES (say 100000) for a long one.

Whatever comes back, the client must not crash, hang or panic, and every failure must be a
``ferrofetch.ClientError``. Redirect targets are confined to loopback (or to unusable URLs), and
every ``Location`` that survives mutation is checked before it is sent: the fuzzer never makes
the client contact another host.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import gzip
import os
import random
import re
import socket
import struct
import time
import zlib
from dataclasses import dataclass
from typing import Any

import brotlicffi  # type: ignore[import-untyped]
import ferrofetch
import pytest
import zstandard

from ..servers import LOOPBACK, StreamServer, async_wait_until, sockets_to

SEED = int(os.environ.get("FERROFETCH_FUZZ_SEED", "20261124"))
CASES = int(os.environ.get("FERROFETCH_FUZZ_CASES", "3000"))
STREAM_CASES = max(1, CASES // 6)

STATUSES = [
    100,
    101,
    103,
    199,
    200,
    201,
    204,
    206,
    299,
    301,
    302,
    303,
    304,
    307,
    308,
    399,
    400,
    404,
    500,
    599,
]
NASTY_HEADERS = [
    b"Content-Length: 99999999999999999999",
    b"Content-Length: -1",
    b"Content-Length: 1, 2",
    b"Content-Length: +3",
    b"Content-Length: 0x10",
    b"Content-Length:",
    b"Transfer-Encoding: chunked",
    b"Transfer-Encoding: gzip, chunked",
    b"Transfer-Encoding: chunked, identity",
    b"Transfer-Encoding: identity",
    b"Transfer-Encoding: \x0bchunked",
    b"Content-Encoding: gzip",
    b"Content-Encoding: br, zstd",
    b"Content-Encoding: deflate",
    b"Content-Encoding: gzip, gzip, gzip, gzip, gzip, gzip, gzip",
    b"Content-Encoding: compress",
    b"Content-Type: text/html; charset=utf-16",
    b"Content-Type: text/plain; charset=\xff\xfe",
    b"Content-Type: application/json; charset=",
    b"Content-Type: ;;;===",
    b"Connection: close",
    b"Connection: keep-alive, Upgrade",
    b"Upgrade: websocket",
    b"Upgrade: h2c",
    b"Set-Cookie: a=b; Domain=127.0.0.1; Path=/; HttpOnly",
    b"Set-Cookie: " + b"x" * 5000,
    b"Trailer: Content-Length",
    b"Keep-Alive: timeout=0, max=0",
    b"X-Long: " + b"a" * 70_000,
    b"X-Empty:",
    b"X-Utf8: \xc3\xa9\xe2\x82\xac",
    b"X-Obs-Text: \x80\x81\xfe\xff",
    b"Date: Thu, 01 Jan 1970 00:00:00 GMT",
]
INTERESTING = [
    b"\r",
    b"\n",
    b"\r\n",
    b"\r\n\r\n",
    b"\x00",
    b":",
    b" ",
    b"\t",
    b"\xff",
    b"0",
    b"-",
    b"9" * 20,
    b";",
]
SAFE_PATH = re.compile(rb"/(?![/\\])[A-Za-z0-9_.~!$&'()*+,;=:@%?/-]*")
LOCATION = re.compile(rb"(?i)location[ \t]*:([^\r\n]*)")


@dataclass
class Case:
    data: bytes
    behaviour: str  # "close", "fragment", "reset", "hold" or "keep-alive"


ALPHABET = b'abcdefghijklmnopqrstuvwxyz {}[]":,0123456789\n\xc3\xa9\xff'
TEXT = bytes(ALPHABET[index % len(ALPHABET)] for index in range(256))  # a translation table


def _random_bytes(rng: random.Random, size: int) -> bytes:
    return rng.randbytes(size)


def _text(rng: random.Random, size: int) -> bytes:
    return rng.randbytes(size).translate(TEXT)


def _compress(rng: random.Random, body: bytes) -> tuple[bytes, bytes]:
    encoding = rng.choice([b"gzip", b"deflate", b"br", b"zstd"])
    if encoding == b"gzip":
        return encoding, gzip.compress(body)
    if encoding == b"deflate":
        return encoding, zlib.compress(body)
    if encoding == b"br":
        # brotlicffi has no annotations.
        return encoding, bytes(brotlicffi.compress(body))  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
    return encoding, zstandard.ZstdCompressor().compress(body)


def _location(rng: random.Random, port: int) -> bytes:
    target = rng.randrange(CASES)
    return rng.choice(
        [
            b"/case/%d" % target,
            b"http://127.0.0.1:%d/case/%d" % (port, target),
            b"/case/%d?q=%%ff%%00" % target,
            b"",
            b"javascript:alert(1)",
            b"file:///etc/passwd",
            b"http://[::1",
            b"http://127.0.0.1:1/",
            b"https://127.0.0.1:%d/case/%d" % (port, target),
            b"/case/" + b"9" * 500,
        ]
    )


def _template(rng: random.Random, port: int) -> bytes:
    status = rng.choice(STATUSES)
    version = rng.choice([b"HTTP/1.1"] * 8 + [b"HTTP/1.0", b"HTTP/2", b"HTTP/1.1 "])
    reason = rng.choice([b"OK", b"", b"Whatever \xff", b"x" * 300])
    headers = [rng.choice(NASTY_HEADERS) for _ in range(rng.randrange(3))]
    body = _text(rng, rng.choice([0, 1, 10, 100, 2000, 70_000]))
    kind = rng.choice(
        ["length", "length", "chunked", "compressed", "close", "informational", "redirect", "raw"]
    )
    if kind == "raw":
        return _random_bytes(rng, rng.randrange(1, 300))
    if kind == "compressed":
        encoding, body = _compress(rng, body)
        headers.append(b"Content-Encoding: " + encoding)
    if kind == "redirect":
        status = rng.choice([301, 302, 303, 307, 308])
        headers.append(b"Location: " + _location(rng, port))
    if kind == "chunked":
        headers.append(b"Transfer-Encoding: chunked")
        pieces: list[bytes] = []
        rest = body
        while rest:
            size = rng.randrange(1, 5000)
            extension = rng.choice([b"", b";a=b", b";" + b"e" * 100])
            pieces.append(b"%x%s\r\n%s\r\n" % (len(rest[:size]), extension, rest[:size]))
            rest = rest[size:]
        trailer = rng.choice([b"", b"X-Trailer: 1\r\n", b"Content-Length: 5\r\n"])
        body = b"".join(pieces) + b"0\r\n" + trailer + b"\r\n"
    elif kind != "close":
        headers.append(b"Content-Length: %d" % len(body))
    head = (
        version + b" %d " % status + reason + b"\r\n" + b"".join(line + b"\r\n" for line in headers) + b"\r\n"
    )
    prefix = b""
    if kind == "informational":
        prefix = b"".join(
            b"HTTP/1.1 %d Info\r\n\r\n" % rng.choice([100, 102, 103]) for _ in range(rng.randrange(50))
        )
    return prefix + head + body


def _mutate(rng: random.Random, data: bytes) -> bytes:
    for _ in range(rng.choice([0, 0, 1, 1, 2, 3, 4])):
        if not data:
            break
        position = rng.randrange(len(data))
        operation = rng.randrange(6)
        if operation == 0:
            data = data[:position] + bytes([rng.getrandbits(8)]) + data[position + 1 :]
        elif operation == 1:
            data = data[:position] + rng.choice(INTERESTING) + data[position:]
        elif operation == 2:
            data = data[:position] + data[position + rng.randrange(1, 64) :]
        elif operation == 3:
            end = min(len(data), position + rng.randrange(1, 256))
            data = data[:end] + data[position:end] + data[end:]
        elif operation == 4:
            data = data[:position]
        else:
            line_end = data.find(b"\r\n")
            if line_end >= 0:
                data = data[: line_end + 2] + rng.choice(NASTY_HEADERS) + b"\r\n" + data[line_end + 2 :]
    return data


def _confine_locations(data: bytes, port: int) -> bytes:
    """Replace any Location that could lead off loopback (after mutation) with a safe one."""
    absolute = b"http://127.0.0.1:%d/" % port

    def check(match: re.Match[bytes]) -> bytes:
        value = match.group(1).strip(b" \t")
        safe = (
            value in (b"", b"javascript:alert(1)", b"file:///etc/passwd", b"http://[::1")
            or (value.startswith(absolute) and SAFE_PATH.fullmatch(value[len(absolute) - 1 :]) is not None)
            or value == b"http://127.0.0.1:1/"
            or (value.startswith(b"https://127.0.0.1:%d/" % port) and b"\\" not in value)
            or SAFE_PATH.fullmatch(value) is not None
        )
        return match.group(0) if safe else b"Location: /case/0"

    return LOCATION.sub(check, data)


@functools.lru_cache(maxsize=4096)
def make_case(number: int, port: int) -> Case:
    rng = random.Random(SEED * 1_000_003 + number)
    data = _confine_locations(_mutate(rng, _template(rng, port)), port)
    behaviour = rng.choice(
        ["close"] * 14 + ["fragment", "fragment", "reset", "hold", "keep-alive", "keep-alive"]
    )
    return Case(data, behaviour)


class FuzzServer(StreamServer):
    """An asyncio server on loopback: ``GET /case/<n>`` is answered with case n."""

    backlog = 1024

    def __init__(self) -> None:
        super().__init__()
        self.served = 0
        self.errors: list[BaseException] = []

    def url(self, number: int) -> str:
        return f"http://{LOOPBACK}:{self.port}/case/{number}"

    def _failed(self, exc: Exception) -> None:
        self.errors.append(exc)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            target = head.split(b" ", 2)[1]
            match = re.fullmatch(rb"/case/(\d+)(\?.*)?", target)
            number = int(match.group(1)) % CASES if match else 0
            case = make_case(number, self.port)
            self.served += 1
            if case.behaviour == "fragment":
                rng = random.Random(number)
                data = case.data
                while data:
                    size = rng.randrange(1, 64)
                    writer.write(data[:size])
                    data = data[size:]
                    await writer.drain()
                    await asyncio.sleep(0)
            else:
                writer.write(case.data)
                await writer.drain()
            if case.behaviour == "reset":
                sock = writer.get_extra_info("socket")
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
                return
            if case.behaviour == "hold":
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(reader.read(), 3)
                return
            if case.behaviour != "keep-alive":
                return


def _touch(response: Any) -> None:
    """Read every property a caller might: none of them may raise on a response that arrived."""
    for name in ("url", "method", "status", "reason", "ok", "headers", "raw_headers", "content", "text"):
        getattr(response, name)
    for name in ("charset", "content_type", "elapsed", "http_version", "history"):
        getattr(response, name)
    dict(response.headers)


def _check(results: list[Any], urls: list[str]) -> collections.Counter[str]:
    tally: collections.Counter[str] = collections.Counter()
    bad: list[Any] = []
    for url, result in zip(urls, results):
        tally[type(result).__name__] += 1
        if isinstance(result, ferrofetch.ClientError):
            assert result.url is not None
            continue
        if isinstance(result, BaseException):
            bad.append((url, repr(result)))
            continue
        try:
            _touch(result)
        except Exception as exc:
            bad.append((url, f"reading the response raised {exc!r}"))
    assert not bad, f"{len(bad)} cases failed outside ClientError (seed {SEED}): {bad[:10]}"
    return tally


OPTIONS: dict[str, Any] = {"timeout": 2.0, "read_timeout": 1.0, "max_body_size": 1 << 20, "http2": False}


@pytest.mark.timeout(60 + CASES // 40)
async def test_random_and_mutated_responses_never_crash_the_client(capfd: pytest.CaptureFixture[str]) -> None:
    server = await FuzzServer().start()
    try:
        urls = [server.url(number) for number in range(CASES)]
        started = time.monotonic()
        results = await asyncio.wait_for(
            ferrofetch.fetch_all(urls, return_exceptions=True, concurrency=100, **OPTIONS), 30 + CASES // 50
        )
        elapsed = time.monotonic() - started
        tally = _check(results, urls)
        assert await async_wait_until(lambda: sockets_to(server.port) == 0, 5.0), "sockets left open"
    finally:
        await server.close()
    assert not server.errors, server.errors[:5]
    captured = capfd.readouterr()
    assert "panicked" not in captured.err and "panicked" not in captured.out
    summary = ", ".join(f"{name}={count}" for name, count in tally.most_common())
    print(f"fuzz: {CASES} cases, seed {SEED}, {elapsed:.1f} s: {summary}")
    # The mix must really exercise both sides; a generator bug would show as all-one-kind.
    assert tally["Response"] > CASES // 10 and sum(tally.values()) - tally["Response"] > CASES // 10


@pytest.mark.timeout(60 + STREAM_CASES // 20)
async def test_mutated_responses_through_the_streaming_api(capfd: pytest.CaptureFixture[str]) -> None:
    server = await FuzzServer().start()
    client = ferrofetch.Client(read_timeout=1.0, http2=False)
    outcomes: collections.Counter[str] = collections.Counter()
    bad: list[tuple[int, str]] = []

    async def one(number: int) -> None:
        try:
            stream = await client.open(server.url(number), timeout=2.0, max_body_size=1 << 20)
            try:
                for name in ("status", "reason", "headers", "raw_headers", "content_length", "history"):
                    getattr(stream, name)
                while await stream.read_chunk():
                    pass
            finally:
                stream.close()
            outcomes["ok"] += 1
        except ferrofetch.ClientError:
            outcomes["ClientError"] += 1
        except BaseException as exc:
            bad.append((number, repr(exc)))

    semaphore = asyncio.Semaphore(50)

    async def bounded_one(number: int) -> None:
        async with semaphore:
            await asyncio.wait_for(one(number), 10)

    try:
        numbers = random.Random(SEED).sample(range(CASES), min(STREAM_CASES, CASES))
        await asyncio.wait_for(
            asyncio.gather(*(bounded_one(number) for number in numbers)), 30 + STREAM_CASES // 25
        )
    finally:
        client.close()
        await server.close()
    assert not bad, f"seed {SEED}: {bad[:10]}"
    assert "panicked" not in capfd.readouterr().err
    assert outcomes["ok"] and outcomes["ClientError"]


def test_cases_are_reproducible() -> None:
    assert make_case(7, 1234) == make_case(7, 1234)
    assert len({make_case(n, 1234).data for n in range(50)}) == 50


def test_locations_are_confined_to_loopback() -> None:
    port = 4321
    for number in range(min(CASES, 3000)):
        for match in LOCATION.finditer(make_case(number, port).data):
            value = match.group(1).strip(b" \t")
            assert not value.startswith(b"//") and b"\\" not in value[:2], value
            if value.lower().startswith((b"http://", b"https://")):
                assert value.split(b"://", 1)[1].startswith((b"127.0.0.1:", b"[::1")), value
            else:
                assert value == b"" or value.startswith((b"/", b"javascript:", b"file:")), value
