"""Every script of ``examples/`` runs against a loopback server and prints what it promises."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import ferrofetch
import ferrofetch.testing
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name: str, *args: str, base_url: str, source: str | None = None) -> str:
    """Runs ``examples/<name>`` (or ``source`` in its place) with FERROFETCH_BASE_URL set; returns
    its stdout, failing on an exit status other than 0."""
    env = {**os.environ, "FERROFETCH_BASE_URL": base_url, "PYTHONFAULTHANDLER": "1"}
    env.pop("PYTHONWARNINGS", None)
    program = [str(EXAMPLES / name)] if source is None else ["-c", source]
    process = subprocess.run(
        [sys.executable, *program, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert process.returncode == 0, f"{name} exited {process.returncode}\n{process.stdout}\n{process.stderr}"
    return process.stdout


def test_every_example_is_tested() -> None:
    tested = {"guide.py", "crawler.py", "migrating_from_aiohttp.py", "serve.py", "testing_kit.py"}
    assert {path.name for path in EXAMPLES.glob("*.py")} == tested


def test_guide(loopback_server: ferrofetch.testing.LoopbackServer) -> None:
    base = loopback_server.url.rstrip("/")
    out = run_example("guide.py", base_url=base)
    assert f"URL: {base}/bytes/10, Response: xxxxxxxxxx" in out
    assert f"URL: {base}/redirect/2, Response: redirected" in out
    assert out.count("URL: ") == 3


def test_crawler(loopback_server: ferrofetch.testing.LoopbackServer) -> None:
    out = run_example("crawler.py", loopback_server.url, "1000", base_url="http://127.0.0.1:1/")
    lines = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
    # Of 1000 URLs: every 100th a 404, every 250th (not also a 100th) refused, the rest 200.
    assert lines == {
        "ClientConnectorError": "2",
        "HTTP 200": "988",
        "HTTP 404": "10",
        "bytes": lines["bytes"],
    }
    assert int(lines["bytes"]) > 988 * 100
    assert "1000 URLs in" in out


def test_migrating_from_aiohttp_prints_what_aiohttp_prints(
    loopback_server: ferrofetch.testing.LoopbackServer,
) -> None:
    with_ferrofetch = run_example("migrating_from_aiohttp.py", base_url=loopback_server.url)
    with_aiohttp = run_example("migrating_from_aiohttp.py", "aiohttp", base_url=loopback_server.url)
    assert with_ferrofetch == with_aiohttp
    assert with_ferrofetch.splitlines() == [
        "GET 200 64 bytes",
        "POST 200",
        "redirected 3 times to /redirect/0",
        "streamed 100000 bytes",
        "raise_for_status: 503",
        "refused: ClientConnectorError",
    ]


async def test_serve_answers_until_interrupted() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(EXAMPLES / "serve.py"), "0", stdout=asyncio.subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        assert line.startswith("serving http://127.0.0.1:"), line
        url = line.split()[1]
        response = await ferrofetch.fetch(f"{url.rstrip('/')}/bytes/5", timeout=10)
        assert response.content == b"xxxxx"
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), 10) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def test_testing_kit_answers_every_request_without_a_network() -> None:
    out = run_example("testing_kit.py", base_url="http://127.0.0.1:1/")
    assert out.splitlines() == [
        "ferrofetch: v1.2.0",
        "old-name: v1.2.0",
        "flaky: v0.9.0",
        "offline: None",
        "flaky was asked 2 times",
        "6 requests, none sent to the network",
    ]


@pytest.mark.parametrize("name", ["guide.py", "crawler.py", "migrating_from_aiohttp.py"])
def test_examples_name_no_public_host(name: str) -> None:
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    assert "https://" not in text and "example.com" not in text
