"""Benchmark: `smb doctor` over a 568-site workspace with built sites (issue 5).

Targets: the whole `smb doctor` on a healthy workspace <= 3 s wall; each
scenario's diagnosis + fix (`smb doctor --scenario X --fix`) on a damaged copy
<= 10 s. Every figure is a real `python -m smbatcher` process, no terminal.

    python bench/doctor.py [--sites 568] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support.cli import smb_env  # noqa: E402
from support.net import closed_port  # noqa: E402
from support.processes import dead_process_identity, kill_orphan, orphan_sleeper  # noqa: E402
from support.registry import domains, row_line  # noqa: E402
from support.workspaces import make_workspace, write_run  # noqa: E402

from smbatcher.units import utc_stamp as utc_now  # noqa: E402
from smbatcher.workspace import Workspace  # noqa: E402

WHOLE_TARGET = 3.0
SCENARIO_TARGET = 10.0


def smb(root: Path, *args: str) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "smbatcher", *args, "--root", str(root)], capture_output=True,
                            text=True, env=smb_env(), stdin=subprocess.DEVNULL)
    return time.perf_counter() - started, result


def _replace_rows(ws: Workspace, change) -> None:
    """Rewrite registry lines: change(domain, line) -> new text for that line ('' drops it)."""
    out = []
    for line in ws.registry.read_text().splitlines(keepends=True):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        out.append(change(cells[0], line) if line.startswith("| ") and "." in cells[0] else line)
    ws.registry.write_text("".join(out))


# -- damage, one function per scenario: returns what the fix must leave behind ------------------------

def damage_wave_failure(ws: Workspace, names: list[str], keep: list, wedged: bool = False) -> None:
    pid, ctime = dead_process_identity()
    # Agents that outlived their runner: orphans (not this script's children); `wedged` adds one that
    # ignores SIGTERM, so the fix must wait out [agents] grace (10 s by default) before SIGKILL.
    survivors = [orphan_sleeper(120), orphan_sleeper(120)] + ([orphan_sleeper(120, ignore_term=True)] if wedged else [])
    keep.extend(("orphan", p, c) for p, c in survivors)
    write_run(ws, "implement-001-dead", pid, ctime, wave=2,
              agents=[{"domain": names[25 + n], "pid": p, "create_time": c, "attempt": 1, "started": time.time()}
                      for n, (p, c) in enumerate(survivors)])
    claimed = set(names[25:50])
    stamp = utc_now()
    _replace_rows(ws, lambda d, line: row_line(d, "001", "i", "implement-001-dead", 1, updated=stamp)
                  if d in claimed else line)
    for d in claimed:
        shutil.rmtree(ws.site_dir(d))


def damage_registry_duplicates(ws: Workspace, names: list[str], keep: list) -> None:
    extra = "".join(row_line(d, "001", "I") for d in names[:50]) + f"| {names[60]} | 001 | Q |\n"
    ws.registry.write_text(ws.registry.read_text() + extra)


def damage_disk_space(ws: Workspace, names: list[str], keep: list) -> None:
    free = shutil.disk_usage(ws.root).free
    ws.config_file.write_text(f"[doctor]\ndisk_warn = {free * 2}\ndisk_alert = 1000\ndisk_critical = 1000\n")
    for run in range(10):
        folder = ws.tmp / f"implement-001-old-{run}"
        for n in range(100):
            (folder / f"s{n}").mkdir(parents=True, exist_ok=True)
            (folder / f"s{n}" / "index.html").write_text("x" * 2000)
    for n in range(200):
        (ws.design_cache / f"{n}.json").write_text("{}")


def damage_site_stuck(ws: Workspace, names: list[str], keep: list) -> None:
    built, no_design = set(names[:50]), set(names[50:70])
    _replace_rows(ws, lambda d, line: row_line(d, "001", "D") if d in built | no_design else line)
    for d in no_design:
        shutil.rmtree(ws.site_dir(d))
        ws.design_file(d).unlink()


def damage_finalization(ws: Workspace, names: list[str], keep: list) -> None:
    lost = set(names[100:200])
    _replace_rows(ws, lambda d, line: "" if d in lost else line)


def damage_network(ws: Workspace, names: list[str], keep: list) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    keep.append(server)
    ws.config_file.write_text(f'[doctor]\nnetwork_endpoints = ["127.0.0.1:{server.getsockname()[1]}", '
                              f'"127.0.0.1:{closed_port()}"]\n')


DAMAGE = {
    "environment": None,
    "wave-failure": damage_wave_failure,
    "wave-failure (a wedged agent)": lambda ws, names, keep: damage_wave_failure(ws, names, keep, wedged=True),
    "registry-duplicates": damage_registry_duplicates,
    "disk-space": damage_disk_space,
    "site-stuck": damage_site_stuck,
    "resources": None,
    "finalization": damage_finalization,
    "network": damage_network,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=568)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="smb-bench-doctor-"))
    missed = []
    try:
        names = domains(args.sites)
        started = time.perf_counter()
        half = min(300, args.sites)
        base = make_workspace(tmp / "base", {"001": [(d, "Q") for d in names[:half]],
                                             "002": [(d, "Q") for d in names[half:]]})
        print(f"built {args.sites} sites in {time.perf_counter() - started:.2f} s (setup, not measured)")

        walls = []
        for run in range(args.repeat):
            wall, result = smb(base.root, "doctor")
            walls.append(wall)
            print(f"run {run + 1}: smb doctor: {wall:.2f} s wall, exit {result.returncode}: "
                  f"{result.stdout.strip().splitlines()[-1]}")
            if result.returncode != 0:
                print(result.stdout, result.stderr, file=sys.stderr)
        median = statistics.median(walls)
        ok = median <= WHOLE_TARGET
        missed += [] if ok else ["whole doctor"]
        print(f"smb doctor over {args.sites} built sites: median {median:.2f} s, best {min(walls):.2f} s wall "
              f"on {os.cpu_count()} cores (target <= {WHOLE_TARGET:.0f} s): {'OK' if ok else 'MISSED'}")
        _, result = smb(base.root, "doctor", "--json")
        per_check = {c["scenario"]: c["duration_ms"] for c in json.loads(result.stdout)["checks"]}
        print("  per check (ms): " + ", ".join(f"{k} {v}" for k, v in per_check.items()))

        print(f"each scenario, diagnosis + fix on a damaged copy (target <= {SCENARIO_TARGET:.0f} s each):")
        for scenario, damage in DAMAGE.items():
            name = scenario.split()[0]
            ws = Workspace(tmp / scenario.replace(" ", "_"))
            shutil.copytree(base.root, ws.root, symlinks=True)
            keep: list = []
            try:
                if damage is not None:
                    damage(ws, names, keep)
                wall, result = smb(ws.root, "doctor", "--scenario", name, "--fix", "--json")
                check = json.loads(result.stdout)["checks"][0]
                after_wall, after = smb(ws.root, "doctor", "--scenario", name, "--json")
                after_status = json.loads(after.stdout)["checks"][0]["status"]
            finally:
                for thing in keep:
                    if isinstance(thing, tuple):
                        kill_orphan(*thing[1:])
                    else:
                        thing.close()
            ok = wall <= SCENARIO_TARGET
            if "wedged" in scenario:
                # SIGTERM, then `grace`, then SIGKILL is the contract: this one is bound by grace, not code.
                print(f"  {scenario}: {wall:.2f} s wall (check {check['duration_ms']} ms; bound: grace "
                      f"10 s + SIGKILL; informational)")
                continue
            missed += [] if ok else [scenario]
            print(f"  {scenario:<20} {wall:5.2f} s wall (check {check['duration_ms']} ms), exit {result.returncode}, "
                  f"{check['status']}, {len(check['fixed'])} fix lines; then {after_status}: "
                  f"{'OK' if ok else 'MISSED'}")
        print("all targets met" if not missed else f"MISSED: {', '.join(missed)}")
        return 0 if not missed else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
