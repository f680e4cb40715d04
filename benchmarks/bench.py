"""Orchestrator of the side-by-side benchmark (started by ``benchmarks/run``, which sets up the
virtualenv, builds ferrofetch, installs the peers and starts nginx; see README.md).

Runs every client (one process per run) and ``wrk`` alternately, round after round, on each
workload; keeps the median of every figure over the rounds; writes a Markdown table, a JSON dump
and a PNG chart.
"""

# ruff: noqa: RUF001 -- the multiplication sign is meant: the tables speak of ratios
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CLIENTS_DIR = HERE / "clients"
WORK = HERE / ".work"

# name -> (script in clients/, label in the tables)
CLIENTS: dict[str, tuple[str, str]] = {
    "ff_fetch_all": ("ff_fetch_all.py", "ferrofetch fetch_all"),
    "ff_fetch": ("ff_fetch.py", "ferrofetch fetch (gather)"),
    "ff_session": ("ff_session.py", "ferrofetch ClientSession"),
    "aiohttp": ("peer_aiohttp.py", "aiohttp"),
    "httpx": ("peer_httpx.py", "httpx"),
    "ry": ("peer_ry.py", "ry"),
    "wreq": ("peer_wreq.py", "wreq"),
    "rnet": ("peer_rnet.py", "rnet"),
    "pyreqwest": ("peer_pyreqwest.py", "pyreqwest"),
    "primp": ("peer_primp.py", "primp"),
    "pyqwest": ("peer_pyqwest.py", "pyqwest"),
    "httpr": ("peer_httpr.py", "httpr"),
    "curl_cffi": ("peer_curl_cffi.py", "curl_cffi"),
    "niquests": ("peer_niquests.py", "niquests"),
    # not a peer: reqwest alone, no Python (ceiling/, built by benchmarks/run)
    "reqwest": ("", "reqwest alone (Rust, no Python)"),
    # opt-in variants (VARIANTS), named with --clients only
    "ff_fetch_all_nolog": ("ff_fetch_all.py", "ferrofetch fetch_all, logging absent"),
    "ff_fetch_nolog": ("ff_fetch.py", "ferrofetch fetch (gather), logging absent"),
}
FERRO = ("ff_fetch_all", "ff_fetch", "ff_session")
# A ferrofetch client run with one setting changed, to set against the same client in the same
# rounds; never part of a default run. name -> (the client it varies, environment it adds).
# FERROFETCH_BENCH_NO_LOGGING=1 is a benchmark-only lever: calls do not read the logger's level,
# the one thing logging costs per call when it is off (README, "What logging costs").
VARIANTS: dict[str, tuple[str, dict[str, str]]] = {
    "ff_fetch_all_nolog": ("ff_fetch_all", {"FERROFETCH_BENCH_NO_LOGGING": "1"}),
    "ff_fetch_nolog": ("ff_fetch", {"FERROFETCH_BENCH_NO_LOGGING": "1"}),
}
OURS = FERRO + tuple(VARIANTS)
CEILING = "reqwest"
CEILING_BIN = WORK / "ceiling-target" / "release" / "ferrofetch-ceiling"
PEERS = tuple(c for c in CLIENTS if c not in OURS and c != CEILING)
DEFAULT_CLIENTS = tuple(c for c in CLIENTS if c not in VARIANTS)
QUICK_CLIENTS = ("ff_fetch_all", "ff_fetch", "ff_session", "aiohttp", "ry", "wreq", "reqwest")

# name -> static file, body size, requests in a full run and in a quick run, requests in flight,
# which nginx server answers (``http`` unless said: ``https`` offers only HTTP/1.1 by ALPN, ``h2``
# offers h2 then HTTP/1.1), and how the workload is described ({n} is the request count actually used)
WORKLOADS: dict[str, dict[str, Any]] = {
    "small": dict(file="100b.bin", size=100, n=10_000, quick=4_000, conc=64, body="100 B",
                  title="{n} × 100 B, 64 in flight"),
    "medium": dict(file="64k.bin", size=65_536, n=2_000, quick=1_000, conc=64, body="64 KiB",
                   title="{n} × 64 KiB, 64 in flight"),
    "large": dict(file="1m.bin", size=1_048_576, n=300, quick=100, conc=64, body="1 MiB",
                  title="{n} × 1 MiB, 64 in flight"),
    "latency": dict(file="100b.bin", size=100, n=2_000, quick=500, conc=1, sequential=True, body="100 B",
                    title="{n} × 100 B, one at a time (latency)"),
    "memory": dict(file="100b.bin", size=100, n=100_000, quick=20_000, conc=64, body="100 B",
                   title="{n} × 100 B, 64 in flight, all results kept (memory)"),
    "tls_small": dict(file="100b.bin", size=100, n=10_000, quick=4_000, conc=64, body="100 B", server="https",
                      title="{n} × 100 B over HTTPS, HTTP/1.1, 64 in flight"),
    "tls_medium": dict(file="64k.bin", size=65_536, n=2_000, quick=1_000, conc=64, body="64 KiB",
                       server="https", title="{n} × 64 KiB over HTTPS, HTTP/1.1, 64 in flight"),
    "h2_small": dict(file="100b.bin", size=100, n=10_000, quick=4_000, conc=64, body="100 B", server="h2",
                     title="{n} × 100 B over HTTPS, HTTP/2 offered by ALPN, 64 in flight"),
    "h2_medium": dict(file="64k.bin", size=65_536, n=2_000, quick=1_000, conc=64, body="64 KiB", server="h2",
                      title="{n} × 64 KiB over HTTPS, HTTP/2 offered by ALPN, 64 in flight"),
}  # fmt: skip
TLS_SERVERS = ("https", "h2")


