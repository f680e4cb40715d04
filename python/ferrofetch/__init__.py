"""ferrofetch: an async HTTP client for Python with a Rust (tokio + reqwest) core.

``await fetch_all(urls)`` runs a whole batch on the Rust runtime in one call; ``fetch`` is the
single-request form; ``ClientSession`` and friends keep aiohttp-style code working with only
the import changed (``import ferrofetch as aiohttp``).
"""

# The package's own modules share the native module's private names by design.
# pyright: reportPrivateUsage=false

from __future__ import annotations

import atexit as _atexit
import os as _os

from . import _core, payload
from ._api import fetch, fetch_all
from ._core import (
    DEFAULT_MAX_BODY_SIZE,
    Client,
    Pending,
    Response,
    StreamResponse,
    configure,
    runtime_info,
)
from .auth import BasicAuth, encode_basic_auth
from .connector import BaseConnector, TCPConnector
from .cookiejar import CookieJar, DummyCookieJar
from .exceptions import (
    BodyTooLargeError,
    ClientConnectionError,
    ClientConnectionResetError,
    ClientConnectorCertificateError,
    ClientConnectorDNSError,
    ClientConnectorError,
    ClientConnectorSSLError,
    ClientError,
    ClientHttpProxyError,
    ClientOSError,
    ClientPayloadError,
    ClientProxyConnectionError,
    ClientResponseError,
    ClientSSLError,
    ConnectionTimeoutError,
    ContentTypeError,
    InvalidURL,
    InvalidUrlClientError,
    InvalidUrlRedirectClientError,
    NonHttpUrlClientError,
    NonHttpUrlRedirectClientError,
    RedirectClientError,
    ServerConnectionError,
    ServerDisconnectedError,
    ServerTimeoutError,
    SocketTimeoutError,
    TooManyRedirects,
    UploadAbortedError,
)
from .formdata import FormData
from .http_version import HttpVersion, HttpVersion10, HttpVersion11
from .payload import (
    AsyncIterablePayload,
    BufferedReaderPayload,
    BytesIOPayload,
    BytesPayload,
    IOBasePayload,
    JsonPayload,
    Payload,
    StringIOPayload,
    StringPayload,
    TextIOPayload,
    get_payload,
    streamer,
)
from .request_info import RequestInfo
from .response import ClientResponse
from .session import ClientSession, request
from .streams import EofStream, StreamReader
from .timeouts import ClientTimeout
from .tracing import (
    TraceConfig,
    TraceRequestEndParams,
    TraceRequestExceptionParams,
    TraceRequestRedirectParams,
    TraceRequestStartParams,
)
from .upload_tracker import UploadTracker

__version__ = _core.__version__

# tokio's threads do not survive fork(): the child builds a fresh runtime and pool on first use.
_os.register_at_fork(after_in_child=_core._after_fork_in_child)
# Stop the runtime before the interpreter tears down, so in-flight requests cannot outlive it.
_atexit.register(_core._shutdown)

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "AsyncIterablePayload",
    "BaseConnector",
    "BasicAuth",
    "BodyTooLargeError",
    "BufferedReaderPayload",
    "BytesIOPayload",
    "BytesPayload",
    "Client",
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
    "ClientResponse",
    "ClientResponseError",
    "ClientSSLError",
    "ClientSession",
    "ClientTimeout",
    "ConnectionTimeoutError",
    "ContentTypeError",
    "CookieJar",
    "DummyCookieJar",
    "EofStream",
    "FormData",
    "HttpVersion",
    "HttpVersion10",
    "HttpVersion11",
    "IOBasePayload",
    "InvalidURL",
    "InvalidUrlClientError",
    "InvalidUrlRedirectClientError",
    "JsonPayload",
    "NonHttpUrlClientError",
    "NonHttpUrlRedirectClientError",
    "Payload",
    "Pending",
    "RedirectClientError",
    "RequestInfo",
    "Response",
    "ServerConnectionError",
    "ServerDisconnectedError",
    "ServerTimeoutError",
    "SocketTimeoutError",
    "StreamReader",
    "StreamResponse",
    "StringIOPayload",
    "StringPayload",
    "TCPConnector",
    "TextIOPayload",
    "TooManyRedirects",
    "TraceConfig",
    "TraceRequestEndParams",
    "TraceRequestExceptionParams",
    "TraceRequestRedirectParams",
    "TraceRequestStartParams",
    "UploadAbortedError",
    "UploadTracker",
    "configure",
    "encode_basic_auth",
    "fetch",
    "fetch_all",
    "get_payload",
    "payload",
    "request",
    "runtime_info",
    "streamer",
]
