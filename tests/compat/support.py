"""The differential harness: one scenario, run once through aiohttp and once through ferrofetch.

A scenario is ``async def scenario(http) -> observation``: ``http`` is the module under test
(``aiohttp`` itself, or ferrofetch as ``import ferrofetch as aiohttp`` sees it), and the
observation is plain data (statuses, bodies, headers the server saw, exception class names) that
must come out equal for both.
"""

from __future__ import annotations

import asyncio
import types
import warnings
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar, cast

import aiohttp
import ferrofetch
from ferrofetch import (
    auth,
    connector,
    cookiejar,
    formdata,
    http_version,
    request_info,
    response,
    session,
    streams,
    timeouts,
)

T = TypeVar("T")
Scenario = Callable[[Any], Awaitable[T]]

#: Names of aiohttp's top level that ferrofetch provides at its own top level, and where from.
COMPAT_EXPORTS: dict[str, Any] = {
    "ClientSession": session.ClientSession,
    "ClientResponse": response.ClientResponse,
    "request": session.request,
    "ClientTimeout": timeouts.ClientTimeout,
    "BaseConnector": connector.BaseConnector,
    "TCPConnector": connector.TCPConnector,
    "BasicAuth": auth.BasicAuth,
    "encode_basic_auth": auth.encode_basic_auth,
    "CookieJar": cookiejar.CookieJar,
    "DummyCookieJar": cookiejar.DummyCookieJar,
    "FormData": formdata.FormData,
    "RequestInfo": request_info.RequestInfo,
    "StreamReader": streams.StreamReader,
    "EofStream": streams.EofStream,
    "HttpVersion": http_version.HttpVersion,
    "HttpVersion10": http_version.HttpVersion10,
    "HttpVersion11": http_version.HttpVersion11,
}

#: Request headers whose values differ on purpose (the client names itself; it offers the
#: content codings it decodes). Everything else the server sees must be identical.
KNOWN_DIFFERENT_HEADERS = frozenset({"user-agent", "accept-encoding"})


def ferrofetch_as_aiohttp() -> Any:
    """``ferrofetch`` itself once its top level exports the compatible names; until then a
    namespace with ferrofetch's top level plus those names from their modules."""
    if all(getattr(ferrofetch, name, None) is value for name, value in COMPAT_EXPORTS.items()):
        return ferrofetch
    namespace = types.SimpleNamespace(**{k: v for k, v in vars(ferrofetch).items() if not k.startswith("_")})
    for name, value in COMPAT_EXPORTS.items():
        setattr(namespace, name, value)
    return namespace


FERROFETCH = ferrofetch_as_aiohttp()
IMPLEMENTATIONS: tuple[tuple[str, Any], ...] = (("aiohttp", aiohttp), ("ferrofetch", FERROFETCH))


async def run_both(scenario: Scenario[T], timeout: float = 30.0) -> dict[str, T]:
    """``{"aiohttp": observation, "ferrofetch": observation}``. aiohttp 3.14 deprecates
    ``BasicAuth`` and ``auth=``; those warnings are silenced for its run only."""
    results: dict[str, T] = {}
    for name, module in IMPLEMENTATIONS:
        with warnings.catch_warnings():
            if module is aiohttp:
                warnings.simplefilter("ignore", DeprecationWarning)
            results[name] = await asyncio.wait_for(scenario(module), timeout)
    return results


async def same(scenario: Scenario[T], timeout: float = 30.0) -> T:
    """Run ``scenario`` through both and assert the observations are equal; return it."""
    results = await run_both(scenario, timeout)
    assert results["ferrofetch"] == results["aiohttp"], (
        f"\naiohttp:    {_short(results['aiohttp'])}\nferrofetch: {_short(results['ferrofetch'])}"
    )
    return results["aiohttp"]


def _short(value: Any, limit: int = 3000) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


def seen(headers: Iterable[tuple[str, str]] | Mapping[str, str]) -> dict[str, str]:
    """Headers as a server saw them, names lower-cased, the known differences left out."""
    pairs = cast("Mapping[str, Any]", headers).items() if isinstance(headers, Mapping) else headers
    return {k.lower(): v for k, v in pairs if k.lower() not in KNOWN_DIFFERENT_HEADERS}
