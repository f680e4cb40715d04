"""``RequestInfo``: what was sent for a response (URL, method, headers), as aiohttp reports it."""

from __future__ import annotations

from typing import Any, NamedTuple

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

__all__ = ["RequestInfo"]


class _Fields(NamedTuple):
    url: URL
    method: str
    headers: CIMultiDictProxy[str]
    real_url: URL


class RequestInfo(_Fields):
    """The request behind a response: ``url`` (no fragment), ``method``, ``headers`` and
    ``real_url`` (as given, fragment included)."""

    def __new__(
        cls, url: URL, method: str, headers: CIMultiDictProxy[str], real_url: Any = None
    ) -> RequestInfo:
        return super().__new__(cls, url, method, headers, url if real_url is None else real_url)

    def __reduce__(self) -> tuple[Any, ...]:
        # The headers are a read-only proxy, which does not pickle: they travel as a copy.
        return (_restore, (self.url, self.method, CIMultiDict(self.headers), self.real_url))


def _restore(url: URL, method: str, headers: CIMultiDict[str], real_url: URL) -> RequestInfo:
    return RequestInfo(url, method, CIMultiDictProxy(headers), real_url)
