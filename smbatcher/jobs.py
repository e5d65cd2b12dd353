"""Starting and stopping runs: options from flags and config, --bg, --dry-run, ``smb stop``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

from .agents import check_agent
from .config import Settings, parse_duration
from .proc import wait_for_exit
from .errors import UsageError
from .runlog import RunReporter
from .runner import Runner, RunOptions, RunResult
from .runs import RunRecord, load_all, new_run_id
from .selection import PHASES
from .store import Store
from .ui import UI
from .workspace import Workspace

BG_ENV = "SMB_BG_CHILD"  # set in a --bg child: the path its stdout is written to
RUN_ID_ENV = "SMB_RUN_ID"


@dataclass
class RunFlags:
    batch: str
    max_agents: int | None = None
    wave: int | None = None
    sites: list[str] | None = None
    redo: bool = False
    timeout: str | None = None
    retries: int | None = None
    agent: str | None = None
    dry_run: bool = False


def build_options(settings: Settings, phase_name: str, flags: RunFlags) -> RunOptions:
    agents = settings.agents
    if flags.max_agents is not None and flags.max_agents < 1:
        raise UsageError("--max-agents must be 1 or more")
    if flags.retries is not None and flags.retries < 0:
        raise UsageError("--retries must be 0 or more")
    command = flags.agent or getattr(agents, phase_name)
    return RunOptions(
        phase=PHASES[phase_name], batch=flags.batch, max_agents=flags.max_agents or agents.max_agents,
        timeout=parse_duration(flags.timeout, "--timeout") if flags.timeout else agents.timeout,
        grace=agents.grace, max_attempts=agents.max_attempts, retries=flags.retries, agent=command,
        wave=flags.wave, sites=flags.sites, redo=flags.redo, dry_run=flags.dry_run,
        breaker_failures=agents.breaker_failures, breaker_cooldown=agents.breaker_cooldown,
        min_free_memory=agents.min_free_memory, disk_critical=settings.doctor.disk_critical,
    )


def run_phase(ui: UI, workspace: Workspace, settings: Settings, store: Store, phase_name: str,
              flags: RunFlags, run_id: str | None = None) -> RunResult:
    options = build_options(settings, phase_name, flags)
    check_agent(options.agent)
    options.run_id = run_id
    log_path = workspace.run_log(phase_name, flags.batch, flags.wave)
    if options.dry_run:
        runner = Runner(workspace, settings, store, options, reporter=None)
        return runner.run()
    reporter = RunReporter(ui, workspace, log_path, stdout_is_log=os.environ.get(BG_ENV) == str(log_path))
    try:
        return Runner(workspace, settings, store, options, reporter).run()
    finally:
        reporter.close()


def start_background(ui: UI, workspace: Workspace, command: str, batch: str, wave: int | None,
                     argv: list[str]) -> dict:
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


def live_runs(workspace: Workspace) -> list[RunRecord]:
    return [r for r in load_all(workspace) if r.alive()]


def stop_runs(workspace: Workspace, settings: Settings, run_id: str | None, batch: str | None, stop_all: bool,
              wait: float | None = None) -> StopResult:
    """SIGTERM live runs (pid + create time checked), then wait until they have shut down cleanly."""
    import psutil

    live = live_runs(workspace)
    if run_id:
        chosen = [r for r in live if r.run_id == run_id]
        if not chosen:
            known = {r.run_id for r in load_all(workspace)}
            if run_id not in known:
                raise UsageError(f"no run {run_id} (see: smb status)")
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
            if abs(process.create_time() - record.create_time) > 0.05:
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