def requests_for(w: str, quick: bool, scale: float) -> int:
    wl = WORKLOADS[w]
    return max(1, int((wl["quick"] if quick else wl["n"]) * scale))


WRK_LUA = r"""
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", wrk.path .. "?wrk=" .. counter)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\nWRKJSON {"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %f, "p99_us": %f, "errors": %d}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


class AccessLog:
    """The access log of nginx's TLS servers: one line per request, ``$connection $server_protocol
    $args``. Every client run tags its URLs (``?r=<tag>-<i>``, warm-up ``?w=<tag>-<i>``), so the lines
    of one run tell how many connections it opened and which protocol each request spoke."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = path.stat().st_size if path.exists() else 0

    def since_last(self, tag: str) -> dict[str, Any]:
        """``connections`` (distinct) and ``protocols`` of the requests tagged ``tag`` logged since
        the previous call."""
        time.sleep(0.3)  # nginx writes the buffered log every 100 ms
        if not self.path.exists():
            return {}
        with self.path.open("rb") as handle:
            handle.seek(self.offset)
            data = handle.read()
        self.offset += len(data)
        connections: set[str] = set()
        protocols: set[str] = set()
        for line in data.decode("latin-1").splitlines():
            parts = line.split(" ", 2)
            if len(parts) < 3 or "=" not in parts[2]:
                continue
            if parts[2].split("=", 1)[1].rsplit("-", 1)[0] != tag:
                continue
            connections.add(parts[0])
            protocols.add(parts[1])
        if not connections:
            return {}
        return {"connections": len(connections), "protocols": ",".join(sorted(protocols))}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run_client(
    name: str, wl: dict[str, Any], n: int, base: str, args: argparse.Namespace, tag: str
) -> dict[str, Any]:
    """One run of one client on one workload, in a process of its own; its JSON line as a dict."""
    if name == CEILING:
        if not CEILING_BIN.exists():
            return {"ok": False, "unavailable": True, "error": f"{CEILING_BIN} not built"}
        program = [str(CEILING_BIN)]
    else:
        program = [sys.executable, str(CLIENTS_DIR / CLIENTS[name][0])]
    cmd = [
        *program,
        "--url",
        f"{base}/{wl['file']}",
        "--size",
        str(wl["size"]),
        "--n",
        str(n),
        "--concurrency",
        str(wl["conc"]),
        "--tag",
        tag,
        "--warmup",
        str(min(64, n) if not wl.get("sequential") else 20),
        "--driver",
        args.driver,
        "--loop",
        args.loop,
    ]
    if wl.get("sequential"):
        cmd.append("--sequential")
    if wl.get("server", "http") in TLS_SERVERS:
        cmd += ["--ca", args.ca]
    env = {k: v for k, v in os.environ.items() if k not in VARIANT_SETTINGS}
    env.update(VARIANTS[name][1] if name in VARIANTS else {})
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=args.timeout, cwd=str(CLIENTS_DIR), env=env
        )
    except subprocess.TimeoutExpired:
        return {"ok": False, "timeout": True, "error": f"timed out after {args.timeout:.0f} s"}
    wall = time.perf_counter() - t0
    line = next((ln for ln in reversed(proc.stdout.splitlines()) if ln.startswith("{")), None)
    if line is None:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"ok": False, "error": f"exit code {proc.returncode}: {' | '.join(tail)[-400:]}"}
    res: dict[str, Any] = json.loads(line)
    res["process_wall_s"] = wall
    return res


VARIANT_SETTINGS = {k for _, settings in VARIANTS.values() for k in settings}


