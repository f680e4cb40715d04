"""HTTP Basic authentication: ``BasicAuth`` and ``encode_basic_auth``, as aiohttp has them."""

from __future__ import annotations

import base64
import binascii
from typing import NamedTuple, Optional

from yarl import URL

__all__ = ["BasicAuth", "encode_basic_auth"]


def encode_basic_auth(login: str, password: str = "", encoding: str = "utf-8") -> str:
    """The ``Authorization`` header value for these credentials: ``"Basic <base64>"``."""
    if ":" in login:
        raise ValueError('A ":" is not allowed in login (RFC 1945#section-11.1)')
    credentials = f"{login}:{password}".encode(encoding)
    return "Basic " + base64.b64encode(credentials).decode("ascii")


class _Credentials(NamedTuple):
    login: str
    password: str
    encoding: str


class BasicAuth(_Credentials):
    """Login, password and the text encoding used to send them (Latin-1 by default).

    Unlike aiohttp 3.14, constructing one does not emit a ``DeprecationWarning``.
    """

    def __new__(cls, login: str, password: str = "", encoding: str = "latin1") -> BasicAuth:
        if login is None:
            raise ValueError("None is not allowed as login value")
        if password is None:
            raise ValueError("None is not allowed as password value")
        if ":" in login:
            raise ValueError('A ":" is not allowed in login (RFC 1945#section-11.1)')
        return super().__new__(cls, login, password, encoding)

    @classmethod
    def decode(cls, auth_header: str, encoding: str = "latin1") -> BasicAuth:
        """Parse an ``Authorization: Basic ...`` header value."""
        scheme, _, encoded = auth_header.partition(" ")
        if not encoded:
            raise ValueError("Could not parse authorization header.")
        if scheme.lower() != "basic":
            raise ValueError(f"Unknown authorization method {scheme}")
        try:
            decoded = base64.b64decode(encoded.encode("ascii"), validate=True).decode(encoding)
        except binascii.Error:
            raise ValueError("Invalid base64 encoding.") from None
        login, colon, password = decoded.partition(":")
        if not colon:
            raise ValueError("Invalid credentials.")
        return cls(login, password, encoding)

    @classmethod
    def from_url(cls, url: URL, *, encoding: str = "latin1") -> Optional[BasicAuth]:
        """The credentials embedded in ``url`` (``http://user:pass@host/``), or ``None``."""
        if not isinstance(url, URL):
            raise TypeError("url should be yarl.URL instance")
        if url.raw_user is None and url.raw_password is None:
            return None
        return cls(url.user or "", url.password or "", encoding)

    def encode(self) -> str:
        """The ``Authorization`` header value."""
        return encode_basic_auth(self.login, self.password, self.encoding)
