"""The guide's example as a script, once with ``import aiohttp`` and once with only that line
changed to ``import ferrofetch as aiohttp``, each in a fresh interpreter, driven by
``asyncio.get_event_loop().run_until_complete(main())``."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from tests.servers import run_python

GUIDE = """
import asyncio
import hashlib
import sys

import aiohttp


async def fetch_data(url):
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as response:
            return await response.text()


async def main():
    urls = sys.argv[1:]
    results = await asyncio.gather(*(fetch_data(u) for u in urls))
    for url, text in zip(urls, results):
        print(url.rsplit("/", 1)[1], len(text), hashlib.sha256(text.encode()).hexdigest())


asyncio.get_event_loop().run_until_complete(main())
"""


def _run(code: str, urls: list[str]) -> Any:
    return run_python(code, args=tuple(urls), timeout=60)


def test_guide_example_with_only_the_import_changed(httpbin: Any, tmp_path: Path) -> None:
    paths = ["html", "robots.txt", "xml", "json", "utf8"]
    urls = [f"{httpbin.url}/{p}" if p != "utf8" else f"{httpbin.url}/encoding/utf8" for p in paths]
    changed = GUIDE.replace("import aiohttp\n", "import ferrofetch as aiohttp\n")
    assert changed.count("ferrofetch") == 1

    reference = _run(GUIDE, urls)
    ported = _run(changed, urls)

    assert reference.returncode == 0, reference.stderr
    assert ported.returncode == 0, ported.stderr
    assert "Traceback" not in ported.stderr and "Unclosed" not in ported.stderr, ported.stderr
    assert ported.stdout == reference.stdout
    lines = ported.stdout.splitlines()
    assert [line.split()[0] for line in lines] == paths
    assert hashlib.sha256(b"").hexdigest() not in ported.stdout
