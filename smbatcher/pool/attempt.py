"""One attempt's life, on any executor: start, watch, end, verdict (issue 19).

``Attempt.start`` runs one ``Job`` as a supervised process group (its own
session, the prompt on stdin, stdout and stderr appended to the per-site log);
``watch`` follows the bytes the agent writes; ``tick`` enforces the deadline
(SIGTERM to the group, SIGKILL after ``grace``); ``poll`` says when it has
ended and ``release`` makes sure nothing of its group outlives it. ``judge``
turns the end, the log and the output into the attempt's verdict.

The local executor runs attempts in the ``smb`` process; on a Dask worker the
supervisor process (``dask_sidecar``) runs the very same ``LocalExecutor``, so
everything here works the same there. Only where the attempt runs and how its
result travels back are the executors' own.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from .. import jail, proc
from ..fs import open_append
from .executor import Ended, Job

# An agent that printed its final result gets this long to exit before smb ends its group (issue 20:
# Claude Code is known to hang after its result line). Long enough for a clean exit, short enough
# that a hung agent does not hold its slot.
REAP_AFTER = 5.0
WATCH_EVERY = 0.5  # how often an attempt that is watched reads what its log gained
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")  # what psutil divides the start ticks by
_BOOT_TIME: list[float] = []  # [when read (monotonic), psutil.boot_time()]


def command(job: Job) -> tuple[list[str], str | None]:
    """The argv (and the executable it names) an attempt runs: THE seam where a jail wraps the
    agent's command and where session flags are added, so that every executor gets them."""
    # The jail (issue 22): on a Dask worker too, with that worker's own paths and bwrap.
    argv, executable = jail.confine(job.argv, job.executable, cwd=job.cwd, env=job.env)
    if argv is not job.argv:
        _check_runnable(job)
    return argv, executable


def _check_runnable(job: Job) -> None:
    """Inside the jail a program that cannot be executed is bwrap's exit 1, not an OSError at spawn:
    raise that OSError here, so a missing agent or one without its run bit still stops the run at
    once (issue 20) instead of failing every site."""
    program = job.executable or job.argv[0]
    path = program if "/" in program else shutil.which(program, path=job.env.get("PATH"))
    if path is None:
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), program)
    if not os.path.isabs(path):
        path = os.path.join(job.cwd, path)
    if not os.path.exists(path):
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), program)
    if not os.access(path, os.X_OK) or os.path.isdir(path):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), program)
    try:
        with open(path, "rb") as handle:
            head = handle.read(256)
    except OSError:
        return
    if not head.startswith((b"#!", b"\x7fELF")):  # execve's ENOEXEC; bwrap's execvp would run it under sh
        raise OSError(errno.ENOEXEC, os.strerror(errno.ENOEXEC), program)
    if head.startswith(b"#!"):  # a script: its interpreter must be there too (execve's ENOENT)
        words = head[2:].split(b"\n", 1)[0].split()
        interpreter = os.fsdecode(words[0]) if words else ""
        if not interpreter or not os.access(interpreter, os.X_OK):
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), program)


@contextmanager
def prompt_stdin(prompt: bytes, staging):
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


def create_time(pid: int) -> float:
    """``psutil.Process(pid).create_time()``, by psutil's own formula (start ticks from
    /proc/<pid>/stat over CLOCK_TICKS, plus the boot time) in one read: psutil also reads
    /proc/stat for the boot time on every call, and this runs once per agent (issue 13). The boot
    time is read again once a second, as a clock step moves it."""
    import psutil

    now = time.monotonic()
    if not _BOOT_TIME or now - _BOOT_TIME[0] >= 1.0:
        _BOOT_TIME[:] = [now, psutil.boot_time()]
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            data = handle.read()
    except OSError:
        return psutil.Process(pid).create_time()  # not Linux's /proc: ask psutil
    ticks = float(data[data.rfind(b")") + 2:].split()[19])
    return ticks / _CLOCK_TICKS + _BOOT_TIME[1]


