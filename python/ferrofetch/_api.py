"""The module-level request functions.

They return the core's ``Pending`` as it is: a coroutine to asyncio (``asyncio.run``,
``create_task``, ``gather``, ``wait_for``, ``TaskGroup`` all take it), which yields itself as the
future to wait on, so an ``await`` needs no wrapper coroutine or ``asyncio.Future``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from . import _core
from ._core import Pending, Response


def fetch(url: str, **options: Any) -> Pending[Response]:
    """Fetch one URL and return the response with its body read.

    >>> response = await ferrofetch.fetch("http://127.0.0.1:8080/")  # doctest: +SKIP
    >>> response.status
    200

    Options: ``method``, ``headers``, ``data``, ``json``, ``params``, ``timeout`` (total seconds,
    default 300), ``connect_timeout`` (default 30), ``read_timeout``, ``follow_redirects``
    (default True), ``max_redirects`` (default 10: redirects followed at most, 0 follows
    none), ``skip_auto_headers``, ``max_body_size`` (default 128 MiB),
    ``decompress`` (default True: undo ``Content-Encoding``), ``verify``, ``ca_bundle``,
    ``http2``. Raises a ``ClientError`` subclass on failure.
    """
    return _core.fetch(url, **options)


def fetch_all(urls: Iterable[str], **options: Any) -> Pending[list[Any]]:
    """Fetch every URL on the Rust runtime and return the responses in input order.

    >>> responses = await ferrofetch.fetch_all(urls, concurrency=64)  # doctest: +SKIP

    Takes ``concurrency`` (requests in flight, default 100) and ``return_exceptions`` (default
    False: the first failure raises and cancels the rest; True: each failure takes its slot as an
    exception instance, like ``asyncio.gather``), plus every option of :func:`fetch`.
    """
    return _core.fetch_all(urls, **options)
