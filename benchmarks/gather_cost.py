"""What one ``await ferrofetch.fetch(url)`` under ``asyncio.gather`` costs, in instructions.

    python benchmarks/gather_cost.py                        # ferrofetch.fetch, 2 runs
    python benchmarks/gather_cost.py --clients fetch,ry --runs 3 --keep /tmp/profiles

Run it with the Python where a release build of ferrofetch is installed (``benchmarks/run``
builds one into ``benchmarks/.work/venv``, which also has the peers); it needs ``valgrind``.
Timings on a shared machine drift by more than the few percent at stake; instructions do not.

Each client makes requests of 100 B the way the benchmark's ``ff_fetch`` driver does: one
coroutine per request under ``asyncio.gather``, each holding a slot of an ``asyncio.Semaphore(64)``
around the request, then reading the body. It runs in a process of its own under
``valgrind --tool=callgrind --separate-threads=yes``, against a ``LoopbackServer`` in another
process, once with 500 requests and once with 1,500 (after 64 warm-up requests): the difference
over 1,000 is the marginal cost of a request, start-up and imports excluded, split into the
thread running the event loop ("main") and every other thread of the process (the runtime's).
Clients:

- ``fetch``: ``await ferrofetch.fetch(url)``, then ``.content``;
- ``client``: ``await ferrofetch.Client().fetch(url)``, then ``.content``;
- ``ry``: ``await ry.Client().get(url)``, then ``await r.bytes()`` (when ``ry`` is installed).

Only 127.0.0.1 is used.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

from _loopback import loopback_server

CLIENT = """
import asyncio, sys

url, n, which = sys.argv[1], int(sys.argv[2]), sys.argv[3]

if which == "fetch":
    import ferrofetch

    async def get(u):
        return len((await ferrofetch.fetch(u)).content)
elif which == "client":
    import ferrofetch

    client = ferrofetch.Client()

    async def get(u):
        return len((await client.fetch(u)).content)
else:
    import ry

    client = None

    async def get(u):
        r = await client.get(u)
        return len(await r.bytes())


async def main():
    global client
    if which == "ry":
        client = ry.Client()
    sem = asyncio.Semaphore(64)

    async def one(i):
        async with sem:
            assert await get(f"{url}/bytes/100?i={i}") == 100

    await asyncio.gather(*(one(i) for i in range(64)))
    await asyncio.gather(*(one(i) for i in range(n)))


asyncio.run(main())
"""

SMALL, LARGE = 500, 1_500


def instructions(url: str, n: int, which: str, keep: str | None) -> tuple[int, int]:
    """Instructions callgrind counted in a client process making ``n`` requests: on the main
    thread, and in all. Profiles are left in the directory ``keep`` when given."""
    env = dict(os.environ, PYTHONHASHSEED="0")
    with tempfile.TemporaryDirectory() as tmp:
        base = f"{keep or tmp}/callgrind.{which}.{n}.out"
        for old in glob.glob(base + "*"):
            os.unlink(old)
        out = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--separate-threads=yes",
                f"--callgrind-out-file={base}",
                sys.executable,
                "-c",
                CLIENT,
                url,
                str(n),
                which,
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=1800,
            check=False,
        )
        if out.returncode != 0:
            raise SystemExit(f"{which}, {n} requests: exit code {out.returncode}\n{out.stderr[-2000:]}")
        main = total = 0
        for profile in glob.glob(base + "-*"):
            with open(profile) as handle:
                text = handle.read()
            found = re.search(r"^summary: (\d+)", text, re.MULTILINE)
            if found is None:
                continue
            count = int(found.group(1))
            total += count
            # callgrind numbers the threads in the order they start: 01 is the main thread.
            if profile.endswith("-01"):
                main = count
        return main, total


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", default="fetch", help="comma-separated: fetch, client, ry")
    parser.add_argument("--runs", type=int, default=2, help="runs of each client, alternated")
    parser.add_argument("--keep", default=None, help="directory to leave callgrind's profiles in")
    args = parser.parse_args()
    clients = args.clients.split(",")
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    results: dict[str, list[tuple[float, float]]] = {c: [] for c in clients}
    with loopback_server() as url:
        for run in range(args.runs):
            for which in clients:
                small = instructions(url, SMALL, which, args.keep)
                large = instructions(url, LARGE, which, args.keep)
                main_thread = (large[0] - small[0]) / (LARGE - SMALL)
                total = (large[1] - small[1]) / (LARGE - SMALL)
                results[which].append((main_thread, total))
                print(
                    f"run {run + 1} {which:6} main {main_thread / 1e3:6.1f}k  "
                    f"other {(total - main_thread) / 1e3:6.1f}k  total {total / 1e3:6.1f}k "
                    "instructions per request",
                    flush=True,
                )
    print()
    for which, values in results.items():
        main_thread = statistics.median(v[0] for v in values)
        total = statistics.median(v[1] for v in values)
        print(
            f"{which:6} median: main {main_thread / 1e3:6.1f}k  other "
            f"{(total - main_thread) / 1e3:6.1f}k  total {total / 1e3:6.1f}k per request"
        )


if __name__ == "__main__":
    main()
