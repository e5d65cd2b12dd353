"""The local executor: each agent a supervised process group on this machine (SPEC §4).

Every agent is a session leader (``proc.spawn``), its exit is watched through
a pidfd in the loop's selector, its timeout is enforced here: SIGTERM to the
group, then SIGKILL after ``grace``. Whatever an agent leaves behind in its
group dies with it, and descendants that escaped with ``setsid`` are re-parented
to us (``proc.become_subreaper``) and reaped, so no orphan outlives the run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from .. import jail, proc
from ..fs import open_append
from .executor import Ended, Job, Running


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")  # what psutil divides the start ticks by


@dataclass
class _Process:
    job: Job
    popen: subprocess.Popen
    deadline: float
    create_time: float = 0.0
    pidfd: int | None = None
    term_sent_at: float | None = None
    timed_out: bool = False
    stopping: bool = False
    tree: list = field(default_factory=list)  # descendants seen at SIGTERM: killed with the group

    @property
    def pid(self) -> int:
        return self.popen.pid


@contextmanager
def _prompt_stdin(prompt: bytes, staging):
    """The agent's stdin: a pipe already holding the prompt (no file to create), or a file when the
    prompt is larger than a pipe holds. Either way the agent sees end-of-file after the prompt."""
    read_fd, write_fd = os.pipe()
    try:
        os.set_blocking(write_fd, False)
        written = os.write(write_fd, prompt) if prompt else 0
    except BlockingIOError:
        written = -1
    finally:
        os.close(write_fd)
    if written == len(prompt):
        try:
            yield read_fd
        finally:
            os.close(read_fd)
        return
    os.close(read_fd)
    with open(staging / "prompt.md", "w+b") as handle:
        handle.write(prompt)
        handle.flush()
        handle.seek(0)
        yield handle


class LocalExecutor:
    kind = "local"

    def __init__(self) -> None:
        self.processes: dict[str, _Process] = {}
        self.wakeup = None
        self.ended: list[Ended] = []
        self._boot_time: tuple[float, float] | None = None  # (when read, psutil.boot_time())

    def open(self, wakeup) -> None:
        self.wakeup = wakeup
        proc.become_subreaper()

    def start(self, job: Job) -> None:
        now = time.monotonic()
        # The prompt goes in through a pipe and the log is opened once (header, then the agent's
        # output): the launch path runs once per agent (bench/dispatch.py).
        with _prompt_stdin(job.prompt, job.cwd) as stdin:
            log = open_append(job.log_path)
            try:
                os.write(log, job.header)
                argv, executable = jail.confine(job.argv, job.executable, cwd=job.cwd, env=job.env)  # issue 22
                popen = proc.spawn(argv, cwd=job.cwd, env=job.env, stdin=stdin, stdout=log, executable=executable)
            finally:
                os.close(log)
        process = _Process(job=job, popen=popen, deadline=now + job.timeout)
        try:
            process.create_time = self._create_time(popen.pid)
        except Exception:  # it may already have exited: the pidfd/wait path handles that
            process.create_time = 0.0
        process.pidfd = proc.open_pidfd(popen.pid)
        if process.pidfd is not None and self.wakeup is not None:
            self.wakeup.watch(process.pidfd, popen.pid)
        self.processes[job.key] = process

    def _create_time(self, pid: int) -> float:
        """``psutil.Process(pid).create_time()``, by psutil's own formula (start ticks from
        /proc/<pid>/stat over CLOCK_TICKS, plus the boot time) in one read: psutil also reads
        /proc/stat for the boot time on every call, and this runs once per agent (issue 13). The boot
        time is read again once a second, as a clock step moves it."""
        import psutil

        now = time.monotonic()
        if self._boot_time is None or now - self._boot_time[0] >= 1.0:
            self._boot_time = (now, psutil.boot_time())
        try:
            with open(f"/proc/{pid}/stat", "rb") as handle:
                data = handle.read()
        except OSError:
            return psutil.Process(pid).create_time()  # not Linux's /proc: ask psutil
        ticks = float(data[data.rfind(b")") + 2:].split()[19])
        return ticks / _CLOCK_TICKS + self._boot_time[1]

    # -- deadlines ----------------------------------------------------------------------------
    def tick(self, now: float) -> list[str]:
        lines = []
        for process in self.processes.values():
            if process.term_sent_at is None and now >= process.deadline:
                process.timed_out = True
                lines.append(f"timeout {process.job.domain} after {process.job.timeout:g}s: stopping its group")
                self._terminate(process, now)
            elif process.term_sent_at is not None and now >= process.term_sent_at + process.job.grace:
                self._kill(process)
        return lines

    def next_due(self, now: float) -> float | None:
        due = None
        for process in self.processes.values():
            at = process.deadline if process.term_sent_at is None else process.term_sent_at + process.job.grace
            due = at - now if due is None else min(due, at - now)
        return None if due is None else max(0.0, due)

    def _terminate(self, process: _Process, now: float) -> None:
        process.tree = proc.descendants(process.pid)
        proc.signal_group(process.pid, signal.SIGTERM)
        process.term_sent_at = now

    def _kill(self, process: _Process) -> None:
        proc.signal_group(process.pid, signal.SIGKILL)
        proc.kill_processes(process.tree + proc.descendants(process.pid))

    # -- ends -----------------------------------------------------------------------------
    def collect(self) -> list[Ended]:
        ended, self.ended = self.ended, []
        for key, process in list(self.processes.items()):
            if process.popen.poll() is None:
                continue
            del self.processes[key]
            if process.pidfd is not None:
                if self.wakeup is not None:
                    self.wakeup.unwatch(process.pidfd)
                try:
                    os.close(process.pidfd)
                except OSError:
                    pass
            # Whatever the agent left running in its group dies with it: no orphan outlives its agent.
            proc.signal_group(process.pid, signal.SIGKILL)
            proc.kill_processes(process.tree)
            ended.append(Ended(key, process.popen.returncode, timed_out=process.timed_out,
                               stopped=process.stopping))
        if ended or self.processes:
            proc.reap_strays({p.pid for p in self.processes.values()})
        return ended

    def stop(self, keys: list[str] | None = None, *, kill: bool = False) -> None:
        now = time.monotonic()
        for key, process in self.processes.items():
            if keys is not None and key not in keys:
                continue
            if not process.stopping:
                process.stopping = True
                if process.term_sent_at is None:
                    self._terminate(process, now)
            if kill:
                self._kill(process)

    def running(self) -> list[Running]:
        return [Running(key, p.pid, p.create_time) for key, p in self.processes.items()]

    def changed(self) -> bool:
        return False  # a local agent's pid is known from the moment it starts

    def close(self) -> None:
        """Stop every agent and wait for the groups (grace, then SIGKILL); the ends stay collectable."""
        if not self.processes:
            return
        self.stop()
        grace = max(p.job.grace for p in self.processes.values())
        deadline = time.monotonic() + grace + 5
        while self.processes and time.monotonic() < deadline:
            self.tick(time.monotonic())
            if self.wakeup is not None:
                self.wakeup.wait(0.05)
            else:
                time.sleep(0.05)
            self.ended.extend(self.collect())
        for process in list(self.processes.values()):
            self._kill(process)
        self.ended.extend(self.collect())