def run_wrk(wl: dict[str, Any], base: str, duration: float) -> dict[str, Any]:
    """One wrk run (1 thread; 64 connections, or 1 for the latency workload), distinct URLs via Lua.

    CPU time and peak RSS are wrk's own, from ``os.wait4``."""
    lua = WORK / "wrk.lua"
    lua.write_text(WRK_LUA)
    conns = 1 if wl.get("sequential") else wl["conc"]
    cmd = [
        "wrk",
        "-t1",
        f"-c{conns}",
        f"-d{duration:g}s",
        "--timeout",
        "10s",
        "-s",
        str(lua),
        f"{base}/{wl['file']}",
    ]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    killer = threading.Timer(duration + 30, p.kill)
    killer.start()
    try:
        assert p.stdout is not None
        out = p.stdout.read()
        _, wstatus, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(wstatus)
    finally:
        killer.cancel()
    m = re.search(r"WRKJSON (\{.*\})", out)
    if p.returncode != 0 or not m:
        return {"ok": False, "error": f"wrk failed ({p.returncode}): {out.strip()[-300:]}"}
    d = json.loads(m.group(1))
    secs = d["duration_us"] / 1e6
    n = d["requests"]
    cpu = ru.ru_utime + ru.ru_stime
    res = {
        "ok": d["errors"] == 0 and n > 0,
        "n": n,
        "elapsed_s": secs,
        "bytes": d["bytes"],
        "rps": n / secs,
        "mbps": d["bytes"] / secs / 1e6,
        "errors": d["errors"],
        "cpu_s": cpu,
        "cpu_us_per_req": cpu / max(n, 1) * 1e6,
        "maxrss_mib": ru.ru_maxrss / 1024,
    }
    if wl.get("sequential"):
        res["p50_ms"] = d["p50_us"] / 1e3
        res["p99_ms"] = d["p99_us"] / 1e3
    if wl.get("server", "http") in TLS_SERVERS:
        # wrk offers no ALPN protocol and keeps its connections open for the whole run
        res["protocols"] = "HTTP/1.1"
        res["connections"] = conns
    if not res["ok"]:
        res["error"] = f"{d['errors']} errors"
    return res


# the module each library is imported as
IMPORT_NAMES = {
    "ferrofetch": "ferrofetch", "aiohttp": "aiohttp", "httpx": "httpx", "ry": "ry", "wreq": "wreq",
    "rnet": "rnet", "pyreqwest": "pyreqwest.client", "primp": "primp", "pyqwest": "pyqwest",
    "httpr": "httpr", "curl_cffi": "curl_cffi", "niquests": "niquests",
}  # fmt: skip


