"""The keyword options of ``fetch``, ``fetch_all`` and ``Client``, as typed dictionaries.

``fetch(url, **options)`` takes :class:`FetchOptions`; a ``Client``'s methods take
:class:`RequestOptions` (the pool's settings are fixed when the ``Client`` is made). A misspelt
option is a type error under mypy or pyright, and a ``TypeError`` at run time. Use them to type a
wrapper of your own:

```python
from typing_extensions import Unpack

import ferrofetch
from ferrofetch.options import FetchOptions


async def get_text(url: str, **options: Unpack[FetchOptions]) -> str:
    return (await ferrofetch.fetch(url, **options)).text
```

Units: every timeout is in seconds (``None``: no limit), sizes are in bytes.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable, Mapping
from typing import Any, Literal, TypedDict, Union

__all__ = [
    "Body",
    "ConnectionOptions",
    "FetchOptions",
    "Headers",
    "Params",
    "RequestOptions",
]

Scalar = Union[str, int, float]
"""A query or form value: ``int`` and ``float`` are sent as ``str()`` gives them; ``bool`` is refused."""

Headers = Union[
    Mapping[str, Union[str, bytes]],
    Mapping[bytes, Union[str, bytes]],
    Iterable[tuple[Union[str, bytes], Union[str, bytes]]],
]
"""Request headers: a mapping (``dict``, ``multidict.CIMultiDict``) or ``(name, value)`` pairs.

Repeated names in pairs are all sent. CR, LF and NUL in a name or value raise ``ValueError``
before anything is sent.
"""

Params = Union[Mapping[str, Scalar], Iterable[tuple[str, Scalar]]]
"""Query parameters, appended to each URL's own query (form-urlencoded, as aiohttp's ``params``)."""

Body = Union[
    bytes,
    bytearray,
    memoryview,
    str,
    Mapping[str, Scalar],
    Iterable[tuple[str, Scalar]],
    AsyncIterable[bytes],
]
"""A request body.

``bytes``-like values are sent as they are; ``str`` as UTF-8 (``Content-Type: text/plain;
charset=utf-8`` unless you set one); a mapping or pairs as an
``application/x-www-form-urlencoded`` form; an async iterator of ``bytes`` is streamed with
chunked encoding (``fetch`` and ``Client.open`` only; it cannot be replayed by a 307/308 redirect).
"""


class RequestOptions(TypedDict, total=False):
    """Options of one request: what may differ between two requests on one pool."""

    method: str
    """HTTP method, any token; upper-cased. Default ``"GET"``."""
    headers: Headers | None
    """Request headers. Default: none beyond ``User-Agent``, ``Accept``, ``Accept-Encoding``."""
    data: Body | None
    """The request body (see :data:`Body`). Cannot be given with ``json``."""
    json: Any
    """A value for ``json.dumps``, sent as ``application/json``. Cannot be given with ``data``."""
    params: Params | None
    """Query parameters appended to the URL."""
    timeout: float | None
    """Total seconds per request, redirects and body included. Default 300 (aiohttp's
    ``ClientTimeout(total=300)``); ``None``: no limit. Exceeding it raises ``ServerTimeoutError``."""
    follow_redirects: bool
    """Follow 301/302/303/307/308 responses. Default ``True``."""
    max_redirects: int
    """Redirects followed before ``TooManyRedirects`` is raised. Default 10."""
    max_body_size: int | None
    """Decoded body bytes held in memory; more raise ``BodyTooLargeError``. Default 128 MiB
    (``ferrofetch.DEFAULT_MAX_BODY_SIZE``); ``None``: no limit."""
    decompress: bool
    """Undo ``Content-Encoding`` (gzip, br, zstd, deflate). Default ``True``."""


class ConnectionOptions(TypedDict, total=False):
    """Settings a connection depends on. The module-level functions keep one shared pool per
    distinct combination; ``Client(...)`` takes them once for its own pool."""

    verify: bool
    """Verify TLS certificates and host names. Default ``True``; ``False`` is unsafe outside tests."""
    ca_bundle: str | None
    """Path of a PEM file of extra trusted CA certificates, added to the system's."""
    client_cert: str | None
    """Path of a PEM client certificate for TLS client authentication."""
    client_key: str | None
    """Path of the PEM private key of ``client_cert``."""
    http2: bool | Literal["prefer", "force"]
    """``True``/``"prefer"`` (default): HTTP/2 by ALPN over TLS; ``"force"``: HTTP/2 with prior
    knowledge; ``False``: HTTP/1.1 only."""
    connect_timeout: float | None
    """Seconds to open a connection. Default 30 (aiohttp's ``sock_connect=30``)."""
    read_timeout: float | None
    """Seconds for the response head once the request is sent, then for each wait for body bytes.
    Default ``None``: no limit."""
    pool_idle_timeout: float | None
    """Seconds an idle pooled connection is kept. Default 15 (aiohttp's ``keepalive_timeout``)."""
    force_close: bool
    """Close each connection after its response instead of pooling it. Default ``False``."""
    proxy: str | None
    """Proxy URL (``http://``, ``https://``, ``socks5://``) for every request."""
    trust_env: bool
    """Read ``HTTP_PROXY``/``HTTPS_PROXY``/``NO_PROXY`` from the environment. Default ``False``."""
    user_agent: str | None
    """The ``User-Agent`` sent when the request sets none. Default ``ferrofetch/<version>``."""


class FetchOptions(RequestOptions, ConnectionOptions, total=False):
    """Every option of the module-level :func:`ferrofetch.fetch` and :func:`ferrofetch.fetch_all`."""
