"""Following redirects hop by hop, so the session's cookie jar sees every hop.

The rules are the core's: 301/302 turn a POST into a GET and 303 anything but HEAD, dropping the
body and the headers that described it; 307/308 send the same request again; credentials
(``auth``, cookies given to the request, ``Authorization``, ``Cookie``, ``Proxy-Authorization``)
never follow a redirect to another origin.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Optional

from multidict import CIMultiDict
from yarl import URL

from ._body import Body
from ._headers import AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, COOKIE
from .auth import BasicAuth
from .cookiejar import LooseCookies
from .exceptions import InvalidUrlRedirectClientError, NonHttpUrlRedirectClientError

if TYPE_CHECKING:
    from .response import ClientResponse

__all__ = ["REDIRECT_STATUSES", "Hop", "follow"]

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


@dataclasses.dataclass
class Hop:
    """The request a redirect chain sends next."""

    method: str
    url: URL
    query: Any
    body: Optional[Body]
    headers: CIMultiDict[str]
    auth: Optional[BasicAuth]
    cookies: Optional[LooseCookies]
    decompress: bool = True


async def follow(hop: Hop, resp: ClientResponse, requote: bool) -> bool:
    """Make ``hop`` the request that follows the redirect ``resp`` (released here); False when
    ``resp`` names no target, which makes it the final response."""
    if (resp.status == 303 and resp.method != "HEAD") or (
        resp.status in (301, 302) and resp.method == "POST"
    ):
        hop.method = "GET"
        hop.body = None
        for name in (CONTENT_LENGTH, CONTENT_TYPE, "Content-Encoding"):
            hop.headers.popall(name, None)
    location = resp.headers.get("Location") or resp.headers.get("URI")
    if location is None:
        return False
    await resp._release_redirect()
    target = _target(location, hop.url, requote)
    try:
        target_origin = target.origin()
    except ValueError as e:
        raise InvalidUrlRedirectClientError(target, "Invalid redirect URL origin") from e
    if hop.url.origin() != target_origin:
        hop.auth = None
        hop.cookies = None
        for name in (AUTHORIZATION, COOKIE, "Proxy-Authorization"):
            hop.headers.popall(name, None)
    hop.url = target
    hop.query = None
    return True


def _target(location: str, url: URL, requote: bool) -> URL:
    """Where ``location`` leads from ``url``; only http(s) URLs are followed."""
    try:
        target = URL(location, encoded=not requote)
    except ValueError as e:
        raise InvalidUrlRedirectClientError(
            location,
            "Server attempted redirecting to a location that does not look like a URL",
        ) from e
    if target.scheme not in ("http", "https", ""):
        raise NonHttpUrlRedirectClientError(location)
    if not target.scheme or (target.scheme == url.scheme and not target.raw_host):
        target = url.join(target)
    return target
