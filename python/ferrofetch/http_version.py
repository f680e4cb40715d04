"""``HttpVersion``: the protocol version of a response, a ``(major, minor)`` named tuple."""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["HttpVersion", "HttpVersion10", "HttpVersion11", "HttpVersion20"]


class HttpVersion(NamedTuple):
    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> HttpVersion:
        """``"HTTP/1.1"`` -> ``HttpVersion(1, 1)``; ``"HTTP/2"`` -> ``HttpVersion(2, 0)``."""
        number = text.rpartition("/")[2]
        major, _, minor = number.partition(".")
        try:
            return cls(int(major), int(minor or 0))
        except ValueError:
            raise ValueError(f"not an HTTP version: {text!r}") from None


HttpVersion10 = HttpVersion(1, 0)
HttpVersion11 = HttpVersion(1, 1)
HttpVersion20 = HttpVersion(2, 0)
