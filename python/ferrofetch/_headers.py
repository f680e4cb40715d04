"""The headers a session request sends, and the ``RequestInfo`` that reports them.

A request's headers are the session's defaults overridden by the request's own; each request of
a redirect chain then gets the automatic ones (``Accept``, ``Accept-Encoding``, ``User-Agent``,
``Content-Type``, ``Content-Length``), its cookies and its ``Authorization``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from http.cookies import BaseCookie
from typing import Optional, Union

from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy, istr
from yarl import URL

from . import _core
from ._body import Body
from .auth import BasicAuth
from .cookiejar import cookie_header
from .request_info import RequestInfo

__all__ = [
    "AUTHORIZATION",
    "CONTENT_LENGTH",
    "CONTENT_TYPE",
    "COOKIE",
    "SET_COOKIE",
    "LooseHeaders",
    "StrOrURL",
    "add_auto_headers",
    "folded_names",
    "hop_headers",
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

# Sent with every request unless the caller gives their own value (or skips them).
DEFAULT_ACCEPT = "*/*"
# What the native client decodes.
DEFAULT_ACCEPT_ENCODING = "gzip, deflate, br, zstd"
DEFAULT_USER_AGENT: str = _core.DEFAULT_USER_AGENT

# Methods that get no automatic "Content-Length: 0" when sent without a body (as in aiohttp).
_BODYLESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Methods that get "Content-Type: application/octet-stream" when nothing else says (as in aiohttp).
_FORM_METHODS = frozenset({"PATCH", "POST", "PUT"})


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


# The automatic headers with their names as ``istr`` and lower-cased for ``skip``, built once
# (multidict caches an ``istr``'s case-folded form, so lookups with it skip folding the name again).
_AUTO_HEADERS: tuple[tuple[istr, str, str], ...] = tuple(
    (istr(name), name.lower(), value)
    for name, value in (
        ("Accept", DEFAULT_ACCEPT),
        ("Accept-Encoding", DEFAULT_ACCEPT_ENCODING),
        ("User-Agent", DEFAULT_USER_AGENT),
    )
)
_CONTENT_TYPE_FOLDED = CONTENT_TYPE.lower()


def folded_names(names: Iterable[str]) -> frozenset[str]:
    """Header names as ``skip`` takes them: lower-cased, because aiohttp skips automatic
    headers whatever the case of the names given."""
    return frozenset(name.lower() for name in names)


def add_auto_headers(headers: CIMultiDict[str], skip: frozenset[str]) -> None:
    """``Accept``, ``Accept-Encoding`` and ``User-Agent``, unless given or skipped (``skip``:
    lower-cased names, see ``folded_names``)."""
    for name, folded, value in _AUTO_HEADERS:
        if name not in headers and folded not in skip:
            headers[name] = value


def hop_headers(
    headers: CIMultiDict[str],
    *,
    method: str,
    body: Optional[Body],
    skip: frozenset[str],
    force_close: bool,
    cookies: BaseCookie[str],
    auth: Optional[BasicAuth],
) -> CIMultiDict[str]:
    """What one request of a chain sends: ``headers`` with the automatic ones, ``cookies``
    merged into any ``Cookie`` given, and ``auth`` as ``Authorization``."""
    sent = CIMultiDict(headers)
    add_auto_headers(sent, skip)
    if body is not None:
        if body.content_type and CONTENT_TYPE not in sent and _CONTENT_TYPE_FOLDED not in skip:
            sent[CONTENT_TYPE] = body.content_type
        if body.stream is None:
            sent.setdefault(CONTENT_LENGTH, str(len(body.content)))
        elif body.length is not None and "chunked" not in sent.get("Transfer-Encoding", ""):
            sent.setdefault(CONTENT_LENGTH, str(body.length))
        for name, value in body.headers:
            if name not in sent and name.lower() not in skip:
                sent[name] = value
    elif method not in _BODYLESS_METHODS:
        sent.setdefault(CONTENT_LENGTH, "0")
    if method in _FORM_METHODS and CONTENT_TYPE not in sent and _CONTENT_TYPE_FOLDED not in skip:
        sent[CONTENT_TYPE] = "application/octet-stream"
    if force_close and "Connection" not in sent:
        sent["Connection"] = "close"
    header = cookie_header(sent.get(COOKIE), cookies)
    if header is not None:
        sent[COOKIE] = header
    if auth is not None:
        sent[AUTHORIZATION] = auth.encode()
    return sent


def request_info(url: URL, method: str, sent: CIMultiDict[str]) -> RequestInfo:
    """The ``RequestInfo`` of a request to ``url`` (fragment kept in ``real_url``), with the
    ``Host`` the native client adds."""
    headers = CIMultiDict(sent)
    if HOST not in headers and url.host_port_subcomponent:
        headers[HOST] = url.host_port_subcomponent
    return RequestInfo(url.with_fragment(None), method, CIMultiDictProxy(headers), url)
