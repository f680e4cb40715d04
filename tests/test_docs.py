"""Every ``python`` code block of the README, the docs pages and the public docstrings runs as
written, against a loopback server standing in for ``http://127.0.0.1:8080``."""

from __future__ import annotations

import ferrofetch
import ferrofetch.testing
import pytest

from tests.docs_blocks import PLACEHOLDER, Block, all_blocks
from tests.servers import run_python

BLOCKS = all_blocks()

# Runs a block; one that awaits at the top level (a docstring snippet) runs inside asyncio.run,
# with ferrofetch already imported, as `python -m asyncio` would run it.
RUNNER = """
import ast, asyncio, inspect, sys
code = compile(sys.argv[1], sys.argv[2], "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
namespace = {"__name__": "__main__"}
if code.co_flags & inspect.CO_COROUTINE:
    import ferrofetch
    namespace["ferrofetch"] = ferrofetch
    asyncio.run(eval(code, namespace))
else:
    exec(code, namespace)
"""


def test_the_readme_and_every_docs_page_have_python_examples() -> None:
    sources = {block.source for block in BLOCKS}
    for page in ("README.md", "docs/index.md", "docs/fetch-all.md", "docs/migrating.md", "docs/errors.md"):
        assert page in sources, f"no ```python block in {page}"


@pytest.mark.parametrize("block", BLOCKS, ids=[block.name for block in BLOCKS])
def test_block_runs(block: Block, loopback_server: ferrofetch.testing.LoopbackServer) -> None:
    code = block.code.replace(PLACEHOLDER, loopback_server.url.rstrip("/"))
    process = run_python(RUNNER, timeout=45, args=(code, block.name))
    assert process.returncode == 0, (
        f"{block.name} exited {process.returncode}\n--- code ---\n{code}\n"
        f"--- stdout ---\n{process.stdout}\n--- stderr ---\n{process.stderr}"
    )
