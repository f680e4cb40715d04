"""What the request path and the responses read of a session, as protocols.

``ClientSession`` (``session.py``) satisfies them; ``_request``, ``_bulk``, ``_context`` and
``response`` name these instead of the class, so the modules import top-down: ``session``
uses them, they never import ``session`` back.
"""

from __future__ import annotations

from collections.abc import Awaitable
from http.cookies import BaseCookie
from typing import Any, Callable, Optional, Protocol, Union

from multidict import CIMultiDict
from yarl import URL

from . import _core
from .auth import BasicAuth
from .connector import BaseConnector, SSLSetting
from .cookiejar import AbstractCookieJar, LooseCookies
from .timeouts import ClientTimeout

__all__ = ["ClosableSession", "RaiseForStatus", "ResponseSession", "SessionView"]

#: ``raise_for_status=``: a flag, or a coroutine function called with each ``ClientResponse``
#: (typed ``Any`` here: the responses are built above this module).
RaiseForStatus = Union[bool, Callable[[Any], Awaitable[None]]]


class ClosableSession(Protocol):
    async def close(self) -> None: ...


class ResponseSession(Protocol):
    """What a ``ClientResponse`` reads of its session."""

    # ``response.CharsetResolver``: (response, body) -> encoding name.
    _resolve_charset: Callable[[Any, bytes], str]

    @property
    def connector(self) -> Optional[BaseConnector]: ...


class SessionView(ResponseSession, Protocol):
    """What a request reads of its session: settings, the cookie jar, the native pool."""

    _skip_folded: frozenset[str]
    _response_class: type[Any]

    @property
    def closed(self) -> bool: ...
    @property
    def headers(self) -> CIMultiDict[str]: ...
    @property
    def timeout(self) -> ClientTimeout: ...
    @property
    def cookie_jar(self) -> AbstractCookieJar: ...
    @property
    def json_serialize(self) -> Callable[[Any], str]: ...
    @property
    def _json_encoder(self) -> Callable[[Any], Union[str, bytes]]: ...
    @property
    def raise_for_status(self) -> RaiseForStatus: ...
    @property
    def auto_decompress(self) -> bool: ...

    def _request_url(self, str_or_url: Union[str, URL], params: Any = None) -> tuple[str, URL]: ...
    def _default_auth_for(self, url: URL) -> Optional[BasicAuth]: ...
    def _cookies_for(self, url: URL, cookies: Optional[LooseCookies]) -> BaseCookie[str]: ...
    def _pool(
        self,
        options: dict[str, Any],
        timeout: ClientTimeout,
        ssl: SSLSetting,
        proxy: Optional[Union[str, URL]],
        proxy_auth: Optional[BasicAuth],
    ) -> _core.Client: ...
