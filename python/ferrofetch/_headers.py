"""The headers a session request gives the core, and the ``RequestInfo`` that reports them.

A request's headers are the session's defaults overridden by the request's own, plus its
cookies and ``Authorization``; the core adds the automatic ones (``Host``, ``Accept``,
``Accept-Encoding``, ``User-Agent``, ``Content-Type``, ``Content-Length``) to every hop and
reports what it sent (``StreamResponse.request_headers``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Optional, Union

from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy, istr
from yarl import URL

from .request_info import RequestInfo

__all__ = [
    "AUTHORIZATION",
    "CONTENT_LENGTH",
    "CONTENT_TYPE",
    "COOKIE",
    "SET_COOKIE",
    "LooseHeaders",
    "StrOrURL",
    "folded_names",
    "merge_headers",
    "request_info",
]

StrOrURL = Union[str, URL]
LooseHeaders = Union[Mapping[str, str], Iterable[tuple[str, str]], CIMultiDict[str], CIMultiDictProxy[str]]

AUTHORIZATION = istr("Authorization")
CONTENT_LENGTH = istr("Content-Length")
CONTENT_TYPE = istr("Content-Type")
COOKIE = istr("Cookie")
HOST = istr("Host")
SET_COOKIE = istr("Set-Cookie")


def merge_headers(defaults: CIMultiDict[str], given: Optional[LooseHeaders]) -> CIMultiDict[str]:
    """Session headers overridden by the request's (a name given in the request replaces
    every session value of that name; repeated request names are all kept)."""
    result = CIMultiDict(defaults)
    if given:
        if not isinstance(given, (MultiDictProxy, MultiDict)):
            given = CIMultiDict(given)
        added: set[str] = set()
        for key, value in given.items():
            if key in added:
                result.add(key, value)
            else:
                result[key] = value
                added.add(istr(key))
    return result


def folded_names(names: Iterable[str]) -> frozenset[str]:
    """Header names as ``skip_auto_headers`` takes them: lower-cased, because aiohttp skips
    automatic headers whatever the case of the names given."""
    return frozenset(name.lower() for name in names)


def request_info(url: URL, method: str, sent: CIMultiDict[str]) -> RequestInfo:
    """The ``RequestInfo`` of a request to ``url`` (fragment kept in ``real_url``), with a
    ``Host`` if the headers have none (over HTTP/2 it travels as ``:authority``)."""
    headers = CIMultiDict(sent)
    if HOST not in headers and url.host_port_subcomponent:
        headers[HOST] = url.host_port_subcomponent
    return RequestInfo(url.with_fragment(None), method, CIMultiDictProxy(headers), url)
