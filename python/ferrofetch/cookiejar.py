"""Cookie storage for sessions: ``CookieJar`` (RFC 6265 rules, like aiohttp's) and ``DummyCookieJar``.

A session stores every ``Set-Cookie`` it receives, redirect hops included, and sends the matching
cookies with each request. As in aiohttp, cookies set by a host given as an IP address are refused
unless the jar is ``CookieJar(unsafe=True)``, and cookies given without a response URL (the
session's ``cookies=`` argument, ``update_cookies(...)``) are shared: sent to every host.
"""

from __future__ import annotations

import abc
import calendar
import ipaddress
import json
import logging
import os
import pathlib
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from http.cookies import BaseCookie, Morsel, SimpleCookie
from typing import Any, Callable, Optional, Union, cast

from yarl import URL

__all__ = ["AbstractCookieJar", "CookieJar", "DummyCookieJar", "cookie_header", "request_cookies"]

LooseCookies = Union[
    Mapping[str, Union[str, "Morsel[str]"]],
    Iterable[tuple[str, Union[str, "Morsel[str]"]]],
    "BaseCookie[str]",
]
ClearCookiePredicate = Callable[["Morsel[str]"], bool]

_ENCODER = SimpleCookie()
_LOG = logging.getLogger("ferrofetch")

# Bounds on what servers can make the jar keep, aiohttp 3.14's (which are Firefox's): once a
# domain holds MAX_PER_DOMAIN cookies, the least recently used (non-Secure first) are evicted
# down to QUOTA_PER_DOMAIN; the whole jar likewise between MAX_TOTAL and QUOTA_TOTAL. At most
# MAX_PER_RESPONSE cookies are taken from one response.
MAX_PER_DOMAIN = 180
QUOTA_PER_DOMAIN = 150
MAX_TOTAL = 3300
QUOTA_TOTAL = 3000
MAX_PER_RESPONSE = 50
# What one request sends at most (aiohttp's): the most specific cookies are kept.
MAX_PER_REQUEST = 150
MAX_HEADER_LENGTH = 8190
_HEADER_PREFIX_LENGTH = len("Cookie: ")
# RFC 6265 4.1.1 cookie-name (a token), as aiohttp accepts it.
_COOKIE_NAME = re.compile(r"^[!#$%&'()*+\-./0-9:<=>?@A-Z\[\]^_`a-z{|}~]+$")
# "No response URL": cookies stored without one are shared by every host.
_NO_URL = URL()


def _is_ip_address(host: Optional[str]) -> bool:
    if not host:
        return False
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _domain_matches(domain: str, host: str) -> bool:
    """RFC 6265 5.1.3: ``host`` is ``domain`` or a name under it (never for IP addresses)."""
    if host == domain:
        return True
    return host.endswith("." + domain) and not _is_ip_address(host)


def _path_matches(cookie_path: str, request_path: str) -> bool:
    """RFC 6265 5.1.4."""
    if request_path == cookie_path:
        return True
    if not request_path.startswith(cookie_path):
        return False
    return cookie_path.endswith("/") or request_path[len(cookie_path)] == "/"


def _default_path(url: URL) -> str:
    """RFC 6265 5.1.4: the directory of the request path."""
    path = url.path
    if not path.startswith("/") or path.count("/") == 1:
        return "/"
    return path[: path.rfind("/")]


_DATE_DELIMITERS = re.compile(r"[\x09\x20-\x2f\x3b-\x40\x5b-\x60\x7b-\x7e]+")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_TIME = re.compile(r"(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\D|$)")
_DAY = re.compile(r"(\d{1,2})(?:\D|$)")
_YEAR = re.compile(r"(\d{2,4})(?:\D|$)")


def parse_cookie_date(text: str) -> Optional[int]:
    """The ``Expires`` attribute as a POSIX timestamp, by RFC 6265 5.1.1, or ``None``."""
    clock: Optional[tuple[int, int, int]] = None
    day = month = year = None
    for token in _DATE_DELIMITERS.split(text):
        if not token:
            continue
        if clock is None and (m := _TIME.match(token)):
            clock = (int(m[1]), int(m[2]), int(m[3]))
        elif day is None and (m := _DAY.match(token)):
            day = int(m[1])
        elif month is None and token[:3].lower() in _MONTHS:
            month = _MONTHS.index(token[:3].lower()) + 1
        elif year is None and (m := _YEAR.match(token)):
            year = int(m[1])
    if clock is None or day is None or month is None or year is None:
        return None
    if 70 <= year <= 99:
        year += 1900
    elif 0 <= year <= 69:
        year += 2000
    hour, minute, second = clock
    if not 1 <= day <= 31 or year < 1601 or hour > 23 or minute > 59 or second > 59:
        return None
    return calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))


