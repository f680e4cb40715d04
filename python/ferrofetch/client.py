"""aiohttp's client API (``ClientSession``, ``ClientResponse``, ``request``) on the native core.

Every request of a session goes through one native ``ferrofetch.Client`` (the session
connector's pool) with ``Client.open(...)``, which completes when the response head has arrived;
the body is then pulled from Rust on demand (``resp.content``) or whole (``await resp.read()``).
Redirects are followed here, hop by hop, so the session's cookie jar sees every hop's
``Set-Cookie`` and sends the right cookies on the next one, as aiohttp does; the rules are the
core's (method change, body drop, credentials stripped when the origin changes).
"""

from __future__ import annotations

import asyncio
import codecs
import json as jsonlib
import re
import warnings
from collections.abc import Awaitable, Coroutine, Generator, Iterable, Mapping
from http.cookies import SimpleCookie
from types import TracebackType
from typing import Any, Callable, Optional, TypeVar, Union

from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy, istr
from yarl import URL

from . import _core
from ._body import Body, compress_body, encode_data, encode_json
from .auth import BasicAuth
from .connector import BaseConnector, SSLSetting, TCPConnector, _Noop
from .cookiejar import AbstractCookieJar, CookieJar, LooseCookies, cookie_header, parse_set_cookie_headers
from .exceptions import (
    ClientConnectionError,
    ClientResponseError,
    ContentTypeError,
    InvalidUrlClientError,
    InvalidUrlRedirectClientError,
    NonHttpUrlClientError,
    NonHttpUrlRedirectClientError,
    TooManyRedirects,
)
from .http_version import HttpVersion, HttpVersion11
from .request_info import RequestInfo
from .streams import StreamReader, translate_error
from .timeouts import DEFAULT_TIMEOUT, ClientTimeout

__all__ = ["ClientResponse", "ClientSession", "request"]

T = TypeVar("T")
StrOrURL = Union[str, URL]
LooseHeaders = Union[Mapping[str, str], Iterable[tuple[str, str]], CIMultiDict[str], CIMultiDictProxy[str]]
RaiseForStatus = Union[bool, Callable[["ClientResponse"], Awaitable[None]]]
CharsetResolver = Callable[["ClientResponse", bytes], str]

# Sent with every request unless the caller gives their own value (or skips them).
DEFAULT_ACCEPT = "*/*"
# What the native client decodes.
DEFAULT_ACCEPT_ENCODING = "gzip, deflate, br, zstd"
DEFAULT_USER_AGENT: str = _core.DEFAULT_USER_AGENT

_METHOD_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Methods that get no automatic "Content-Length: 0" when sent without a body (as in aiohttp).
_BODYLESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Methods that get "Content-Type: application/octet-stream" when nothing else says (as in aiohttp).
_FORM_METHODS = frozenset({"PATCH", "POST", "PUT"})
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_JSON_TYPE = re.compile(r"^application/(?:[\w.+-]+?\+)?json")
# A redirect body of at most this many bytes is read (briefly) so its connection can be reused.
_DRAIN_LIMIT = 64 * 1024
_DRAIN_SECONDS = 1.0

AUTHORIZATION = istr("Authorization")
CONTENT_LENGTH = istr("Content-Length")
CONTENT_TYPE = istr("Content-Type")
COOKIE = istr("Cookie")
HOST = istr("Host")


class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


_UNSET: Any = _Unset()


async def _completion(pending: Awaitable[T]) -> T:
    """A native awaitable as a coroutine, so ``ensure_future`` makes a real ``Task`` of it."""
    return await pending


def _default_charset(response: ClientResponse, body: bytes) -> str:
    return "utf-8"


_VERSIONS: dict[str, HttpVersion] = {}


def _http_version(text: str) -> HttpVersion:
    version = _VERSIONS.get(text)
    if version is None:
        version = _VERSIONS[text] = HttpVersion.parse(text)
    return version


def _parse_content_type(raw: Optional[str]) -> tuple[str, dict[str, str]]:
    """``(media type, parameters)``; ``application/octet-stream`` when absent or malformed."""
    if raw is None:
        return "application/octet-stream", {}
    main, *rest = raw.split(";")
    media = main.strip().lower()
    kind, slash, subtype = media.partition("/")
    if not (kind and slash and subtype) or "/" in subtype:
        media = "application/octet-stream"
    params: dict[str, str] = {}
    for item in rest:
        key, eq, value = item.partition("=")
        if eq and key.strip():
            params[key.strip().lower()] = value.strip().strip('"')
    return media, params


