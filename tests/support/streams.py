"""The base of servers that run on the test's own event loop (the recording proxy, the fuzzer)."""

from __future__ import annotations

import asyncio
from typing import Any, TypeVar

from .loop import LOOPBACK


class StreamServer:
    """An asyncio server on loopback that tracks its connections, so ``close()`` ends every handler.

    Subclasses answer connections in ``_serve``; a connection dropped by the client is not an error.
    """

    backlog = 100

    def __init__(self) -> None:
        self.port = 0
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self: S) -> S:
        self._server = await asyncio.start_server(self._handle, LOOPBACK, 0, backlog=self.backlog)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        # Abort the connections rather than cancel their handlers, so every handler ends normally.
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self._writers.add(writer)
        try:
            await self._serve(reader, writer)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError):
            pass
        except Exception as exc:
            self._failed(exc)
        finally:
            writer.close()
            self._writers.discard(writer)
            if task is not None:
                self._tasks.discard(task)

    def _failed(self, exc: Exception) -> None:
        """A handler's own error: raised (asyncio reports it) unless a subclass records it."""
        raise exc

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError


S = TypeVar("S", bound=StreamServer)
