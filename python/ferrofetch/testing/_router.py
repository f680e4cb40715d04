"""The mock router: requests answered in-process by method and URL pattern.

The engine asks the installed router for every hop it would send (the first request and each
redirect), on the event loop that made the call, and turns the answer into a response exactly as
if it had come from a server: redirects, ``Content-Encoding``, ``max_body_size``, timeouts, the
session's cookie jar and its error mapping all apply as usual.
"""

from __future__ import annotations

import inspect
import json as jsonlib
import re
import threading
from collections.abc import Awaitable, Iterable, Mapping
from types import TracebackType
from typing import Any, Callable, Optional, Union

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from .. import _core
from ..exceptions import ClientConnectionError

__all__ = ["Call", "MockResponse", "MockRouter", "Route", "UnmatchedRequestError"]

UrlPattern = Union[str, URL, "re.Pattern[str]"]
Callback = Callable[["Call"], Union["MockResponse", Awaitable[Optional["MockResponse"]], None]]


class UnmatchedRequestError(ClientConnectionError):
    """No route of the installed :class:`MockRouter` matches the request, and it is not passed
    through: the request fails as if the connection had been refused (``aioresponses`` raises
    ``ClientConnectionError("Connection refused: GET <url>")`` the same way).

    Attributes: ``method`` (str) and ``url`` (str, as sent).
    """

    def __init__(self, method: str, url: str) -> None:
        super().__init__(f"Connection refused: no mock route matches {method} {url}", url=url)
        self.method = method


class MockResponse:
    """What a route answers: a status, headers and a body.

    ``body`` (bytes or str), ``text`` (str, ``text/plain; charset=utf-8``) and ``json`` (any
    JSON-serialisable value, ``application/json``) are alternatives; none gives an empty body.
    ``headers`` are sent as given (a mapping or ``(name, value)`` pairs, repeats allowed);
    ``Content-Length`` is added unless the headers name a length or ``Transfer-Encoding``.
    ``reason`` defaults to the standard phrase for the status. Raises ``ValueError`` for a status
    outside 100-999 or more than one body.
    """

    def __init__(
        self,
        status: int = 200,
        *,
        body: Union[bytes, str, None] = None,
        text: Optional[str] = None,
        json: Any = None,
        headers: Union[Mapping[str, str], Iterable[tuple[str, str]], None] = None,
        reason: Optional[str] = None,
        content_type: Optional[str] = None,
    ) -> None:
        if not 100 <= status <= 999:
            raise ValueError(f"a mock response status must be 100-999, got {status}")
        if sum(given is not None for given in (body, text, json)) > 1:
            raise ValueError("give at most one of body, text and json")
        self.status = status
        self.reason = reason
        self.headers: CIMultiDict[str] = CIMultiDict(headers or ())
        if json is not None:
            self.body = jsonlib.dumps(json).encode()
            content_type = content_type or "application/json"
        elif text is not None:
            self.body = text.encode()
            content_type = content_type or "text/plain; charset=utf-8"
        elif isinstance(body, str):
            self.body = body.encode()
        else:
            self.body = body or b""
        if content_type is not None and "Content-Type" not in self.headers:
            self.headers["Content-Type"] = content_type

    def _wire(self, method: str) -> tuple[int, Optional[str], list[tuple[str, str]], bytes]:
        headers = list(self.headers.items())
        if "Content-Length" not in self.headers and "Transfer-Encoding" not in self.headers:
            headers.append(("Content-Length", str(len(self.body))))
        # A response to HEAD has no body (RFC 9110 section 9.3.2), its headers stay.
        return self.status, self.reason, headers, b"" if method == "HEAD" else self.body

    def __repr__(self) -> str:
        return f"<MockResponse {self.status} {len(self.body)} bytes>"


class Call:
    """One request the router saw: ``method`` (upper case), ``url`` (``yarl.URL``, as sent),
    ``headers`` (``CIMultiDictProxy[str]``, as sent, ``User-Agent`` and ``Accept-Encoding``
    included), ``body`` (bytes, a streamed upload read whole) and ``route`` (the :class:`Route`
    that answered, ``None`` when none did)."""

    __slots__ = ("body", "headers", "method", "route", "url")

    def __init__(
        self, method: str, url: URL, headers: CIMultiDictProxy[str], body: bytes, route: Optional[Route]
    ) -> None:
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.route = route

    def text(self, encoding: str = "utf-8") -> str:
        """The body decoded as ``encoding``."""
        return self.body.decode(encoding)

    def json(self) -> Any:
        """The body parsed as JSON (``json.JSONDecodeError`` if it is not)."""
        return jsonlib.loads(self.body)

    def __repr__(self) -> str:
        return f"<Call {self.method} {self.url}>"


