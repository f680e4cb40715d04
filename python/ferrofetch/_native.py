"""The native core's results as the aiohttp layer hands them on.

``completion`` turns a core ``Pending`` into a coroutine of its own, so ``ensure_future`` and
``wait_for`` make a plain ``Task`` of it; ``translate_error`` gives, for an exception of the core,
the one aiohttp raises in its place.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from .exceptions import ServerTimeoutError

__all__ = ["completion", "translate_error"]

T = TypeVar("T")


async def completion(pending: Awaitable[T]) -> T:
    """A native awaitable as a coroutine, so ``ensure_future`` makes a real ``Task`` of it."""
    return await pending


def translate_error(error: BaseException) -> BaseException:
    """The exception aiohttp raises for a native one: the total timeout is a plain
    ``asyncio.TimeoutError`` there, the other timeouts keep their classes."""
    if type(error) is ServerTimeoutError:
        timeout = asyncio.TimeoutError(str(error))
        timeout.__cause__ = error
        return timeout
    return error
