"""The distribution: one abi3 wheel and an sdist that builds from source, each installed into a
fresh virtual environment (no source tree on ``sys.path``) and smoke-tested there against a
loopback server.

The wheels here are built with cargo's ``dev`` profile, which reuses the artifacts of
``maturin develop``: the release profile (``profile = "wheel"``, fat LTO) takes several minutes on
a small machine and packages the same files. ``maturin build --release`` is the same command with
the release profile.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The one place the version is written: [package] version in Cargo.toml (pyproject.toml has
# `dynamic = ["version"]`, which maturin fills from it).
_CARGO = (ROOT / "Cargo.toml").read_text(encoding="utf-8")
_FOUND = re.search(r'^version = "([^"]+)"', _CARGO, re.MULTILINE)
assert _FOUND is not None
VERSION = _FOUND.group(1)

pytestmark = pytest.mark.timeout(900)

# [project.urls], as PyPI shows them beside the description.
PROJECT_URLS = {
    "Homepage, https://github.com/ferrofetch/ferrofetch",
    "Documentation, https://ferrofetch.github.io/ferrofetch/",
    "Source, https://github.com/ferrofetch/ferrofetch",
    "Issues, https://github.com/ferrofetch/ferrofetch/issues",
    "Changelog, https://github.com/ferrofetch/ferrofetch/releases",
}

SMOKE = """
import asyncio, importlib.metadata, pathlib, sys
import ferrofetch
import ferrofetch.testing

here = pathlib.Path(ferrofetch.__file__).resolve()
assert "site-packages" in here.parts, here
assert not any(pathlib.Path(p, "python", "ferrofetch").exists() for p in sys.path), sys.path
assert (here.parent / "py.typed").exists() and (here.parent / "_core.pyi").exists()
assert ferrofetch.__version__ == sys.argv[1], ferrofetch.__version__

meta = importlib.metadata.metadata("ferrofetch")
assert meta["Version"] == sys.argv[1], meta["Version"]
assert meta["License-Expression"] == "MIT", meta["License-Expression"]
assert "Typing :: Typed" in meta.get_all("Classifier"), meta.get_all("Classifier")
files = [str(f) for f in importlib.metadata.files("ferrofetch")]
assert any(f.endswith("LICENSE") for f in files), files


async def main():
    with ferrofetch.testing.LoopbackServer() as server:
        response = await ferrofetch.fetch(server.url + "/bytes/1000", timeout=10)
        assert response.status == 200 and len(response.content) == 1000
        urls = [f"{server.url}/bytes/{n}" for n in range(1, 101)]
        responses = await ferrofetch.fetch_all(urls, concurrency=16, timeout=10)
        assert [len(r.content) for r in responses] == list(range(1, 101))
        async with ferrofetch.ClientSession() as session:
            async with session.get(server.url + "/redirect/2") as reply:
                assert reply.status == 200 and len(reply.history) == 2
    print("smoke ok", ferrofetch.__version__)


asyncio.run(main())
"""


def run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    process = subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=env,
        check=False,
    )
    assert process.returncode == 0, (
        f"{command} exited {process.returncode}\n{process.stdout}\n{process.stderr}"
    )
    return process.stdout


def clean_env() -> dict[str, str]:
    """This process's environment without the virtualenv and Python path settings."""
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"}}
    # Reuse the checkout's compiled dependencies: a build from the unpacked sdist would otherwise
    # compile every crate again.
    env["CARGO_TARGET_DIR"] = str(ROOT / "target")
    return env


def fresh_venv(directory: Path) -> Path:
    """A new virtualenv without system site-packages; returns its interpreter."""
    run(sys.executable, "-m", "venv", directory, cwd=directory.parent)
    return directory / "bin" / "python"


def smoke(python: Path, cwd: Path) -> None:
    # -I: isolated mode, so neither the working directory nor PYTHONPATH is on sys.path.
    out = run(python, "-I", "-c", SMOKE, VERSION, cwd=cwd, timeout=60)
    assert out.strip() == f"smoke ok {VERSION}"


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "maturin", "build", "--profile", "dev", "--out", out, cwd=ROOT, env=clean_env())
    run(sys.executable, "-m", "maturin", "sdist", "--out", out, cwd=ROOT, env=clean_env())
    yield out


def test_one_abi3_wheel_installs_and_runs_in_a_fresh_venv(dist: Path, tmp_path: Path) -> None:
    wheels = list(dist.glob("*.whl"))
    assert len(wheels) == 1, wheels
    wheel = wheels[0]
    assert wheel.name.startswith(f"ferrofetch-{VERSION}-cp39-abi3-"), wheel.name
    names = zipfile.ZipFile(wheel).namelist()
    assert "ferrofetch/py.typed" in names and "ferrofetch/_core.pyi" in names
    assert not any(name.startswith(("tests/", "benchmarks/", "src/")) for name in names), names
    metadata = zipfile.ZipFile(wheel).read(f"ferrofetch-{VERSION}.dist-info/METADATA").decode()
    assert PROJECT_URLS <= set(re.findall(r"^Project-URL: (.+)$", metadata, re.MULTILINE)), metadata
    python = fresh_venv(tmp_path / "venv")
    run(python, "-m", "pip", "install", "--quiet", wheel, cwd=tmp_path)
    smoke(python, tmp_path)


def test_the_sdist_builds_from_source_in_a_fresh_venv(dist: Path, tmp_path: Path) -> None:
    sdists = list(dist.glob("*.tar.gz"))
    assert len(sdists) == 1, sdists
    with tarfile.open(sdists[0]) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for needed in ("Cargo.toml", "Cargo.lock", "pyproject.toml", "README.md", "LICENSE", "src/lib.rs"):
        assert needed in names, (needed, sorted(names))
    assert "python/ferrofetch/_core.pyi" in names
    python = fresh_venv(tmp_path / "venv")
    run(python, "-m", "pip", "install", "--quiet", "maturin>=1.9,<2", cwd=tmp_path)
    # Built from the sdist alone, with the dev profile for the reason in the module docstring.
    run(
        python, "-m", "pip", "install", "--quiet", "--no-build-isolation",
        "--config-settings", "build-args=--profile dev", sdists[0],
        cwd=tmp_path, env=clean_env(),
    )  # fmt: skip
    smoke(python, tmp_path)