@dataclass
class Attempt:
    """One running agent: its process group, its deadline, what it has written so far."""

    job: Job
    popen: subprocess.Popen
    started: float  # monotonic
    deadline: float
    create_time: float = 0.0
    pidfd: int | None = None
    term_sent_at: float | None = None
    timed_out: bool = False
    stopping: bool = False
    tree: list = field(default_factory=list)  # descendants seen at SIGTERM: killed with the group
    # -- the watch (issue 20): what the agent wrote, when, and whether its result is out
    stream: object = None  # agents.stream.AgentStream for an agent that reports
    log_size: int = 0
    watched_at: float = 0.0
    output_at: float = 0.0  # monotonic, the last time its log grew
    result_at: float | None = None
    reaped: bool = False
    stalled: bool = False
    jailed: bool = False  # popen is bwrap, the agent its child (issue 22)

    @property
    def pid(self) -> int:
        return self.popen.pid

    # -- start ------------------------------------------------------------------------------
    @classmethod
    def start(cls, job: Job) -> Attempt:
        """Spawn the agent; raises OSError when it cannot be started."""
        now = time.monotonic()
        argv, executable = command(job)
        # The prompt goes in through a pipe and the log is opened once (header, then the agent's
        # output): the launch path runs once per agent (bench/dispatch.py).
        with prompt_stdin(job.prompt, job.cwd) as stdin:
            log = open_append(job.log_path)
            try:
                start_size = os.fstat(log).st_size
                os.write(log, job.header)
                popen = proc.spawn(argv, cwd=job.cwd, env=job.env, stdin=stdin, stdout=log, executable=executable)
            finally:
                os.close(log)
        # The first look at the log comes WATCH_EVERY after the start: most short agents are gone by then.
        attempt = cls(job=job, popen=popen, started=now, deadline=now + job.timeout, output_at=now,
                      log_size=start_size + len(job.header), watched_at=now,  # the agent's bytes only
                      jailed=argv is not job.argv)
        try:
            attempt.create_time = create_time(popen.pid)
        except Exception:  # it may already have exited: the pidfd/wait path handles that
            attempt.create_time = 0.0
        attempt.pidfd = proc.open_pidfd(popen.pid)
        return attempt

    # -- watch ------------------------------------------------------------------------------
    @property
    def watched(self) -> bool:
        return self.job.reports or self.job.stall_timeout > 0

    def watch(self, now: float, *, force: bool = False) -> None:
        """Read what the log gained: a byte is a sign of life; a result line starts the reap clock."""
        if now - self.watched_at < WATCH_EVERY and not force:
            return
        self.watched_at = now
        try:
            size = os.stat(self.job.log_path).st_size
        except OSError:
            return
        if size == self.log_size:
            return
        self.output_at = now
        if self.job.reports and self.result_at is None:
            if self.stream is None:  # made at the first look: most agents are gone before it
                from ..agents.stream import AgentStream

                self.stream = AgentStream()
            try:
                with open(self.job.log_path, "rb") as handle:
                    handle.seek(self.log_size)
                    self.stream.feed(handle.read(size - self.log_size))
            except OSError:
                pass
            if self.stream.result is not None:
                self.result_at = now
        self.log_size = size

    def _note(self, text: str) -> None:
        log_note(self.job.log_path, text)

    # -- end --------------------------------------------------------------------------------
    def tick(self, now: float) -> str | None:
        """Enforce the deadlines: the reap after a result, the stall watchdog, the timeout (SIGTERM
        to the group), then SIGKILL after the grace. Returns a line worth logging when it starts
        stopping the agent."""
        if self.term_sent_at is None and self.watched:
            self.watch(now)
            if self.result_at is not None and now >= self.result_at + REAP_AFTER:
                self.reaped = True
                self.terminate(now)
                self._note(f"reaped: the agent printed its result and had not exited {REAP_AFTER:g}s later; "
                           "its group was ended and it is judged by its result and output")
                return f"reaped {self.job.domain}: it printed its result and did not exit within {REAP_AFTER:g}s"
            stall = self.job.stall_timeout
            if stall > 0 and self.result_at is None and now >= self.output_at + stall:
                self.watch(now, force=True)  # the last read may be up to WATCH_EVERY old
            if stall > 0 and self.result_at is None and now >= self.output_at + stall:
                self.stalled = True
                self.terminate(now)
                self._note(f"stalled: no output on stdout or stderr for {stall:g}s (stall_timeout); "
                           "its group was stopped")
                return f"stalled {self.job.domain}: no output for {stall:g}s: stopping its group"
        if self.term_sent_at is None and now >= self.deadline:
            self.timed_out = True
            self.terminate(now)
            return f"timeout {self.job.domain} after {self.job.timeout:g}s: stopping its group"
        if self.term_sent_at is not None and now >= self.term_sent_at + self.job.grace:
            self.kill()
        return None

    def due(self, now: float) -> float:
        """Seconds until ``tick`` has something to do."""
        if self.term_sent_at is not None:
            return self.term_sent_at + self.job.grace - now
        at = self.deadline
        if self.result_at is not None:
            at = min(at, self.result_at + REAP_AFTER)
        elif self.job.stall_timeout > 0:
            at = min(at, self.output_at + self.job.stall_timeout)
        return at - now

    def stop(self, now: float, *, kill: bool = False) -> None:
        """Stop on request (a signal to the run, a halt, ``smb stop``): not a failure."""
        if not self.stopping:
            self.stopping = True
            if self.term_sent_at is None:
                self.terminate(now)
        if kill:
            self.kill()

    def terminate(self, now: float) -> None:
        self.tree = proc.descendants(self.pid)
        if self.jailed:
            # bwrap dies at SIGTERM and its --die-with-parent SIGKILLs the agent: no grace at all. So the
            # agent's own processes get the SIGTERM; bwrap exits with them, the group is killed at grace.
            proc.kill_processes(self.tree, signal.SIGTERM)
        else:
            proc.signal_group(self.pid, signal.SIGTERM)
        self.term_sent_at = now

    def kill(self) -> None:
        proc.signal_group(self.pid, signal.SIGKILL)
        proc.kill_processes(self.tree + proc.descendants(self.pid))

    def poll(self) -> Ended | None:
        """The attempt's end once its process has exited, else None."""
        if self.popen.poll() is None:
            return None
        code = self.popen.returncode
        if self.jailed and code is not None and code > 128:
            code = 128 - code  # bwrap reports a child killed by signal n as 128+n: as if unjailed, -n
        if self.reaped:  # judged as if it had exited: the CLI exits 1 after an error result, else 0
            code = 1 if self.stream.result.get("is_error") else 0
        return Ended(self.job.key, code, timed_out=self.timed_out, stopped=self.stopping, reaped=self.reaped,
                     stalled=self.stalled and not self.stopping)

    def release(self) -> None:
        """After the end: close the pidfd, and whatever the agent left running in its group dies
        with it (no orphan outlives its agent)."""
        self.pidfd = proc.close_pidfd(self.pidfd)
        proc.signal_group(self.pid, signal.SIGKILL)
        proc.kill_processes(self.tree)


