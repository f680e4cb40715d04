"""Tools for testing code that uses ferrofetch, without a network.

- :class:`MockRouter` answers requests in-process, by method and URL pattern, for ``fetch``,
  ``fetch_all``, ``Client`` and ``ClientSession`` alike (in the spirit of ``aioresponses`` and
  ``respx``), and records every call. The ``ferrofetch_mock`` pytest fixture gives one per test.
- :class:`LoopbackServer` is a fast HTTP/1.1 server on 127.0.0.1, for tests that want a real
  socket (and for benchmarks).

See ``docs/testing.md`` for a guide and a migration table from ``aioresponses``.
"""

from __future__ import annotations

from .._core import LoopbackServer
from ._router import Call, MockResponse, MockRouter, Route, UnmatchedRequestError

__all__ = ["Call", "LoopbackServer", "MockResponse", "MockRouter", "Route", "UnmatchedRequestError"]
