"""The concurrent-requests example of the usual asyncio guides, with only the import changed.

The guides write ``import aiohttp``; here it is ``import ferrofetch as aiohttp`` and nothing else
in the program differs, except that the URLs point at ``FERROFETCH_BASE_URL`` (default
``http://127.0.0.1:8080``, which ``python examples/serve.py`` serves).

    python examples/guide.py
"""

import asyncio
import os

import ferrofetch as aiohttp

BASE = os.environ.get("FERROFETCH_BASE_URL", "http://127.0.0.1:8080").rstrip("/")


async def fetch_data(url: str) -> str:
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as response:
            return await response.text()


async def main() -> None:
    urls = [f"{BASE}/", f"{BASE}/bytes/10", f"{BASE}/redirect/2"]
    tasks = [fetch_data(url) for url in urls]
    results = await asyncio.gather(*tasks)
    for url, result in zip(urls, results):
        print(f"URL: {url}, Response: {result}")


loop = asyncio.get_event_loop()
loop.run_until_complete(main())