def _timeout_of(value: Any, default: ClientTimeout) -> ClientTimeout:
    if value is _UNSET:
        return default
    if isinstance(value, ClientTimeout):
        return value
    return ClientTimeout(total=value)


def _positive(seconds: Optional[float]) -> Optional[float]:
    """aiohttp treats a zero timeout as no timeout."""
    return seconds if seconds else None


def _strip_credentials(url: URL) -> tuple[URL, Optional[BasicAuth]]:
    auth = BasicAuth.from_url(url)
    if auth is None:
        return url, None
    return url.with_user(None), auth


def _proxy_url(proxy: Optional[StrOrURL], proxy_auth: Optional[BasicAuth]) -> Optional[str]:
    if proxy is None:
        return None
    url = URL(proxy)
    if proxy_auth is not None:
        url = url.with_user(proxy_auth.login).with_password(proxy_auth.password)
    return str(url)


class ClientResponse:
    """A response whose head has arrived; the body is read on demand (``content``) or whole."""

    def __init__(
        self,
        method: str,
        url: URL,
        *,
        stream: _core.StreamResponse,
        request_info: RequestInfo,
        session: Optional[ClientSession] = None,
    ) -> None:
        self.method = method
        self._real_url = url
        self._url = url.with_fragment(None) if url.raw_fragment else url
        self._stream = stream
        self._request_info = request_info
        self.status: int = stream.status
        self.reason: Optional[str] = stream.reason
        self.version: Optional[HttpVersion] = _http_version(stream.http_version)
        self._headers: CIMultiDictProxy[str] = stream.headers
        self._raw_headers = stream.raw_headers
        self._connector = None if session is None else session.connector
        self.content = StreamReader(stream, on_eof=self._body_complete, translate=self._read_error)
        self._body: Optional[bytes] = None
        self._history: tuple[ClientResponse, ...] = ()
        self._cookies: Optional[SimpleCookie] = None
        self._closed = False
        self._released = False
        self._in_context = False
        self._resolve_charset: CharsetResolver = (
            session._resolve_charset if session is not None else _default_charset
        )

    def __repr__(self) -> str:
        reason = self.reason.encode("ascii", "backslashreplace").decode("ascii") if self.reason else None
        return f"<ClientResponse({self.url}) [{self.status} {reason}]>\n{self.headers}\n"

    # --- the head ------------------------------------------------------------------------------

    @property
    def url(self) -> URL:
        """The URL requested (without fragment); after redirects, the last hop's."""
        return self._url

    @property
    def real_url(self) -> URL:
        """Like ``url``, with the fragment as given."""
        return self._real_url

    @property
    def host(self) -> str:
        assert self._url.host is not None
        return self._url.host

    @property
    def headers(self) -> CIMultiDictProxy[str]:
        return self._headers

    @property
    def raw_headers(self) -> tuple[tuple[bytes, bytes], ...]:
        return self._raw_headers

    @property
    def request_info(self) -> RequestInfo:
        return self._request_info

    @property
    def history(self) -> tuple[ClientResponse, ...]:
        """The redirect responses that led here, oldest first."""
        return self._history

    @property
    def ok(self) -> bool:
        """``status < 400``."""
        return self.status < 400

    @property
    def content_type(self) -> str:
        return _parse_content_type(self._headers.get(CONTENT_TYPE))[0]

    @property
    def charset(self) -> Optional[str]:
        return _parse_content_type(self._headers.get(CONTENT_TYPE))[1].get("charset")

    @property
    def content_length(self) -> Optional[int]:
        value = self._headers.get(CONTENT_LENGTH)
        return None if value is None else int(value)

    @property
    def cookies(self) -> SimpleCookie:
        """The cookies this response set (its ``Set-Cookie`` headers)."""
        if self._cookies is None:
            cookies = SimpleCookie()
            for name, morsel in parse_set_cookie_headers(self._headers.getall("Set-Cookie", ())):
                dict.__setitem__(cookies, name, morsel)
            self._cookies = cookies
        return self._cookies

    @property
    def connection(self) -> None:
        """Connections belong to the native pool; there is no connection object to expose."""
        return None

    def raise_for_status(self) -> None:
        """``ClientResponseError`` if ``status >= 400`` (releasing the response outside
        ``async with``)."""
        if not self.ok:
            if not self._in_context:
                self.release()
            raise ClientResponseError(
                self.request_info,
                self.history,
                status=self.status,
                message=self.reason or "",
                headers=self.headers,
            )

    # --- the body ------------------------------------------------------------------------------

    def _read_error(self, error: BaseException) -> BaseException:
        """The exception for a failed body read, as aiohttp raises it."""
        if (
            isinstance(error, ClientConnectionError)
            and self._connector is not None
            and self._connector.closed
        ):
            # The session was closed under the response.
            closed = RuntimeError("Connection closed.")
            closed.__cause__ = error
            return closed
        return translate_error(error)

    def _body_complete(self) -> None:
        self._closed = True
        self._stream.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def release(self) -> _Noop:
        """Done with the response: unread body is dropped and later reads raise
        ``ClientConnectionError("Connection closed")``."""
        if not self._released:
            if self.content.exception() is None:
                self.content.set_exception(ClientConnectionError("Connection closed"))
            self._released = True
        self._closed = True
        self._stream.close()
        return _Noop()

    def close(self) -> None:
        """Like :meth:`release`; the connection is closed unless the body was read whole."""
        self.release()

    async def wait_for_close(self) -> None:
        self.release()

    async def read(self) -> bytes:
        """The whole body (kept: later calls return it while the response is not released)."""
        if self._body is None:
            try:
                self._body = await self.content.read()
            except BaseException:
                self.close()
                raise
        elif self._released:
            raise ClientConnectionError("Connection closed")
        return self._body

    def get_encoding(self) -> str:
        """The charset of the body: Content-Type's, UTF-8 for JSON, else the session's fallback."""
        media, params = _parse_content_type(self._headers.get(CONTENT_TYPE, "").lower())
        charset = params.get("charset")
        if charset:
            try:
                return codecs.lookup(charset).name
            except (LookupError, ValueError):
                pass
        if media in ("application/json", "application/rdap"):
            return "utf-8"
        if self._body is None:
            raise RuntimeError("Cannot compute fallback encoding of a not yet read body")
        return self._resolve_charset(self, self._body)

    async def text(self, encoding: Optional[str] = None, errors: str = "strict") -> str:
        """The body decoded with ``encoding`` (default: :meth:`get_encoding`)."""
        if self._body is None:
            await self.read()
        assert self._body is not None
        return self._body.decode(encoding or self.get_encoding(), errors=errors)

    async def json(
        self,
        *,
        encoding: Optional[str] = None,
        loads: Callable[[str], Any] = jsonlib.loads,
        content_type: Optional[str] = "application/json",
    ) -> Any:
        """The body parsed as JSON; ``ContentTypeError`` if Content-Type is not ``content_type``
        (``None`` skips the check); ``None`` for an empty body."""
        if self._body is None:
            await self.read()
        assert self._body is not None
        if content_type:
            actual = self._headers.get(CONTENT_TYPE, "").lower()
            expected = (
                _JSON_TYPE.match(actual) is not None
                if content_type == "application/json"
                else content_type in actual
            )
            if not expected:
                raise ContentTypeError(
                    self.request_info,
                    self.history,
                    status=self.status,
                    message=f"Attempt to decode JSON with unexpected mimetype: {actual}",
                    headers=self.headers,
                )
        stripped = self._body.strip()
        if not stripped:
            return None
        return loads(stripped.decode(encoding or self.get_encoding()))

    async def _release_redirect(self) -> None:
        """Release a redirect hop, reading a small body first so its connection can be reused."""
        self._released = True
        self.content.set_exception(ClientConnectionError("Connection closed"))
        self._closed = True
        length = self._stream.content_length
        if length is not None and length <= _DRAIN_LIMIT and self.method != "HEAD":
            try:
                await asyncio.wait_for(_completion(self._stream.read_all()), _DRAIN_SECONDS)
            except Exception:
                pass
        self._stream.close()

    async def __aenter__(self) -> ClientResponse:
        self._in_context = True
        return self

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self._in_context = False
        self.release()
        await self.wait_for_close()


