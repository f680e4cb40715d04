"""The exception tree, shaped like aiohttp's so ``except aiohttp.ClientError`` keeps working.

Every exception raised for a request carries the request's URL (``url``, a ``str`` or ``None``)
and a message that says what went wrong. The native core imports these classes and raises
them; nothing here depends on the core.

Differences from aiohttp, on purpose: ``ClientConnectionError`` is also an ``OSError`` (so code
that catches ``OSError`` around network calls keeps working), and every timeout is an
``asyncio.TimeoutError``/``TimeoutError``.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, cast

from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy

__all__ = [
    "BodyTooLargeError",
    "ClientConnectionError",
    "ClientConnectionResetError",
    "ClientConnectorCertificateError",
    "ClientConnectorDNSError",
    "ClientConnectorError",
    "ClientConnectorSSLError",
    "ClientError",
    "ClientHttpProxyError",
    "ClientOSError",
    "ClientPayloadError",
    "ClientProxyConnectionError",
    "ClientResponseError",
    "ClientSSLError",
    "ConnectionTimeoutError",
    "ContentTypeError",
    "InvalidURL",
    "InvalidUrlClientError",
    "InvalidUrlRedirectClientError",
    "NonHttpUrlClientError",
    "NonHttpUrlRedirectClientError",
    "RedirectClientError",
    "ServerConnectionError",
    "ServerDisconnectedError",
    "ServerTimeoutError",
    "SocketTimeoutError",
    "TooManyRedirects",
    "UploadAbortedError",
]


class ClientError(Exception):
    """Base of every error ferrofetch raises for a request."""

    url: str | None

    def __init__(self, message: str = "", *, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""

    def __str__(self) -> str:
        # ssl.SSLError (a base of two subclasses) would otherwise print the args tuple.
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickling (multiprocessing, Dask) rebuilds the instance without calling __init__, whose
        # signature differs per class (InvalidURL would wrap its message twice), and carries
        # every attribute; multidict's read-only proxies do not pickle, so they travel as copies.
        state = {name: _picklable(value) for name, value in vars(self).items()}
        if isinstance(state.get("history"), tuple):
            state["history"] = tuple(_hop(response) for response in state["history"])
        return (_restore, (type(self), self.args, state))


class HistoryEntry(NamedTuple):
    """A redirect response of an unpickled error's ``history``: its head, without the body.

    A ``ClientResponse`` holds its open connection and so cannot leave the process; the
    attributes that describe it do.
    """

    url: Any
    real_url: Any
    method: str
    status: int
    reason: str | None
    headers: Any
    request_info: Any

    def __reduce__(self) -> tuple[Any, ...]:
        return (_history_entry, (*self[:5], _picklable(self.headers), self.request_info))


def _history_entry(
    url: Any, real_url: Any, method: str, status: int, reason: str | None, headers: Any, request_info: Any
) -> HistoryEntry:
    return HistoryEntry(url, real_url, method, status, reason, _unpickled(headers), request_info)


def _hop(response: Any) -> Any:
    if isinstance(response, HistoryEntry) or not hasattr(response, "request_info"):
        return response
    return HistoryEntry(
        response.url,
        response.real_url,
        response.method,
        response.status,
        response.reason,
        response.headers,
        response.request_info,
    )


def _picklable(value: Any) -> Any:
    if isinstance(value, (CIMultiDictProxy, MultiDictProxy)):
        return _ReadOnly(cast("MultiDictProxy[object]", value).copy())
    return value


class _ReadOnly:
    """A multidict proxy on its way through pickle: the copy it is rebuilt from."""

    def __init__(self, items: CIMultiDict[Any] | MultiDict[Any]) -> None:
        self.items = items

    def proxy(self) -> CIMultiDictProxy[Any] | MultiDictProxy[Any]:
        if isinstance(self.items, CIMultiDict):
            return CIMultiDictProxy(self.items)
        return MultiDictProxy(self.items)


def _restore(cls: type[ClientError], args: tuple[Any, ...], state: dict[str, Any]) -> ClientError:
    error = cls.__new__(cls, *args)
    error.args = args
    for name, value in state.items():
        setattr(error, name, _unpickled(value))
    return error


def _unpickled(value: Any) -> Any:
    return value.proxy() if isinstance(value, _ReadOnly) else value


class ClientConnectionError(ClientError, OSError):
    """The connection to the server failed or was lost."""


class ClientOSError(ClientConnectionError):
    """An operating-system level failure on the connection."""


class ClientConnectionResetError(ClientConnectionError, ConnectionResetError):
    """The peer reset the connection."""


class ClientConnectorError(ClientOSError):
    """A connection to the host could not be opened (refused, unreachable, DNS, TLS)."""

    @property
    def host(self) -> str | None:
        from urllib.parse import urlsplit

        return urlsplit(self.url).hostname if self.url else None

    @property
    def port(self) -> int | None:
        from urllib.parse import urlsplit

        if not self.url:
            return None
        parts = urlsplit(self.url)
        return parts.port or (443 if parts.scheme == "https" else 80)

    @property
    def ssl(self) -> bool:
        return bool(self.url and self.url.startswith("https:"))

    def __str__(self) -> str:
        # aiohttp's shape, which its users match on, with the native client's reason inside.
        if self.host is None:
            return self.message
        reason = self.message.removeprefix("cannot connect to host: ")
        return f"Cannot connect to host {self.host}:{self.port} ssl:default [{reason}]"


class ClientConnectorDNSError(ClientConnectorError):
    """The host name could not be resolved."""


class ClientProxyConnectionError(ClientConnectorError):
    """The proxy could not be reached."""


class ClientSSLError(ClientConnectorError):
    """The TLS handshake failed."""


class ClientConnectorSSLError(ClientSSLError, ssl.SSLError):
    """The TLS handshake failed for a reason other than the certificate."""


class ClientConnectorCertificateError(ClientSSLError, ssl.SSLCertVerificationError):
    """The server's certificate was not accepted (untrusted, expired, wrong host name)."""