_QUOTED_ESCAPE = re.compile(r"\\(?:([0-3][0-7][0-7])|(.))")
_COOKIE_ATTRIBUTES = frozenset(
    {"expires", "max-age", "domain", "path", "comment", "version", "samesite", "partitioned"}
)
_COOKIE_FLAGS = frozenset({"secure", "httponly"})


def _unquote(value: str) -> str:
    if len(value) < 2 or not (value.startswith('"') and value.endswith('"')):
        return value
    return _QUOTED_ESCAPE.sub(lambda m: chr(int(m[1], 8)) if m[1] else m[2], value[1:-1])


def parse_set_cookie_headers(headers: Iterable[str]) -> list[tuple[str, Morsel[str]]]:
    """``Set-Cookie`` values as ``(name, morsel)`` pairs (RFC 6265 5.2: the first ``name=value``
    is the cookie, whatever its name, ``path`` or ``secure`` included, then its attributes).

    Values without a name are skipped; a name that is not a token is skipped with a warning on
    the ``ferrofetch`` logger (as aiohttp does on its own); only the first
    :data:`MAX_PER_RESPONSE` cookies are taken."""
    cookies: list[tuple[str, Morsel[str]]] = []
    for header in headers:
        if len(cookies) >= MAX_PER_RESPONSE:
            break
        pair, *attributes = header.split(";")
        name, eq, raw = pair.partition("=")
        name, raw = name.strip(), raw.strip()
        if not eq or not name:
            continue
        if not _COOKIE_NAME.match(name):
            _LOG.warning("Can not load cookies: Illegal cookie name %r", name)
            continue
        morsel = _morsel(name, _unquote(raw), raw)
        for attribute in attributes:
            key, _, value = attribute.partition("=")
            key = key.strip().lower()
            if key in _COOKIE_FLAGS:
                morsel[key] = True
            elif key in _COOKIE_ATTRIBUTES and key in morsel:
                morsel[key] = value.strip()
        cookies.append((name, morsel))
    return cookies


def _morsel(name: str, value: str, coded_value: str) -> Morsel[str]:
    morsel: Morsel[str] = Morsel()
    # Bypasses Morsel.set's name check, which refuses names such as "secure" or "path": servers
    # send them, aiohttp stores and returns them.
    morsel.__setstate__({"key": name, "value": value, "coded_value": coded_value})  # type: ignore[attr-defined]
    return morsel


def _pairs(cookies: LooseCookies) -> Iterable[tuple[str, Any]]:
    if isinstance(cookies, Mapping):
        return cast("Mapping[str, Any]", cookies).items()
    return cookies


class AbstractCookieJar(abc.ABC):
    """The interface a session uses: store cookies from responses, select them for requests."""

    @property
    def unsafe(self) -> bool:
        return False

    @property
    def quote_cookie(self) -> bool:
        return True

    @abc.abstractmethod
    def __len__(self) -> int: ...

    @abc.abstractmethod
    def __iter__(self) -> Iterator[Morsel[str]]: ...

    @abc.abstractmethod
    def clear(self, predicate: Optional[ClearCookiePredicate] = None) -> None:
        """Remove every cookie, or those for which ``predicate(morsel)`` is true."""

    @abc.abstractmethod
    def clear_domain(self, domain: str) -> None:
        """Remove the cookies of ``domain`` and its subdomains."""

    @abc.abstractmethod
    def update_cookies(self, cookies: LooseCookies, response_url: URL = _NO_URL) -> None:
        """Store ``cookies`` as if ``response_url`` had set them."""

    @abc.abstractmethod
    def update_cookies_from_headers(self, headers: Sequence[str], response_url: URL) -> None:
        """Store the cookies of raw ``Set-Cookie`` values received from ``response_url``."""

    @abc.abstractmethod
    def filter_cookies(self, request_url: URL = _NO_URL) -> BaseCookie[str]:
        """The cookies to send to ``request_url``."""


class _Stored:
    __slots__ = ("expires", "host_only", "morsel", "used")

    def __init__(self, morsel: Morsel[str], host_only: bool, expires: Optional[float]) -> None:
        self.morsel = morsel
        self.host_only = host_only
        self.expires = expires
        # When the cookie was last stored or sent (a counter): eviction takes the lowest first.
        self.used = 0


_Key = tuple[str, str, str]  # (domain, path, name); domain "" = shared by every host


