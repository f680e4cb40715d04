"""``ClientSession`` and ``request``: aiohttp's client API on the native core.

Every request of a session is one native call on the session connector's ``ferrofetch.Client``,
``Client.open(...)``, which completes when the response head has arrived (see ``_request``); the
body is then pulled from Rust on demand (``resp.content``) or whole (``await resp.read()``).
Redirects, the total timeout, automatic headers and the choice of a pool are the core's; at each
redirect the core stops for the session's cookie jar, which sees every hop's ``Set-Cookie`` and
chooses the next hop's cookies, as in aiohttp.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import warnings
from collections.abc import Coroutine, Iterable
from http.cookies import BaseCookie
from types import TracebackType
from typing import Any, Callable, Optional, Union, cast

from multidict import CIMultiDict, MultiDict, getversion, istr
from yarl import URL

from . import _bulk, _core
from ._context import _RequestContextManager, _SessionRequestContextManager
from ._headers import AUTHORIZATION, COOKIE, LooseHeaders, StrOrURL, folded_names
from ._request import send_plain, send_request
from ._session_view import RaiseForStatus
from .auth import BasicAuth
from .connector import BaseConnector, SSLSetting, TCPConnector
from .cookiejar import AbstractCookieJar, CookieJar, LooseCookies, request_cookies
from .http_version import HttpVersion, HttpVersion11
from .response import CharsetResolver, ClientResponse, default_charset
from .timeouts import UNSET, ClientTimeout, seconds_or_none, session_timeout
from .tracing import TraceConfig, traced

__all__ = ["ClientSession", "request"]


class ClientSession:
    """A set of requests sharing a connection pool, default headers, cookies and settings.

    >>> async with ferrofetch.ClientSession() as session:  # doctest: +SKIP
    ...     async with session.get("http://127.0.0.1:8080/") as response:
    ...         text = await response.text()

    Works like aiohttp's (see docs/migrating-from-aiohttp.md for the differences). It may be
    created outside a running event loop.
    """

    def __init__(
        self,
        base_url: Optional[StrOrURL] = None,
        *,
        connector: Optional[BaseConnector] = None,
        loop: Optional[asyncio.AbstractEventLoop] = None,
        cookies: Optional[LooseCookies] = None,
        headers: Optional[LooseHeaders] = None,
        proxy: Optional[StrOrURL] = None,
        proxy_auth: Optional[BasicAuth] = None,
        skip_auto_headers: Optional[Iterable[str]] = None,
        auth: Optional[BasicAuth] = None,
        json_serialize: Callable[[Any], str] = jsonlib.dumps,
        json_serialize_bytes: Optional[Callable[[Any], bytes]] = None,
        request_class: Any = None,
        response_class: Optional[type[ClientResponse]] = None,
        ws_response_class: Any = None,
        version: HttpVersion = HttpVersion11,
        cookie_jar: Optional[AbstractCookieJar] = None,
        connector_owner: bool = True,
        raise_for_status: RaiseForStatus = False,
        read_timeout: Any = UNSET,
        conn_timeout: Optional[float] = None,
        timeout: Any = UNSET,
        auto_decompress: bool = True,
        trust_env: bool = False,
        requote_redirect_url: bool = True,
        trace_configs: Optional[list[TraceConfig]] = None,
        read_bufsize: int = 2**16,
        max_line_size: int = 8190,
        max_field_size: int = 8190,
        max_headers: int = 128,
        fallback_charset_resolver: CharsetResolver = default_charset,
        middlewares: Iterable[Any] = (),
        ssl_shutdown_timeout: Any = UNSET,
    ) -> None:
        self._connector: Optional[BaseConnector] = None
        if ssl_shutdown_timeout is not UNSET:
            warnings.warn(
                "The ssl_shutdown_timeout parameter is deprecated and will be removed in aiohttp 4.0",
                DeprecationWarning,
                stacklevel=2,
            )
        if request_class is not None:
            raise NotImplementedError("ClientSession(request_class=...) is not supported by ferrofetch")
        if tuple(middlewares):
            raise NotImplementedError("ClientSession(middlewares=...) is not supported by ferrofetch")
        if version != HttpVersion11:
            raise NotImplementedError("ferrofetch sends HTTP/1.1 (or HTTP/2 where negotiated) only")
        if base_url is None:
            self._base_url: Optional[URL] = None
        else:
            self._base_url = URL(base_url)
            if not self._base_url.absolute:
                raise ValueError("Only absolute URLs are supported")
            if not self._base_url.path.endswith("/"):
                raise ValueError("base_url must have a trailing '/'")
        self._base_origin = None if self._base_url is None else self._base_url.origin()
        self._timeout = session_timeout(timeout, read_timeout, conn_timeout)

        self._connector = connector if connector is not None else TCPConnector()
        self._connector_owner = connector_owner
        self._cookie_jar: AbstractCookieJar = cookie_jar if cookie_jar is not None else CookieJar()
        if cookies:
            self._cookie_jar.update_cookies(cookies)
        self._default_headers: CIMultiDict[str] = CIMultiDict(headers) if headers else CIMultiDict()
        self._skip_auto_headers = frozenset(istr(h) for h in skip_auto_headers or ())
        self._skip_folded = folded_names(self._skip_auto_headers)
        self._default_auth = auth
        self._default_proxy = proxy
        self._default_proxy_auth = proxy_auth
        self._json_serialize = json_serialize
        self._json_serialize_bytes = json_serialize_bytes
        self._raise_for_status = raise_for_status
        self._trust_env = trust_env
        self._auto_decompress = auto_decompress
        self._requote_redirect_url = requote_redirect_url
        self._response_class = response_class or ClientResponse
        self._resolve_charset = fallback_charset_resolver
        self._pool_settings = _pool_settings(self._timeout, trust_env)
        self._trace_configs: list[TraceConfig] = list(trace_configs or ())
        for trace_config in self._trace_configs:
            trace_config.freeze()
        # What a request with every option at its default sends (see _plain_request).
        self._plain: Optional[
            tuple[int, _core.Client, Optional[_core.PreparedOpen], list[tuple[str, str]]]
        ] = None
        self._plain_urls: dict[StrOrURL, tuple[str, URL]] = {}

    def __del__(self, _warn: Callable[..., None] = warnings.warn) -> None:
        if getattr(self, "_connector", None) is not None and not self.closed:
            _warn(f"Unclosed client session {self!r}", ResourceWarning, source=self)

    # --- properties ----------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._connector is None or self._connector.closed

    @property
    def connector(self) -> Optional[BaseConnector]:
        return self._connector

    @property
    def cookie_jar(self) -> AbstractCookieJar:
        return self._cookie_jar

    @property
    def version(self) -> HttpVersion:
        return HttpVersion11

    @property
    def requote_redirect_url(self) -> bool:
        return self._requote_redirect_url

    @property
    def timeout(self) -> ClientTimeout:
        return self._timeout

    @property
    def headers(self) -> CIMultiDict[str]:
        """The default headers sent with every request (mutable)."""
        return self._default_headers

    @property
    def skip_auto_headers(self) -> frozenset[istr]:
        return self._skip_auto_headers

    @property
    def auth(self) -> Optional[BasicAuth]:
        return self._default_auth

    @property
    def json_serialize(self) -> Callable[[Any], str]:
        return self._json_serialize

    @property
    def _json_encoder(self) -> Callable[[Any], Union[str, bytes]]:
        """What ``json=`` bodies are encoded with: ``json_serialize_bytes`` if given (its bytes
        sent as they are), else ``json_serialize`` (its text sent as UTF-8)."""
        return self._json_serialize_bytes or self._json_serialize

    @property
    def connector_owner(self) -> bool:
        return self._connector_owner

    @property
    def raise_for_status(self) -> RaiseForStatus:
        return self._raise_for_status

    @property
    def auto_decompress(self) -> bool:
        return self._auto_decompress

    @property
    def trust_env(self) -> bool:
        return self._trust_env

    @property
    def trace_configs(self) -> list[TraceConfig]:
        return self._trace_configs

    # --- lifecycle -----------------------------------------------------------------------------

    async def close(self) -> None:
        """Close the session (and its connector, if the session owns it)."""
        if self._connector is not None and not self._connector.closed and self._connector_owner:
            self._connector.close()
        self._connector = None
        self._plain = None

    def detach(self) -> None:
        """Forget the connector without closing it."""
        self._connector = None
        self._plain = None

    async def __aenter__(self) -> ClientSession:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        await self.close()

    # --- requests ------------------------------------------------------------------------------

    def request(self, method: str, url: StrOrURL, **kwargs: Any) -> _RequestContextManager:
        """Send a request; await the result or use it with ``async with``."""
        if not kwargs and not self._trace_configs:
            return _RequestContextManager(send_plain(self, method, url, True, None))
        return _RequestContextManager(self._request(method, url, **kwargs))

    def _request(
        self, method: str, str_or_url: StrOrURL, **kwargs: Any
    ) -> Coroutine[Any, Any, ClientResponse]:
        """The coroutine behind ``request`` and the method shortcuts (which call it directly, as in
        aiohttp), under the name aiohttp gives it; between the signals of the trace configs."""
        request = send_request(self, method, str_or_url, **kwargs)
        if not self._trace_configs:
            return request
        return traced(
            self,
            self._trace_configs,
            method,
            str_or_url,
            kwargs.get("params"),
            kwargs.get("headers"),
            kwargs.get("trace_request_ctx"),
            request,
        )

    def get(self, url: StrOrURL, *, allow_redirects: bool = True, **kwargs: Any) -> _RequestContextManager:
        if not kwargs and not self._trace_configs:
            return _RequestContextManager(send_plain(self, "GET", url, allow_redirects, None))
        return _RequestContextManager(self._request("GET", url, allow_redirects=allow_redirects, **kwargs))

    def options(
        self, url: StrOrURL, *, allow_redirects: bool = True, **kwargs: Any
    ) -> _RequestContextManager:
        if not kwargs and not self._trace_configs:
            return _RequestContextManager(send_plain(self, "OPTIONS", url, allow_redirects, None))
        return _RequestContextManager(
            self._request("OPTIONS", url, allow_redirects=allow_redirects, **kwargs)
        )

    def head(self, url: StrOrURL, *, allow_redirects: bool = False, **kwargs: Any) -> _RequestContextManager:
        if not kwargs and not self._trace_configs:
            return _RequestContextManager(send_plain(self, "HEAD", url, allow_redirects, None))
        return _RequestContextManager(self._request("HEAD", url, allow_redirects=allow_redirects, **kwargs))

    def post(self, url: StrOrURL, *, data: Any = None, **kwargs: Any) -> _RequestContextManager:
        if not kwargs and not self._trace_configs and (data is None or type(data) is bytes):
            return _RequestContextManager(send_plain(self, "POST", url, True, data))
        return _RequestContextManager(self._request("POST", url, data=data, **kwargs))

    def put(self, url: StrOrURL, *, data: Any = None, **kwargs: Any) -> _RequestContextManager:
        if not kwargs and not self._trace_configs and (data is None or type(data) is bytes):
            return _RequestContextManager(send_plain(self, "PUT", url, True, data))
        return _RequestContextManager(self._request("PUT", url, data=data, **kwargs))

    def patch(self, url: StrOrURL, *, data: Any = None, **kwargs: Any) -> _RequestContextManager:
        if not kwargs and not self._trace_configs and (data is None or type(data) is bytes):
            return _RequestContextManager(send_plain(self, "PATCH", url, True, data))
        return _RequestContextManager(self._request("PATCH", url, data=data, **kwargs))

    def delete(self, url: StrOrURL, **kwargs: Any) -> _RequestContextManager:
        if not kwargs and not self._trace_configs:
            return _RequestContextManager(send_plain(self, "DELETE", url, True, None))
        return _RequestContextManager(self._request("DELETE", url, **kwargs))

    def ws_connect(self, url: StrOrURL, **kwargs: Any) -> Any:
        """WebSockets are not supported by ferrofetch."""
        raise NotImplementedError("ClientSession.ws_connect is not supported by ferrofetch (no WebSockets)")

    async def fetch_all(self, urls: Iterable[StrOrURL], **options: Any) -> list[Any]:
        """Fetch every URL on the session's pool in one native call; ``ferrofetch.Response``
        objects (bodies read whole) in input order.

        The session's headers, cookies, auth, base URL, timeouts, ``ssl``, proxy and
        ``raise_for_status`` apply. Takes ``fetch_all``'s options (``concurrency``,
        ``return_exceptions``, ``method``, ``data``, ``json``, ``params``, ``max_body_size``,
        ...), plus aiohttp's ``allow_redirects``, ``timeout`` (a ``ClientTimeout`` or seconds),
        ``ssl``, ``proxy``, ``proxy_auth`` and ``raise_for_status``. Redirects are followed by
        the core: cookies set by intermediate hops are not stored, the final responses' are.
        """
        return await _bulk.fetch_all(self, urls, options)

    # --- what a request uses -------------------------------------------------------------------

    def _request_url(self, str_or_url: StrOrURL, params: Any = None) -> tuple[str, URL]:
        """The URL to send as text, and as a ``yarl.URL`` for the cookie jar and credentials.

        A ``str`` is sent as given, byte for byte (RFC 3986 §6.2.2.2: decoding ``%2F`` or
        ``%3F`` changes the resource; aiohttp re-quotes it); a relative one is joined to
        ``base_url``. ``params`` are appended to the query, encoded as aiohttp encodes them,
        before any fragment; what was given is left as is.
        """
        if isinstance(str_or_url, URL):
            text = str(str_or_url)
        elif isinstance(str_or_url, str):
            text = str_or_url
        else:
            raise TypeError(f"a URL must be a str or yarl.URL, got {type(str_or_url).__name__}")
        url = URL(text, encoded=True)
        if self._base_url is not None and not url.absolute:
            url = self._base_url.join(url)
            text = str(url)
        if params:
            query = URL("").with_query(params).raw_query_string
            if query:
                before, hash_sign, fragment = text.partition("#")
                separator = "" if before.endswith(("?", "&")) else "&" if "?" in before else "?"
                text = before + separator + query + hash_sign + fragment
                url = URL(text, encoded=True)
        return text, url

    def _plain_request(
        self, str_or_url: StrOrURL
    ) -> Optional[tuple[_core.PreparedOpen, list[tuple[str, str]], str, URL]]:
        """For a request to ``str_or_url`` with every option at its default: the options
        ``send_request`` would give ``Client.open``, read once by the core
        (``Client.prepare``), the headers among them, and the URL as text and parsed. ``None``
        where the defaults need more than that (the session's ``auth``, an ``Authorization`` or
        ``Cookie`` among its headers, a URL to refuse or that is not HTTP(S)): ``send_request``
        then does it all.

        Kept until the session's headers or its native client change: every other setting
        they hold is fixed when the session is made.
        """
        connector = self._connector
        if connector is None or connector.closed:
            return None
        plain = self._plain
        version = _version(self._default_headers)
        if plain is None or plain[0] != version or plain[1] is not connector._client:
            plain = self._plain = self._plain_template()
        prepared = plain[2]
        if prepared is None:
            return None
        if not isinstance(str_or_url, (str, URL)):
            return None
        known = self._plain_urls.get(str_or_url)
        if known is None:
            try:
                known = self._request_url(str_or_url)
            except (ValueError, TypeError):
                return None
            url = known[1]
            if url.scheme not in ("http", "https") or not url.raw_host:
                return None
            if len(self._plain_urls) >= 256:
                self._plain_urls.clear()
            self._plain_urls[str_or_url] = known
        return prepared, plain[3], known[0], known[1]

    def _plain_template(
        self,
    ) -> tuple[int, _core.Client, Optional[_core.PreparedOpen], list[tuple[str, str]]]:
        """``send_request``'s options for a request with every option at its default (method
        and ``follow_redirects`` set per request), prepared by the core; no preparation where
        ``send_request`` adds credentials or cookies to the session's headers."""
        version = _version(self._default_headers)
        client = self._native_client()
        headers = list(self._default_headers.items())
        if (
            self._default_auth is not None
            or AUTHORIZATION in self._default_headers
            or COOKIE in self._default_headers
        ):
            return version, client, None, headers
        options: dict[str, Any] = {
            "headers": headers,
            "max_redirects": 10,
            "max_body_size": None,
            "timeout": seconds_or_none(self._timeout.total),
            "each_redirect": True,
        }
        self._pool(options, self._timeout, True, None, None)
        if self._skip_folded:
            options["skip_auto_headers"] = list(self._skip_folded)
        if not self._auto_decompress:
            options["decompress"] = False
        return version, client, client.prepare(**options), headers

    def _default_auth_for(self, url: URL) -> Optional[BasicAuth]:
        """The session's ``auth``, for URLs of its ``base_url``'s origin (any URL without one)."""
        if self._default_auth is None:
            return None
        if self._base_origin is None or self._base_origin == url.origin():
            return self._default_auth
        return None

    def _cookies_for(self, url: URL, cookies: Optional[LooseCookies]) -> BaseCookie[str]:
        """The jar's cookies for ``url``, with the request's own ``cookies`` over them."""
        selected = self._cookie_jar.filter_cookies(url)
        if cookies is not None:
            selected.load(request_cookies(cookies, url, self._cookie_jar))
        return selected

    def _native_client(self) -> _core.Client:
        """The connector's native client (made for this session's settings if it is the first)."""
        if self._connector is None or self._connector.closed:
            raise RuntimeError("Session is closed")
        return self._connector._native_client(self._pool_settings)

    def _pool(
        self,
        options: dict[str, Any],
        timeout: ClientTimeout,
        ssl: SSLSetting,
        proxy: Optional[StrOrURL],
        proxy_auth: Optional[BasicAuth],
    ) -> _core.Client:
        """The native client, with the connection settings of a request that differ from its
        session's added to ``options`` (the core keeps a pool per combination)."""
        client = self._native_client()
        assert self._connector is not None
        settings = (
            self._pool_settings if timeout is self._timeout else _pool_settings(timeout, self._trust_env)
        )
        if settings != self._connector._base_settings:
            options.update(settings)
        if ssl is not True and ssl is not None:
            options.update(self._connector._ssl_options(ssl))
        if proxy is None:
            proxy = self._default_proxy
        if proxy_auth is None:
            proxy_auth = self._default_proxy_auth
        if proxy is not None:
            options["proxy"] = _proxy_url(proxy, proxy_auth)
        return client


