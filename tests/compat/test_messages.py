"""Exception messages where aiohttp users match on them: an invalid URL's message starts with
the URL itself, a connection failure reads ``Cannot connect to host HOST:PORT ssl:...``.
ferrofetch may add its own detail after aiohttp's part."""

from __future__ import annotations

import re
import socket
from typing import Any

import pytest

from .conftest import Recorder, Reply
from .support import run_both


async def _message(awaitable: Any) -> tuple[str, str]:
    try:
        await awaitable
    except Exception as error:
        return type(error).__name__, str(error)
    raise AssertionError("no exception")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http:/", "InvalidUrlClientError"),
        ("http://:8080/", "InvalidUrlClientError"),
        ("skype:handle", "NonHttpUrlClientError"),
        ("slack://instance/room", "NonHttpUrlClientError"),
    ],
)
async def test_invalid_url_message_starts_with_the_url(url: str, expected: str) -> None:
    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            return await _message(session.get(url))

    results = await run_both(scenario)
    for name, message in results.values():
        assert name == expected
        assert re.match(rf"^{re.escape(url)}( - [A-Za-z ]+)?", message), message


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("ftp://example.test/file", "NonHttpUrlRedirectClientError"),
        ("https:", "InvalidUrlRedirectClientError"),
    ],
)
async def test_invalid_redirect_message_starts_with_the_url(
    recorder: Recorder, location: str, expected: str
) -> None:
    recorder.reply_for = lambda request: Reply(status=301, reason="Moved", headers=[("Location", location)])

    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            return await _message(session.get(recorder.url + "/r"))

    results = await run_both(scenario)
    for name, message in results.values():
        assert name == expected
        assert message.startswith(location), message


async def test_connection_refused_message() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there

    async def scenario(http: Any) -> Any:
        async with http.ClientSession() as session:
            return await _message(session.get(f"http://127.0.0.1:{port}/"))

    results = await run_both(scenario)
    for name, message in results.values():
        assert name == "ClientConnectorError"
        assert message.startswith(f"Cannot connect to host 127.0.0.1:{port} ssl:default ["), message
