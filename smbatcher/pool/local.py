"""The local executor: each agent a supervised process group on this machine (SPEC §4); one
``attempt.Attempt`` per agent, watched through the loop's selector.

Every agent is a session leader (``proc.spawn``), its exit is watched through
a pidfd in the loop's selector, its timeout is enforced here: SIGTERM to the
group, then SIGKILL after ``grace``. Whatever an agent leaves behind in its
group dies with it, and descendants that escaped with ``setsid`` are re-parented
to us (``proc.become_subreaper``) and reaped, so no orphan outlives the run.
"""

from __future__ import annotations

import time

from .. import proc
from .attempt import Attempt
from .executor import Ended, Job, Running


class LocalExecutor:
    kind = "local"

    def __init__(self) -> None:
        self.processes: dict[str, Attempt] = {}
        self.wakeup = None
        self.ended: list[Ended] = []

    def open(self, wakeup) -> None:
        self.wakeup = wakeup
        proc.become_subreaper()

    def start(self, job: Job) -> None:
        attempt = Attempt.start(job)
        if attempt.pidfd is not None and self.wakeup is not None:
            self.wakeup.watch(attempt.pidfd, attempt.pid)
        self.processes[job.key] = attempt

    # -- deadlines ----------------------------------------------------------------------------
    def tick(self, now: float) -> list[str]:
        return [line for _, line in self.tick_lines(now)]

    def tick_lines(self, now: float) -> list[tuple[str, str]]:
        """Deadlines, the reap and the stall watchdog of every attempt: (job key, line to log)."""
        return [(key, line) for key, attempt in self.processes.items() if (line := attempt.tick(now))]

    def next_due(self, now: float) -> float | None:
        dues = [attempt.due(now) for attempt in self.processes.values()]
        return max(0.0, min(dues)) if dues else None

    # -- ends -----------------------------------------------------------------------------
    def collect(self) -> list[Ended]:
        ended, self.ended = self.ended, []
        for key, attempt in list(self.processes.items()):
            end = attempt.poll()
            if end is None:
                continue
            del self.processes[key]
            if attempt.pidfd is not None and self.wakeup is not None:
                self.wakeup.unwatch(attempt.pidfd)
            attempt.release()
            ended.append(end)
        if ended or self.processes:
            proc.reap_strays({p.pid for p in self.processes.values()})
        return ended

    def stop(self, keys: list[str] | None = None, *, kill: bool = False) -> None:
        now = time.monotonic()
        for key, attempt in self.processes.items():
            if keys is None or key in keys:
                attempt.stop(now, kill=kill)

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
        for attempt in list(self.processes.values()):
            attempt.kill()
        self.ended.extend(self.collect())
