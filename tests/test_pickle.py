"""Responses, ``RequestInfo`` and every exception class pickle with their attributes.

Each object goes to a process started with ``spawn`` (so nothing is inherited: the child
rebuilds it from the pickle alone) and comes back; the child also reports what it saw.
"""

from __future__ import annotations

import asyncio
import inspect
import multiprocessing
import pickle
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import ferrofetch
import pytest
from ferrofetch import exceptions
from ferrofetch.exceptions import HistoryEntry
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from tests.servers import HttpServer, refused_url

EXCEPTION_CLASSES = sorted(
    (
        value
        for value in vars(exceptions).values()
        if inspect.isclass(value)
        and issubclass(value, BaseException)
        and value.__module__ == exceptions.__name__
    ),
    key=lambda cls: cls.__name__,
)

RESPONSE_ATTRIBUTES = (
    "url",
    "method",
    "status",
    "reason",
    "ok",
    "headers",
    "raw_headers",
    "content",
    "text",
    "charset",
    "content_type",
    "elapsed",
    "http_version",
    "history",
)


def echo(payload: bytes) -> tuple[bytes, str]:
    """In the child: unpickle, describe, pickle again."""
    value = pickle.loads(payload)
    return pickle.dumps(value), repr(value)


@pytest.fixture(scope="module")
def child() -> Iterator[ProcessPoolExecutor]:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool


def round_trip(pool: ProcessPoolExecutor, value: Any) -> tuple[Any, str]:
    payload, described = pool.submit(echo, pickle.dumps(value)).result(timeout=60)
    return pickle.loads(payload), described


def request_info(url: str) -> ferrofetch.RequestInfo:
    headers: CIMultiDictProxy[str] = CIMultiDictProxy(
        CIMultiDict([("Accept", "*/*"), ("X-Two", "1"), ("x-two", "2")])
    )
    return ferrofetch.RequestInfo(URL(url), "GET", headers, URL(url + "#frag"))


def make(cls: type[BaseException]) -> BaseException:
    """An instance with every attribute set to something other than its default."""
    if issubclass(cls, exceptions.ClientResponseError):
        info = request_info("http://127.0.0.1/a")
        hop = HistoryEntry(
            URL("http://127.0.0.1/a"),
            URL("http://127.0.0.1/a"),
            "GET",
            302,
            "Found",
            CIMultiDictProxy(CIMultiDict(Location="/b")),
            info,
        )
        headers = CIMultiDictProxy(CIMultiDict([("Retry-After", "5"), ("Set-Cookie", "a=1")]))
        return cls(info, (hop,), status=429, message="Too Many Requests", headers=headers)
    if issubclass(cls, exceptions.InvalidURL):
        return cls("http://[::1/", "unclosed bracket")
    assert issubclass(cls, exceptions.ClientError), f"{cls.__name__}: add a constructor case here"
    return cls("the server went away", url="http://127.0.0.1:9/x")


@pytest.mark.parametrize("cls", EXCEPTION_CLASSES, ids=lambda cls: cls.__name__)
def test_every_exception_class_pickles_with_its_attributes(
    child: ProcessPoolExecutor, cls: type[BaseException]
) -> None:
    error = make(cls)
    error.custom = "kept"  # type: ignore[attr-defined]
    copy, described = round_trip(child, error)
    assert type(copy) is cls
    assert copy.args == error.args
    assert str(copy) == str(error)
    assert repr(copy) == repr(error) == described
    assert vars(copy) == vars(error)
    if isinstance(copy, exceptions.ClientResponseError):
        assert isinstance(copy.headers, CIMultiDictProxy)
        assert isinstance(copy.request_info.headers, CIMultiDictProxy)
        assert copy.history[0].headers["Location"] == "/b"
        assert (copy.status, copy.message, copy.url) == (429, "Too Many Requests", "http://127.0.0.1/a#frag")


def test_the_exception_classes_are_all_found() -> None:
    names = {cls.__name__ for cls in EXCEPTION_CLASSES}
    assert set(exceptions.__all__) <= names
    assert {"ClientError", "ClientResponseError", "InvalidURL", "ServerTimeoutError"} <= names


def test_request_info_pickles_with_its_headers(child: ProcessPoolExecutor) -> None:
    info = request_info("http://127.0.0.1/x?q=1")
    copy, _ = round_trip(child, info)
    assert copy == info
    assert type(copy) is ferrofetch.RequestInfo
    assert isinstance(copy.headers, CIMultiDictProxy)
    assert copy.headers.getall("x-two") == ["1", "2"]
    assert copy.real_url == URL("http://127.0.0.1/x?q=1#frag")


def test_responses_pickle_with_their_attributes(child: ProcessPoolExecutor, http_server: HttpServer) -> None:
    async def fetch() -> list[Any]:
        return await ferrofetch.fetch_all(
            [
                f"{http_server.url}/redirect-to?url=/charset",
                f"{http_server.url}/gzip",
                f"{http_server.url}/response-headers?X-Dup=1&X-Dup=2",
                f"{http_server.url}/status/503",
            ],
            timeout=30,
        )

    responses = asyncio.run(fetch())
    for response in responses:
        copy, described = round_trip(child, response)
        assert type(copy) is ferrofetch.Response
        assert described == repr(response)
        for name in RESPONSE_ATTRIBUTES:
            assert getattr(copy, name) == getattr(response, name), name
    assert responses[0].history and responses[0].history == round_trip(child, responses[0])[0].history
    assert round_trip(child, responses[2])[0].headers.getall("X-Dup") == ["1", "2"]
    with pytest.raises(ferrofetch.ClientResponseError):
        round_trip(child, responses[3])[0].raise_for_status()


def test_errors_raised_for_requests_pickle(child: ProcessPoolExecutor, http_server: HttpServer) -> None:
    async def errors() -> list[BaseException]:
        async with ferrofetch.ClientSession() as session:
            found: list[BaseException] = []
            try:
                async with session.get(f"{http_server.url}/redirect-loop", max_redirects=2):
                    pass
            except ferrofetch.TooManyRedirects as error:
                found.append(error)
            async with session.get(f"{http_server.url}/status/404") as response:
                try:
                    response.raise_for_status()
                except ferrofetch.ClientResponseError as error:
                    found.append(error)
        outcomes = await ferrofetch.fetch_all(
            [refused_url(), "ftp://example.invalid/"], return_exceptions=True, timeout=30
        )
        return found + [o for o in outcomes if isinstance(o, BaseException)]

    found = asyncio.run(errors())
    assert [type(e).__name__ for e in found] == [
        "TooManyRedirects",
        "ClientResponseError",
        "ClientConnectorError",
        "NonHttpUrlClientError",
    ]
    for error in found:
        copy, _ = round_trip(child, error)
        assert type(copy) is type(error)
        assert (copy.args, str(copy), getattr(copy, "url", None)) == (error.args, str(error), error.url)  # type: ignore[attr-defined]
    redirects, not_found = found[0], found[1]
    copy, _ = round_trip(child, redirects)
    assert [hop.status for hop in copy.history] == [hop.status for hop in redirects.history]  # type: ignore[attr-defined]
    assert [hop.url for hop in copy.history] == [hop.url for hop in redirects.history]  # type: ignore[attr-defined]
    assert copy.request_info == redirects.request_info  # type: ignore[attr-defined]
    copy, _ = round_trip(child, not_found)
    assert (copy.status, copy.headers) == (404, not_found.headers)  # type: ignore[attr-defined]