class ServerConnectionError(ClientConnectionError):
    """The server broke the exchange after the connection was open."""


class ServerDisconnectedError(ServerConnectionError):
    """The server closed the connection before a complete response arrived."""


class ServerTimeoutError(ServerConnectionError, TimeoutError):
    """A timeout fired (total or read); also an ``asyncio.TimeoutError``."""


class ConnectionTimeoutError(ServerTimeoutError):
    """Opening the connection took longer than ``connect_timeout``."""


class SocketTimeoutError(ServerTimeoutError):
    """No data arrived from the server for longer than ``read_timeout``."""


class ClientResponseError(ClientError):
    """The response is an error, or could not be used as asked (status, content type)."""

    status: int
    headers: Mapping[str, str] | None
    request_info: Any
    history: Sequence[Any]

    def __init__(
        self,
        request_info: Any = None,
        history: Sequence[Any] = (),
        *,
        status: int | None = None,
        message: str = "",
        headers: Mapping[str, str] | None = None,
        url: str | None = None,
    ) -> None:
        if url is None and request_info is not None:
            real_url = getattr(request_info, "real_url", None)
            url = None if real_url is None else str(real_url)
        super().__init__(message, url=url)
        self.request_info = request_info
        self.history = tuple(history)
        self.status = 0 if status is None else status
        self.headers = headers

    @property
    def code(self) -> int:
        return self.status

    def __str__(self) -> str:
        return f"{self.status}, message={self.message!r}, url={self.url!r}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, message={self.message!r}, url={self.url!r})"


class ContentTypeError(ClientResponseError):
    """``json()`` was called on a response whose Content-Type is not JSON."""


class TooManyRedirects(ClientResponseError):
    """The redirect chain was longer than ``max_redirects``, or looped."""


class ClientHttpProxyError(ClientResponseError):
    """The proxy answered the CONNECT with an error status."""


class ClientPayloadError(ClientError):
    """The response body could not be read whole (truncated, badly encoded, too large)."""


class BodyTooLargeError(ClientPayloadError):
    """The decoded body grew past ``max_body_size``; the rest was not read."""


class UploadAbortedError(ClientError):
    """The request body was never fully sent (``UploadTracker.upload_complete``)."""


class InvalidURL(ClientError, ValueError):
    """The URL cannot be requested (unparsable, no host, or a scheme other than http/https)."""

    def __init__(self, url: Any = None, description: str | None = None) -> None:
        text = str(url) if url is not None else None
        # aiohttp's shape, which its users match on: the URL itself first, then " - " and why.
        message = (text or "") + (f" - {description}" if description else "")
        super().__init__(message, url=text)
        self.description = description

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self}>"


class InvalidUrlClientError(InvalidURL):
    """The URL given to a request is invalid."""


class NonHttpUrlClientError(InvalidUrlClientError):
    """The URL's scheme is not http or https."""


class RedirectClientError(ClientError):
    """A redirect could not be followed."""


class InvalidUrlRedirectClientError(InvalidUrlClientError, RedirectClientError):
    """A redirect's Location is not a valid URL."""


class NonHttpUrlRedirectClientError(NonHttpUrlClientError, RedirectClientError):
    """A redirect points to a scheme other than http or https."""
