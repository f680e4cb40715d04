"""The module-level request functions: coroutine wrappers over the native core.

``_core`` returns ``asyncio.Future`` objects; wrapping them in ``async def`` makes ``fetch`` and
``fetch_all`` real coroutine functions, so ``asyncio.create_task(fetch(url))`` works as it does with
every other async client.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from . import _core
from ._core import Response


async def fetch(url: str, **options: Any) -> Response:
    """Fetch one URL and return the response with its body read.

    >>> response = await ferrofetch.fetch("http://127.0.0.1:8080/")  # doctest: +SKIP
    >>> response.status
    200

    Options: ``method``, ``headers``, ``data``, ``json``, ``params``, ``timeout`` (total seconds,
    default 300), ``connect_timeout`` (default 30), ``read_timeout``, ``follow_redirects``
    (default True), ``max_redirects`` (default 10), ``max_body_size`` (default 128 MiB),
    ``verify``, ``ca_bundle``, ``http2``. Raises a ``ClientError`` subclass on failure.
    """
    return await _core.fetch(url, **options)


async def fetch_all(urls: Iterable[str], **options: Any) -> list[Any]:
    """Fetch every URL on the Rust runtime and return the responses in input order.

    >>> responses = await ferrofetch.fetch_all(urls, concurrency=64)  # doctest: +SKIP

    Takes ``concurrency`` (requests in flight, default 100) and ``return_exceptions`` (default
    False: the first failure raises and cancels the rest; True: each failure takes its slot as an
    exception instance, like ``asyncio.gather``), plus every option of :func:`fetch`.
    """
    return await _core.fetch_all(urls, **options)
