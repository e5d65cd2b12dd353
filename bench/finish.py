"""Benchmark: `smb finish` over 568 built sites (issue 4). Target: <= 5 s wall on 2 cores.

The sites are made with the builtin agent's pure functions (what its agent run
would write), all at status I; then `python -m smbatcher finish --batch 001` runs
in a real process, as an operator would run it, a few times (the registry reset
to all-I between runs). Prints each figure with the target beside it.

    python bench/finish.py [--sites 568] [--repeat 3] [--keep]
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support.cli import smb_env  # noqa: E402
from support.registry import domains, statuses  # noqa: E402
from support.workspaces import make_workspace  # noqa: E402

TARGET_SECONDS = 5.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=568)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the workspace and print where it is")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="smb-bench-finish-"))
    try:
        started = time.perf_counter()
        ws = make_workspace(tmp / "ws", {"001": [(d, "I") for d in domains(args.sites)]})
        print(f"built {args.sites} sites in {time.perf_counter() - started:.2f} s (setup, not measured)")
        original = ws.registry.read_bytes()
        walls = []
        for run in range(args.repeat):
            ws.registry.write_bytes(original)
            started = time.perf_counter()
            result = subprocess.run([sys.executable, "-m", "smbatcher", "finish", "--batch", "001", "--root",
                                     str(ws.root)], capture_output=True, text=True, env=smb_env(),
                                    stdin=subprocess.DEVNULL)
            wall = time.perf_counter() - started
            walls.append(wall)
            if result.returncode != 0:
                print(result.stdout, result.stderr, file=sys.stderr)
                return 1
            assert set(statuses(ws).values()) == {"Q"}
            print(f"run {run + 1}: finish over {args.sites} sites: {wall:.2f} s wall")
        best, median = min(walls), statistics.median(walls)
        verdict = "OK" if median <= TARGET_SECONDS else "MISSED"
        print(f"finish {args.sites} sites: median {median:.2f} s, best {best:.2f} s wall on {os.cpu_count()} cores "
              f"(target <= {TARGET_SECONDS:.0f} s): {verdict}")
        if args.keep:
            print(f"workspace kept at {ws.root}")
        return 0 if verdict == "OK" else 1
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
