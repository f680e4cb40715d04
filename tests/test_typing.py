"""The options are typed: a misspelt option or a wrong type is an error under mypy and pyright,
and ``fetch_all``'s result type follows ``return_exceptions``."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PROGRAM = """\
import ferrofetch


async def main(client: ferrofetch.Client) -> None:
    await ferrofetch.fetch("http://127.0.0.1/", timeuot=5)  # line 5: misspelt
    await ferrofetch.fetch("http://127.0.0.1/", timeout="5")  # line 6: wrong type
    await client.fetch("http://127.0.0.1/", verify=False)  # line 7: a pool setting, not a request option
    await ferrofetch.fetch_all(["http://127.0.0.1/"], concurency=2)  # line 8: misspelt
    await ferrofetch.fetch("http://127.0.0.1/", timeout=5, http2="force", headers={"A": "b"}, data=b"")
    plain = await ferrofetch.fetch_all(["http://127.0.0.1/"])
    reveal_type(plain)  # line 11
    mixed = await ferrofetch.fetch_all(["http://127.0.0.1/"], return_exceptions=True)
    reveal_type(mixed)  # line 13
    on_client = await client.fetch_all(["http://127.0.0.1/"], return_exceptions=True, timeout=1.5)
    reveal_type(on_client)  # line 15
"""


def check(command: list[str], tmp_path: Path) -> str:
    program = tmp_path / "program.py"
    program.write_text(PROGRAM, encoding="utf-8")
    process = subprocess.run(
        [*command, str(program)], capture_output=True, text=True, timeout=180, cwd=tmp_path, check=False
    )
    assert process.returncode != 0, f"the type checker accepted the misspelt options:\n{process.stdout}"
    return process.stdout + process.stderr


def lines_with(output: str, needle: str) -> set[int]:
    found: set[int] = set()
    for line in output.splitlines():
        if needle in line and "program.py:" in line:
            found.add(int(line.split("program.py:", 1)[1].split(":", 1)[0]))
    return found


def test_mypy_rejects_misspelt_options(tmp_path: Path) -> None:
    output = check(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--config-file", "/dev/null"], tmp_path
    )
    assert lines_with(output, "error:") == {5, 6, 7, 8}, output
    assert 'Unexpected keyword argument "timeuot"' in output
    assert 'Unexpected keyword argument "concurency"' in output
    notes = {number: line for line in output.splitlines() for number in lines_with(line, "Revealed type")}
    assert "list[ferrofetch._core.Response]" in notes[11], output
    assert "list[ferrofetch._core.Response | BaseException]" in notes[13], output
    assert "list[ferrofetch._core.Response | BaseException]" in notes[15], output


def test_pyright_rejects_misspelt_options(tmp_path: Path) -> None:
    basedpyright = shutil.which("basedpyright", path=str(Path(sys.executable).parent))
    if basedpyright is None:
        pytest.fail("basedpyright is not installed (it is in the test extra)")
    output = check([basedpyright, "--pythonpath", sys.executable, "--pythonversion", "3.11"], tmp_path)
    assert lines_with(output, "- error:") == {5, 6, 7, 8}, output
    reveals = {n: line for line in output.splitlines() for n in lines_with(line, "Type of")}
    assert "list[Response]" in reveals[11], output
    assert "list[Response | BaseException]" in reveals[13], output
    assert "list[Response | BaseException]" in reveals[15], output
