#!/usr/bin/env python3
"""The testing kit in use: code that calls an HTTP API, tested without a server.

``latest_release`` is the code under test (written for aiohttp, run on ferrofetch); ``main``
checks it against a ``MockRouter``: a normal answer, a redirect, a server error retried once, and
a connection failure. Run it: ``python examples/testing_kit.py``; it prints one line per check.
"""

from __future__ import annotations

import asyncio

import ferrofetch as aiohttp
from ferrofetch.testing import Call, MockResponse, MockRouter

API = "https://api.example.test"


async def latest_release(session: aiohttp.ClientSession, project: str) -> str | None:
    """The newest release's tag of ``project``, asking twice if the API answers 5xx; ``None``
    when the API cannot be reached."""
    for _ in range(2):
        try:
            async with session.get(
                f"{API}/projects/{project}/releases", params={"per_page": "1"}
            ) as response:
                if response.status >= 500:
                    continue
                response.raise_for_status()
                releases = await response.json()
                return str(releases[0]["tag"]) if releases else None
        except aiohttp.ClientConnectionError:
            return None
    return None


async def main() -> None:
    with MockRouter(assert_all_called=True) as router:
        router.get(f"{API}/projects/ferrofetch/releases", json=[{"tag": "v1.2.0"}])
        moved = {"Location": "/projects/ferrofetch/releases?per_page=1"}
        router.get(f"{API}/projects/old-name/releases", status=301, headers=moved)
        router.get(f"{API}/projects/flaky/releases", status=503, repeat=False)
        router.get(f"{API}/projects/flaky/releases", json=[{"tag": "v0.9.0"}])

        def offline(call: Call) -> MockResponse:
            raise aiohttp.ClientConnectorError(f"cannot connect to {call.url.host}")

        router.get(f"{API}/projects/offline/releases", callback=offline)

        async with aiohttp.ClientSession() as session:
            for project in ("ferrofetch", "old-name", "flaky", "offline"):
                print(f"{project}: {await latest_release(session, project)}")

        flaky = [call for call in router.calls if call.url.path == "/projects/flaky/releases"]
        print(f"flaky was asked {len(flaky)} times")
        router.assert_any_call(f"{API}/projects/ferrofetch/releases?per_page=1")
        print(f"{len(router.calls)} requests, none sent to the network")


if __name__ == "__main__":
    asyncio.run(main())
