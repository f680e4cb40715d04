"""``ClientResponse``: a response whose head has arrived, its body read on demand or whole.

The head (status, headers, cookies, content type) is there from the start; the body is
``resp.content`` (a :class:`~ferrofetch.streams.StreamReader` over the native stream) or whole
with ``await resp.read()``/``text()``/``json()``. Releasing the response drops what is unread.
"""

from __future__ import annotations

import codecs
import json as jsonlib
import re
from http.cookies import SimpleCookie
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, Optional

from multidict import CIMultiDict, CIMultiDictProxy, istr
from yarl import URL

from . import _core
from ._headers import request_info as build_request_info
from ._native import translate_error
from .connector import BaseConnector, _Noop
from .cookiejar import parse_set_cookie_headers
from .exceptions import ClientConnectionError, ClientResponseError, ContentTypeError
from .http_version import HttpVersion
from .request_info import RequestInfo
from .streams import StreamReader

if TYPE_CHECKING:
    from ._session_view import ResponseSession

__all__ = ["CharsetResolver", "ClientResponse", "default_charset"]

CharsetResolver = Callable[["ClientResponse", bytes], str]

CONTENT_TYPE = istr("Content-Type")

_JSON_TYPE = re.compile(r"^application/(?:[\w.+-]+?\+)?json")
# A redirect body of at most this many bytes is read (briefly) so its connection can be reused.
_DRAIN_LIMIT = 64 * 1024
_DRAIN_SECONDS = 1.0


def default_charset(response: ClientResponse, body: bytes) -> str:
    """The fallback charset of a body whose Content-Type names none."""
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


def _read_error_translator(connector: Optional[BaseConnector]) -> Callable[[BaseException], BaseException]:
    """How a response's failed body reads are reported, as aiohttp raises them."""
    if connector is None:
        return translate_error

    def read_error(error: BaseException) -> BaseException:
        if isinstance(error, ClientConnectionError) and connector.closed:
            # The session was closed under the response.
            closed = RuntimeError("Connection closed.")
            closed.__cause__ = error
            return closed
        return translate_error(error)

    return read_error