def log_note(path, text: str) -> None:
    """A line of smb's in an agent's log (not "=== smb ": that starts a new launch to its reader)."""
    append_log(path, f"\n[smb] {text}\n")


def append_log(path, text: str) -> None:
    """``text`` at the end of an agent's log; a log that cannot be written loses it (the registry and
    the event log carry what matters)."""
    try:
        log = open_append(path)
        try:
            os.write(log, text.encode("utf-8", "replace"))
        finally:
            os.close(log)
    except OSError:
        pass


_EXEC_ERRNOS = {errno.ENOENT: "ENOENT", errno.EACCES: "EACCES", errno.ENOEXEC: "ENOEXEC"}


def exec_failure(exc: OSError, job: Job) -> str | None:
    """The one line for an agent command that cannot be executed at all (missing, no run bit, not a
    program): the same for every launch, so the run's problem. None for any other launch error
    (a working folder that went away is that one launch's)."""
    if isinstance(exc, jail.JailUnavailable):  # sandbox = "on" on a worker without bwrap: every launch
        return str(exc)
    name = _EXEC_ERRNOS.get(exc.errno)
    if name is None or (exc.filename is not None and os.fspath(exc.filename) == os.fspath(job.cwd)):
        return None
    return f"cannot start the agent {job.executable or job.argv[0]}: {exc.strerror or exc} ({name})"


# -- verdict ----------------------------------------------------------------------------------


@dataclass
class Verdict:
    """What the attempt's end, its log and its output say, before the pool promotes anything."""

    kind: str  # ok | failed | timeout | stopped | error
    failure_class: str
    error: str = ""
    report: object = None  # agents.classify.AgentReport when the log was read
    counted: bool = True
    not_counted_because: str = ""


def judge(job: Job, ended: Ended, *, output_ok: bool, said, missing_output: str) -> Verdict:
    """The verdict on one ended attempt. ``output_ok``: the phase's output exists; ``said``: the
    attempt's log (text, bytes or the AgentStream that followed it); ``missing_output``: the line
    for an exit 0 with nothing written. ``kind`` "ok" still needs the pool to promote the output."""
    from ..agents import classes
    from ..agents.classify import classify

    if ended.stopped:
        return Verdict("stopped", classes.STOPPED)
    if ended.lost:
        return Verdict("error", classes.OUTAGE, ended.error or "worker lost", counted=False,
                       not_counted_because="worker lost")
    if ended.error:
        return Verdict("error", classes.CANNOT_START if ended.cannot_start else classes.SITE, ended.error)
    if ended.stalled:
        return Verdict("error", classes.STALLED, f"stalled: no output for {job.stall_timeout:g}s")
    output_ok = output_ok and ended.exit_code == 0 and not ended.timed_out
    report = classify(ended.exit_code, said, ended.timed_out, output_ok)
    verdict = Verdict("failed", report.cls, report=report)
    if report.cls == classes.OK:
        verdict.kind = "ok"
    elif report.cls == classes.BUDGET:
        verdict.error = f"budget: {report.message}"
    elif ended.timed_out:
        verdict.kind = "timeout"
        verdict.error = f"timeout after {job.timeout:g}s" + (f": {report.message}" if report.message else "")
    elif ended.exit_code == 0:
        verdict.error = (report.message if report.cls != classes.NO_OUTPUT or "index.html" in report.message
                         else missing_output)
    else:
        verdict.error = f"exit={ended.exit_code}" + (f": {report.message}" if report.message else "")
    return verdict
