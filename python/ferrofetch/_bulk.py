"""``ClientSession.fetch_all``: a batch of URLs on the session's pool, in native calls.

The URLs are grouped by the ``Cookie`` and ``Authorization`` the session would send to each,
and every group is one native ``fetch_all`` (the concurrency shared between the groups by
size), so a batch costs a handful of trips between Python and Rust whatever its length.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Optional, cast

from multidict import CIMultiDict
from yarl import URL

from . import _core
from ._body import request_body
from ._headers import AUTHORIZATION, COOKIE, merge_headers
from ._native import completion, translate_error
from .cookiejar import cookie_header
from .exceptions import ClientResponseError, InvalidUrlClientError, NonHttpUrlClientError
from .timeouts import UNSET, request_timeout, seconds_or_none

if TYPE_CHECKING:
    from ._core import Pending
    from ._headers import StrOrURL
    from ._session_view import SessionView

__all__ = ["fetch_all"]

_Credentials = tuple[Optional[str], Optional[str]]


async def fetch_all(session: SessionView, urls: Iterable[StrOrURL], options: dict[str, Any]) -> list[Any]:
    """See :meth:`ClientSession.fetch_all`; ``options`` are its keyword arguments."""
    if session.closed:
        raise RuntimeError("Session is closed")
    request_headers = options.pop("headers", None)
    timeout = request_timeout(options.pop("timeout", UNSET), session.timeout)
    ssl = options.pop("ssl", True)
    proxy = options.pop("proxy", None)
    proxy_auth = options.pop("proxy_auth", None)
    raise_for_status = options.pop("raise_for_status", None)
    if raise_for_status is None:
        raise_for_status = session.raise_for_status
    if "allow_redirects" in options:
        options["follow_redirects"] = options.pop("allow_redirects")
    auto_decompress = options.pop("auto_decompress", None)
    options["decompress"] = session.auto_decompress if auto_decompress is None else bool(auto_decompress)
    concurrency = int(options.pop("concurrency", 100))
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    return_exceptions = bool(options.get("return_exceptions", False))
    body = await request_body(options.pop("data", None), options.pop("json", None), session._json_encoder)
    options["timeout"] = seconds_or_none(timeout.total)
    if session._skip_folded:
        options["skip_auto_headers"] = list(session._skip_folded)

    base = merge_headers(session.headers, request_headers)
    if body is not None:
        # Every URL gets the same body: a stream is read once, here.
        options["data"] = await body.collected()
        if body.content_type:
            options["content_type"] = body.content_type
    client = session._pool(options, timeout, ssl, proxy, proxy_auth)

    texts: list[str] = []
    groups: dict[_Credentials, list[int]] = {}
    for index, item in enumerate(urls):
        if not isinstance(item, (str, URL)):
            raise TypeError(f"a URL must be a str or yarl.URL, got {type(item).__name__}")
        extra: _Credentials = (None, None)
        try:
            text, url = session._request_url(item)
            valid = url.scheme in ("http", "https") and bool(url.raw_host)
        except (ValueError, TypeError):
            url, valid = URL(), False
        if not valid:
            if not return_exceptions:
                raise (NonHttpUrlClientError if url.scheme and url.raw_host else InvalidUrlClientError)(item)
            texts.append(str(item))
        else:
            # `valid` is only True when the `try` above assigned `text`.
            texts.append(text)  # pyright: ignore[reportPossiblyUnboundVariable]
            extra = _credentials(session, url, base)
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
                completion(
                    cast(
                        "Pending[list[Any]]",
                        client.fetch_all(
                            [texts[i] for i in members],
                            headers=list(headers.items()),
                            concurrency=shares[(cookie_value, authorization)],
                            **options,
                        ),
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
            session.cookie_jar.update_cookies_from_headers(list(set_cookies), URL(result.url, encoded=True))
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


def _credentials(session: SessionView, url: URL, base: CIMultiDict[str]) -> _Credentials:
    """The Cookie and Authorization values for one URL of a batch (``None``: as in ``base``)."""
    cookie_value = cookie_header(base.get(COOKIE), session.cookie_jar.filter_cookies(url))
    if cookie_value == base.get(COOKIE):
        cookie_value = None
    authorization = None
    if AUTHORIZATION not in base and url.raw_user is None:
        auth = session._default_auth_for(url)
        if auth is not None:
            authorization = auth.encode()
    return cookie_value, authorization
