"""The ``ferrofetch`` logger, where the engine's events are logged.

The engine records what it does for a call (a connection opened or reused, a redirect, a retry,
a timeout) on the runtime and hands the records back with the call's completion; ``emit`` logs
them on the event loop's thread, one batch per call. DEBUG events are recorded only when the
``ferrofetch`` logger takes DEBUG records at the moment the call is made: the engine reads what
``logger.isEnabledFor(DEBUG)`` would answer from the state that method reads (``disabled``, then
the per-level ``_cache`` that ``logging`` empties on every level change), and calls the method only
when the cache holds no answer. Every record carries
``record.event``: ``"connection"``, ``"redirect"``, ``"retry"``, ``"timeout"``, ``"mock"`` or
``"pool"``.
"""

from __future__ import annotations

import logging

__all__ = ["emit", "logger"]

logger = logging.getLogger("ferrofetch")


def emit(events: list[tuple[int, str, str]]) -> None:
    """Log ``(level, event, message)`` records from the engine on the ``ferrofetch`` logger."""
    for level, event, message in events:
        if logger.isEnabledFor(level):
            logger.log(level, message, extra={"event": event})