class _RequestContextManager(Coroutine[Any, Any, ClientResponse]):
    """What ``session.get(...)`` returns: awaitable (a coroutine, so ``create_task`` and
    ``gather`` take it) and an async context manager that releases the response on exit."""

    __slots__ = ("_coro", "_resp")

    def __init__(self, coro: Coroutine[Any, Any, ClientResponse]) -> None:
        self._coro = coro
        self._resp: Optional[ClientResponse] = None

    def send(self, value: Any) -> Any:
        return self._coro.send(value)

    def throw(self, *args: Any, **kwargs: Any) -> Any:
        return self._coro.throw(*args, **kwargs)

    def close(self) -> None:
        self._coro.close()

    def __await__(self) -> Generator[Any, None, ClientResponse]:
        return self._coro.__await__()

    def __iter__(self) -> Generator[Any, None, ClientResponse]:
        return self.__await__()

    async def __aenter__(self) -> ClientResponse:
        self._resp = await self._coro
        return await self._resp.__aenter__()

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        assert self._resp is not None
        await self._resp.__aexit__(exc_type, exc, tb)


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
        request_class: Any = None,
        response_class: Optional[type[ClientResponse]] = None,
        ws_response_class: Any = None,
        version: HttpVersion = HttpVersion11,
        cookie_jar: Optional[AbstractCookieJar] = None,
        connector_owner: bool = True,
        raise_for_status: RaiseForStatus = False,
        read_timeout: Any = _UNSET,
        conn_timeout: Optional[float] = None,
        timeout: Any = _UNSET,
        auto_decompress: bool = True,
        trust_env: bool = False,
        requote_redirect_url: bool = True,
        trace_configs: Optional[list[Any]] = None,
        read_bufsize: int = 2**16,
        max_line_size: int = 8190,
        max_field_size: int = 8190,
        max_headers: int = 128,
        fallback_charset_resolver: CharsetResolver = _default_charset,
        middlewares: Iterable[Any] = (),
    ) -> None:
        self._connector: Optional[BaseConnector] = None
        if request_class is not None:
            raise NotImplementedError("ClientSession(request_class=...) is not supported by ferrofetch")
        if trace_configs:
            raise NotImplementedError("ClientSession(trace_configs=...) is not supported by ferrofetch")
        if tuple(middlewares):
            raise NotImplementedError("ClientSession(middlewares=...) is not supported by ferrofetch")
        if not auto_decompress:
            raise NotImplementedError(
                "ClientSession(auto_decompress=False) is not supported: ferrofetch always decodes bodies"
            )
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

        if timeout is _UNSET or timeout is None:
            self._timeout = DEFAULT_TIMEOUT
            if read_timeout is not _UNSET:
                warnings.warn(
                    "read_timeout is deprecated, use timeout argument instead",
                    DeprecationWarning,
                    stacklevel=2,
                )
                self._timeout = ClientTimeout(total=read_timeout, sock_connect=30)
            if conn_timeout is not None:
                warnings.warn(
                    "conn_timeout is deprecated, use timeout argument instead",
                    DeprecationWarning,
                    stacklevel=2,
                )
                self._timeout = ClientTimeout(
                    total=self._timeout.total, connect=conn_timeout, sock_connect=self._timeout.sock_connect
                )
        else:
            if not isinstance(timeout, ClientTimeout):
                raise ValueError(
                    f"timeout parameter cannot be of {type(timeout)} type, "
                    "please use 'timeout=ClientTimeout(...)'"
                )
            if read_timeout is not _UNSET:
                raise ValueError("read_timeout and timeout parameters conflict, please setup timeout.read")
            if conn_timeout is not None:
                raise ValueError("conn_timeout and timeout parameters conflict, please setup timeout.connect")
            self._timeout = timeout

        self._connector = connector if connector is not None else TCPConnector()
        self._connector_owner = connector_owner
        self._cookie_jar: AbstractCookieJar = cookie_jar if cookie_jar is not None else CookieJar()
        if cookies:
            self._cookie_jar.update_cookies(cookies)
        self._default_headers: CIMultiDict[str] = CIMultiDict(headers) if headers else CIMultiDict()
        self._skip_auto_headers = frozenset(istr(h) for h in skip_auto_headers or ())
        self._default_auth = auth
        self._default_proxy = proxy
        self._default_proxy_auth = proxy_auth
        self._json_serialize = json_serialize
        self._raise_for_status = raise_for_status
        self._trust_env = trust_env
        self._requote_redirect_url = requote_redirect_url
        self._response_class = response_class or ClientResponse
        self._resolve_charset = fallback_charset_resolver
        # The native pool for the session's own settings, the one nearly every request uses.
        self._usual_client: Optional[_core.Client] = None

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
    def connector_owner(self) -> bool:
        return self._connector_owner

    @property
    def raise_for_status(self) -> RaiseForStatus:
        return self._raise_for_status

    @property
    def auto_decompress(self) -> bool:
        return True

    @property
    def trust_env(self) -> bool:
        return self._trust_env

    # --- lifecycle -----------------------------------------------------------------------------

    async def close(self) -> None:
        """Close the session (and its connector, if the session owns it)."""
        if self._connector is not None and not self._connector.closed and self._connector_owner:
            self._connector.close()
        self._connector = None

    def detach(self) -> None:
        """Forget the connector without closing it."""
        self._connector = None

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
        return _RequestContextManager(self._request(method, url, **kwargs))

    def get(self, url: StrOrURL, *, allow_redirects: bool = True, **kwargs: Any) -> _RequestContextManager:
        return self.request("GET", url, allow_redirects=allow_redirects, **kwargs)

    def options(
        self, url: StrOrURL, *, allow_redirects: bool = True, **kwargs: Any
    ) -> _RequestContextManager:
        return self.request("OPTIONS", url, allow_redirects=allow_redirects, **kwargs)

    def head(self, url: StrOrURL, *, allow_redirects: bool = False, **kwargs: Any) -> _RequestContextManager:
        return self.request("HEAD", url, allow_redirects=allow_redirects, **kwargs)

    def post(self, url: StrOrURL, *, data: Any = None, **kwargs: Any) -> _RequestContextManager:
        return self.request("POST", url, data=data, **kwargs)

    def put(self, url: StrOrURL, *, data: Any = None, **kwargs: Any) -> _RequestContextManager:
        return self.request("PUT", url, data=data, **kwargs)

    def patch(self, url: StrOrURL, *, data: Any = None, **kwargs: Any) -> _RequestContextManager:
        return self.request("PATCH", url, data=data, **kwargs)

    def delete(self, url: StrOrURL, **kwargs: Any) -> _RequestContextManager:
        return self.request("DELETE", url, **kwargs)

    def ws_connect(self, url: StrOrURL, **kwargs: Any) -> Any:
        """WebSockets are not supported by ferrofetch."""
        raise NotImplementedError("ClientSession.ws_connect is not supported by ferrofetch (no WebSockets)")

    def _build_url(self, str_or_url: StrOrURL) -> URL:
        url = URL(str_or_url)
        if self._base_url is not None and not url.absolute:
            return self._base_url.join(url)
        return url

    def _prepare_headers(self, headers: Optional[LooseHeaders]) -> CIMultiDict[str]:
        """Session headers overridden by the request's (a name given in the request replaces
        every session value of that name; repeated request names are all kept)."""
        result = CIMultiDict(self._default_headers)
        if headers:
            if not isinstance(headers, (MultiDictProxy, MultiDict)):
                headers = CIMultiDict(headers)
            added: set[str] = set()
            for key, value in headers.items():
                if key in added:
                    result.add(key, value)
                else:
                    result[key] = value
                    added.add(istr(key))
        return result

    def _auto_headers(self, headers: CIMultiDict[str], skip: frozenset[istr]) -> None:
        for name, value in (
            ("Accept", DEFAULT_ACCEPT),
            ("Accept-Encoding", DEFAULT_ACCEPT_ENCODING),
            ("User-Agent", DEFAULT_USER_AGENT),
        ):
            if name not in headers and istr(name) not in skip:
                headers[name] = value

    def _native_client(
        self,
        timeout: ClientTimeout,
        ssl: SSLSetting,
        proxy: Optional[StrOrURL],
        proxy_auth: Optional[BasicAuth],
    ) -> _core.Client:
        if self._connector is None or self._connector.closed:
            raise RuntimeError("Session is closed")
        usual = timeout is self._timeout and (ssl is True or ssl is None) and proxy is None
        if usual and self._usual_client is not None:
            return self._usual_client
        client = self._connector._client(
            ssl=ssl,
            connect_timeout=_positive(timeout.connect_timeout),
            read_timeout=_positive(timeout.sock_read),
            proxy=_proxy_url(proxy, proxy_auth),
            trust_env=self._trust_env,
        )
        if usual:
            self._usual_client = client
        return client

    async def _request(
        self,
        method: str,
        str_or_url: StrOrURL,
        *,
        params: Any = None,
        data: Any = None,
        json: Any = None,
        cookies: Optional[LooseCookies] = None,
        headers: Optional[LooseHeaders] = None,
        skip_auto_headers: Optional[Iterable[str]] = None,
        auth: Optional[BasicAuth] = None,
        allow_redirects: bool = True,
        max_redirects: int = 10,
        compress: Union[str, bool, None] = None,
        chunked: Optional[bool] = None,
        expect100: bool = False,
        raise_for_status: Optional[RaiseForStatus] = None,
        read_until_eof: bool = True,
        proxy: Optional[StrOrURL] = None,
        proxy_auth: Optional[BasicAuth] = None,
        timeout: Any = _UNSET,
        verify_ssl: Optional[bool] = None,
        fingerprint: Optional[bytes] = None,
        ssl_context: Any = None,
        ssl: SSLSetting = True,
        server_hostname: Optional[str] = None,
        proxy_headers: Optional[LooseHeaders] = None,
        trace_request_ctx: Any = None,
        read_bufsize: Optional[int] = None,
        auto_decompress: Optional[bool] = None,
        max_line_size: Optional[int] = None,
        max_field_size: Optional[int] = None,
        max_headers: Optional[int] = None,
        middlewares: Any = None,
    ) -> ClientResponse:
        if self.closed:
            raise RuntimeError("Session is closed")
        for name, value in (
            ("fingerprint", fingerprint),
            ("server_hostname", server_hostname),
            ("proxy_headers", proxy_headers),
            ("middlewares", middlewares),
        ):
            if value is not None:
                raise NotImplementedError(f"{name}=... is not supported by ferrofetch")
        if auto_decompress is False:
            raise NotImplementedError(
                "auto_decompress=False is not supported: ferrofetch always decodes bodies"
            )
        if not method or not _METHOD_TOKEN.fullmatch(method):
            raise ValueError(f"Method cannot contain non-token characters {method!r}")
        method = method.upper()
        if verify_ssl is False:
            ssl = False
        elif ssl_context is not None:
            ssl = ssl_context
        if data is not None and json is not None:
            raise ValueError("data and json parameters can not be used at the same time")

        body: Optional[Body] = None
        if json is not None:
            body = encode_json(json, self._json_serialize)
        elif data is not None:
            body = await encode_data(data)

        all_headers = self._prepare_headers(headers)
        try:
            url = self._build_url(str_or_url)
        except (ValueError, TypeError) as e:
            raise InvalidUrlClientError(str_or_url) from e
        if url.scheme not in ("http", "https", ""):
            raise NonHttpUrlClientError(url)
        skip = self._skip_auto_headers | frozenset(istr(h) for h in skip_auto_headers or ())
        if compress:
            if body is None:
                body = Body(b"", None)
            if "Content-Encoding" in all_headers:
                raise ValueError("compress can not be set if Content-Encoding header is set")
            encoding = "deflate" if compress is True else compress
            body = Body(compress_body(body.content, encoding), body.content_type)
            all_headers["Content-Encoding"] = encoding

        real_timeout = _timeout_of(timeout, self._timeout)
        loop = asyncio.get_running_loop()
        total = _positive(real_timeout.total)
        deadline = None if total is None else loop.time() + total
        client = self._native_client(
            real_timeout,
            ssl,
            proxy if proxy is not None else self._default_proxy,
            proxy_auth if proxy_auth is not None else self._default_proxy_auth,
        )
        if raise_for_status is None:
            raise_for_status = self._raise_for_status
        force_close = self._connector is not None and self._connector.force_close

        history: list[ClientResponse] = []
        query = params
        resp: Optional[ClientResponse] = None
        try:
            while True:
                url, auth_from_url = _strip_credentials(url)
                if not url.raw_host:
                    error = InvalidUrlRedirectClientError if history else InvalidUrlClientError
                    raise error(url)
                if not history and auth is not None and auth_from_url is not None:
                    raise ValueError("Cannot combine AUTH argument with credentials encoded in URL")
                if auth is None or (history and auth_from_url is not None):
                    auth = auth_from_url
                if (
                    auth is None
                    and self._default_auth is not None
                    and (self._base_origin is None or self._base_origin == url.origin())
                ):
                    auth = self._default_auth
                if auth is not None and AUTHORIZATION in all_headers:
                    raise ValueError(
                        "Cannot combine AUTHORIZATION header with AUTH argument or credentials encoded in URL"
                    )

                request_url = url.extend_query(query) if query else url
                sent = CIMultiDict(all_headers)
                self._auto_headers(sent, skip)
                if body is not None:
                    if body.content_type and CONTENT_TYPE not in sent and CONTENT_TYPE not in skip:
                        sent[CONTENT_TYPE] = body.content_type
                    sent.setdefault(CONTENT_LENGTH, str(len(body.content)))
                elif method not in _BODYLESS_METHODS:
                    sent.setdefault(CONTENT_LENGTH, "0")
                if method in _FORM_METHODS and CONTENT_TYPE not in sent and CONTENT_TYPE not in skip:
                    sent[CONTENT_TYPE] = "application/octet-stream"
                if force_close and "Connection" not in sent:
                    sent["Connection"] = "close"
                jar_cookies = self._cookie_jar.filter_cookies(request_url)
                if cookies is not None:
                    once = CookieJar(
                        unsafe=self._cookie_jar.unsafe, quote_cookie=self._cookie_jar.quote_cookie
                    )
                    once.update_cookies(cookies)
                    jar_cookies.load(once.filter_cookies(request_url))
                header = cookie_header(sent.get(COOKIE), jar_cookies)
                if header is not None:
                    sent[COOKIE] = header
                if auth is not None:
                    sent[AUTHORIZATION] = auth.encode()

                info_headers = CIMultiDict(sent)
                if HOST not in info_headers and request_url.host_port_subcomponent:
                    info_headers[HOST] = request_url.host_port_subcomponent
                request_info = RequestInfo(
                    request_url.with_fragment(None), method, CIMultiDictProxy(info_headers), request_url
                )

                options: dict[str, Any] = {
                    "method": method,
                    "headers": list(sent.items()),
                    "follow_redirects": False,
                    "max_body_size": None,
                }
                if body is not None:
                    options["data"] = body.content
                if deadline is not None:
                    remaining = deadline - loop.time()
                    if remaining <= 0:
                        raise asyncio.TimeoutError()
                    options["timeout"] = remaining
                else:
                    options["timeout"] = None
                try:
                    stream = await client.open(str(request_url.with_fragment(None)), **options)
                except ClientResponseError as error:
                    error.request_info = request_info
                    error.history = tuple(history)
                    raise
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    translated = translate_error(error)
                    if translated is error:
                        raise
                    raise translated from error
                resp = self._response_class(
                    method, request_url, stream=stream, request_info=request_info, session=self
                )

                set_cookies = resp.headers.getall("Set-Cookie", ())
                if set_cookies:
                    self._cookie_jar.update_cookies_from_headers(list(set_cookies), resp.url)

                if resp.status not in _REDIRECT_STATUSES or not allow_redirects:
                    break
                history.append(resp)
                if max_redirects and len(history) >= max_redirects:
                    resp.close()
                    raise TooManyRedirects(history[0].request_info, tuple(history))
                if (resp.status == 303 and resp.method != "HEAD") or (
                    resp.status in (301, 302) and resp.method == "POST"
                ):
                    method = "GET"
                    body = None
                    all_headers.popall(CONTENT_LENGTH, None)
                    all_headers.popall(CONTENT_TYPE, None)
                    all_headers.popall("Content-Encoding", None)
                location = resp.headers.get("Location") or resp.headers.get("URI")
                if location is None:
                    break  # a redirect status without a target is the final response
                await resp._release_redirect()
                try:
                    target = URL(location, encoded=not self._requote_redirect_url)
                except ValueError as e:
                    raise InvalidUrlRedirectClientError(
                        location,
                        "Server attempted redirecting to a location that does not look like a URL",
                    ) from e
                if target.scheme not in ("http", "https", ""):
                    raise NonHttpUrlRedirectClientError(location)
                if not target.scheme or (target.scheme == url.scheme and not target.raw_host):
                    target = url.join(target)
                try:
                    target_origin = target.origin()
                except ValueError as e:
                    raise InvalidUrlRedirectClientError(target, "Invalid redirect URL origin") from e
                if url.origin() != target_origin:
                    # Credentials never follow a redirect to another origin.
                    auth = None
                    cookies = None
                    for name in (AUTHORIZATION, COOKIE, "Proxy-Authorization"):
                        all_headers.popall(name, None)
                url = target
                query = None

            resp._history = tuple(history)
            if callable(raise_for_status):
                await raise_for_status(resp)
            elif raise_for_status:
                resp.raise_for_status()
            return resp
        except BaseException:
            if resp is not None:
                resp.close()
            raise

    # --- the bulk path -------------------------------------------------------------------------

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
        if self.closed:
            raise RuntimeError("Session is closed")
        request_headers = options.pop("headers", None)
        timeout = _timeout_of(options.pop("timeout", _UNSET), self._timeout)
        ssl = options.pop("ssl", True)
        proxy = options.pop("proxy", None)
        proxy_auth = options.pop("proxy_auth", None)
        raise_for_status = options.pop("raise_for_status", None)
        if raise_for_status is None:
            raise_for_status = self._raise_for_status
        if "allow_redirects" in options:
            options["follow_redirects"] = options.pop("allow_redirects")
        concurrency = int(options.pop("concurrency", 100))
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        return_exceptions = bool(options.get("return_exceptions", False))
        data = options.pop("data", None)
        json = options.pop("json", None)
        if data is not None and json is not None:
            raise ValueError("data and json parameters can not be used at the same time")
        body = encode_json(json, self._json_serialize) if json is not None else None
        if data is not None:
            body = await encode_data(data)
        options["timeout"] = _positive(timeout.total)

        base = self._prepare_headers(request_headers)
        if body is not None:
            options["data"] = body.content
            if body.content_type and CONTENT_TYPE not in base:
                base[CONTENT_TYPE] = body.content_type
        self._auto_headers(base, self._skip_auto_headers)
        client = self._native_client(
            timeout,
            ssl,
            proxy if proxy is not None else self._default_proxy,
            proxy_auth if proxy_auth is not None else self._default_proxy_auth,
        )

        texts: list[str] = []
        groups: dict[tuple[Optional[str], Optional[str]], list[int]] = {}
        for index, item in enumerate(urls):
            if not isinstance(item, (str, URL)):
                raise TypeError(f"a URL must be a str or yarl.URL, got {type(item).__name__}")
            extra: tuple[Optional[str], Optional[str]] = (None, None)
            try:
                url = self._build_url(item)
                valid = url.scheme in ("http", "https") and bool(url.raw_host)
            except (ValueError, TypeError):
                url, valid = URL(), False
            if not valid:
                if not return_exceptions:
                    raise (NonHttpUrlClientError if url.scheme and url.raw_host else InvalidUrlClientError)(
                        item
                    )
                texts.append(str(item))
            else:
                texts.append(str(url))
                extra = self._bulk_credentials(url, base)
            groups.setdefault(extra, []).append(index)

        shares = {key: max(1, concurrency * len(members) // len(texts)) for key, members in groups.items()}
        futures: dict[asyncio.Task[list[Any]], list[int]] = {}
        try:
            for (cookie_value, authorization), members in groups.items():
                headers = CIMultiDict(base)
                if cookie_value is not None:
                    headers[COOKIE] = cookie_value
                if authorization is not None:
                    headers[AUTHORIZATION] = authorization
                future = asyncio.ensure_future(
                    _completion(
                        client.fetch_all(
                            [texts[i] for i in members],
                            headers=list(headers.items()),
                            concurrency=shares[(cookie_value, authorization)],
                            **options,
                        )
                    )
                )
                futures[future] = members
            await asyncio.wait(list(futures), return_when=asyncio.FIRST_EXCEPTION)
            for future in futures:
                if future.done() and not future.cancelled() and future.exception() is not None:
                    raise future.exception()  # type: ignore[misc]
        except BaseException:
            for future in futures:
                future.cancel()
            raise

        results: list[Any] = [None] * len(texts)
        for future, members in futures.items():
            for index, result in zip(members, future.result()):
                results[index] = result
        for index, result in enumerate(results):
            if isinstance(result, BaseException):
                results[index] = translate_error(result)
                continue
            set_cookies = result.headers.getall("Set-Cookie", ())
            if set_cookies:
                self._cookie_jar.update_cookies_from_headers(list(set_cookies), URL(result.url, encoded=True))
        if raise_for_status is True:
            for index, result in enumerate(results):
                if isinstance(result, _core.Response) and not result.ok:
                    try:
                        result.raise_for_status()
                    except ClientResponseError as error:
                        if not return_exceptions:
                            raise
                        results[index] = error
        return results

    def _bulk_credentials(self, url: URL, base: CIMultiDict[str]) -> tuple[Optional[str], Optional[str]]:
        """The Cookie and Authorization values for one URL of a batch."""
        cookie_value = cookie_header(base.get(COOKIE), self._cookie_jar.filter_cookies(url))
        if cookie_value == base.get(COOKIE):
            cookie_value = None
        authorization = None
        if (
            self._default_auth is not None
            and AUTHORIZATION not in base
            and url.raw_user is None
            and (self._base_origin is None or self._base_origin == url.origin())
        ):
            authorization = self._default_auth.encode()
        return cookie_value, authorization


class _SessionRequestContextManager:
    """``ferrofetch.request(...)``: a one-off session that closes with the response."""

    __slots__ = ("_coro", "_resp", "_session")

    def __init__(self, coro: Coroutine[Any, Any, ClientResponse], session: ClientSession) -> None:
        self._coro = coro
        self._resp: Optional[ClientResponse] = None
        self._session = session

    async def __aenter__(self) -> ClientResponse:
        try:
            self._resp = await self._coro
        except BaseException:
            await self._session.close()
            raise
        return self._resp

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        assert self._resp is not None
        self._resp.close()
        await self._session.close()


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
        timeout=kwargs.pop("timeout", _UNSET),
        connector=connector if connector is not None else TCPConnector(force_close=True),
        connector_owner=owner,
    )
    return _SessionRequestContextManager(session._request(method, url, **kwargs), session)
