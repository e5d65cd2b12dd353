"""Real processes outside smb for the reliability tests: sleepers, orphans, and processes known to be gone.

A process is identified by pid *and* create time (a reused pid is another process), as smb does.
"""

from __future__ import annotations

import os
import signal
import subprocess

import psutil

from smbatcher.proc import same_process

from .waiting import wait_for


def create_time(pid: int) -> float:
    return psutil.Process(pid).create_time()


def _started(pid: int) -> bool:
    try:
        return psutil.Process(pid).create_time() > 0
    except psutil.NoSuchProcess:
        return False


def start_sleeper(seconds: int = 60, new_session: bool = True) -> subprocess.Popen:
    """A `sleep` child of this process (in its own session unless told otherwise); ``stop`` it after."""
    proc = subprocess.Popen(["sleep", str(seconds)], start_new_session=new_session,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: _started(proc.pid), 10, "sleep to start")
    return proc


def orphan_sleeper(seconds: int = 60, ignore_term: bool = False) -> tuple[int, float]:
    """(pid, create_time) of a `sleep` in its own session whose parent has exited.

    Like an agent that outlived its dead runner: not our child, so nobody here
    reaps it (and a psutil wait in this process cannot steal its status).
    With ``ignore_term`` it ignores SIGTERM, like a wedged agent. Clean up with ``kill_orphan``.
    """
    trap = "trap '' TERM; " if ignore_term else ""
    out = subprocess.run(["setsid", "sh", "-c", f"{trap}sleep {seconds} >/dev/null 2>&1 </dev/null & echo $!"],
                         capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL)
    pid = int(out.stdout.strip())
    wait_for(lambda: _started(pid), 10, "the orphan sleep")
    return pid, create_time(pid)


def kill_orphan(pid: int, ctime: float) -> None:
    """Clean-up for an ``orphan_sleeper``: only that pid with that create time."""
    try:
        proc = psutil.Process(pid)
        if same_process(proc, ctime):
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
    """SIGKILL a child and its group if still running, and reap it (a test's clean-up: no grace)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            proc.kill()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
