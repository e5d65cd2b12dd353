"""Repair turns (issue 21): before an implement attempt's output is promoted, finish's site checks
run on it; when they fail and the attempt has a session, the same session is resumed with the
failures, worded as finish words them, up to ``[agents] repair_turns``. The turns' cost and turns
are the attempt's; a site that still fails is promoted as before (finish keeps it at I).

``Repairer`` is a mixin of the Pool, like ``record.Recorder``: it starts the turns through the
executor and finishes them when they end, then hands the attempt back to ``_conclude``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from .. import sessions
from ..agents import classes
from .attempt import log_note
from .executor import Ended
from .results import Outcome

if TYPE_CHECKING:
    from .state import LiveAgent


class Repairer:
    """The Pool's repair turns (a mixin: it shares the Pool's state)."""

    def _site_problems(self, job) -> list[str]:
        """What `smb finish` would say about this output, worded as it words it (the site's own
        problems: a missing design is not the implementing agent's to fix)."""
        from ..sitecheck import check_site
        from ..text import clean_text

        design = self.workspace.design_file(job.domain)
        return [clean_text(str(problem)) for problem in check_site(job.output, design) if problem.file != design.name]

    def _start_repair(self, agent: LiveAgent, job, outcome: Outcome, turn: int) -> bool:
        """Before promotion: when finish's checks fail and the attempt has a session, resume it with
        the failures (a repair turn). True when a repair turn was started."""
        turns = self.options.repair_turns
        if self.phase.name != "implement" or not job.session or turn > turns:
            return False
        if self.stop_reason or self.wakeup.stop_signal is not None:
            return False
        try:
            problems = self._site_problems(job)
        except Exception:  # the checks are finish's business; a crash here must not lose the site
            return False
        if turn == 1:
            outcome.repair_problems = tuple(problems)
        if not problems:
            return False
        if sessions.transcript(job.cwd, job.session) is None:
            log_note(job.log_path, "no repair turn: the session's transcript is not in its folder (the agent ran on a "
                            "worker without shared storage, or it was removed); promoted as it is")
            return False
        repair = self.launcher.repair_job(job, problems, turn, turns)
        try:
            self._start_agent(repair, agent.probe, agent.hold_probe, started=agent.started, repair_of=(job, outcome),
                              repair_problems=tuple(problems))
        except OSError as exc:
            log_note(job.log_path, f"no repair turn: cannot start the agent: {exc.strerror or exc}")
            return False
        self.reporter.line(f"repair {job.domain}: finish's checks found {len(problems)} problem"
                           f"{'s' if len(problems) != 1 else ''}; turn {turn} of {turns}")
        return True

    def _finish_repair(self, agent: LiveAgent, ended: Ended) -> None:
        """A repair turn ended: its cost and turns go on the same attempt; check again; another turn
        or promotion (a site that still fails is promoted, finish keeps it at I with its reasons)."""
        repair = agent.job
        job, outcome = agent.repair_of
        verdict = self._verdict(agent, ended)
        _add_report(outcome.report, verdict.report)
        outcome.repair_turns = repair.repair
        if verdict.failure_class == classes.USAGE_LIMIT:
            self._start_hold(Outcome(job.domain, "failed", job.attempt, 0.0, report=verdict.report,
                                     error=verdict.error, failure_class=verdict.failure_class))
            if agent.hold_probe:  # the probe met the limit again: the hold stays (the ok attempt must not end it)
                self.holding.probe_running, agent.hold_probe = False, False
        try:
            left = self._site_problems(repair)
        except Exception:
            left = ["check failed"]
        # Another turn only when this one got somewhere: the same list again means the agent could not
        # (or would not) fix it, and a second identical request is money for nothing.
        if verdict.kind == "ok" and left and left != list(agent.repair_problems) \
                and self._start_repair(agent, repair, outcome, turn=repair.repair + 1):
            return
        outcome.repaired = bool(outcome.repair_problems) and not left
        how = "repaired" if outcome.repaired else (f"{len(left)} problem{'s' if len(left) != 1 else ''} left: "
                                                   f"{'; '.join(left[:5])}" if left else verdict.failure_class)
        log_note(job.log_path, f"after {repair.repair} repair turn{'s' if repair.repair != 1 else ''}: {how}")
        outcome.seconds = time.monotonic() - agent.started
        self._conclude(job, outcome, agent)


def _add_report(into, extra) -> None:
    """A repair turn's numbers added to its attempt's report (cost, turns, tokens, time)."""
    if into is None or extra is None:
        return
    for name in ("cost_usd", "turns", "tokens_in", "tokens_out", "duration_ms"):
        setattr(into, name, getattr(into, name) + getattr(extra, name))
