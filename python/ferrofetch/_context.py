"""What ``session.get(...)`` and ``ferrofetch.request(...)`` return: awaitables that are also
async context managers, releasing the response (and a one-off session) on exit."""

from __future__ import annotations

from collections.abc import Coroutine, Generator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Optional

from .response import ClientResponse

if TYPE_CHECKING:
    from ._session_view import ClosableSession


class _RequestContextManager(Coroutine[Any, Any, ClientResponse]):
    """What ``session.get(...)`` returns: awaitable (a coroutine, so ``create_task`` and
    ``gather`` take it) and an async context manager that releases the response on exit."""

    __slots__ = ("_coro", "_resp")

    def __init__(self, coro: Coroutine[Any, Any, ClientResponse]) -> None:
        self._coro = coro
        self._resp: Optional[ClientResponse] = None

    def send(self, value: Any) -> Any:
        return self._coro.send(value)

    def throw(self, *args: Any, **kwargs: Any) -> Any:
        return self._coro.throw(*args, **kwargs)

    def close(self) -> None:
        self._coro.close()

    def __await__(self) -> Generator[Any, None, ClientResponse]:
        return self._coro.__await__()

    def __iter__(self) -> Generator[Any, None, ClientResponse]:
        return self.__await__()

    async def __aenter__(self) -> ClientResponse:
        resp = self._resp = await self._coro
        if type(resp) is ClientResponse:
            # ClientResponse.__aenter__, inlined: one coroutine less per request.
            resp._in_context = True
            return resp
        return await resp.__aenter__()

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        resp = self._resp
        assert resp is not None
        if type(resp) is ClientResponse:
            # ClientResponse.__aexit__, inlined.
            resp._in_context = False
            resp.release()
        else:
            await resp.__aexit__(exc_type, exc, tb)


class _SessionRequestContextManager:
    """``ferrofetch.request(...)``: a one-off session that closes with the response."""

    __slots__ = ("_coro", "_resp", "_session")

    def __init__(self, coro: Coroutine[Any, Any, ClientResponse], session: ClosableSession) -> None:
        self._coro = coro
        self._resp: Optional[ClientResponse] = None
        self._session = session

    async def __aenter__(self) -> ClientResponse:
        try:
            self._resp = await self._coro
        except BaseException:
            await self._session.close()
            raise
        return self._resp

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        assert self._resp is not None
        self._resp.close()
        await self._session.close()