class Route:
    """A method and URL pattern with what to answer; made by :meth:`MockRouter.route` (and its
    shortcuts). ``calls`` lists the :class:`Call` objects it answered; ``called`` and
    ``call_count`` say how many. Until told otherwise it answers ``200`` with an empty body."""

    def __init__(
        self,
        method: Optional[str],
        url: Optional[UrlPattern],
        url_prefix: Optional[str],
        params: Optional[Mapping[str, Any]],
        repeat: Union[bool, int],
    ) -> None:
        self.method = method.upper() if method is not None else None
        self._url = url
        self._exact: Optional[URL] = None
        if isinstance(url, (str, URL)):
            self._exact = URL(url)
            if not self._exact.absolute:
                raise ValueError(f"a route's URL must be absolute, got {str(url)!r}")
        self._prefix = url_prefix
        self._params = [(str(k), str(v)) for k, v in (params or {}).items()]
        if repeat is True:
            self._uses: Optional[int] = None
        elif repeat is False:
            self._uses = 1
        elif repeat >= 1:
            self._uses = int(repeat)
        else:
            raise ValueError(f"repeat must be a bool or a count of at least 1, got {repeat!r}")
        self._response = MockResponse()
        self._exception: Optional[BaseException] = None
        self._callback: Optional[Callback] = None
        self._passthrough = False
        self.calls: list[Call] = []

    # --- what the route answers ----------------------------------------------------------------

    def respond(self, status: int = 200, **response: Any) -> Route:
        """Answer with ``MockResponse(status, **response)``; returns the route."""
        self._response = MockResponse(status, **response)
        self._exception = self._callback = None
        self._passthrough = False
        return self

    def raises(self, exception: BaseException) -> Route:
        """Raise ``exception`` from the request (``await`` of ``fetch``, ``session.get``, ...)."""
        self._exception = exception
        return self

    def callback(self, callback: Callback) -> Route:
        """Answer with ``callback(call)``: a :class:`MockResponse`, or ``None`` for the route's
        own response. It may be a coroutine function; it runs on the request's event loop, and
        what it raises is raised from the request."""
        self._callback = callback
        return self

    def pass_through(self) -> Route:
        """Send matching requests to the network (``respx``'s ``pass_through``)."""
        self._passthrough = True
        return self

    # --- assertions --------------------------------------------------------------------------

    @property
    def called(self) -> bool:
        return bool(self.calls)

    @property
    def call_count(self) -> int:
        return len(self.calls)

    # --- matching ------------------------------------------------------------------------------

    def _matches(self, method: str, url: URL) -> bool:
        if self._uses is not None and len(self.calls) >= self._uses:
            return False
        if self.method is not None and self.method != method:
            return False
        if self._exact is not None and not _same_url(self._exact, url):
            return False
        if isinstance(self._url, re.Pattern) and self._url.match(str(url)) is None:
            return False
        if self._prefix is not None and not str(url).startswith(self._prefix):
            return False
        return all(value in url.query.getall(name, ()) for name, value in self._params)

    def __repr__(self) -> str:
        pattern = self._url.pattern if isinstance(self._url, re.Pattern) else self._url or self._prefix
        return f"<Route {self.method or '*'} {pattern or '*'}>"


def _same_url(pattern: URL, url: URL) -> bool:
    """Scheme, host, port and path equal; the query too (in any order) if the pattern has one,
    as ``respx`` compares URLs."""
    if (
        pattern.scheme != url.scheme
        or (pattern.raw_host or "").lower() != (url.raw_host or "").lower()
        or pattern.port != url.port
        or (pattern.raw_path or "/") != (url.raw_path or "/")
    ):
        return False
    return not pattern.query_string or sorted(pattern.query.items()) == sorted(url.query.items())