class ClientResponse:
    """A response whose head has arrived; the body is read on demand (``content``) or whole."""

    def __init__(
        self,
        method: str,
        url: URL,
        *,
        stream: _core.StreamResponse,
        request_info: Optional[RequestInfo] = None,
        session: Optional[ResponseSession] = None,
        sent_headers: Optional[CIMultiDict[str]] = None,
    ) -> None:
        """``request_info``, or else the headers sent (``sent_headers``, not modified afterwards):
        ``request_info`` is then built from them on first use."""
        self.method = method
        self._real_url = url
        self._url = url.with_fragment(None) if url.raw_fragment else url
        self._stream = stream
        self._request_info = request_info
        self._sent: Optional[tuple[str, Optional[CIMultiDict[str]]]] = (
            None if request_info is not None else (method, sent_headers)
        )
        self.status: int = stream.status
        self.reason: Optional[str] = stream.reason
        self.version: Optional[HttpVersion] = _http_version(stream.http_version)
        connector = None if session is None else session.connector
        # Nothing here refers back to the response, so a response is freed by its reference
        # count, without waiting for the garbage collector.
        self.content = StreamReader(stream, on_eof=stream.close, translate=_read_error_translator(connector))
        self._body: Optional[bytes] = None
        self._history: tuple[ClientResponse, ...] = ()
        self._cookies: Optional[SimpleCookie] = None
        self._closed = False
        self._released = False
        self._in_context = False
        self._resolve_charset: CharsetResolver = (
            session._resolve_charset if session is not None else default_charset
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
        return self._stream.raw_headers

    @property
    def _headers(self) -> CIMultiDictProxy[str]:
        # Built by the core on first access and cached there: a response nobody inspects
        # never converts its headers.
        return self._stream.headers

    @property
    def request_info(self) -> RequestInfo:
        info = self._request_info
        if info is None:
            assert self._sent is not None
            method, sent = self._sent
            if sent is None:
                sent = CIMultiDict(self._stream.request_headers or ())
            info = self._request_info = build_request_info(self._real_url, method, sent)
            self._sent = None
        return info

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
        """The body's declared length in bytes, as the core reads ``Content-Length`` (a list of
        identical values is that value, RFC 9110 §8.6); ``None`` when absent."""
        return self._stream.content_length

    @property
    def cookies(self) -> SimpleCookie:
        """The cookies this response set (its ``Set-Cookie`` headers)."""
        if self._cookies is None:
            cookies = SimpleCookie()
            for name, morsel in parse_set_cookie_headers(self._headers.getall("Set-Cookie", ())):
                # dict's own __setitem__ skips SimpleCookie's re-encoding; unbound, its types are Unknown.
                dict.__setitem__(cookies, name, morsel)  # pyright: ignore[reportUnknownMemberType]
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
            raise self._error(ClientResponseError, self.reason or "")

    def _error(self, kind: type[ClientResponseError], message: str) -> ClientResponseError:
        return kind(
            self.request_info, self.history, status=self.status, message=message, headers=self.headers
        )

    # --- the body ------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once the response is released, its session closed, or its whole body received
        (at once for a response without a body: 204, 304, HEAD), as aiohttp says."""
        # The end of the body closes the native stream, and so the response.
        return self._closed or self._stream.closed or self.content.is_eof()

    def _mark_released(self) -> None:
        """Later reads raise ``ClientConnectionError("Connection closed")``."""
        if not self._released:
            if self.content.exception() is None:
                self.content.set_exception(ClientConnectionError("Connection closed"))
            self._released = True
        self._closed = True

    def release(self) -> _Noop:
        """Done with the response: a body still coming is dropped with its connection, closed at
        once (a pending read raises, as aiohttp's does), and later reads raise
        ``ClientConnectionError("Connection closed")``."""
        self._mark_released()
        if not self.content._eof:
            # (At the end of the body the stream has closed itself.)
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
                # A body that has already arrived whole is taken as is, without awaiting the reader.
                body = self.content._received_rest()
                self._body = await self.content.read() if body is None else body
            except BaseException:
                self.close()
                raise
        elif self._released:
            raise ClientConnectionError("Connection closed")
        return self._body

    async def _kept_body(self) -> bytes:
        """The body read whole, or as an earlier read kept it (even after release)."""
        if self._body is None:
            await self.read()
        assert self._body is not None
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
        body = await self._kept_body()
        return body.decode(encoding or self.get_encoding(), errors=errors)

    async def json(
        self,
        *,
        encoding: Optional[str] = None,
        loads: Callable[[str], Any] = jsonlib.loads,
        content_type: Optional[str] = "application/json",
    ) -> Any:
        """The body parsed as JSON with ``loads``; ``ContentTypeError`` if Content-Type is not
        ``content_type`` (``None`` skips the check); ``None`` for an empty body. A leading byte
        order mark is dropped (RFC 8259 §8.1; aiohttp raises ``JSONDecodeError`` there)."""
        body = await self._kept_body()
        if content_type:
            actual = self._headers.get(CONTENT_TYPE, "").lower()
            expected = (
                _JSON_TYPE.match(actual) is not None
                if content_type == "application/json"
                else content_type in actual
            )
            if not expected:
                raise self._error(
                    ContentTypeError, f"Attempt to decode JSON with unexpected mimetype: {actual}"
                )
        stripped = body.strip()
        if not stripped:
            return None
        # A leading byte order mark is accepted (RFC 8259 §8.1), where aiohttp refuses it.
        return loads(_core.json_text(stripped, encoding or self.get_encoding()))

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
        if type(self).wait_for_close is not ClientResponse.wait_for_close:
            await self.wait_for_close()  # a subclass's own (ClientResponse's would release again)
