"""The executor seam: *how* an agent runs, behind four calls (issue 9).

The pool decides what to launch and records what happened; an executor runs
a ``Job`` somewhere and reports when it has ``Ended``. ``local.LocalExecutor``
runs each job as a supervised process group on this machine; a distributed
executor implements the same calls and leaves the loop untouched. Whatever
runs the job, the agent's output ends up in the job's staging folder on this
machine before ``collect`` reports it, so promotion stays the pool's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass
class Job:
    """One agent run: everything an executor needs, nothing it must look up."""

    key: str  # unique per run: "<domain>-<phase>-<attempt>"
    domain: str
    phase: str
    attempt: int
    argv: list[str]
    env: dict[str, str]
    cwd: Path  # the staging folder: the agent's working folder
    output: Path  # inside cwd: the design file or the site folder
    prompt: bytes
    log_path: Path
    header: bytes  # written to the log before the agent's own output
    timeout: float
    grace: float
    log_rel: str = ""  # log_path as the operator types it from the workspace root
    executable: str | None = None  # argv[0] found on PATH once per run (None: the executor searches)
    reports: bool = True  # watch for the JSON result line (any agent may print one): reap it once it is out
    stall_timeout: float = 0.0  # no byte on stdout/stderr for this long: stalled (0: never)
    session: str = ""  # the agent's pinned session id (issue 21): "" for an agent without sessions
    resumed: bool = False  # this launch continues that session (--resume) instead of starting it
    repair: int = 0  # a repair turn of the attempt (1, 2, ...): the session sent finish's failures


@dataclass
class Ended:
    key: str
    exit_code: int | None
    timed_out: bool = False
    stopped: bool = False  # stopped on request (a signal to the run, a halt), not a failure
    error: str = ""  # the executor could not run or finish it (launch error, output not returned)
    lost: bool = False  # the machine running it went away: try again, no attempt counted
    reaped: bool = False  # it printed its result and did not exit: ended by smb, judged as if it had exited
    stalled: bool = False  # no output for stall_timeout: its group was stopped
    cannot_start: bool = False  # exec of the agent's command failed (``error`` says how): the run's problem


@dataclass
class Running:
    key: str
    pid: int
    create_time: float
    worker: str = ""


class Executor(Protocol):
    kind: str

    def open(self, wakeup) -> None:
        """Before the first start: ``wakeup`` is the loop's ``Wakeup`` (watch fds, or poke it)."""

    def start(self, job: Job) -> None:
        """Launch ``job``; raises OSError when it cannot (the pool fails that attempt)."""

    def tick(self, now: float) -> list[str]:
        """Enforce deadlines (timeout, then grace); returns lines worth logging."""

    def next_due(self, now: float) -> float | None:
        """Seconds until ``tick`` has something to do, if anything."""

    def collect(self) -> list[Ended]:
        """Jobs that ended since the last call; their output is in their staging folder."""

    def stop(self, keys: list[str] | None = None, *, kill: bool = False) -> None:
        """Terminate these jobs (None: all); ``kill``: no grace."""

    def running(self) -> list[Running]:
        """What runs now, for the run record (``smb stop``, doctor, status)."""

    def changed(self) -> bool:
        """True once after what ``running`` reports changed on its own (a remote agent started)."""

    def close(self) -> None:
        """Stop everything still running and wait for it; called once, on every way out."""
