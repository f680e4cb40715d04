"""What the ``ferrofetch`` logger costs per ``Client.fetch``, in instructions counted by callgrind.

    python benchmarks/logging_cost.py                  # off vs absent vs DEBUG, 2 runs each
    python benchmarks/logging_cost.py --modes off,absent --runs 3

Run it with the Python where a release build of ferrofetch is installed (``benchmarks/run``
builds one into ``benchmarks/.work/venv``); it needs ``valgrind``. Timings on a shared machine
drift by more than the few percent at stake; instructions do not.

Each mode runs ``Client.fetch`` of 100 B under ``asyncio.gather`` (64 in flight, after 64
warm-up requests) in a process of its own under ``valgrind --tool=callgrind``, against a
``LoopbackServer`` in another process, once with 500 requests and once with 1,500: the
difference over 1,000 is the marginal cost of a request, every thread of the client included,
start-up and imports excluded. Modes:

- ``off``: the default, the ``ferrofetch`` logger does not take DEBUG records;
- ``absent``: ``FERROFETCH_BENCH_NO_LOGGING=1``, a lever for this benchmark only: calls do not
  read the logger's level, as if logging did not exist (with DEBUG off a call enters no scope and
  records nothing, so the level read is all that logging off runs);
- ``debug``: the logger at DEBUG with a ``StreamHandler`` to ``/dev/null`` (one ``connection``
  record per request, made and written by Python's ``logging``).

It prints thousands of instructions per request for each mode and run, and ``off ÷ absent``.
Runs differ by 1-2k instructions (how many completions each wake-up of the event loop finds
varies with the server's timing), more than the level read, the only thing logging off runs that
``absent`` does not; so it also prints that read apart, counted exactly: callgrind's inclusive
count for ``debug_on`` (kept out of line for this), over the same 1,000 requests.
Only 127.0.0.1 is used.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

from _loopback import loopback_server

CLIENT = """
import asyncio, logging, os, sys
import ferrofetch

url, n, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if mode == "debug":
    logger = logging.getLogger("ferrofetch")
    logger.addHandler(logging.StreamHandler(open(os.devnull, "w")))
    logger.setLevel(logging.DEBUG)


async def main():
    client = ferrofetch.Client()
    sem = asyncio.Semaphore(64)

    async def one(i):
        async with sem:
            response = await client.fetch(f"{url}/bytes/100?i={i}")
            assert response.status == 200 and len(response.content) == 100

    await asyncio.gather(*(one(i) for i in range(64)))
    await asyncio.gather(*(one(i) for i in range(n)))
    client.close()


asyncio.run(main())
"""

SMALL, LARGE = 500, 1_500


def instructions(url: str, n: int, mode: str, keep: str | None = None) -> tuple[int, int]:
    """Instructions callgrind counted in a client process making ``n`` requests in ``mode``: in
    all, and in reading the logger's level (``debug_on``, inclusive). The profile is left in the
    directory ``keep`` when given (for ``callgrind_annotate``)."""
    # One hash seed for every run, so that dict and set layouts do not differ between them.
    env = dict(os.environ, PYTHONHASHSEED="0")
    env.pop("FERROFETCH_BENCH_NO_LOGGING", None)
    if mode == "absent":
        env["FERROFETCH_BENCH_NO_LOGGING"] = "1"
    with tempfile.TemporaryDirectory() as tmp:
        profile = f"{keep or tmp}/callgrind.{mode}.{n}.out"
        out = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={profile}",
                sys.executable,
                "-c",
                CLIENT,
                url,
                str(n),
                mode,
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=900,
            check=False,
        )
        if out.returncode != 0:
            raise SystemExit(f"{mode}, {n} requests: exit code {out.returncode}\n{out.stderr[-2000:]}")
        found = re.search(r"Collected : (\d+)", out.stderr)
        if found is None:
            raise SystemExit(f"no instruction count in callgrind's output:\n{out.stderr[-2000:]}")
        annotated = subprocess.run(
            ["callgrind_annotate", "--inclusive=yes", "--threshold=100", profile],
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        ).stdout
    level = re.search(r"^\s*([\d,]+) .*runtime::scope::debug_on", annotated, re.MULTILINE)
    return int(found.group(1)), int(level.group(1).replace(",", "")) if level else 0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--modes", default="off,absent,debug", help="comma-separated: off, absent, debug")
    parser.add_argument("--runs", type=int, default=2, help="runs of each mode, alternated")
    parser.add_argument("--keep", default=None, help="directory to leave callgrind's profiles in")
    args = parser.parse_args()
    modes = args.modes.split(",")
    for mode in modes:
        if mode not in ("off", "absent", "debug"):
            parser.error(f"unknown mode {mode!r}")
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    with loopback_server() as url:
        per_request: dict[str, list[float]] = {mode: [] for mode in modes}
        level_read: dict[str, list[float]] = {mode: [] for mode in modes}
        for run in range(args.runs):
            for mode in modes:
                small = instructions(url, SMALL, mode, args.keep)
                large = instructions(url, LARGE, mode, args.keep)
                marginal = (large[0] - small[0]) / (LARGE - SMALL)
                level = (large[1] - small[1]) / (LARGE - SMALL)
                per_request[mode].append(marginal)
                level_read[mode].append(level)
                print(
                    f"run {run + 1} {mode:6} {marginal / 1e3:7.1f}k instructions per request, "
                    f"{level:5.0f} of them reading the level",
                    flush=True,
                )
    print()
    medians = {mode: statistics.median(values) for mode, values in per_request.items()}
    for mode, value in medians.items():
        runs = " / ".join(f"{v / 1e3:.1f}k" for v in per_request[mode])
        level = statistics.median(level_read[mode])
        print(f"{mode:6} {value / 1e3:7.1f}k per request (runs: {runs}); reading the level: {level:.0f}")
    if "off" in medians and "absent" in medians:
        off, absent = medians["off"], medians["absent"]
        print(f"off ÷ absent: {off / absent:.4f} ({(off - absent) / 1e3:+.2f}k instructions per request)")


if __name__ == "__main__":
    main()