def time_import(module: str, repeat: int = 3) -> list[float]:
    """Seconds to ``import module`` in a fresh interpreter (nothing else imported first), ``repeat`` times."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    out = []
    for _ in range(repeat):
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        if p.returncode == 0:
            out.append(float(p.stdout.strip().splitlines()[-1]))
    return out


NUMERIC = (
    "rps", "mbps", "cpu_us_per_req", "maxrss_mib", "p50_ms", "p99_ms", "import_s", "elapsed_s", "connections"
)  # fmt: skip


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r for r in runs if r.get("ok")]
    if not ok:
        return {
            "ok": False,
            "error": runs[-1].get("error", "?") if runs else "not run",
            "unavailable": any(r.get("unavailable") for r in runs),
            "timeout": any(r.get("timeout") for r in runs),
        }
    out: dict[str, Any] = {"ok": True, "rounds": len(ok), "failed_rounds": len(runs) - len(ok)}
    for k in NUMERIC:
        vals = [r[k] for r in ok if isinstance(r.get(k), (int, float))]
        if vals:
            out[k] = statistics.median(vals)
    out["version"] = ok[-1].get("version", "")
    if ok[-1].get("protocols"):
        out["protocols"] = ok[-1]["protocols"]
    if ok[-1].get("info"):
        out["info"] = ok[-1]["info"]
    if len(runs) != len(ok):
        out["error"] = next(r.get("error") for r in runs if not r.get("ok"))
    return out


# ---------------------------------------------------------------------------------------- report


def fmt(v: Any, nd: int = 0) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return "—"
    if isinstance(v, (int, float)):
        return f"{v:,.{nd}f}"
    return str(v)


def label(name: str) -> str:
    return "wrk (C, the limit)" if name == "wrk" else CLIENTS[name][1]


def ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return "—"
    return f"{a / b:.2f}×"


def render_markdown(summary: dict[str, Any], meta: dict[str, Any]) -> str:
    lines: list[str] = []
    add = lines.append
    add(
        f"Run {meta['date']} — {meta['mode']} mode, {meta['rounds']} round(s), medians; "
        f"{meta['cpu']} ({meta['nproc']} cores), Python {meta['python']}, {meta['nginx']} (1 worker), "
        f"event loop: {meta['loop']}, driver for per-request clients: {meta['driver']}."
    )
    if meta.get("ferrofetch_runtime"):
        rt = meta["ferrofetch_runtime"]
        add(f"ferrofetch runtime: {rt.get('flavor', '?')}, {rt.get('worker_threads', '?')} worker thread(s).")
    add("")
    add(
        "Ratios are requests/s relative to ferrofetch `fetch_all` (× fetch_all), to the fastest peer "
        "of that workload (× fastest peer; ferrofetch, reqwest alone and wrk are not peers) and to `wrk` "
        "(× wrk) in the same run; CPU is user+sys of the client process per 1,000 requests "
        "(0.025 s/1k = 25 µs per request); peak RSS is the client process's maximum resident set. "
        "HTTPS workloads verify nginx's certificate against a local trustme CA; `wrk` speaks "
        "HTTP/1.1 there (it has no HTTP/2), and for HTTP/2 the table gives the protocol each client "
        "spoke and the connections it opened (warm-up included), from nginx's access log."
    )
    add("")
    for wname, wl in WORKLOADS.items():
        res = summary.get(wname)
        if not res:
            continue
        count = meta["counts"][wname]
        add(f"### {wl['title'].format(n=f'{count:,}')}")
        add("")
        ff = res.get("ff_fetch_all", {})
        wrk = res.get("wrk", {})
        best = fastest_peer(res)
        h2 = wl.get("server") == "h2"
        if wname == "latency":
            add("| client | p50 ms | p99 ms | req/s | CPU s/1k req | peak RSS MiB | × fetch_all | × wrk |")
            add("|---|---:|---:|---:|---:|---:|---:|---:|")
        elif wname == "memory":
            add("| client | peak RSS MiB | RSS × fetch_all | req/s | CPU s/1k req | × fetch_all |")
            add("|---|---:|---:|---:|---:|---:|")
        elif h2:
            add(
                "| client | req/s | MB/s | CPU s/1k req | peak RSS MiB | protocol | connections "
                "| × fetch_all | × fastest peer | × wrk |"
            )
            add("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|")
        else:
            add(
                "| client | req/s | MB/s | CPU s/1k req | peak RSS MiB "
                "| × fetch_all | × fastest peer | × wrk |"
            )
            add("|---|---:|---:|---:|---:|---:|---:|---:|")
        for name, r in res.items():
            if not r.get("ok"):
                continue
            cpu1k = r.get("cpu_us_per_req")
            cpu1k = cpu1k / 1000 if cpu1k is not None else None
            lab = label(name)
            if name == "ff_fetch_all":
                lab = f"**{lab}**"
            if wname == "latency":
                add(
                    f"| {lab} | {fmt(r.get('p50_ms'), 3)} | {fmt(r.get('p99_ms'), 3)} | "
                    f"{fmt(r.get('rps'))} | {fmt(cpu1k, 3)} | {fmt(r.get('maxrss_mib'))} | "
                    f"{ratio(r.get('rps'), ff.get('rps'))} | "
                    f"{ratio(r.get('rps'), wrk.get('rps'))} |"
                )
            elif wname == "memory":
                if name == "wrk":
                    continue
                add(
                    f"| {lab} | {fmt(r.get('maxrss_mib'))} | "
                    f"{ratio(r.get('maxrss_mib'), ff.get('maxrss_mib'))} | "
                    f"{fmt(r.get('rps'))} | {fmt(cpu1k, 3)} | {ratio(r.get('rps'), ff.get('rps'))} |"
                )
            else:
                seen = f" {r.get('protocols', '—')} | {fmt(r.get('connections'))} |" if h2 else ""
                add(
                    f"| {lab} | {fmt(r.get('rps'))} | {fmt(r.get('mbps'))} | {fmt(cpu1k, 3)} | "
                    f"{fmt(r.get('maxrss_mib'))} |{seen} {ratio(r.get('rps'), ff.get('rps'))} | "
                    f"{ratio(r.get('rps'), best[1] if best else None)} | "
                    f"{ratio(r.get('rps'), wrk.get('rps'))} |"
                )
        if best and wname not in ("memory", "latency"):
            add("")
            add(f"Fastest peer: {label(best[0])}.")
        add("")

    # import times (median over every run of the client)
    imp: dict[str, list[float]] = meta.get("imports", {})
    if imp:
        add("### `import` time (fresh interpreter, `import <library>` alone; median)")
        add("")
        add("| library | import ms |")
        add("|---|---:|")
        for lib, vals in sorted(imp.items(), key=lambda kv: statistics.median(kv[1])):
            add(f"| {lib} | {statistics.median(vals) * 1e3:.1f} |")
        add("")

    variants = against_variants(summary)
    if variants:
        add("### Variants")
        add("")
        add(
            "A ferrofetch client against itself with one setting changed, alternated in the same rounds. "
            "*logging absent*: `FERROFETCH_BENCH_NO_LOGGING=1`, a lever of this benchmark only: calls "
            "do not read the logger's level, the one thing logging off (the default) does per call. "
            "Timings on a shared machine drift by more than a few percent; "
            "`benchmarks/logging_cost.py` counts instructions instead."
        )
        add("")
        add(
            "| workload | client | req/s | variant req/s | client ÷ variant "
            "| CPU µs/req | variant CPU µs/req | CPU client ÷ variant |"
        )
        add("|---|---|---:|---:|---:|---:|---:|---:|")
        lines.extend(variants)
        add("")

    ceiling = against_ceiling(summary)
    if ceiling:
        add("### Against reqwest alone")
        add("")
        add(
            "`reqwest alone` is the engine without Python: reqwest on a `current_thread` tokio runtime "
            "(ferrofetch's default), the same features and allocator, every body kept like every "
            "client's (`ceiling/`). Requests/s of each ferrofetch path relative to it in the same run:"
        )
        add("")
        add("| workload | reqwest alone req/s | × wrk | fetch_all × | fetch (gather) × | ClientSession × |")
        add("|---|---:|---:|---:|---:|---:|")
        lines.extend(ceiling)
        add("")

    targets = check_targets(summary, imp, meta["counts"])
    if targets:
        add("### Targets")
        add("")
        add("| target | measured | holds |")
        add("|---|---|:---:|")
        for t, m, ok in targets:
            add(f"| {t} | {m} | {'yes' if ok else '**no**'} |")
        add("")

    bad: list[str] = []
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for wname, res in summary.items():
        for name, r in res.items():
            if not r.get("ok"):
                kind = (
                    "unavailable" if r.get("unavailable") else ("timeout" if r.get("timeout") else "failed")
                )
                grouped.setdefault((name, kind, str(r.get("error", ""))[:160]), []).append(wname)
            elif r.get("failed_rounds"):
                kind = f"{r['failed_rounds']} round(s) failed"
                grouped.setdefault((name, kind, str(r.get("error", ""))[:160]), []).append(wname)
    for (name, kind, why), ws in grouped.items():
        where = "all" if len(ws) == len(summary) and len(ws) > 1 else ", ".join(ws)
        bad.append(f"| {label(name)} | {where} | {kind} | {why} |")
    for name, why in meta.get("unavailable", {}).items():
        bad.append(f"| {name} | all | unavailable | {why[:160]} |")
    if bad:
        add("### Unavailable or failed")
        add("")
        add("| client | workload | status | reason |")
        add("|---|---|---|---|")
        lines.extend(bad)
        add("")

    add("### Versions")
    add("")
    vers = dict(meta.get("versions", {}))
    add(", ".join(f"{k} {v}" for k, v in sorted(vers.items())) + ".")
    add("")
    return "\n".join(lines)


def fastest_peer(res: dict[str, Any], key: str = "rps") -> tuple[str, float] | None:
    """The peer with the highest ``key`` in one workload's results, and that value."""
    vals = [(c, res.get(c, {}).get(key)) for c in PEERS if res.get(c, {}).get("ok")]
    vals = [(c, v) for c, v in vals if v]
    return max(vals, key=lambda cv: cv[1]) if vals else None


