"""The ``python`` code blocks of the README, the docs pages and the public docstrings.

Used by ``tests/test_docs.py`` (every block runs against a loopback server) and by the type
checks (``python -m tests.docs_blocks DIR`` writes the blocks that are whole programs into
``DIR`` for mypy and pyright).
"""

from __future__ import annotations

import re
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = "http://127.0.0.1:8080"
_BLOCK = re.compile(r"^([ \t]*)```python[ \t]*\n(.*?)^\1```[ \t]*$", re.DOTALL | re.MULTILINE)
# pymdownx.snippets' include line, as the docs use it.
_SNIPPET = re.compile(r'^--8<-- "([^"]+)"[ \t]*$', re.MULTILINE)


@dataclass(frozen=True)
class Block:
    """One fenced block: where it is and its code, dedented."""

    source: str
    index: int
    code: str

    @property
    def name(self) -> str:
        return f"{self.source}#{self.index + 1}"

    @property
    def is_program(self) -> bool:
        """Whether it runs as a script; docstring snippets may ``await`` at the top level."""
        try:
            compile(self.code, self.name, "exec")
        except SyntaxError:
            return False
        return True


def _expand_snippets(text: str) -> str:
    return _SNIPPET.sub(lambda m: (ROOT / m.group(1)).read_text(encoding="utf-8"), text)


def _blocks_of(path: Path, text: str) -> list[Block]:
    source = path.relative_to(ROOT).as_posix()
    return [
        Block(source, index, textwrap.dedent(code))
        for index, (_indent, code) in enumerate(_BLOCK.findall(text))
    ]


def documents() -> list[Path]:
    """The README, every page under ``docs/`` and the package's modules and stubs."""
    package = ROOT / "python" / "ferrofetch"
    return [
        ROOT / "README.md",
        *sorted((ROOT / "docs").glob("**/*.md")),
        *sorted(package.glob("*.py")),
        *sorted(package.glob("*.pyi")),
    ]


def _native_blocks() -> list[Block]:
    """The blocks of the native module's docstrings (functions written in Rust carry theirs
    there, not in a stub). None when the package is not built."""
    try:
        from ferrofetch import _core
    except ImportError:
        return []
    blocks: list[Block] = []
    for name in sorted(vars(_core)):
        doc = getattr(getattr(_core, name), "__doc__", None)
        if name.startswith("_") or not isinstance(doc, str) or "```python" not in doc:
            continue
        blocks.extend(
            Block(f"ferrofetch._core.{name}", index, textwrap.dedent(code))
            for index, (_indent, code) in enumerate(_BLOCK.findall(doc))
        )
    return blocks


def all_blocks() -> list[Block]:
    blocks: list[Block] = []
    for path in documents():
        if path.exists():
            blocks.extend(_blocks_of(path, _expand_snippets(path.read_text(encoding="utf-8"))))
    return blocks + _native_blocks()


def write_programs(directory: Path) -> list[Path]:
    """Writes each block that is a whole program to ``directory`` as a module; returns the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for block in all_blocks():
        if not block.is_program:
            continue
        stem = re.sub(r"[^A-Za-z0-9]+", "_", block.name).strip("_").lower()
        path = directory / f"{stem}.py"
        path.write_text(block.code, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_programs(Path(sys.argv[1])):
        print(written_path)
