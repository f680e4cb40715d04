"""``TCPConnector``: a session's connection pool, backed by the native ``ferrofetch.Client``.

The limits (``limit``, ``limit_per_host``), ``force_close`` and ``keepalive_timeout`` are the
native pool's. TLS trust, timeouts to connect and to read, and the proxy are fixed per native
pool: a request that asks for others than its session's names them, and the native ``Client``
picks (or makes) the pool for them. Requests that agree on them (the usual case: one pool per
session) share connections; the limits count the requests of all of them together, as
aiohttp's count its connector's.

``ssl`` is honoured as far as a native pool can be told: ``False`` (or an ``ssl.SSLContext``
with ``verify_mode == CERT_NONE``) turns verification off; the CA certificates loaded into an
``SSLContext`` (``cafile=``/``cadata=``, as ``get_ca_certs()`` reports them) are trusted in
addition to the system roots. Client certificates, ciphers, protocol versions and
``check_hostname=False`` in an ``SSLContext`` cannot be read back and are not applied.
"""

from __future__ import annotations

import socket
import ssl as ssl_module
import warnings
from collections.abc import Generator
from typing import Any, Optional, Union

from . import _core
from .timeouts import UNSET

__all__ = ["BaseConnector", "TCPConnector"]

SSLSetting = Union[bool, ssl_module.SSLContext, None]


class _Noop:
    """An already finished awaitable, for methods that aiohttp lets callers await."""

    def __await__(self) -> Generator[None, None, None]:
        return
        yield


class BaseConnector:
    """A pool of connections with its limits; see :class:`TCPConnector`."""

    def __init__(
        self,
        *,
        keepalive_timeout: Optional[float] = UNSET,
        force_close: bool = False,
        limit: int = 100,
        limit_per_host: int = 0,
        enable_cleanup_closed: bool = False,
        loop: Any = None,
        timeout_ceil_threshold: float = 5,
    ) -> None:
        if force_close:
            if keepalive_timeout is not None and keepalive_timeout is not UNSET:
                raise ValueError("keepalive_timeout cannot be set if force_close is True")
            keepalive_timeout = None
        elif keepalive_timeout is UNSET:
            keepalive_timeout = 15.0
        self._keepalive_timeout: Optional[float] = keepalive_timeout
        self._force_close = force_close
        self._limit = limit
        self._limit_per_host = limit_per_host
        self._closed = False
        self._client: Optional[_core.Client] = None
        # The pool settings the native client was made with (the first session's).
        self._base_settings: dict[str, Any] = {}
        self._ssl: SSLSetting = True
        self._http2: Union[bool, str] = True

    @property
    def limit(self) -> int:
        """Requests in flight at most, over all of the connector's pools (0: no limit)."""
        return self._limit

    @property
    def limit_per_host(self) -> int:
        """Requests in flight at most per (scheme, host, port), over all of the connector's pools
        (0: no limit)."""
        return self._limit_per_host

    @property
    def force_close(self) -> bool:
        return self._force_close

    @property
    def closed(self) -> bool:
        return self._closed

    async def __aenter__(self) -> BaseConnector:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> _Noop:
        """Close every pool; requests still in flight fail with ``ClientConnectionError``."""
        self._closed = True
        client, self._client = self._client, None
        if client is not None:
            client.close()
        return _Noop()

    def _ssl_options(self, setting: SSLSetting) -> dict[str, Any]:
        """The native pool's ``verify`` and ``ca_pem`` (extra CA certificates, PEM bytes) for an
        ``ssl`` value."""
        if setting is True or setting is None:
            setting = self._ssl
        if setting is True or setting is None:
            return {"verify": True, "ca_pem": None}
        if setting is False:
            return {"verify": False, "ca_pem": None}
        if isinstance(setting, ssl_module.SSLContext):
            if setting.verify_mode == ssl_module.CERT_NONE:
                return {"verify": False, "ca_pem": None}
            der_certs = setting.get_ca_certs(binary_form=True)
            if not der_certs:
                return {"verify": True, "ca_pem": None}
            pem = "".join(ssl_module.DER_cert_to_PEM_cert(der) for der in der_certs)
            return {"verify": True, "ca_pem": pem.encode("ascii")}
        raise NotImplementedError(
            f"ssl={setting!r} is not supported by ferrofetch: pass True, False or an ssl.SSLContext"
        )

    def _native_client(self, settings: dict[str, Any]) -> _core.Client:
        """The native client, made on first use with ``settings`` (connect and read timeouts,
        ``trust_env``) and the connector's own."""
        if self._closed:
            raise RuntimeError("Connector is closed.")
        client = self._client
        if client is None:
            client = self._client = _core.Client(
                http2=self._http2,
                pool_idle_timeout=self._keepalive_timeout,
                limit=self._limit,
                limit_per_host=self._limit_per_host,
                force_close=self._force_close,
                **self._ssl_options(True),
                **settings,
            )
            self._base_settings = dict(settings)
        return client