def against_variants(summary: dict[str, Any]) -> list[str]:
    """Table rows: each variant beside the client it varies, per workload where both ran."""
    rows = []
    for wname, wl in WORKLOADS.items():
        res = summary.get(wname, {})
        for name, (base, _) in VARIANTS.items():
            a, b = res.get(base, {}), res.get(name, {})
            if not (a.get("ok") and b.get("ok")):
                continue
            rows.append(
                f"| {wl['body']}, {wname} | {label(base)} vs {label(name)} | {fmt(a.get('rps'))} | "
                f"{fmt(b.get('rps'))} | {ratio(a.get('rps'), b.get('rps'))} | "
                f"{fmt(a.get('cpu_us_per_req'), 1)} | {fmt(b.get('cpu_us_per_req'), 1)} | "
                f"{ratio(a.get('cpu_us_per_req'), b.get('cpu_us_per_req'))} |"
            )
    return rows


def against_ceiling(summary: dict[str, Any]) -> list[str]:
    rows = []
    for wname, wl in WORKLOADS.items():
        res = summary.get(wname, {})
        top = res.get(CEILING, {})
        if not top.get("ok"):
            continue
        wrk = res.get("wrk", {})
        cells = [ratio(res.get(c, {}).get("rps"), top.get("rps")) for c in FERRO]
        shape = "one at a time" if wl.get("sequential") else f"{wl['conc']} in flight"
        over = {"https": ", HTTPS (HTTP/1.1)", "h2": ", HTTPS (h2 offered)"}
        shape += over.get(wl.get("server", "http"), "")
        if wname == "memory":
            shape += ", results kept"
        rows.append(
            f"| {wl['body']}, {shape} | {fmt(top.get('rps'))} | {ratio(top.get('rps'), wrk.get('rps'))} | "
            + " | ".join(cells)
            + " |"
        )
    return rows


