"""Agent processes: spawn each in its own session, stop the whole group, leave no orphan.

Every agent is a session leader (``start_new_session=True``), so its pid is
also its process-group id and ``killpg`` reaches everything it started in the
group. A descendant that calls ``setsid`` itself escapes the group; the runner
makes itself a child subreaper so such escapees are re-parented to it rather
than to init, and ``reap_strays`` kills them. Processes are identified by pid
*and* create time, never by name (runbook scenario 5's ``pkill -f opus`` is
what this replaces).
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

_PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    """Orphaned descendants of our agents get re-parented to us, so none can hide (Linux only)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


@dataclass
class Agent:
    """One live agent process and what the runner needs to supervise it."""

    popen: subprocess.Popen
    domain: str
    attempt: int
    log_path: Path
    started: float
    deadline: float
    create_time: float = 0.0
    pidfd: int | None = None
    term_sent_at: float | None = None
    timed_out: bool = False
    stopping: bool = False  # stopped by a signal to the runner, not a failure
    extra: dict = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def close(self) -> None:
        if self.pidfd is not None:
            try:
                os.close(self.pidfd)
            except OSError:
                pass
            self.pidfd = None


def spawn(argv: list[str], *, cwd: Path, env: dict[str, str], stdin_path: Path, log_path: Path) -> subprocess.Popen:
    """Start ``argv`` without a shell, in a new session, prompt on stdin, output to its log."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(stdin_path, "rb") as stdin, open(log_path, "ab") as log:
        return subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=stdin,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )


def open_pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def signal_group(pgid: int, sig: int) -> bool:
    try:
        os.killpg(pgid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def descendants(pid: int) -> list:
    import psutil

    try:
        return psutil.Process(pid).children(recursive=True)
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return []


def kill_processes(processes: list, sig: int = signal.SIGKILL) -> None:
    import psutil

    for proc in processes:
        try:
            proc.send_signal(sig)  # psutil checks the create time: a reused pid is left alone
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def reap_strays(active_pids: set[int]) -> int:
    """Kill and reap our children that are not live agents: descendants orphaned by an agent."""
    import psutil

    killed = 0
    for child in psutil.Process().children():
        if child.pid in active_pids:
            continue
        try:
            if child.status() != psutil.STATUS_ZOMBIE:
                child.kill()
                killed += 1
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
        try:
            os.waitpid(child.pid, os.WNOHANG)
        except ChildProcessError:
            pass
    return killed


def stop_recorded_process(pid: int, create_time: float, grace: float) -> bool:
    """Stop a recorded agent of a dead run: its group, then any descendant; True if one was alive.

    Only a process whose pid *and* create time match the record is touched.
    """
    import psutil

    try:
        proc = psutil.Process(pid)
        if abs(proc.create_time() - create_time) > 0.05:
            return False
    except psutil.NoSuchProcess:
        return False
    tree = [proc, *descendants(pid)]
    pgid = pid  # an agent is a session leader: its pid is its group id
    signal_group(pgid, signal.SIGTERM)
    kill_processes(tree, signal.SIGTERM)
    gone, alive = psutil.wait_procs(tree, timeout=grace)
    if alive or group_alive(pgid):
        signal_group(pgid, signal.SIGKILL)
        kill_processes(alive, signal.SIGKILL)
        psutil.wait_procs(alive, timeout=5)
    return True


def wait_for_exit(pids: list[int], timeout: float) -> bool:
    """Wait until none of ``pids`` is a live non-zombie process; True if they all went in time."""
    import psutil

    deadline = time.monotonic() + timeout
    while True:
        alive = []
        for pid in pids:
            try:
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    alive.append(pid)
            except psutil.NoSuchProcess:
                pass
        if not alive:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
