"""One session request as aiohttp makes it (``session.get(...)`` and friends).

The options are checked and the body, headers, first cookies and credentials prepared here;
then the whole request is one native call, ``Client.open(..., each_redirect=True)``: the core
sends each hop (automatic headers, redirect rules, the total timeout on its clock). At a
redirect it stops with a ``Redirect`` so that the session's cookie jar takes the hop's
``Set-Cookie`` and chooses the next hop's ``Cookie``; ``Redirect.follow(cookie)`` goes on.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Optional, Union

from multidict import CIMultiDict
from yarl import URL

from . import _core
from ._body import Body, as_chunked, compress_body, request_body, tracked
from ._headers import (
    AUTHORIZATION,
    COOKIE,
    SET_COOKIE,
    LooseHeaders,
    StrOrURL,
    merge_headers,
    request_info,
)
from ._native import translate_error
from .auth import BasicAuth
from .connector import SSLSetting
from .cookiejar import LooseCookies, cookie_header
from .exceptions import (
    ClientResponseError,
    InvalidUrlClientError,
    NonHttpUrlClientError,
    TooManyRedirects,
)
from .response import ClientResponse
from .timeouts import UNSET, request_timeout, seconds_or_none
from .upload_tracker import UploadTracker, tracks_uploads

if TYPE_CHECKING:
    from typing import Protocol

    from ._session_view import RaiseForStatus, SessionView

    # The request prepared natively, the headers it sends, the URL as text and parsed.
    PlainRequest = tuple[_core.PreparedOpen, list[tuple[str, str]], str, URL]

    class PlainSession(SessionView, Protocol):
        """A session that prepares its usual requests ahead (``ClientSession``)."""

        def _plain_request(self, str_or_url: StrOrURL) -> Optional[PlainRequest]: ...


__all__ = ["send_plain", "send_request"]

_METHOD_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Methods known to be tokens, so the usual ones skip the check.
_TOKEN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})
# Options aiohttp takes that ferrofetch refuses (when given anything but None).
_UNSUPPORTED = ("fingerprint", "server_hostname", "proxy_headers", "middlewares")
# aiohttp puts a redirect without a target, the final response, in its own history too.
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


@tracks_uploads
async def send_request(
    session: SessionView,
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
    chunked: Union[bool, int, None] = None,
    expect100: bool = False,
    raise_for_status: Optional[RaiseForStatus] = None,
    read_until_eof: bool = True,
    proxy: Optional[StrOrURL] = None,
    proxy_auth: Optional[BasicAuth] = None,
    timeout: Any = UNSET,
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
    upload_tracker: Optional[UploadTracker] = None,
) -> ClientResponse:
    """``session.request(method, str_or_url, ...)``: the response, after any redirects."""
    if session.closed:
        raise RuntimeError("Session is closed")
    if (
        fingerprint is not None
        or server_hostname is not None
        or proxy_headers is not None
        or middlewares is not None
    ):
        for name, value in zip(_UNSUPPORTED, (fingerprint, server_hostname, proxy_headers, middlewares)):
            if value is not None:
                raise NotImplementedError(f"{name}=... is not supported by ferrofetch")
    if method not in _TOKEN_METHODS and (not method or not _METHOD_TOKEN.fullmatch(method)):
        raise ValueError(f"Method cannot contain non-token characters {method!r}")
    if verify_ssl is False:
        ssl = False
    elif ssl_context is not None:
        ssl = ssl_context
    if data is None and json is None:
        body = None
    else:
        body = await request_body(data, json, session._json_encoder)

    all_headers = merge_headers(session.headers, headers)
    if not read_until_eof:
        raise NotImplementedError("read_until_eof=False is not supported by ferrofetch")
    if expect100:
        all_headers["Expect"] = "100-continue"
    try:
        url_text, url = session._request_url(str_or_url, params)
    except (ValueError, TypeError) as e:
        raise InvalidUrlClientError(str_or_url) from e
    if url.scheme not in ("http", "https", ""):
        raise NonHttpUrlClientError(str_or_url)
    if not url.raw_host:
        raise InvalidUrlClientError(str_or_url)
    if compress:
        if body is None:
            body = Body(b"", None)
        if "Content-Encoding" in all_headers:
            raise ValueError("compress can not be set if Content-Encoding header is set")
        encoding = "deflate" if compress is True else compress
        body = Body(compress_body(await body.collected(), encoding), body.content_type)
        all_headers["Content-Encoding"] = encoding
    if not isinstance(chunked, bool) and chunked is not None:
        warnings.warn("Chunk size is deprecated #1615", DeprecationWarning, stacklevel=3)
    if chunked:
        if "chunked" in all_headers.get("Transfer-Encoding", "").lower():
            raise ValueError('chunked can not be set if "Transfer-Encoding: chunked" header is set')
        if "Content-Length" in all_headers:
            raise ValueError("chunked can not be set if Content-Length header is set")
        body = as_chunked(body)

    if upload_tracker is not None:
        body = tracked(body, upload_tracker)

    real_timeout = session.timeout if timeout is UNSET else request_timeout(timeout, session.timeout)
    if raise_for_status is None:
        raise_for_status = session.raise_for_status
    given_cookie = all_headers.get(COOKIE)
    _first_credentials(session, url, auth, all_headers)
    cookie = cookie_header(given_cookie, session._cookies_for(url, cookies))
    if cookie is not None:
        all_headers[COOKIE] = cookie

    options: dict[str, Any] = {
        "method": method.upper(),
        "headers": list(all_headers.items()),
        "follow_redirects": allow_redirects,
        "max_redirects": max_redirects,
        "max_body_size": None,
        "timeout": seconds_or_none(real_timeout.total),
        "each_redirect": True,
    }
    client = session._pool(options, real_timeout, ssl, proxy, proxy_auth)
    skip = session._skip_folded
    if skip_auto_headers:
        skip = skip | {name.lower() for name in skip_auto_headers}
    if skip:
        options["skip_auto_headers"] = list(skip)
    if not (session.auto_decompress if auto_decompress is None else auto_decompress):
        options["decompress"] = False
    if body is not None:
        options["data"] = body.content if body.stream is None else body.stream
        if body.content_type:
            options["content_type"] = body.content_type
        if (
            body.stream is not None
            and body.length is not None
            and "chunked" not in all_headers.get("Transfer-Encoding", "")
        ):
            all_headers.setdefault("Content-Length", str(body.length))
        for name, value in body.headers:
            if name not in all_headers and name.lower() not in skip:
                all_headers[name] = value
        options["headers"] = list(all_headers.items())

    if upload_tracker is not None:
        upload_tracker._attempt_started(has_body=body is not None)
    opened = await _open(client.open(url_text, **options), url, method, all_headers, [])
    return await _complete(
        session,
        opened,
        url_text,
        url,
        method,
        all_headers,
        body,
        allow_redirects,
        raise_for_status,
        given_cookie,
        cookies,
        upload_tracker,
    )


async def _complete(
    session: SessionView,
    opened: Any,
    url_text: str,
    url: URL,
    method: str,
    all_headers: CIMultiDict[str],
    body: Optional[Body],
    allow_redirects: bool,
    raise_for_status: RaiseForStatus,
    given_cookie: Optional[str] = None,
    cookies: Optional[LooseCookies] = None,
    upload_tracker: Optional[UploadTracker] = None,
) -> ClientResponse:
    """The response of a request whose first hop has answered with ``opened``: redirects
    followed hop by hop through the cookie jar, then ``raise_for_status``."""
    history: list[ClientResponse] = []
    while isinstance(opened, _core.Redirect):
        hop = _response(session, opened.response)
        history.append(hop)
        _take_cookies(session, hop)
        hop.release()
        if not opened.same_origin:
            given_cookie = None
            cookies = None
        target = URL(opened.location, encoded=True)
        next_method = opened.method
        cookie = cookie_header(given_cookie, session._cookies_for(target, cookies))
        # A body that can be sent again (bytes, files) is given again for a 307/308.
        replay = body is not None and opened.keeps_body and body.stream is not None and body.replayable
        if upload_tracker is not None:
            upload_tracker._attempt_started(has_body=body is not None and opened.keeps_body)
        follow = opened.follow(cookie, body.stream) if replay and body is not None else opened.follow(cookie)
        opened = await _open(follow, target, next_method, all_headers, history)
    return await _final(session, opened, url_text, url, history, allow_redirects, raise_for_status)


async def _final(
    session: SessionView,
    opened: _core.StreamResponse,
    url_text: str,
    url: URL,
    history: list[ClientResponse],
    allow_redirects: bool,
    raise_for_status: RaiseForStatus,
) -> ClientResponse:
    """The final response: its cookies taken, its ``history``, then ``raise_for_status``."""
    # At the URL asked for, as sent (no redirect, nothing normalized): its parsed form is reused.
    resp = _response(session, opened, url if opened.url == url_text else None)
    try:
        _take_cookies(session, resp)
        if allow_redirects and resp.status in _REDIRECT_STATUSES:
            history.append(resp)
        resp._history = tuple(history)
        if callable(raise_for_status):
            await raise_for_status(resp)
        elif raise_for_status:
            resp.raise_for_status()
        return resp
    except BaseException:
        resp.close()
        raise


async def send_plain(
    session: PlainSession, method: str, str_or_url: StrOrURL, allow_redirects: bool, data: Optional[bytes]
) -> ClientResponse:
    """``send_request`` for the usual request: a method of the shortcuts, no option but
    ``allow_redirects`` and ``data`` (``None`` or ``bytes``), no trace configs. What the
    session's defaults give is taken ready-made from ``session._plain_request`` (the options
    ``send_request`` builds for them, read once by the core); anything else goes the whole way
    through ``send_request``."""
    plain = None if method not in _TOKEN_METHODS else session._plain_request(str_or_url)
    if plain is None:
        return await send_request(session, method, str_or_url, allow_redirects=allow_redirects, data=data)
    prepared, headers, url_text, url = plain
    content_type = None if data is None else "application/octet-stream"
    cookie = cookie_header(None, session._cookies_for(url, None))
    try:
        opened = await prepared.open(url_text, method, allow_redirects, data, content_type, cookie)
    except Exception as error:
        failure = _failure(error, url, method, _sent_headers(headers, cookie), [])
        if failure is error:
            raise
        raise failure from error
    if type(opened) is not _core.StreamResponse:
        # A redirect: followed as send_request follows it.
        return await _complete(
            session,
            opened,
            url_text,
            url,
            method,
            _sent_headers(headers, cookie),
            None if data is None else Body(data, "application/octet-stream"),
            allow_redirects,
            session.raise_for_status,
        )
    return await _final(session, opened, url_text, url, [], allow_redirects, session.raise_for_status)


def _sent_headers(headers: list[tuple[str, str]], cookie: Optional[str]) -> CIMultiDict[str]:
    """The headers of a ``send_plain`` request, as ``send_request`` keeps them."""
    sent = CIMultiDict(headers)
    if cookie is not None:
        sent[COOKIE] = cookie
    return sent


def _response(
    session: SessionView, stream: _core.StreamResponse, url: Optional[URL] = None
) -> ClientResponse:
    if url is None:
        url = URL(stream.url, encoded=True)
    response_class = session._response_class
    if response_class is ClientResponse:
        # request_info built only if asked for.
        return ClientResponse(stream.method, url, stream=stream, session=session)
    info = request_info(url, stream.method, CIMultiDict(stream.request_headers or ()))
    resp: ClientResponse = response_class(
        stream.method, url, stream=stream, request_info=info, session=session
    )
    return resp


def _take_cookies(session: SessionView, resp: ClientResponse) -> None:
    # Checked in the core first, so headers are only converted for Python when needed.
    if resp._stream.has_header("set-cookie"):
        set_cookies = resp.headers.getall(SET_COOKIE, ())
        session.cookie_jar.update_cookies_from_headers(list(set_cookies), resp.url)


async def _open(
    pending: Any, url: URL, method: str, headers: CIMultiDict[str], history: list[ClientResponse]
) -> Any:
    """The native hop's result; its exceptions as aiohttp raises them (see ``_failure``)."""
    try:
        return await pending
    except Exception as error:
        failure = _failure(error, url, method, headers, history)
        if failure is error:
            raise
        raise failure from error


