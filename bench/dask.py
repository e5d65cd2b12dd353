#!/usr/bin/env python3
"""The Dask executor's cost: 200 agents of 1 s on 2 local workers x 8 AGENT slots, against the local
pool at 16 slots (issue 12).

Both runs are the same `smb implement --max-agents 16` (run_phase in this process, the same
registry transactions, logs and promotion); only the executor differs. The agent is
`sh -c 'sleep 1; echo ... > $SMB_OUTPUT/index.html'`, so the wall time above the ideal is the
dispatcher's. Overhead per agent = (dask wall - local wall) x slots / agents: the slot time each
agent costs on top of what the local pool costs. Target: <= 20 ms. A third line times the same
load as bare Dask tasks that only sleep (no smb, no agent, no pinning): what Dask itself costs on
this machine. The cluster is started before the clock (a deployment's cluster is up already);
each worker's agent supervisor and the client's connection are inside it. Workers run with their
sampling profiler off, as README-dask recommends. `--no-shared` also times workers that do not
see the workspace (the site comes back as a tar); `--repeat N` keeps the best of N runs (a
shared 2-core machine is noisy).

    python bench/dask.py [--agents 200] [--seconds 1] [--workers 2] [--slots 8] [--no-shared] [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path, and this file is named dask.py:
# `import distributed` would find it instead of the dask package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]


def make_workspace(root: Path, count: int, slots: int, seconds: float):
    from smbatcher.registry import new_registry_text, render_cells
    from smbatcher.workspace import create_workspace

    ws, _ = create_workspace(root)
    names = [f"site-{n:05d}.dev" for n in range(count)]
    ws.registry.write_text(new_registry_text() + "".join(
        render_cells([d, "001", "D", "", "0", "2026-11-21T10:02:11Z", ""]) + "\n" for d in names), encoding="utf-8")
    ws.designs.mkdir(parents=True, exist_ok=True)
    for name in names:
        ws.design_file(name).write_text(f"# {name}\n", encoding="utf-8")
    agent = shlex.join(["sh", "-c", f'sleep {seconds:g}; echo "<title>$SMB_DOMAIN</title>" > "$SMB_OUTPUT/index.html"'])
    ws.config_file.write_text(
        f"[agents]\nimplement = {json.dumps(agent)}\nmax_agents = {slots}\ntimeout = \"5m\"\ngrace = \"5s\"\n"
        "min_free_memory = \"0\"\nbreaker_failures = 10000\n"
        '[doctor]\ndisk_warn = "0"\ndisk_alert = "0"\ndisk_critical = "0"\n', encoding="utf-8")
    return ws


def timed_run(ws, executor) -> float:
    from smbatcher.config import load_settings
    from smbatcher.pool import RunFlags, run_phase
    from smbatcher.store import Store
    from smbatcher.ui import UI

    settings = load_settings(ws.config_file)
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # the run's own OK lines: its log has them
        result = run_phase(UI(quiet=True), ws, settings, Store(ws, settings.registry.lock_timeout), "implement",
                           RunFlags(batch="001"), executor=executor)
    seconds = time.perf_counter() - started
    if result.exit_code != 0 or result.ok != len(result.selection.eligible):
        errors = sorted({o.error for o in result.outcomes if o.error})[:5]
        sys.exit(f"run failed: exit {result.exit_code}, {result.ok} ok: {errors}")
    return seconds


def _sleep(seconds: float) -> None:
    from distributed import secede

    secede()  # as an agent task does: the AGENT resource, not the thread count, limits how many run
    time.sleep(seconds)


def bare_dask(client, count: int, slots: int, seconds: float) -> float:
    """The floor: the same rolling load as bare Dask tasks that only sleep (no agent, no smb)."""
    from distributed import as_completed

    started = time.perf_counter()
    futures = [client.submit(_sleep, seconds, resources={"AGENT": 1}, pure=False) for _ in range(min(slots, count))]
    submitted = len(futures)
    queue = as_completed(futures)
    for future in queue:
        future.result()
        if submitted < count:
            queue.add(client.submit(_sleep, seconds, resources={"AGENT": 1}, pure=False))
            submitted += 1
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--slots", type=int, default=8, help="AGENT slots per worker")
    parser.add_argument("--no-shared", action="store_true", help="also time workers without the workspace")
    parser.add_argument("--repeat", type=int, default=1, help="time each run this many times, keep the best")
    args = parser.parse_args()
    # As README-dask recommends for agent workers: the worker's sampling profiler costs CPU per
    # thread, and every running agent holds a thread (its task waits on the agent).
    os.environ.setdefault("DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED", "False")
    from distributed import Client, LocalCluster

    from smbatcher.pool.dask import DaskExecutor

    slots = args.workers * args.slots
    per_agent = lambda seconds, than: (seconds - than) * slots / args.agents * 1000  # noqa: E731
    base = Path(tempfile.mkdtemp(prefix="smb-bench-dask-"))
    # The local pool first: it owns every child of its process (it kills strays that are not its
    # agents), and the cluster's worker processes would be children of this one.
    best = lambda name, executor: min(  # noqa: E731
        timed_run(make_workspace(base / f"{name}-{n}", args.agents, slots, args.seconds), executor)
        for n in range(args.repeat))
    local = best("local", None)
    cluster = LocalCluster(processes=True, n_workers=args.workers, threads_per_worker=1,
                           resources={"AGENT": args.slots}, dashboard_address=None, host="127.0.0.1",
                           silence_logs=50)
    try:
        with Client(cluster) as client:  # as_completed finds it as the default client
            floor = min(bare_dask(client, args.agents, slots, args.seconds) for _ in range(args.repeat))
        runs = [("dask, shared storage", lambda: DaskExecutor(cluster.scheduler_address), "dask")]
        if args.no_shared:
            runs.append(("dask, output shipped", lambda: DaskExecutor(cluster.scheduler_address, shared_storage=False),
                         "shipped"))
        timings = [(label, min(timed_run(make_workspace(base / f"{folder}-{n}", args.agents, slots, args.seconds),
                                         executor()) for n in range(args.repeat)))
                   for label, executor, folder in runs]
        ideal = math.ceil(args.agents / slots) * args.seconds
        print(f"{args.agents} agents of {args.seconds:g} s, {slots} at once ({args.workers} workers x {args.slots} "
              f"slots), {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
        print(f"  ideal                  {ideal:6.2f} s")
        print(f"  local pool             {local:6.2f} s   ({per_agent(local, ideal):5.1f} ms per agent over the ideal)")
        print(f"  bare dask sleep tasks  {floor:6.2f} s   ({per_agent(floor, ideal):5.1f} ms per task over the ideal: "
              "Dask's own floor, no agent)")
        overhead = None
        for label, seconds in timings:
            print(f"  {label:<22} {seconds:6.2f} s   ({per_agent(seconds, local):5.1f} ms per agent over "
                  "the local pool)")
            if overhead is None:
                overhead = per_agent(seconds, local)
        print(f"  overhead per agent {overhead:.1f} ms; target <= 20 ms: {'met' if overhead <= 20 else 'MISSED'}")
    finally:
        cluster.close(timeout=10)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