class CookieJar(AbstractCookieJar):
    """Cookies kept by a session, selected per request by domain, path, ``Secure`` and expiry.

    ``unsafe=True`` also accepts cookies from hosts given as IP addresses; ``quote_cookie=False``
    sends values as received, without re-quoting them. ``treat_as_secure_origin`` names origins
    (such as ``http://127.0.0.1:8080``) that get ``Secure`` cookies over cleartext.
    """

    def __init__(
        self,
        *,
        unsafe: bool = False,
        quote_cookie: bool = True,
        treat_as_secure_origin: Union[str, URL, Iterable[Union[str, URL]], None] = None,
        loop: Any = None,
    ) -> None:
        self._unsafe = unsafe
        self._quote_cookie = quote_cookie
        if treat_as_secure_origin is None:
            origins: Iterable[Union[str, URL]] = ()
        elif isinstance(treat_as_secure_origin, (str, URL)):
            origins = (treat_as_secure_origin,)
        else:
            origins = treat_as_secure_origin
        self._secure_origins = frozenset(URL(o).origin() for o in origins)
        self._store: dict[_Key, _Stored] = {}
        self._clock = 0
        # A request's own cookies= are sent whatever their number (aiohttp's rule).
        self._limited = True

    def _touch(self, stored: _Stored) -> None:
        self._clock += 1
        stored.used = self._clock

    @property
    def unsafe(self) -> bool:
        return self._unsafe

    @property
    def quote_cookie(self) -> bool:
        return self._quote_cookie

    @property
    def treat_as_secure_origin(self) -> frozenset[URL]:
        return self._secure_origins

    def __len__(self) -> int:
        self._expire()
        return len(self._store)

    def __iter__(self) -> Iterator[Morsel[str]]:
        self._expire()
        return iter([stored.morsel for stored in self._store.values()])

    def _expire(self) -> None:
        now = time.time()
        expired = [k for k, v in self._store.items() if v.expires is not None and v.expires <= now]
        for key in expired:
            del self._store[key]

    def clear(self, predicate: Optional[ClearCookiePredicate] = None) -> None:
        if predicate is None:
            self._store.clear()
            return
        self._expire()
        for key in [k for k, v in self._store.items() if predicate(v.morsel)]:
            del self._store[key]

    def clear_domain(self, domain: str) -> None:
        self.clear(lambda morsel: _domain_matches(domain, morsel["domain"]))

    def update_cookies(self, cookies: LooseCookies, response_url: URL = _NO_URL) -> None:
        host = response_url.raw_host
        if not self._unsafe and _is_ip_address(host):
            return
        now = time.time()
        for name, value in _pairs(cookies):
            if isinstance(value, Morsel):
                # basedpyright's typeshed lacks `Morsel.copy` (dict's, returning a dict); mypy's has it.
                morsel: Morsel[str] = value.copy()  # pyright: ignore[reportAssignmentType]
            else:
                holder: SimpleCookie = SimpleCookie()
                holder[name] = value
                morsel = holder[name]
            self._store_one(morsel, response_url, host, now)
        self._expire()

    def _store_one(self, morsel: Morsel[str], url: URL, host: Optional[str], now: float) -> None:
        domain = morsel["domain"]
        if domain.endswith("."):
            # A trailing dot makes the attribute unusable: the cookie becomes host-only.
            domain = ""
            morsel["domain"] = ""
        domain = domain.lstrip(".").lower()
        if domain and host and not _domain_matches(domain, host.lower()):
            return  # a host may only set cookies for itself and its parent domains
        path = morsel["path"]
        if not path.startswith("/"):
            path = _default_path(url)
            morsel["path"] = path
        host_only = not domain and host is not None
        if host_only:
            assert host is not None
            domain = host.lower()
        morsel["domain"] = domain
        expires: Optional[float] = None
        if morsel["max-age"]:
            try:
                seconds = int(morsel["max-age"])
            except ValueError:
                morsel["max-age"] = ""
            else:
                expires = now + seconds if seconds > 0 else 0.0
        elif morsel["expires"]:
            parsed = parse_cookie_date(morsel["expires"])
            if parsed is None:
                morsel["expires"] = ""
            else:
                expires = float(parsed)
        key = (domain, path, morsel.key)
        if expires is not None and expires <= now:
            self._store.pop(key, None)  # an expiry in the past deletes the cookie
            return
        if key not in self._store and self._limited and not self._make_room(domain, bool(morsel["secure"])):
            _LOG.debug("Dropped cookie %r for %s: its domain is full of Secure cookies", morsel.key, domain)
            return
        stored = self._store[key] = _Stored(morsel, host_only, expires)
        self._touch(stored)

    def _make_room(self, domain: str, secure: bool) -> bool:
        # Like Firefox's AddCookie/FindStaleCookies (and aiohttp): expired first, then the least
        # recently used non-Secure cookies; Secure ones only make room for another Secure one.
        """Evict for a new cookie of ``domain``; False when it must be dropped instead (its
        domain is full of Secure cookies and it is not Secure itself)."""
        if sum(1 for key in self._store if key[0] == domain) >= MAX_PER_DOMAIN:
            self._expire()
            in_domain = [(s.used, k) for k, s in self._store.items() if k[0] == domain]
            excess = len(in_domain) - QUOTA_PER_DOMAIN + 1
            if excess <= 0:
                return True
            candidates = [c for c in in_domain if not self._store[c[1]].morsel["secure"]]
            if not candidates:
                if len(in_domain) < MAX_PER_DOMAIN:
                    return True
                if not secure:
                    return False
                candidates = in_domain
            candidates.sort()  # least recently used first, then by (domain, path, name)
            for _, key in candidates[:excess]:
                del self._store[key]
            _LOG.debug(
                "Evicted %d cookie(s) of %s over the %d-cookie domain limit", excess, domain, MAX_PER_DOMAIN
            )
        elif len(self._store) >= MAX_TOTAL:
            self._expire()
            excess = len(self._store) - QUOTA_TOTAL
            if excess > 0:
                oldest = sorted(self._store.items(), key=lambda item: item[1].used)[:excess]
                for key, _ in oldest:
                    del self._store[key]
                _LOG.debug("Evicted %d cookie(s) over the %d-cookie total limit", excess, MAX_TOTAL)
        return True

    def update_cookies_from_headers(self, headers: Sequence[str], response_url: URL) -> None:
        if not headers or (not self._unsafe and _is_ip_address(response_url.raw_host)):
            return
        parsed = parse_set_cookie_headers(headers)
        if parsed:
            self.update_cookies(parsed, response_url)

    def filter_cookies(self, request_url: URL = _NO_URL) -> BaseCookie[str]:
        if not self._store:
            return BaseCookie()  # nothing stored, nothing to expire
        self._expire()
        selected: BaseCookie[str] = BaseCookie()
        if not self._store:
            return selected
        host = (request_url.raw_host or "").lower()
        secure = request_url.scheme in ("https", "wss")
        if not secure and self._secure_origins:
            try:
                secure = request_url.origin() in self._secure_origins
            except ValueError:
                pass
        ip_host = _is_ip_address(host)
        path = request_url.path or "/"
        matches: list[tuple[int, int, _Stored]] = []
        for (domain, cookie_path, _), stored in self._store.items():
            if domain:
                if ip_host and not self._unsafe:
                    continue
                if stored.host_only or ip_host:
                    if domain != host:
                        continue
                elif not _domain_matches(domain, host):
                    continue
            if not _path_matches(cookie_path, path):
                continue
            if stored.morsel["secure"] and not secure:
                continue
            matches.append((len(domain), len(cookie_path), stored))
        # Less specific first; a more specific cookie of the same name replaces it.
        matches.sort(key=lambda m: (m[0], m[1]))
        chosen: dict[str, tuple[_Stored, Morsel[str]]] = {}
        for _, _, stored in matches:
            chosen.pop(stored.morsel.key, None)
            chosen[stored.morsel.key] = (stored, self._for_sending(stored.morsel))
        admitted = list(chosen.values())
        if self._limited:
            admitted = _within_header_limits(admitted)
        # Cookies sent together share one use, as in aiohttp and Firefox.
        self._clock += 1
        for stored, morsel in admitted:
            stored.used = self._clock
            # dict's own __setitem__ skips SimpleCookie's re-encoding; unbound, its types are Unknown.
            dict.__setitem__(selected, morsel.key, morsel)  # pyright: ignore[reportUnknownMemberType]
        return selected

    def _for_sending(self, morsel: Morsel[str]) -> Morsel[str]:
        if not self._quote_cookie:
            coded = morsel.value
        elif morsel.coded_value.startswith('"'):
            coded = morsel.coded_value
        else:
            coded = _ENCODER.value_encode(morsel.value)[1]
        return _morsel(morsel.key, morsel.value, coded)

    def save(self, file_path: Union[str, os.PathLike[str]]) -> None:
        """Write the cookies to ``file_path`` as JSON (readable by :meth:`load`), mode 0600."""
        self._expire()
        records = [
            {
                "name": m.key,
                "value": m.value,
                "coded_value": m.coded_value,
                "attributes": {k: v for k, v in m.items() if v},
                "host_only": s.host_only,
                "expires_at": s.expires,
            }
            for s in self._store.values()
            for m in (s.morsel,)
        ]
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        with open(os.open(file_path, flags, 0o600), "w", encoding="utf-8") as f:
            json.dump(records, f, indent=2)

    def load(self, file_path: Union[str, os.PathLike[str]]) -> None:
        """Replace the cookies with those saved by :meth:`save`."""
        records = json.loads(pathlib.Path(file_path).read_text(encoding="utf-8"))
        store: dict[_Key, _Stored] = {}
        for record in records:
            morsel = _morsel(record["name"], record["value"], record["coded_value"])
            for attribute, value in record["attributes"].items():
                morsel[attribute] = value
            expires = record["expires_at"]
            key = (morsel["domain"], morsel["path"], morsel.key)
            store[key] = _Stored(morsel, bool(record["host_only"]), expires)
        self._store = store
        self._expire()


