"""``ClientTimeout``: aiohttp's timeout settings, and how they map onto the native client.

``total`` bounds a whole request (redirects and body included) and becomes the request's
``timeout``; ``connect``/``sock_connect`` bound opening a connection (the client's
``connect_timeout``, the smaller of the two when both are set); ``sock_read`` bounds the silence
between two reads (the client's ``read_timeout``). ``None`` means no limit; so does zero, as in
aiohttp.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any, Optional

__all__ = ["DEFAULT_TIMEOUT", "ClientTimeout"]


@dataclasses.dataclass(frozen=True)
class ClientTimeout:
    """Timeouts in seconds for a session or one request; ``None`` disables one."""

    total: Optional[float] = None
    connect: Optional[float] = None
    sock_read: Optional[float] = None
    sock_connect: Optional[float] = None
    # Accepted for compatibility; ferrofetch's timers are exact, so nothing is rounded.
    ceil_threshold: float = 5

    @property
    def connect_timeout(self) -> Optional[float]:
        """The native client's ``connect_timeout``: the tighter of ``connect`` and ``sock_connect``."""
        given = [t for t in (self.connect, self.sock_connect) if t is not None]
        return min(given) if given else None


# aiohttp's default: five minutes in all, thirty seconds to connect.
DEFAULT_TIMEOUT = ClientTimeout(total=5 * 60, sock_connect=30)


class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


#: The default of the timeout arguments, to tell "not given" from ``None`` (no limit).
UNSET: Any = _Unset()


def seconds_or_none(seconds: Optional[float]) -> Optional[float]:
    """A timeout for the native client: aiohttp treats zero as no timeout."""
    return seconds if seconds else None


def session_timeout(timeout: Any, read_timeout: Any, conn_timeout: Optional[float]) -> ClientTimeout:
    """A session's timeouts from ``ClientSession(timeout=...)``, or from the deprecated
    ``read_timeout``/``conn_timeout`` (with their warnings) when ``timeout`` is not given."""
    if timeout is UNSET or timeout is None:
        result = DEFAULT_TIMEOUT
        if read_timeout is not UNSET:
            warnings.warn(
                "read_timeout is deprecated, use timeout argument instead",
                DeprecationWarning,
                stacklevel=3,
            )
            result = ClientTimeout(total=read_timeout, sock_connect=30)
        if conn_timeout is not None:
            warnings.warn(
                "conn_timeout is deprecated, use timeout argument instead",
                DeprecationWarning,
                stacklevel=3,
            )
            result = ClientTimeout(total=result.total, connect=conn_timeout, sock_connect=result.sock_connect)
        return result
    if not isinstance(timeout, ClientTimeout):
        raise ValueError(
            f"timeout parameter cannot be of {type(timeout)} type, please use 'timeout=ClientTimeout(...)'"
        )
    if read_timeout is not UNSET:
        raise ValueError("read_timeout and timeout parameters conflict, please setup timeout.read")
    if conn_timeout is not None:
        raise ValueError("conn_timeout and timeout parameters conflict, please setup timeout.connect")
    return timeout


def request_timeout(value: Any, default: ClientTimeout) -> ClientTimeout:
    """A request's ``timeout=``: a ``ClientTimeout``, total seconds, or the session's when not given."""
    if value is UNSET:
        return default
    if isinstance(value, ClientTimeout):
        return value
    return ClientTimeout(total=value)
