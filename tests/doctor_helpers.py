"""Fast workspace builders for the finish and doctor tests and benchmarks.

Running agents to make a 568-site workspace would take minutes; the builtin
agent's pure functions (make_design / parse_design / render_site) make the
same files in milliseconds, so the tests write them directly. Processes that
must be real (a dead run, a live run, a surviving agent) are real.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from smbatcher.agents.builtin import make_design, parse_design, render_site
from smbatcher.manifest import add_domains, new_manifest_text
from smbatcher.registry import DEFAULT_COLUMNS, new_registry_text, parse, render_cells
from smbatcher.workspace import Workspace, create_workspace

REPO_ROOT = Path(__file__).resolve().parents[1]
STAMP = "2026-11-21T10:02:11Z"

# Statuses whose site has been designed (so a design file exists) / built.
DESIGNED = {"D", "i", "I", "Q", "X"}
BUILT = {"I", "Q"}


def domains(count: int, prefix: str = "site") -> list[str]:
    return [f"{prefix}-{n:04d}.dev" for n in range(count)]


def write_design(ws: Workspace, domain: str) -> str:
    text = make_design(domain)
    ws.designs.mkdir(parents=True, exist_ok=True)
    ws.design_file(domain).write_text(text, encoding="utf-8")
    return text


def build_site(ws: Workspace, domain: str, design_text: str | None = None) -> Path:
    """Design file + sites/<d>-v1/ exactly as the builtin agent would leave them."""
    text = design_text if design_text is not None else (
        ws.design_file(domain).read_text(encoding="utf-8") if ws.design_file(domain).is_file()
        else write_design(ws, domain))
    folder = ws.site_dir(domain)
    for name, content in render_site(parse_design(text), domain).items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    return folder


def row_line(domain: str, batch: str, status: str, owner: str = "", attempts: int = 0, note: str = "",
             updated: str = STAMP) -> str:
    values = {"domain": domain, "batch": batch, "status": status, "owner": owner, "attempts": str(attempts),
              "updated": updated, "note": note}
    return render_cells([values[c] for c in DEFAULT_COLUMNS]) + "\n"


def registry_text(rows: list[tuple]) -> str:
    """rows: (domain, batch, status[, owner[, attempts]])"""
    return new_registry_text() + "".join(row_line(*row) for row in rows)


def make_workspace(root: Path, batches: dict[str, list[tuple[str, str]]], *, files: bool = True,
                   config: str | None = None) -> Workspace:
    """A workspace whose registry, manifests and files agree.

    batches: batch -> [(domain, status)]; with ``files``, every designed status
    gets its design file and every I/Q site its built folder.
    """
    ws, _ = create_workspace(root)
    rows = []
    for batch, items in batches.items():
        ws.manifest(batch).write_text(add_domains(new_manifest_text(batch), [d for d, _ in items]), encoding="utf-8")
        for domain, status in items:
            rows.append((domain, batch, status))
            if files and status in DESIGNED:
                text = write_design(ws, domain)
                if status in BUILT:
                    build_site(ws, domain, text)
    ws.registry.write_text(registry_text(rows), encoding="utf-8")
    if config is not None:
        ws.config_file.write_text(config, encoding="utf-8")
    return ws


def statuses(ws: Workspace) -> dict[str, str]:
    registry = parse(ws.registry.read_text(encoding="utf-8"))
    assert not registry.problems, registry.problems
    return {row.domain: row.status for row in registry.rows}


def rows_of(ws: Workspace) -> dict[str, dict]:
    registry = parse(ws.registry.read_text(encoding="utf-8"))
    return {row.domain: row.as_dict() for row in registry.rows}


# -- running smb ---------------------------------------------------------------------------------


def smb_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, NO_COLOR="1", COLUMNS="120")
    env.pop("SMB_ROOT", None)
    env.update(extra)
    return env


def run_smb(root: Path, *args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m smbatcher`` in a real process, no terminal, stdin from /dev/null."""
    return subprocess.run([sys.executable, "-m", "smbatcher", *args, "--root", str(root)],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          env=env if env is not None else smb_env(), timeout=timeout, cwd=root)


def invoke(root: Path, *args: str, env: dict | None = None):
    """The CLI in-process (typer's CliRunner): fast, and exit codes as the Typer app maps them."""
    from typer.testing import CliRunner

    from smbatcher.cli import app

    return CliRunner().invoke(app, [*args, "--root", str(root)], env=env, catch_exceptions=False)


def explain(result) -> str:
    out = getattr(result, "output", None)
    if out is None:
        out = (result.stdout or "") + (result.stderr or "")
    return f"exit {getattr(result, 'exit_code', getattr(result, 'returncode', None))}\n{out}"


# -- real processes ---------------------------------------------------------------------------------


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.02, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def create_time(pid: int) -> float:
    import psutil

    return psutil.Process(pid).create_time()


def start_sleeper(seconds: int = 60, new_session: bool = True) -> subprocess.Popen:
    proc = subprocess.Popen(["sleep", str(seconds)], start_new_session=new_session,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until(lambda: _started(proc.pid), 5, what="sleep to start")
    return proc


def _started(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).create_time() > 0
    except psutil.NoSuchProcess:
        return False


def orphan_sleeper(seconds: int = 60, ignore_term: bool = False) -> tuple[int, float]:
    """(pid, create_time) of a `sleep` in its own session whose parent has exited.

    Like an agent that outlived its dead runner: not our child, so nobody here
    reaps it (and a psutil wait in this process cannot steal its status).
    With ``ignore_term`` it ignores SIGTERM, like a wedged agent.
    """
    trap = "trap '' TERM; " if ignore_term else ""
    out = subprocess.run(["setsid", "sh", "-c", f"{trap}sleep {seconds} >/dev/null 2>&1 </dev/null & echo $!"],
                         capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL)
    pid = int(out.stdout.strip())
    wait_until(lambda: _started(pid), 5, what="the orphan sleep")
    return pid, create_time(pid)


def kill_orphan(pid: int, ctime: float) -> None:
    """Clean-up for an orphan_sleeper: only that pid with that create time."""
    import psutil

    try:
        proc = psutil.Process(pid)
        if abs(proc.create_time() - ctime) < 0.05:
            proc.kill()
    except psutil.NoSuchProcess:
        pass


def dead_process_identity() -> tuple[int, float]:
    """(pid, create_time) of a process that really ran and is now gone (killed and reaped)."""
    proc = start_sleeper(60)
    identity = (proc.pid, create_time(proc.pid))
    proc.kill()
    proc.wait(timeout=10)
    return identity


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            proc.kill()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def write_run(ws: Workspace, run_id: str, pid: int, ctime: float, *, phase: str = "implement", batch: str = "001",
              wave: int | None = None, agents: list[dict] | None = None, host: str | None = None) -> Path:
    record = {"run_id": run_id, "pid": pid, "create_time": ctime, "host": host or socket.gethostname(),
              "phase": phase, "batch": batch, "wave": wave, "started": time.time() - 600, "ended": None,
              "exit_code": None, "log": f"logs/{phase}-{batch}.log", "agents": agents or [], "done": 0,
              "failed": 0, "total": 0}
    ws.runs.mkdir(parents=True, exist_ok=True)
    path = ws.runs / f"{run_id}.json"
    path.write_text(json.dumps(record, indent=1), encoding="utf-8")
    return path


def closed_port() -> int:
    """A loopback port nothing listens on (bound then released; connect is refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