def _check_call(call: Call, url: Union[str, URL], method: str, expected: Mapping[str, Any]) -> None:
    """``AssertionError`` unless ``call`` is ``method url`` with the ``expected`` body, JSON body
    or headers (``body=``, ``json=``, ``headers=`` a subset)."""
    unknown = set(expected) - {"body", "json", "headers"}
    if unknown:
        raise TypeError(f"unexpected keyword(s) {sorted(unknown)}: expected body, json or headers")
    if call.method != method.upper() or not _same_url(URL(url), call.url):
        raise AssertionError(f"expected {method.upper()} {url}, got {call.method} {call.url}")
    if "body" in expected and call.body != expected["body"]:
        raise AssertionError(f"expected body {expected['body']!r}, got {call.body!r}")
    if "json" in expected and (not call.body or call.json() != expected["json"]):
        raise AssertionError(f"expected JSON {expected['json']!r}, got {call.body!r}")
    for name, value in CIMultiDict(expected.get("headers") or {}).items():
        if value not in call.headers.getall(name, ()):
            raise AssertionError(f"expected header {name}: {value}, got {call.headers.getall(name, [])}")


_active: Optional[MockRouter] = None
_active_lock = threading.Lock()


class MockRouter:
    """Answers requests in-process while it is installed (``with router:``, ``async with
    router:``, or :meth:`start`/:meth:`stop`); one router at a time.

    Routes are tried in the order they were added; the first that matches answers. A request no
    route matches raises :class:`UnmatchedRequestError` (a ``ClientConnectionError``) unless its
    URL starts with one of ``passthrough`` (URL prefixes, as in ``aioresponses``), in which case
    it goes to the network. With ``assert_all_called=True``, stopping raises ``AssertionError``
    if a route was never called (``respx``'s option).

    >>> with MockRouter() as router:  # doctest: +SKIP
    ...     router.get("http://api.test/users", json=[{"id": 1}])
    ...     response = await ferrofetch.fetch("http://api.test/users")
    ...     assert response.json() == [{"id": 1}]
    """

    def __init__(self, *, assert_all_called: bool = False, passthrough: Iterable[str] = ()) -> None:
        self.assert_all_called = assert_all_called
        self.passthrough = [str(prefix) for prefix in passthrough]
        self.routes: list[Route] = []
        self.calls: list[Call] = []
        self._lock = threading.Lock()

    # --- routes --------------------------------------------------------------------------------

    def route(
        self,
        method: Optional[str] = None,
        url: Optional[UrlPattern] = None,
        *,
        url_prefix: Optional[str] = None,
        params: Optional[Mapping[str, Any]] = None,
        repeat: Union[bool, int] = True,
    ) -> Route:
        """Add a route and return it (it answers ``200`` until given a response).

        ``method``: any when ``None``. ``url``: a ``str`` or ``yarl.URL`` compared as a URL
        (a query in it must match exactly, in any order; without one any query matches), or a
        compiled regular expression matched (``re.match``) against the URL as sent.
        ``url_prefix``: the URL as sent starts with it. ``params``: each name and value is in
        the query. ``repeat``: ``True`` (default) answers every match, ``False`` only the first,
        a number that many (``aioresponses``' ``repeat``).
        """
        route = Route(method, url, url_prefix, params, repeat)
        with self._lock:
            self.routes.append(route)
        return route

    def add(
        self,
        url: Optional[UrlPattern] = None,
        method: Optional[str] = "GET",
        status: int = 200,
        *,
        exception: Optional[BaseException] = None,
        callback: Optional[Callback] = None,
        url_prefix: Optional[str] = None,
        params: Optional[Mapping[str, Any]] = None,
        repeat: Union[bool, int] = True,
        **response: Any,
    ) -> Route:
        """A route answering in one call, in ``aioresponses``' shape: ``status`` and the
        :class:`MockResponse` keywords (``body``, ``text``, ``json``, ``headers``, ``reason``,
        ``content_type``), or ``exception`` to raise, or ``callback``."""
        route = self.route(method, url, url_prefix=url_prefix, params=params, repeat=repeat)
        route.respond(status, **response)
        if exception is not None:
            route.raises(exception)
        if callback is not None:
            route.callback(callback)
        return route

    def get(self, url: Optional[UrlPattern] = None, **options: Any) -> Route:
        return self.add(url, "GET", **options)

    def head(self, url: Optional[UrlPattern] = None, **options: Any) -> Route:
        return self.add(url, "HEAD", **options)

    def post(self, url: Optional[UrlPattern] = None, **options: Any) -> Route:
        return self.add(url, "POST", **options)

    def put(self, url: Optional[UrlPattern] = None, **options: Any) -> Route:
        return self.add(url, "PUT", **options)

    def patch(self, url: Optional[UrlPattern] = None, **options: Any) -> Route:
        return self.add(url, "PATCH", **options)

    def delete(self, url: Optional[UrlPattern] = None, **options: Any) -> Route:
        return self.add(url, "DELETE", **options)

    def options(self, url: Optional[UrlPattern] = None, **options: Any) -> Route:
        return self.add(url, "OPTIONS", **options)

    # --- assertions (aioresponses' names) ------------------------------------------------------

    def assert_called(self) -> None:
        """``AssertionError`` unless some request was made."""
        if not self.calls:
            raise AssertionError("no request was made")

    def assert_not_called(self) -> None:
        """``AssertionError`` if any request was made."""
        if self.calls:
            raise AssertionError(f"{len(self.calls)} request(s) were made: {self.calls}")

    def assert_called_once(self) -> None:
        """``AssertionError`` unless exactly one request was made."""
        if len(self.calls) != 1:
            raise AssertionError(f"expected 1 request, {len(self.calls)} were made: {self.calls}")

    def assert_called_with(self, url: Union[str, URL], method: str = "GET", **expected: Any) -> None:
        """``AssertionError`` unless the last request was ``method url`` (and, if given, had this
        ``body`` (bytes), ``json`` (parsed body) or ``headers`` (a subset))."""
        if not self.calls:
            raise AssertionError(f"expected {method} {url}, no request was made")
        _check_call(self.calls[-1], url, method, expected)

    def assert_called_once_with(self, url: Union[str, URL], method: str = "GET", **expected: Any) -> None:
        """:meth:`assert_called_once` and :meth:`assert_called_with`."""
        self.assert_called_once()
        self.assert_called_with(url, method, **expected)

    def assert_any_call(self, url: Union[str, URL], method: str = "GET", **expected: Any) -> None:
        """``AssertionError`` unless some request was ``method url`` (with ``expected``)."""
        for call in self.calls:
            try:
                _check_call(call, url, method, expected)
            except AssertionError:
                continue
            return
        raise AssertionError(f"no request was {method} {url}; requests: {self.calls}")

    def reset(self) -> None:
        """Forget the recorded calls (the routes' too); the routes stay."""
        with self._lock:
            self.calls.clear()
            for route in self.routes:
                route.calls.clear()

    # --- installation --------------------------------------------------------------------------

    def start(self) -> MockRouter:
        """Install the router: from now on every request of this process is answered by it.
        ``RuntimeError`` if another router is installed."""
        global _active
        with _active_lock:
            if _active is not None and _active is not self:
                raise RuntimeError("another MockRouter is installed: stop it first")
            _active = self
            _core._install_router(self._answer)
        return self

    def stop(self) -> None:
        """Uninstall the router; with ``assert_all_called``, check every route was called."""
        global _active
        with _active_lock:
            if _active is self:
                _core._install_router(None)
                _active = None
        if self.assert_all_called:
            uncalled = [route for route in self.routes if not route.called]
            if uncalled:
                raise AssertionError(f"routes never called: {uncalled}")

    def __enter__(self) -> MockRouter:
        return self.start()

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        if exc_type is None:
            self.stop()
        else:
            # The test's own failure matters more than uncalled routes.
            self.assert_all_called, checking = False, self.assert_all_called
            try:
                self.stop()
            finally:
                self.assert_all_called = checking

    async def __aenter__(self) -> MockRouter:
        return self.start()

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    # --- what the engine calls -----------------------------------------------------------------

    async def _answer(
        self, method: str, url: str, headers: list[tuple[str, str]], body: bytes
    ) -> Optional[tuple[int, Optional[str], list[tuple[str, str]], bytes]]:
        """The engine's question for one hop: the response as ``(status, reason, headers,
        body)``, or ``None`` to send the hop to the network."""
        sent = URL(url, encoded=True)
        with self._lock:
            route = next((r for r in self.routes if r._matches(method, sent)), None)
            call = Call(method, sent, CIMultiDictProxy(CIMultiDict(headers)), body, route)
            self.calls.append(call)
            if route is not None:
                route.calls.append(call)
        if route is None:
            if any(url.startswith(prefix) for prefix in self.passthrough):
                return None
            raise UnmatchedRequestError(method, url)
        if route._passthrough:
            return None
        if route._exception is not None:
            raise route._exception
        response = route._response
        if route._callback is not None:
            result = route._callback(call)
            if inspect.isawaitable(result):
                result = await result
            if result is not None:
                if not isinstance(result, MockResponse):
                    raise TypeError(
                        f"a route callback must return a MockResponse or None, got {type(result).__name__}"
                    )
                response = result
        return response._wire(method)
