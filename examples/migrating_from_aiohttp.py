"""An aiohttp program, moved to ferrofetch by its import line.

It uses what aiohttp programs usually do: a session with a timeout and default headers, GET with
query parameters, POST with JSON, redirects, ``raise_for_status``, streaming a body in chunks and
catching ``ClientError``. Put ``import aiohttp`` back and it prints the same lines on aiohttp
(``tests/test_examples.py`` runs it both ways and compares).

    python examples/migrating_from_aiohttp.py

The URLs point at ``FERROFETCH_BASE_URL`` (default ``http://127.0.0.1:8080``, which ``python
examples/serve.py`` serves).
"""

from __future__ import annotations

import asyncio
import os

import ferrofetch as aiohttp  # the migration: this line only, `import aiohttp` before

BASE = os.environ.get("FERROFETCH_BASE_URL", "http://127.0.0.1:8080").rstrip("/")


async def main() -> None:
    timeout = aiohttp.ClientTimeout(total=30, sock_connect=5)
    async with aiohttp.ClientSession(timeout=timeout, headers={"Accept": "*/*"}) as session:
        async with session.get(f"{BASE}/bytes/64", params={"page": 1}) as response:
            body = await response.read()
            print("GET", response.status, len(body), "bytes")

        async with session.post(f"{BASE}/submit", json={"name": "ferrofetch"}) as response:
            response.raise_for_status()
            print("POST", response.status)

        async with session.get(f"{BASE}/redirect/3") as response:
            print("redirected", len(response.history), "times to", response.url.path)

        async with session.get(f"{BASE}/bytes/100000") as response:
            received = 0
            async for chunk in response.content.iter_chunked(16384):
                received += len(chunk)
            print("streamed", received, "bytes")

        async with session.get(f"{BASE}/status/503") as response:
            try:
                response.raise_for_status()
            except aiohttp.ClientResponseError as error:
                print("raise_for_status:", error.status)

        try:
            async with session.get("http://127.0.0.1:1/") as response:
                pass
        except aiohttp.ClientConnectorError as error:
            print("refused:", type(error).__name__)


asyncio.run(main())
