"""Every ``python`` code block of the README runs as written, against a local server."""

from __future__ import annotations

import re
from pathlib import Path

import ferrofetch.testing
import pytest

from tests.servers import run_python

README = Path(__file__).resolve().parent.parent / "README.md"
PLACEHOLDER = "http://127.0.0.1:8080"
_BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)


def python_blocks() -> list[str]:
    """The text of each fenced ```python block, in order."""
    if not README.exists():
        return []
    return _BLOCK.findall(README.read_text(encoding="utf-8"))


BLOCKS = python_blocks()


def test_the_readme_has_python_examples() -> None:
    assert BLOCKS, f"no ```python block in {README}"


@pytest.mark.parametrize(
    "index",
    range(len(BLOCKS)) if BLOCKS else [pytest.param(-1, marks=pytest.mark.skip(reason="no python block"))],
)
def test_readme_block_runs(index: int, loopback_server: ferrofetch.testing.LoopbackServer) -> None:
    code = BLOCKS[index].replace(PLACEHOLDER, loopback_server.url.rstrip("/"))
    process = run_python(code, timeout=45)
    assert process.returncode == 0, (
        f"README block {index + 1} exited {process.returncode}\n--- code ---\n{code}\n"
        f"--- stdout ---\n{process.stdout}\n--- stderr ---\n{process.stderr}"
    )