def _within_header_limits(
    chosen: list[tuple[_Stored, Morsel[str]]],
) -> list[tuple[_Stored, Morsel[str]]]:
    """``chosen`` (least specific first) cut to :data:`MAX_PER_REQUEST` cookies and a ``Cookie``
    header of :data:`MAX_HEADER_LENGTH` bytes, the most specific admitted first."""
    lengths = [len(f"{m.key}={m.coded_value}".encode("utf-8", "surrogatepass")) for _, m in chosen]
    total = _HEADER_PREFIX_LENGTH - 2 + sum(lengths) + 2 * len(chosen)
    if len(chosen) <= MAX_PER_REQUEST and total <= MAX_HEADER_LENGTH:
        return chosen
    admitted: list[tuple[_Stored, Morsel[str]]] = []
    length = _HEADER_PREFIX_LENGTH - 2
    for entry, size in zip(reversed(chosen), reversed(lengths)):
        if len(admitted) >= MAX_PER_REQUEST:
            break
        if length + 2 + size > MAX_HEADER_LENGTH:
            continue
        length += 2 + size
        admitted.append(entry)
    _LOG.debug("Omitted %d cookie(s) over the per-request limits", len(chosen) - len(admitted))
    admitted.reverse()
    return admitted


class DummyCookieJar(AbstractCookieJar):
    """A jar that keeps nothing: no cookie is stored or sent (request ``cookies=`` still are)."""

    def __init__(self, *, loop: Any = None) -> None:
        pass

    def __len__(self) -> int:
        return 0

    def __iter__(self) -> Iterator[Morsel[str]]:
        return iter(())

    def clear(self, predicate: Optional[ClearCookiePredicate] = None) -> None:
        pass

    def clear_domain(self, domain: str) -> None:
        pass

    def update_cookies(self, cookies: LooseCookies, response_url: URL = _NO_URL) -> None:
        pass

    def update_cookies_from_headers(self, headers: Sequence[str], response_url: URL) -> None:
        pass

    def filter_cookies(self, request_url: URL = _NO_URL) -> BaseCookie[str]:
        return SimpleCookie()


