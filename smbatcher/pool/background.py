"""Runs outside the foreground: ``--bg`` detaches a copy of the command, ``smb stop`` ends live runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

from ..config import Settings
from ..errors import UsageError
from ..proc import same_process, wait_for_exit
from ..runs import load_all, new_run_id, run_states
from ..workspace import Workspace

BG_ENV = "SMB_BG_CHILD"  # set in a --bg child: the path its stdout is written to
RUN_ID_ENV = "SMB_RUN_ID"


def start_background(workspace: Workspace, command: str, batch: str, wave: int | None, argv: list[str]) -> dict:
    """Detach a copy of this command: new session, stdin /dev/null, output to the run log."""
    run_id = new_run_id(command if command != "run" else "design", batch)
    log_path = workspace.run_log(command, batch, wave)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    child_argv = [sys.executable, "-m", "smbatcher", *[a for a in argv if a != "--bg"]]
    if "--root" not in argv:
        child_argv += ["--root", str(workspace.root)]
    env = dict(os.environ, **{BG_ENV: str(log_path), RUN_ID_ENV: run_id})
    env.pop("COLUMNS", None)
    with open(os.devnull, "rb") as devnull, open(log_path, "ab") as log:
        child = subprocess.Popen(child_argv, stdin=devnull, stdout=log, stderr=subprocess.STDOUT,
                                 start_new_session=True, close_fds=True, env=env, cwd=workspace.root)
    return {"run_id": run_id, "pid": child.pid, "log": workspace.rel(log_path)}


@dataclass
class StopResult:
    stopped: list[str] = field(default_factory=list)
    still_alive: list[str] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)


def stop_runs(workspace: Workspace, settings: Settings, run_id: str | None, batch: str | None, stop_all: bool,
              wait: float | None = None) -> StopResult:
    """SIGTERM live runs (pid + create time checked), then wait until they have shut down cleanly."""
    import psutil

    live = list(run_states(workspace).live.values())
    if run_id:
        chosen = [r for r in live if r.run_id == run_id]
        if not chosen:
            known = {r.run_id for r in load_all(workspace)}
            if run_id not in known:
                raise UsageError(f"no run {run_id[:80]} (see: smb status)")
            return StopResult(not_found=[run_id])
    elif batch:
        chosen = [r for r in live if r.batch == batch]
    elif stop_all:
        chosen = live
    else:
        if len(live) > 1:
            names = ", ".join(r.run_id for r in live)
            raise UsageError(f"{len(live)} live runs ({names}): name one, or use --batch B or --all")
        chosen = live
    result = StopResult()
    procs = []
    for record in chosen:
        try:
            process = psutil.Process(record.pid)
            if not same_process(process, record.create_time):
                continue
            process.send_signal(signal.SIGTERM)
            procs.append((record, process))
        except psutil.NoSuchProcess:
            continue
    timeout = wait if wait is not None else settings.agents.grace + 30
    deadline = time.monotonic() + timeout
    for record, process in procs:
        # A zombie has finished its clean shutdown; its parent just has not collected it yet.
        if wait_for_exit([process.pid], max(0.1, deadline - time.monotonic())):
            result.stopped.append(record.run_id)
        else:
            result.still_alive.append(record.run_id)
    return result