def check_targets(
    summary: dict[str, Any], imp: dict[str, list[float]], counts: dict[str, int]
) -> list[tuple[str, str, bool]]:
    out: list[tuple[str, str, bool]] = []

    def get(w: str, c: str, k: str) -> float | None:
        r = summary.get(w, {}).get(c, {})
        return r.get(k) if r.get("ok") else None

    def best_peer(w: str, k: str = "rps") -> tuple[str, float] | None:
        return fastest_peer(summary.get(w, {}), k)

    for w, need in (("small", 0.8), ("medium", 0.8), ("large", 0.95)):
        a, b = get(w, "ff_fetch_all", "rps"), get(w, "wrk", "rps")
        if a and b:
            out.append(
                (
                    f"fetch_all ≥ {need}× wrk, {WORKLOADS[w]['body']}",
                    f"{a / b:.2f}×",
                    a / b >= need,
                )
            )
    bp = best_peer("small")
    a = get("small", "ff_fetch_all", "rps")
    if a and bp:
        out.append(
            ("fetch_all ≥ 2.5× the fastest peer, 100 B", f"{a / bp[1]:.2f}× ({bp[0]})", a / bp[1] >= 2.5)
        )
    c = get("small", "ff_fetch_all", "cpu_us_per_req")
    if c:
        out.append(("fetch_all CPU ≤ 25 µs per 100 B request", f"{c:.1f} µs", c <= 25))
    for cl, what in (("ff_fetch", "fetch under gather"), ("ff_session", "ClientSession.get + read")):
        for w in ("small", "medium", "large"):
            a = get(w, cl, "rps")
            bp = best_peer(w)
            if a and bp:
                out.append(
                    (
                        f"{what} ≥ 1.3× the fastest peer, {WORKLOADS[w]['body']}",
                        f"{a / bp[1]:.2f}× ({bp[0]})",
                        a / bp[1] >= 1.3,
                    )
                )
    a, b = get("memory", "ff_fetch_all", "maxrss_mib"), get("memory", "aiohttp", "maxrss_mib")
    if a and b:
        out.append(
            (
                f"peak RSS, {counts.get('memory', 0):,} fetch_all results ≤ aiohttp's",
                f"{a:.0f} vs {b:.0f} MiB",
                a <= b,
            )
        )
    if imp.get("ferrofetch") and imp.get("aiohttp"):
        a, b = statistics.median(imp["ferrofetch"]) * 1e3, statistics.median(imp["aiohttp"]) * 1e3
        out.append(("import ferrofetch no slower than import aiohttp", f"{a:.0f} vs {b:.0f} ms", a <= b))
    return out


