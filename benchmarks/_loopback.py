"""``ferrofetch.testing.LoopbackServer`` in a process of its own, for the benchmark scripts that
measure the client alone (its CPU time, its instructions): the server's work is not counted."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator

_SERVER = (
    "import sys, ferrofetch.testing\n"
    "server = ferrofetch.testing.LoopbackServer()\n"
    "print(server.url, flush=True)\n"
    "sys.stdin.read()\n"
)


@contextlib.contextmanager
def loopback_server() -> Iterator[str]:
    """Starts the server (with this interpreter) and yields its base URL,
    ``http://127.0.0.1:PORT`` without a trailing slash; stops it on leaving."""
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        yield server.stdout.readline().strip().rstrip("/")
    finally:
        server.kill()
        server.wait(timeout=10)
