"""What a run tells people: its log file, plain lines off a terminal, a progress bar on one (SPEC §4).

Off a terminal (cron, nohup, pipes) each site end is one line:
``OK lotus.dev 41.2s`` or ``FAIL lotus.dev exit=1 attempt 2/3 log=...``, then a
summary line. The run log ``logs/<phase>-<batch>[-wave-<W>].log`` gets the
same lines with a UTC timestamp. The reporter is fed values; it never looks
into the pool.
"""

from __future__ import annotations

import time
from collections import deque
from pathlib import Path

from ..text import escape_control
from ..ui import UI, RunProgress
from ..units import format_duration, utc_stamp
from ..workspace import Workspace


def outcome_line(outcome, max_attempts: int) -> str:
    if outcome.kind == "ok":
        cost = getattr(outcome.report, "cost_usd", 0.0)
        return f"OK {outcome.domain} {outcome.seconds:.1f}s" + (f" ${cost:.2f}" if cost else "")
    if outcome.kind == "stopped":
        return f"STOPPED {outcome.domain} returned to its previous status log={outcome.log}"
    what = "timeout" if outcome.kind == "timeout" else f"exit={outcome.exit_code}"
    said = ""
    if outcome.kind == "error" or (outcome.kind == "failed" and outcome.exit_code == 0):
        what = outcome.error
    elif outcome.report is not None and outcome.report.message:
        # The agent's own words: "exit=1" alone tells an operator nothing (issue 10).
        said = f" ({outcome.failure_class}: {outcome.report.message})"
    tail = " parked as X" if outcome.parked else (
        "" if outcome.counted else f" ({outcome.not_counted_because or 'breaker open'}: not counted)")
    return escape_control(  # issue 22: the agent's words reach the operator's terminal
        f"FAIL {outcome.domain} {what} attempt {outcome.attempt}/{max_attempts} log={outcome.log}{tail}{said}")


def summary_line(result) -> str:
    rate = result.ok / result.seconds * 60 if result.seconds > 0 else 0.0
    parts = [f"{result.ok} ok", f"{result.failed} failed", f"{result.parked} parked"]
    if result.skipped:
        parts.append(f"{len(result.skipped)} skipped")
    if result.stopped:
        parts.append(f"{result.stopped} returned")
    if result.selection.busy:
        parts.append(f"{len(result.selection.busy)} busy in another run")
    if result.reclaimed:
        parts.append(f"{result.reclaimed} stale claims reclaimed")
    stop = f"; stopped by {result.signal_name}" if result.signal_name else ""
    return (f"{result.phase} batch {result.batch}: {', '.join(parts)} in {result.seconds:.1f}s "
            f"({rate:.1f} sites/min){stop}; exit {result.exit_code}")


class RunReporter:
    def __init__(self, ui: UI, workspace: Workspace, log_path: Path, *, stdout_is_log: bool = False) -> None:
        self.ui = ui
        self.workspace = workspace
        self.log_path = log_path
        self.log_rel = workspace.rel(log_path)
        # Under --bg, stdout already is the run log: write each line once, with its timestamp.
        self.stdout_is_log = stdout_is_log
        self.log = None
        if not stdout_is_log:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            self.log = log_path.open("a", encoding="utf-8", buffering=1)
        self.progress: RunProgress | None = None
        self.done = 0
        self.total = 0
        self.ends: deque[float] = deque()
        self.started = time.monotonic()

    def _write(self, text: str, *, always: bool = False) -> None:
        if self.log is not None:
            self.log.write(f"{utc_stamp()} {text}\n")
        if self.stdout_is_log:
            self.ui.out(f"{utc_stamp()} {text}")
            self.ui.flush()
        elif self.progress is not None:
            self.progress.print(text)
        elif always or not self.ui.quiet:
            self.ui.out(text)
            self.ui.flush()

    def start(self, *, run_id: str, phase: str, batch: str, wave: int | None, total: int, max_agents: int,
              agent: str, pid: int) -> None:
        self.total = total
        wave_text = f" wave {wave}" if wave else ""
        self._write(f"run {run_id}: {phase} batch {batch}{wave_text}: {total} sites, "
                    f"{max_agents} agents, agent {agent!r}, pid {pid}")
        if self.ui.terminal and not self.stdout_is_log and not self.ui.quiet and total:
            self.progress = RunProgress(self.ui, f"{phase} {batch}", total)

    def line(self, text: str) -> None:
        self._write(text)

    def outcome(self, outcome, max_attempts: int) -> None:
        if outcome.kind == "ok":
            self.done += 1
            self.ends.append(time.monotonic())
        elif outcome.parked:
            self.done += 1
        self._write(outcome_line(outcome, max_attempts), always=True)

    def rate_per_min(self) -> float:
        now = time.monotonic()
        while self.ends and self.ends[0] < now - 300:
            self.ends.popleft()
        window = min(300.0, max(now - self.started, 1.0))
        return len(self.ends) / window * 60

    def tick(self, *, running: int, activity: str = "") -> None:
        if self.progress is None:
            return
        rate = self.rate_per_min()
        left = max(self.total - self.done, 0)
        eta = format_duration(left / rate * 60) if rate else "-"
        self.progress.update(self.done, running, f"{rate:.1f}/min", eta, activity)

    def finish(self, result) -> None:
        if self.progress is not None:
            self.progress.update(self.done, 0, f"{self.rate_per_min():.1f}/min", "-")
            self.progress.stop()
            self.progress = None
        self._write(summary_line(result), always=True)
        self.close()

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
        if self.log is not None:
            self.log.close()
            self.log = None
