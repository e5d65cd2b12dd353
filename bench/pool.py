#!/usr/bin/env python3
"""Rolling pool against strict wave barriers: 100 agents of mixed durations (0.1-2 s, fixed per domain).

Rolling: one `smb implement --max-agents 10`, a new agent starts as soon as one ends.
Barriers: `smb implement --max-agents 10 --wave W` for W = 1..10 in turn, each wave
waiting for its slowest agent (the old mimplement-bg.sh way). Target (issue 3):
rolling >= 1.5x faster. The agent is tests/agents/varied.py.

    python bench/pool.py [--sites 100] [--jobs 10]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

AGENT = Path(__file__).resolve().parents[1] / "tests" / "agents" / "varied.py"


def duration(domain: str) -> float:  # the same formula as tests/agents/varied.py
    digest = int.from_bytes(hashlib.sha256(domain.encode()).digest()[:4], "big")
    return 0.1 + 1.9 * (digest / 0xFFFFFFFF)


def make_workspace(root: Path, names: list[str], jobs: int) -> Path:
    from smbatcher.registry import new_registry_text, render_cells
    from smbatcher.workspace import create_workspace

    ws, _ = create_workspace(root)
    ws.registry.write_text(new_registry_text() + "".join(
        render_cells([d, "001", "D", "", "0", "2026-11-21T10:02:11Z", ""]) + "\n" for d in names), encoding="utf-8")
    for name in names:
        ws.design_file(name).write_text(f"# {name}\n", encoding="utf-8")
    ws.config_file.write_text(
        f'[agents]\nimplement = "{AGENT}"\nmax_agents = {jobs}\ntimeout = "60s"\nmin_free_memory = "0"\n'
        '[doctor]\ndisk_warn = "0"\ndisk_alert = "0"\ndisk_critical = "0"\n', encoding="utf-8")
    return root


def smb(root: Path, *args: str, env: dict) -> float:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "smbatcher", "implement", "--batch", "001", *args,
                             "--root", str(root)], capture_output=True, text=True, env=env)
    if result.returncode != 0:
        sys.exit(f"smb implement {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=10)
    args = parser.parse_args()
    names = [f"site-{n:05d}.dev" for n in range(args.sites)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMB_")}
    env["NO_COLOR"] = "1"
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    base = Path(tempfile.mkdtemp(prefix="smb-bench-pool-"))
    try:
        rolling = smb(make_workspace(base / "rolling", names, args.jobs), "--max-agents", str(args.jobs), env=env)
        waves_root = make_workspace(base / "waves", names, args.jobs)
        wave_count = (args.sites + args.jobs - 1) // args.jobs
        barriers = sum(smb(waves_root, "--max-agents", str(args.jobs), "--wave", str(w), env=env)
                       for w in range(1, wave_count + 1))
        work = sum(duration(n) for n in names)
        ideal_rolling = work / args.jobs
        ideal_waves = sum(max(duration(n) for n in names[i:i + args.jobs]) for i in range(0, args.sites, args.jobs))
        print(f"{args.sites} agents of 0.1-2 s ({work:.1f} agent-seconds), {args.jobs} at once, "
              f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
        print(f"  rolling pool      {rolling:6.2f} s   (ideal {ideal_rolling:5.2f} s)")
        print(f"  {wave_count} wave barriers  {barriers:6.2f} s   (ideal {ideal_waves:5.2f} s, "
              f"incl. {wave_count} smb start-ups)")
        ratio = barriers / rolling
        print(f"  rolling is {ratio:.2f}x faster; target >= 1.5x: {'met' if ratio >= 1.5 else 'MISSED'}")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