class TCPConnector(BaseConnector):
    """Connection settings for a session, as aiohttp's ``TCPConnector`` takes them.

    Honoured: ``limit`` (default 100; 0 = no limit), ``limit_per_host``, ``force_close``,
    ``keepalive_timeout``, ``ssl`` (see the module docs) and the deprecated ``verify_ssl`` /
    ``ssl_context``. ``http2`` (not in aiohttp) is the native client's: ``True`` offers HTTP/2
    over TLS, ``False`` keeps HTTP/1.1.

    Names are resolved by the system resolver (``getaddrinfo``, in the native client's threads)
    for every new connection, with no cache of ferrofetch's own: ``use_dns_cache``,
    ``ttl_dns_cache`` and :meth:`clear_dns_cache` have nothing to act on. Happy-eyeballs tuning
    (``happy_eyeballs_delay``, ``interleave``), ``enable_cleanup_closed``,
    ``timeout_ceil_threshold`` and ``ssl_shutdown_timeout`` change neither where a request goes
    nor what it sends, and are accepted without effect. A ``resolver`` of one's own, an address
    ``family`` other than ``0``, ``fingerprint`` and ``local_addr`` raise ``NotImplementedError``.
    """

    def __init__(
        self,
        *,
        ssl: SSLSetting = True,
        verify_ssl: bool = True,
        fingerprint: Optional[bytes] = None,
        use_dns_cache: bool = True,
        ttl_dns_cache: Optional[int] = 10,
        family: int = 0,
        ssl_context: Optional[ssl_module.SSLContext] = None,
        local_addr: Optional[tuple[str, int]] = None,
        resolver: Any = None,
        keepalive_timeout: Optional[float] = UNSET,
        force_close: bool = False,
        limit: int = 100,
        limit_per_host: int = 0,
        enable_cleanup_closed: bool = False,
        loop: Any = None,
        timeout_ceil_threshold: float = 5,
        happy_eyeballs_delay: Optional[float] = 0.25,
        interleave: Optional[int] = None,
        http2: Union[bool, str] = True,
        ssl_shutdown_timeout: Any = UNSET,
        socket_factory: Any = None,
    ) -> None:
        if ssl_shutdown_timeout is not UNSET:
            warnings.warn(
                "The ssl_shutdown_timeout parameter is deprecated and will be removed in aiohttp 4.0",
                DeprecationWarning,
                stacklevel=2,
            )
        if resolver is not None:
            # The native client resolves names in its own threads, which never call into
            # Python; an AbstractResolver cannot be consulted, and must not be silently skipped.
            raise NotImplementedError(
                "TCPConnector(resolver=...) is not supported by ferrofetch: names are resolved "
                "by the system resolver"
            )
        if family not in (0, socket.AF_UNSPEC):
            raise NotImplementedError("TCPConnector(family=...) is not supported by ferrofetch")
        if socket_factory is not None:
            raise NotImplementedError("TCPConnector(socket_factory=...) is not supported by ferrofetch")
        super().__init__(
            keepalive_timeout=keepalive_timeout,
            force_close=force_close,
            limit=limit,
            limit_per_host=limit_per_host,
        )
        for name, value in (("fingerprint", fingerprint), ("local_addr", local_addr)):
            if value is not None:
                raise NotImplementedError(f"TCPConnector({name}=...) is not supported by ferrofetch")
        if not verify_ssl:
            ssl = False
        elif ssl_context is not None:
            ssl = ssl_context
        if not isinstance(ssl, (bool, ssl_module.SSLContext)) and ssl is not None:
            raise NotImplementedError(
                f"ssl={ssl!r} is not supported by ferrofetch: pass True, False or an ssl.SSLContext"
            )
        self._ssl = ssl
        self._http2 = http2

    @property
    def family(self) -> int:
        """The address family of connections: always ``0`` (any; IPv4 or IPv6)."""
        return 0

    @property
    def use_dns_cache(self) -> bool:
        """False: names are resolved for each new connection, without a cache."""
        return False

    def clear_dns_cache(self, host: Optional[str] = None, port: Optional[int] = None) -> None:
        """Nothing to clear (there is no DNS cache); the arguments are checked as aiohttp does:
        ``host`` and ``port`` together or neither, else ``ValueError``."""
        if (host is None) != (port is None):
            raise ValueError("either both host and port or none of them are allowed")