def render_chart(summary: dict[str, Any], meta: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    panels = [
        ("small", "rps", "req/s — 100 B @64"),
        ("medium", "rps", "req/s — 64 KiB @64"),
        ("large", "rps", "req/s — 1 MiB @64"),
        ("latency", "p50_ms", "p50 latency ms — sequential 100 B (p99 as ◆)"),
        ("small", "cpu_us_per_req", "CPU µs per request — 100 B"),
        ("memory", "maxrss_mib", f"peak RSS MiB — {meta['counts']['memory']:,} results kept"),
        ("tls_small", "rps", "req/s — HTTPS, HTTP/1.1, 100 B @64"),
        ("h2_small", "rps", "req/s — HTTPS, HTTP/2 by ALPN, 100 B @64"),
        ("h2_medium", "rps", "req/s — HTTPS, HTTP/2 by ALPN, 64 KiB @64"),
    ]
    order = [c for c in CLIENTS if c not in VARIANTS]
    fig, axes = plt.subplots(3, 3, figsize=(18, 15.5))
    for ax, (w, key, title) in zip(axes.flat, panels):
        res = summary.get(w, {})
        names = [c for c in order if res.get(c, {}).get("ok") and res[c].get(key) is not None]
        vals = [res[c][key] for c in names]
        colors = ["#d9480f" if c in FERRO else "#868e96" if c == CEILING else "#4c6ef5" for c in names]
        y = list(range(len(names)))[::-1]
        ax.barh(y, vals, color=colors)
        ax.set_yticks(y)
        ax.set_yticklabels([label(c) for c in names], fontsize=9)
        ax.set_title(title, fontsize=11)
        ax.grid(axis="x", alpha=0.3)
        if key == "cpu_us_per_req" and vals and max(vals) > 20 * min(vals):
            ax.set_xscale("log")  # httpx and niquests would flatten every other bar
            ax.set_title(f"{title} (log scale)", fontsize=11)
        if vals:
            vmax = max(vals)
            for yy, v in zip(y, vals):
                ax.text(
                    v + vmax * 0.01,
                    yy,
                    f"{v:,.0f}" if v >= 100 else f"{v:,.2f}" if v < 10 else f"{v:,.1f}",
                    va="center",
                    fontsize=8,
                )
        if key == "p50_ms":
            p99 = [res[c].get("p99_ms") for c in names]
            ax.scatter(p99, y, marker="D", color="black", s=14, zorder=3)
        wrk = res.get("wrk", {})
        if wrk.get("ok") and wrk.get(key) is not None and key in ("rps", "p50_ms", "cpu_us_per_req"):
            wv = wrk[key]
            if key == "rps" and vals and wv > 1.6 * max(vals):
                # keep the bars readable: name the limit instead of stretching the axis to it
                ax.set_title(f"{title}\n(wrk, the limit: {wv:,.0f} req/s)", fontsize=11)
            else:
                ax.axvline(wv, color="black", linestyle="--", linewidth=1)
                ax.text(wv, len(names) - 0.4, " wrk", fontsize=8)
        if key == "rps":
            ax.xaxis.set_major_formatter(
                FuncFormatter(lambda x, _pos: f"{x / 1000:g}k" if x >= 1000 else f"{x:g}")
            )
        if not names:
            ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center")
    from matplotlib.patches import Patch

    fig.legend(
        handles=[
            Patch(color="#d9480f", label="ferrofetch"),
            Patch(color="#4c6ef5", label="peers"),
            Patch(color="#868e96", label="reqwest alone (no Python)"),
        ],
        loc="upper right",
        ncol=3,
        fontsize=10,
    )
    fig.suptitle(
        f"ferrofetch vs peers — loopback nginx, {meta['nproc']}-core box, {meta['date']} "
        f"({meta['mode']}, median of {meta['rounds']} round(s))",
        fontsize=13,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    fig.savefig(path, dpi=90)
    plt.close(fig)


def update_readme(md: str) -> None:
    readme = HERE / "README.md"
    if not readme.exists():
        return
    text = readme.read_text()
    start, end = "<!-- results:start -->", "<!-- results:end -->"
    if start not in text or end not in text:
        return
    block = f"{start}\n\n![benchmark chart](results/results.png)\n\n{md}\n{end}"
    text = re.sub(re.escape(start) + r".*?" + re.escape(end), lambda _m: block, text, flags=re.S)
    readme.write_text(text)


def machine_meta(args: argparse.Namespace) -> dict[str, Any]:
    cpu = platform.processor() or "?"
    try:
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                cpu = ln.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    nginx = (
        subprocess.run(["nginx", "-v"], capture_output=True, text=True)
        .stderr.strip()
        .replace("nginx version: ", "")
    )
    return {
        "date": dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "cpu": cpu,
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "nginx": nginx,
        "mode": "quick" if args.quick else "full",
        "rounds": args.rounds,
        "loop": args.loop,
        "driver": "gather + semaphore" if args.driver == "gather" else "64 worker tasks",
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--port", type=int, help="port of the running nginx")
    p.add_argument("--tls-port", type=int, help="port of nginx's HTTPS server (HTTP/1.1 only)")
    p.add_argument("--h2-port", type=int, help="port of nginx's HTTPS server offering h2 by ALPN")
    p.add_argument("--ca", help="PEM of the CA that signed nginx's certificate")
    p.add_argument("--access-log", help="access log of nginx's HTTPS servers")
    p.add_argument("--replot", metavar="JSON", help="only re-render table and chart from a results.json")
    p.add_argument("--quick", action="store_true", help="smoke run: fewer requests, 1 round, a few clients")
    p.add_argument("--rounds", type=int, default=None, help="rounds (default 3; 1 with --quick)")
    p.add_argument(
        "--clients",
        default=None,
        help=f"comma-separated subset of: {','.join(DEFAULT_CLIENTS)}; opt-in variants: {','.join(VARIANTS)}",
    )
    p.add_argument("--workloads", default=None, help=f"comma-separated subset of: {','.join(WORKLOADS)}")
    p.add_argument("--timeout", type=float, default=150.0, help="seconds allowed per client run")
    p.add_argument(
        "--wrk-duration", type=float, default=None, help="seconds per wrk run (default 5; 2 quick)"
    )
    p.add_argument("--no-wrk", action="store_true")
    p.add_argument("--driver", choices=["gather", "workers"], default="gather")
    p.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    p.add_argument("--scale", type=float, default=1.0, help="multiply every request count")
    p.add_argument(
        "--out", default=None, help="output directory (default results/, quick: .work/results-quick/)"
    )
    p.add_argument("--status", default=str(WORK / "install-status.json"))
    args = p.parse_args()
    if args.rounds is None:
        args.rounds = 1 if args.quick else 3
    wrk_dur = args.wrk_duration or (2.0 if args.quick else 5.0)
    default = QUICK_CLIENTS if args.quick else DEFAULT_CLIENTS
    clients = args.clients.split(",") if args.clients else list(default)
    for c in clients:
        if c not in CLIENTS:
            sys.exit(f"unknown client {c!r}; known: {', '.join(CLIENTS)}")
    workloads = args.workloads.split(",") if args.workloads else list(WORKLOADS)
    out_dir = Path(args.out) if args.out else (WORK / "results-quick" if args.quick else HERE / "results")
    out_dir.mkdir(parents=True, exist_ok=True)
    base = f"http://127.0.0.1:{args.port}"
    bases = {
        "http": base,
        "https": f"https://127.0.0.1:{args.tls_port}" if args.tls_port and args.ca else None,
        "h2": f"https://127.0.0.1:{args.h2_port}" if args.h2_port and args.ca else None,
    }
    access_log = AccessLog(Path(args.access_log)) if args.access_log else None

    if args.replot:
        data = json.loads(Path(args.replot).read_text())
        out = Path(args.out) if args.out else Path(args.replot).parent
        md = render_markdown(data["summary"], data["meta"])
        (out / "results.md").write_text("# Benchmark results\n\n" + md)
        render_chart(data["summary"], data["meta"], out / "results.png")
        log(f"re-rendered {out / 'results.md'} and {out / 'results.png'}")
        return
    if args.port is None:
        p.error("--port is required (benchmarks/run starts nginx and passes it)")
    meta = machine_meta(args)
    meta["counts"] = {w: requests_for(w, args.quick, args.scale) for w in WORKLOADS}
    status = json.loads(Path(args.status).read_text()) if Path(args.status).exists() else {}
    unavailable = {k: v for k, v in status.get("unavailable", {}).items()}
    # a client whose package failed to install is reported once and never started
    skip = {c for c in clients if (c in OURS and "ferrofetch" in unavailable) or c in unavailable}
    meta["unavailable"] = {
        c if c not in OURS else "ferrofetch (every client)": unavailable["ferrofetch" if c in OURS else c]
        for c in skip
    }
    run_clients = [c for c in clients if c not in skip]
    no_server = [w for w in workloads if bases[WORKLOADS[w].get("server", "http")] is None]
    if no_server:
        log(f"no HTTPS server or CA given: leaving out {', '.join(no_server)}")
        workloads = [w for w in workloads if w not in no_server]
    log(
        f"nginx at {base} (HTTPS: {bases['https']}, with h2: {bases['h2']}); "
        f"clients: {', '.join(run_clients)}; workloads: {', '.join(workloads)}; "
        f"{args.rounds} round(s)"
    )
    if skip:
        log(f"unavailable (install/build failed): {', '.join(sorted(skip))}")

    runs: dict[str, dict[str, list[dict[str, Any]]]] = {w: {} for w in workloads}
    imports: dict[str, list[float]] = {}
    libs = sorted({"ferrofetch" if c in OURS else c for c in run_clients if c != CEILING})
    dead: set[tuple[str, str]] = set()  # (workload, client) that timed out or is unavailable: not rerun
    for rnd in range(args.rounds):
        for w in workloads:
            wl = WORKLOADS[w]
            n = requests_for(w, args.quick, args.scale)
            where = bases[wl.get("server", "http")]
            assert where is not None
            k = rnd % max(1, len(run_clients))
            order = run_clients[k:] + run_clients[:k]  # rotate so no client always runs first
            for c in order:
                if (w, c) in dead:
                    continue
                tag = f"{rnd}{c}"
                res = run_client(c, wl, n, where, args, tag=tag)
                if access_log is not None and wl.get("server", "http") in TLS_SERVERS:
                    res.update(access_log.since_last(tag))
                runs[w].setdefault(c, []).append(res)
                if res.get("ok"):
                    extra = f", p50 {res['p50_ms']:.3f} ms" if "p50_ms" in res else ""
                    if "connections" in res:
                        extra += f", {res['connections']} connection(s), {res.get('protocols')}"
                    log(
                        f"round {rnd + 1} {w:10} {c:13} {res['rps']:9,.0f} req/s  {res['mbps']:8,.1f} MB/s  "
                        f"CPU {res['cpu_us_per_req']:7.1f} µs/req  RSS {res['maxrss_mib']:6.0f} MiB{extra}"
                    )
                else:
                    kind = "unavailable" if res.get("unavailable") else "FAILED"
                    log(f"round {rnd + 1} {w:10} {c:13} {kind}: {res.get('error')}")
                    if res.get("timeout") or res.get("unavailable"):
                        dead.add((w, c))
            if not args.no_wrk and w != "memory":
                if access_log is not None:
                    access_log.since_last("wrk")  # skip wrk's lines
                res = run_wrk(wl, where, wrk_dur)
                runs[w].setdefault("wrk", []).append(res)
                if res.get("ok"):
                    log(
                        f"round {rnd + 1} {w:10} {'wrk':13} "
                        f"{res['rps']:9,.0f} req/s  {res['mbps']:8,.1f} MB/s"
                    )
                else:
                    log(f"round {rnd + 1} {w:10} wrk FAILED: {res.get('error')}")
        for lib in libs:
            imports.setdefault(lib, []).extend(time_import(IMPORT_NAMES[lib]))

    summary = {w: {c: median_of(rs) for c, rs in per.items()} for w, per in runs.items()}
    meta["imports"] = imports
    versions: dict[str, str] = {}
    for per in summary.values():
        for c, r in per.items():
            if r.get("ok") and r.get("version") and c != "wrk":
                versions["ferrofetch" if c in OURS else c] = r["version"]
    wrk_v = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    m = re.search(r"wrk (\S+)", wrk_v.stdout + wrk_v.stderr)
    versions["wrk"] = m.group(1) if m else "?"
    versions["nginx"] = meta["nginx"].split("/")[-1]
    meta["versions"] = versions
    rt = next(
        (r["info"] for per in summary.values() for c, r in per.items() if c in FERRO and r.get("info")), None
    )
    if rt:
        meta["ferrofetch_runtime"] = rt

    md = render_markdown(summary, meta)
    (out_dir / "results.md").write_text("# Benchmark results\n\n" + md)
    (out_dir / "results.json").write_text(
        json.dumps({"meta": meta, "summary": summary, "runs": runs}, indent=1)
    )
    try:
        render_chart(summary, meta, out_dir / "results.png")
    except Exception as e:  # the table is the primary output
        log(f"chart failed: {type(e).__name__}: {e}")
    full = set(clients) == set(DEFAULT_CLIENTS) and set(workloads) == set(WORKLOADS)
    if not args.quick and not args.out and full:
        update_readme(md)
        log("README.md updated with the latest table and chart")
    log(f"wrote {out_dir / 'results.md'} and {out_dir / 'results.png'}")
    print()
    print(md)


if __name__ == "__main__":
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (benchmarks/run installs it)")
    main()
