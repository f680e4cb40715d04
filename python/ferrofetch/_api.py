"""The module-level request functions.

``fetch`` is the native function itself; ``fetch_all`` wraps the native one for its overloads. They
return the core's ``Pending`` as it is: a coroutine to asyncio (``asyncio.run``,
``create_task``, ``gather``, ``wait_for``, ``TaskGroup`` all take it), which yields itself as the
future to wait on, so an ``await`` needs no wrapper coroutine or ``asyncio.Future``.
"""

# The package's own modules share the native module's private names by design.
# pyright: reportPrivateUsage=false

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal, overload

from . import _core
from ._core import Pending, Response

# The native function itself, with no Python frame around it: a call under ``asyncio.gather`` is
# dominated by per-call costs, and a wrapper taking ``**options`` is one of them (its docstring
# is the doc comment of ``fetch`` in ``src/py/fetch.rs``).
from ._core import fetch as fetch

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .options import FetchOptions


@overload
def fetch_all(
    urls: Iterable[str],
    *,
    concurrency: int = 100,
    return_exceptions: Literal[False] = False,
    **options: Unpack[FetchOptions],
) -> Pending[list[Response]]: ...
@overload
def fetch_all(
    urls: Iterable[str],
    *,
    concurrency: int = 100,
    return_exceptions: Literal[True],
    **options: Unpack[FetchOptions],
) -> Pending[list[Response | BaseException]]: ...
@overload
def fetch_all(
    urls: Iterable[str],
    *,
    concurrency: int = 100,
    return_exceptions: bool,
    **options: Unpack[FetchOptions],
) -> Pending[list[Response | BaseException]]: ...
def fetch_all(
    urls: Iterable[str],
    *,
    concurrency: int = 100,
    return_exceptions: bool = False,
    **options: Unpack[FetchOptions],
) -> Pending[list[Response]] | Pending[list[Response | BaseException]]:
    """Fetch every URL on the Rust runtime and return the responses in input order.

    ```python
    responses = await ferrofetch.fetch_all([f"http://127.0.0.1:8080/bytes/{n}" for n in range(10)])
    print([len(r.content) for r in responses])
    ```

    Every URL is checked before any request is sent: an invalid one raises ``InvalidURL`` naming
    it. Cancelling the awaiting task aborts every request of the batch and closes their
    connections.

    Args:
        urls: any iterable of ``str`` URLs; read once, before the first request.
        concurrency: requests in flight at once, at least 1. Default 100.
        return_exceptions: ``False`` (default): the first failure raises its exception and
            cancels the rest. ``True``: each failure takes its URL's slot as an exception
            instance, like ``asyncio.gather(..., return_exceptions=True)``.
        **options: every option of :func:`fetch`, applied to each request (a body is sent to
            every URL).

    Returns:
        A ``Pending`` whose result is a ``list`` with one ``Response`` (or, with
        ``return_exceptions=True``, an exception) per URL, in input order.

    Raises:
        InvalidURL: a URL does not parse, before any request is sent.
        ValueError: ``concurrency`` is less than 1.
        ClientError: with ``return_exceptions=False``, the first request's failure.
    """
    return _core.fetch_all(urls, concurrency=concurrency, return_exceptions=return_exceptions, **options)