def request_cookies(cookies: LooseCookies, url: URL, jar: AbstractCookieJar) -> BaseCookie[str]:
    """A request's own ``cookies=`` as sent to ``url``: the session ``jar``'s rules (``unsafe``,
    ``quote_cookie``, trusted origins), without its bounds."""
    origins = getattr(jar, "treat_as_secure_origin", None)
    once = CookieJar(unsafe=jar.unsafe, quote_cookie=jar.quote_cookie, treat_as_secure_origin=origins or None)
    once._limited = False
    once.update_cookies(cookies)
    return once.filter_cookies(url)


def cookie_header(existing: Optional[str], cookies: BaseCookie[str]) -> Optional[str]:
    """The ``Cookie`` header for ``cookies`` merged into an ``existing`` one (those win on names)."""
    if not cookies:
        return existing
    merged: dict[str, str] = {}
    for part in (existing or "").split(";"):
        name, eq, value = part.strip().partition("=")
        if name and eq:
            merged[name] = value
    for name, morsel in cookies.items():
        # A morsel's own name is the one sent, as aiohttp's request does (a jar may file a
        # morsel under another key: update_cookies({"alias": morsel})).
        merged[morsel.key or name] = morsel.coded_value
    return "; ".join(f"{name}={value}" for name, value in merged.items())
