"""``ClientTimeout``: aiohttp's timeout settings, and how they map onto the native client.

``total`` bounds a whole request (redirects and body included) and becomes the request's
``timeout``; ``connect``/``sock_connect`` bound opening a connection (the client's
``connect_timeout``, the smaller of the two when both are set); ``sock_read`` bounds the silence
between two reads (the client's ``read_timeout``). ``None`` means no limit.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

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
