"""Registry benchmark (issue 2): transaction latency and the start-up of `smb list-sites` and `smb history`.

    python bench/registry.py [--transactions 50] [--runs 20] [--profile ROWS] [--startup-only]

Prints, in one run:
  * transaction latency p50/p95 (one status change per transaction: lock, read,
    parse, compare-and-set, atomic write with fsyncs, event append) at 568,
    10,000 and 100,000 rows;
  * `smb list-sites --status i`, `smb history DOMAIN` and a shell's Tab on a domain (completion)
    wall time (median of N runs) against `python -c pass` on a 568-row registry, and the ratios.
Targets: p50 <= 5 ms at 568 rows, <= 250 ms at 100,000; each command <= 10x the bare interpreter
(issue 19: the one Typer front end).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from smbatcher.registry import new_registry_text, render_cells
from smbatcher.store import Store
from smbatcher.workspace import Workspace, create_workspace

SIZES = (568, 10_000, 100_000)
STATUSES = "-DdiIQX"


def make_workspace(folder: Path, rows: int) -> Workspace:
    ws, _ = create_workspace(folder)
    lines = [new_registry_text()]
    for n in range(rows):
        status = STATUSES[n % len(STATUSES)]
        owner = "implement-001-20261121T100000-ab12" if status in "di" else ""
        lines.append(render_cells([f"site-{n:06d}.dev", f"{n // 200 + 1:03d}", status, owner, "1",
                                   "2026-11-21T10:02:11Z", ""]) + "\n")
    ws.registry.write_text("".join(lines), encoding="utf-8")
    return ws


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def transaction_latency(ws: Workspace, rows: int, count: int, cold: bool = False) -> list[float]:
    """Warm: one Store for every transaction, as the runner keeps (it re-parses only a file someone
    else changed). Cold: a new Store each time, as a one-shot command such as `smb set-status`."""
    store = Store(ws, lock_timeout=30)
    timings = []
    for n in range(count):
        domain = f"site-{(n * 7919) % rows:06d}.dev"
        if cold:
            store = Store(ws, lock_timeout=30)
        t0 = time.perf_counter()
        with store.transaction(actor="bench") as txn:
            row = txn.row(domain)
            txn.set_status(row, "Q" if row.status != "Q" else "D")
        timings.append(time.perf_counter() - t0)
    return timings


def wall_time(argv: list[str], cwd: Path, runs: int, env: dict | None = None) -> float:
    env = None if env is None else {**os.environ, **env}
    subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)  # warm
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL, check=True, env=env)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def smb_command() -> list[str]:
    script = Path(sys.executable).parent / "smb"
    if script.exists():
        return [str(script)]
    found = shutil.which("smb")
    return [found] if found else [sys.executable, "-m", "smbatcher"]


def profile(rows: int, count: int) -> None:
    import cProfile
    import pstats

    with tempfile.TemporaryDirectory(prefix="smb-bench-") as tmp:
        ws = make_workspace(Path(tmp), rows)
        profiler = cProfile.Profile()
        profiler.enable()
        transaction_latency(ws, rows, count)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=50)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--profile", type=int, metavar="ROWS", help="cProfile transactions at this size and stop")
    parser.add_argument("--startup-only", action="store_true", help="Only the commands' start-up, no transactions")
    args = parser.parse_args()
    if args.profile:
        profile(args.profile, args.transactions)
        return 0

    targets = {568: 0.005, 100_000: 0.250}
    missed = []
    if not args.startup_only:
        print(f"transaction latency, one status change per transaction, {args.transactions} transactions each")
    for rows in () if args.startup_only else SIZES:
        with tempfile.TemporaryDirectory(prefix="smb-bench-") as tmp:
            ws = make_workspace(Path(tmp), rows)
            size_kb = ws.registry.stat().st_size / 1000
            timings = transaction_latency(ws, rows, args.transactions)
            cold = transaction_latency(ws, rows, max(5, args.transactions // 5), cold=True)
        p50, p95 = percentile(timings, 0.5), percentile(timings, 0.95)
        cold50 = percentile(cold, 0.5)
        target = targets.get(rows)
        verdict = ""
        if target is not None:
            ok = p50 <= target
            verdict = f"   target p50 <= {target * 1000:.0f} ms: {'ok' if ok else 'MISSED'}"
            if not ok:
                missed.append(f"transaction p50 at {rows} rows")
        print(f"  {rows:>7,} rows ({size_kb:>7,.0f} kB): p50 {p50 * 1000:7.2f} ms   p95 {p95 * 1000:7.2f} ms{verdict}"
              f"   (cold, fresh parse: p50 {cold50 * 1000:.1f} ms)")

    commands = {"list-sites": ["list-sites", "--status", "i"], "history": ["history", "site-000284.dev"]}
    with tempfile.TemporaryDirectory(prefix="smb-bench-") as tmp:
        ws = make_workspace(Path(tmp), 568)
        bare = wall_time([sys.executable, "-c", "pass"], ws.root, args.runs)
        smb = smb_command()
        times = {name: wall_time([*smb, *argv], ws.root, args.runs) for name, argv in commands.items()}
        # Tab after `smb history site-00028`: what a shell runs (Click's completion variables)
        commands["completion"] = ["<Tab>", "history", "site-00028"]
        times["completion"] = wall_time(smb, ws.root, args.runs, env={
            "_SMB_COMPLETE": "complete_bash", "COMP_WORDS": "smb history site-00028", "COMP_CWORD": "2"})
    name = " ".join(Path(smb[0]).name if i == 0 else a for i, a in enumerate(smb))
    print(f"`{name} ...` on 568 rows, median of {args.runs} runs")
    print(f"  python -c pass: {bare * 1000:7.1f} ms")
    for command, seconds in times.items():
        ratio = seconds / bare
        ok = ratio <= 10
        if not ok:
            missed.append(f"{command} start-up")
        print(f"  smb {' '.join(commands[command]):<24} {seconds * 1000:7.1f} ms   ratio {ratio:.2f}x   "
              f"target <= 10x: {'ok' if ok else 'MISSED'}")
    if missed:
        print("MISSED: " + ", ".join(missed) + " (profile with: python bench/registry.py --profile ROWS)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
