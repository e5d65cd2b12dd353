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
from pathlib import Path

_PR_SET_CHILD_SUBREAPER = 36
# psutil's create time is derived from boot time and jiffies: two reads of one process can differ
# by a few milliseconds. A different process under a reused pid differs by far more.
CREATE_TIME_TOLERANCE = 0.05


def same_process(process, create_time: float | None) -> bool:
    """True if the psutil ``process`` is the one recorded with ``create_time`` (None: any)."""
    return create_time is None or abs(process.create_time() - create_time) <= CREATE_TIME_TOLERANCE


def process_alive(pid: int, create_time: float | None) -> bool:
    """True if ``pid`` is a live, non-zombie process started at ``create_time``.

    Pid reuse is not life, a zombie is not life (SPEC §4)."""
    import psutil

    if not pid or pid <= 0:
        return False
    try:
        process = psutil.Process(pid)
        return same_process(process, create_time) and process.status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False


def own_create_time() -> float:
    import psutil

    return psutil.Process(os.getpid()).create_time()


def become_subreaper() -> bool:
    """Orphaned descendants of our agents get re-parented to us, so none can hide (Linux only)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def close_pidfd(pidfd: int | None) -> None:
    """Close a pidfd (None: nothing to close) whatever state it is in; returns None to store back."""
    if pidfd is not None:
        try:
            os.close(pidfd)
        except OSError:
            pass
    return None


def spawn(argv: list[str], *, cwd: Path, env: dict[str, str], stdin, stdout,
          executable: str | None = None) -> subprocess.Popen:
    """Start ``argv`` without a shell, in a new session; ``stdin`` (the prompt) and ``stdout`` (its
    log, stderr too) are open files the caller closes once the agent has them. ``executable``: the
    program ``argv[0]`` names, already found on PATH (the agent still sees ``argv[0]``)."""
    return subprocess.Popen(
        argv,
        executable=executable,
        cwd=cwd,
        env=env,
        stdin=stdin,
        stdout=stdout,
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


def _own_children() -> set[int] | None:
    """Our children's pids from /proc/self/task/*/children (Linux); None where that is unavailable."""
    pids: set[int] = set()
    try:
        tasks = os.listdir("/proc/self/task")
        for task in tasks:
            with open(f"/proc/self/task/{task}/children", "rb") as handle:
                pids.update(int(p) for p in handle.read().split())
    except (OSError, ValueError):
        return None
    return pids


# Children of ours that are not agents and must survive reap_strays (notify commands).
SPARED: set[int] = set()


def reap_strays(active_pids: set[int]) -> int:
    """Kill and reap our children that are not live agents: descendants orphaned by an agent."""
    import psutil

    killed = 0
    active_pids = active_pids | SPARED
    pids = _own_children()
    if pids is not None and not (pids - active_pids):
        return 0  # the common case, answered from /proc/self without scanning every process
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


def stop_recorded_processes(records: list[tuple[int, float]], grace: float) -> list[int]:
    """Stop recorded agents of a dead run all at once; returns the pids that were alive.

    Every group and descendant gets SIGTERM first, then one shared deadline of
    ``grace`` for all of them (not one grace each, in turn), then SIGKILL for
    what is left. A zombie counts as gone: the dead run's agents are orphans,
    and where init does not reap (a container whose pid 1 is not an init)
    they stay zombies forever; waiting for them to vanish cost a full grace
    per agent before the next run could start (tests/test_signals.py).
    Only a process whose pid *and* create time match the record is touched.
    """
    import psutil

    stopped: list[int] = []
    tree: list = []
    for pid, create_time in records:
        try:
            proc = psutil.Process(pid)
            if not same_process(proc, create_time) or proc.status() == psutil.STATUS_ZOMBIE:
                continue
        except psutil.NoSuchProcess:
            continue
        family = [proc, *descendants(pid)]
        signal_group(pid, signal.SIGTERM)  # an agent is a session leader: its pid is its group id
        kill_processes(family, signal.SIGTERM)
        stopped.append(pid)
        tree.extend(family)
    if not tree:
        return stopped
    left = _wait_gone(tree, grace)
    if left or any(group_alive(pid) for pid in stopped):
        for pid in stopped:
            signal_group(pid, signal.SIGKILL)
        kill_processes(left, signal.SIGKILL)
        _wait_gone(left, 5)
    return stopped


def _wait_gone(processes: list, timeout: float) -> list:
    """Wait until every process has exited or is a zombie; returns those still running at the deadline."""
    import psutil

    deadline = time.monotonic() + timeout
    while True:
        left = []
        for proc in processes:
            try:
                if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                    left.append(proc)
            except psutil.NoSuchProcess:
                pass
        if not left or time.monotonic() >= deadline:
            return left
        processes = left
        time.sleep(0.02)


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


def agents_of_runs(run_ids: set[str], domains: set[str] | None = None) -> list[tuple[int, float, str, str]]:
    """(pid, create time, run id, domain) of session leaders whose environment says they are agents
    of one of ``run_ids``.

    A runner killed with SIGKILL between starting agents and saving its run
    file leaves agents no record names; ``SMB_RUN_ID`` and ``SMB_DOMAIN``
    (set by the runner itself) still identify them. Never a process name.
    """
    import psutil

    found = []
    if not run_ids:
        return found
    for process in psutil.process_iter(["pid", "create_time"]):
        pid = process.info["pid"]
        try:
            if os.getsid(pid) != pid:
                continue
            environ = process.environ()
        except (psutil.Error, OSError):
            continue
        if environ.get("SMB_RUN_ID") in run_ids and (domains is None or environ.get("SMB_DOMAIN") in domains):
            found.append((pid, process.info["create_time"], environ["SMB_RUN_ID"], environ.get("SMB_DOMAIN", "")))
    return found
