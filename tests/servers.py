"""The test suite's helpers, in one place: import them from here.

Loopback servers, each on 127.0.0.1 (or another 127.0.0.0/8 address) with a port chosen by the
kernel, usable from synchronous tests, from async tests (whatever loop they run on) and from
child processes started by a test. Each has ``url``, the base without a trailing slash
(``http://127.0.0.1:PORT``), and ``url_for(path)``, which appends a path:

- :class:`HttpServer`: the ``aiohttp.web`` application of :func:`make_app`, optionally over TLS.
- :class:`RawServer`: raw bytes for servers that misbehave on purpose; a blocking handler per
  connection (:class:`Conn`; ready-made: :func:`reply`, :func:`serve` with :func:`echo_app` or
  :func:`redirect_app`, :func:`silent`, :func:`close_at_once`, :func:`reset_at_once`,
  :func:`close_after_head`) or a coroutine handler ``handler(reader, writer)``.
  :class:`Blackhole` is a port that never accepts.
- :class:`H2Server`: hypercorn over TLS offering ALPN ``h2`` and ``http/1.1``.
- :class:`RecordingProxy`: a forward proxy (plain and CONNECT) on the test's own event loop.
- :class:`TlsFiles`: a throwaway CA (trustme), server and client certificates, server contexts.

Helpers: :func:`outcome` (how an awaited call ended, with a time bound; :func:`observe` gives
it as plain data to compare), :func:`settle`, :func:`wait_until` / :func:`async_wait_until`,
:func:`run_python` / :func:`async_run_python`, :func:`open_fds`, :func:`sockets_to`,
:func:`rss_mib`, :func:`refused_url`; payloads
(:func:`pattern_bytes`, :data:`COMPRESSORS`, :func:`bomb`).
"""

from __future__ import annotations

from tests.support.http import HttpServer, make_app
from tests.support.loop import (
    LOOPBACK,
    OTHER_HOST,
    LoopServer,
    LoopThread,
    ServerStats,
    async_wait_until,
    listening_socket,
    wait_until,
)
from tests.support.measure import (
    Completed,
    Outcome,
    PeakRss,
    async_run_python,
    observe,
    open_fds,
    outcome,
    peak_rss_of_fetch,
    rss_mib,
    run_python,
    settle,
    sockets_to,
)
from tests.support.payloads import (
    COMPRESSED_PAYLOAD,
    COMPRESSORS,
    MiB,
    bomb,
    pattern_bytes,
)
from tests.support.proxy import ProxyEntry, RecordingProxy
from tests.support.raw import (
    Blackhole,
    ClosedByPeer,
    Conn,
    Handler,
    RawHandler,
    RawServer,
    Request,
    StartServer,
    StreamHandler,
    chunked,
    close_after_head,
    close_at_once,
    echo_app,
    http_response,
    parse_head,
    read_head,
    redirect_app,
    redirect_to,
    refused_url,
    reply,
    reset_at_once,
    serve,
    silent,
)
from tests.support.streams import StreamServer
from tests.support.tls import H2Server, TlsFiles

__all__ = [
    "COMPRESSED_PAYLOAD",
    "COMPRESSORS",
    "LOOPBACK",
    "OTHER_HOST",
    "Blackhole",
    "ClosedByPeer",
    "Completed",
    "Conn",
    "H2Server",
    "Handler",
    "HttpServer",
    "LoopServer",
    "LoopThread",
    "MiB",
    "Outcome",
    "PeakRss",
    "ProxyEntry",
    "RawHandler",
    "RawServer",
    "RecordingProxy",
    "Request",
    "ServerStats",
    "StartServer",
    "StreamHandler",
    "StreamServer",
    "TlsFiles",
    "async_run_python",
    "async_wait_until",
    "bomb",
    "chunked",
    "close_after_head",
    "close_at_once",
    "echo_app",
    "http_response",
    "listening_socket",
    "make_app",
    "observe",
    "open_fds",
    "outcome",
    "parse_head",
    "pattern_bytes",
    "peak_rss_of_fetch",
    "read_head",
    "redirect_app",
    "redirect_to",
    "refused_url",
    "reply",
    "reset_at_once",
    "rss_mib",
    "run_python",
    "serve",
    "settle",
    "silent",
    "sockets_to",
    "wait_until",
]