def _failure(
    error: Exception, url: URL, method: str, headers: CIMultiDict[str], history: list[ClientResponse]
) -> BaseException:
    """A native hop's exception as aiohttp raises it, with ``request_info`` and ``history``
    where aiohttp gives them (``error`` itself, completed, or its translation)."""
    if isinstance(error, TooManyRedirects):
        error.request_info = history[0].request_info if history else request_info(url, method, headers)
        error.history = tuple(history)
        return error
    if isinstance(error, ClientResponseError):
        error.request_info = request_info(url, method, headers)
        error.history = tuple(history)
        return error
    return translate_error(error)


def _first_credentials(
    session: SessionView, url: URL, auth: Optional[BasicAuth], headers: CIMultiDict[str]
) -> None:
    """``Authorization`` for the first hop: ``auth=``, else the session's ``auth`` for its
    origin. Credentials in the URL are the core's (their UTF-8 octets, RFC 7617 §2.1), and
    combine with neither, as in aiohttp."""
    in_url = url.raw_user is not None or url.raw_password is not None
    if in_url and auth is not None:
        raise ValueError("Cannot combine AUTH argument with credentials encoded in URL")
    if auth is None and not in_url:
        auth = session._default_auth_for(url)
    if (auth is not None or in_url) and AUTHORIZATION in headers:
        raise ValueError(
            "Cannot combine AUTHORIZATION header with AUTH argument or credentials encoded in URL"
        )
    if auth is not None:
        headers[AUTHORIZATION] = auth.encode()
