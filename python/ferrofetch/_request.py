"""One session request as aiohttp makes it (``session.get(...)`` and friends).

The options are checked and the body and headers built once; then the request is sent on the
session's native pool with ``Client.open(...)``, hop by hop when the response redirects (see
``_redirects``), each hop with its own credentials, cookies and what is left of the total timeout.
"""

from __future__ import annotations

import asyncio
import re
import warnings
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Optional, Union

from . import _core
from ._body import Body, as_chunked, compress_body, request_body, tracked
from ._headers import (
    AUTHORIZATION,
    SET_COOKIE,
    LooseHeaders,
    StrOrURL,
    folded_names,
    hop_headers,
    merge_headers,
    request_info,
)
from ._native import translate_error
from ._redirects import REDIRECT_STATUSES, Hop, follow
from .auth import BasicAuth
from .connector import SSLSetting
from .cookiejar import LooseCookies
from .exceptions import (
    ClientPayloadError,
    ClientResponseError,
    InvalidUrlClientError,
    InvalidUrlRedirectClientError,
    NonHttpUrlClientError,
    TooManyRedirects,
)
from .response import ClientResponse
from .timeouts import UNSET, Deadline, request_timeout
from .upload_tracker import UploadTracker, tracks_uploads

if TYPE_CHECKING:
    from .session import ClientSession, RaiseForStatus

__all__ = ["send_request"]

_METHOD_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Methods known to be tokens, so the usual ones skip the check.
_TOKEN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})
# Options aiohttp takes that ferrofetch refuses (when given anything but None).
_UNSUPPORTED = ("fingerprint", "server_hostname", "proxy_headers", "middlewares")


@tracks_uploads
async def send_request(
    session: ClientSession,
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
        url = session._build_url(str_or_url)
    except (ValueError, TypeError) as e:
        raise InvalidUrlClientError(str_or_url) from e
    if url.scheme not in ("http", "https", ""):
        raise NonHttpUrlClientError(url)
    skip = session._skip_folded
    if skip_auto_headers:
        skip = skip | folded_names(skip_auto_headers)
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
    deadline = Deadline(real_timeout.total)
    client = session._native_client(real_timeout, ssl, proxy, proxy_auth)
    if raise_for_status is None:
        raise_for_status = session.raise_for_status
    connector = session.connector
    force_close = connector is not None and connector.force_close

    decompress = session.auto_decompress if auto_decompress is None else auto_decompress
    hop = Hop(method.upper(), url, params, body, all_headers, auth, cookies, decompress)
    history: list[ClientResponse] = []
    resp: Optional[ClientResponse] = None
    try:
        while True:
            if upload_tracker is not None:
                upload_tracker._attempt_started(has_body=hop.body is not None)
            resp = await _send_hop(session, hop, client, deadline, skip, force_close, history)
            # Checked in the core first, so headers are only converted for Python when needed.
            if resp._stream.has_header("set-cookie"):
                set_cookies = resp.headers.getall(SET_COOKIE, ())
                session.cookie_jar.update_cookies_from_headers(list(set_cookies), resp.url)
            if resp.status not in REDIRECT_STATUSES or not allow_redirects:
                break
            history.append(resp)
            if max_redirects and len(history) >= max_redirects:
                resp.close()
                raise TooManyRedirects(history[0].request_info, tuple(history))
            if not await follow(hop, resp, session.requote_redirect_url):
                break  # a redirect status without a target is the final response

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


async def _send_hop(
    session: ClientSession,
    hop: Hop,
    client: _core.Client,
    deadline: Deadline,
    skip: frozenset[str],
    force_close: bool,
    history: list[ClientResponse],
) -> ClientResponse:
    """Send ``hop`` (the first request or the one after ``history``) and wait for its head."""
    _settle_credentials(session, hop, redirected=bool(history))
    request_url = hop.url.extend_query(hop.query) if hop.query else hop.url
    sent = hop_headers(
        hop.headers,
        method=hop.method,
        body=hop.body,
        skip=skip,
        force_close=force_close,
        cookies=session._cookies_for(request_url, hop.cookies),
        auth=hop.auth,
    )
    options: dict[str, Any] = {
        "method": hop.method,
        "headers": list(sent.items()),
        "follow_redirects": False,
        "max_body_size": None,
    }
    if not hop.decompress:
        options["decompress"] = False
    if hop.body is not None and hop.body.stream is not None:
        if hop.body.streamed and not hop.body.replayable:
            raise ClientPayloadError(
                "Cannot follow redirect with a consumed request body: a streamed body cannot be "
                f"sent again (the redirect to {request_url} asked for it)"
            )
        hop.body.streamed = True
        options["data"] = hop.body.stream
    elif hop.body is not None:
        options["data"] = hop.body.content
    options["timeout"] = deadline.remaining()
    try:
        stream = await client.open(str(request_url.with_fragment(None)), **options)
    except ClientResponseError as error:
        error.request_info = request_info(request_url, hop.method, sent)
        error.history = tuple(history)
        raise
    except asyncio.CancelledError:
        raise
    except Exception as error:
        translated = translate_error(error)
        if translated is error:
            raise
        raise translated from error
    response_class = session._response_class
    if response_class is ClientResponse:
        # request_info built only if asked for.
        return ClientResponse(hop.method, request_url, stream=stream, session=session, sent_headers=sent)
    info = request_info(request_url, hop.method, sent)
    return response_class(hop.method, request_url, stream=stream, request_info=info, session=session)


def _settle_credentials(session: ClientSession, hop: Hop, *, redirected: bool) -> None:
    """Take the credentials out of ``hop.url`` and choose what ``hop`` sends: ``auth=`` (first
    hop only) or the URL's, else the session's ``auth`` for its origin."""
    auth_from_url = BasicAuth.from_url(hop.url)
    if auth_from_url is not None:
        hop.url = hop.url.with_user(None)
    if not hop.url.raw_host:
        raise (InvalidUrlRedirectClientError if redirected else InvalidUrlClientError)(hop.url)
    if not redirected and hop.auth is not None and auth_from_url is not None:
        raise ValueError("Cannot combine AUTH argument with credentials encoded in URL")
    if hop.auth is None or (redirected and auth_from_url is not None):
        hop.auth = auth_from_url
    if hop.auth is None:
        hop.auth = session._default_auth_for(hop.url)
    if hop.auth is not None and AUTHORIZATION in hop.headers:
        raise ValueError(
            "Cannot combine AUTHORIZATION header with AUTH argument or credentials encoded in URL"
        )