def _version(headers: CIMultiDict[str]) -> int:
    """A number that changes whenever ``headers`` do (multidict keeps it)."""
    # multidict's stub takes MultiDict[object] only; any multidict has a version.
    return getversion(cast("MultiDict[object]", headers))


def _pool_settings(timeout: ClientTimeout, trust_env: bool) -> dict[str, Any]:
    """The native pool settings a session's timeouts and ``trust_env`` give."""
    return {
        "connect_timeout": seconds_or_none(timeout.connect_timeout),
        "read_timeout": seconds_or_none(timeout.sock_read),
        "trust_env": trust_env,
    }


def _proxy_url(proxy: Optional[StrOrURL], proxy_auth: Optional[BasicAuth]) -> Optional[str]:
    if proxy is None:
        return None
    url = URL(proxy)
    if proxy_auth is not None:
        url = url.with_user(proxy_auth.login).with_password(proxy_auth.password)
    return str(url)


def request(
    method: str,
    url: StrOrURL,
    *,
    version: HttpVersion = HttpVersion11,
    connector: Optional[BaseConnector] = None,
    loop: Optional[asyncio.AbstractEventLoop] = None,
    **kwargs: Any,
) -> _SessionRequestContextManager:
    """One request on a session of its own: ``async with ferrofetch.request("GET", url) as r:``."""
    owner = connector is None
    session = ClientSession(
        cookies=kwargs.pop("cookies", None),
        version=version,
        timeout=kwargs.pop("timeout", UNSET),
        connector=connector if connector is not None else TCPConnector(force_close=True),
        connector_owner=owner,
    )
    return _SessionRequestContextManager(session._request(method, url, **kwargs), session)
