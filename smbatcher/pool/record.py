"""Recording what became of each attempt: the one place a result goes (issue 19).

``_finish_agent`` judges an ended agent (``attempt.judge``) and promotes a
success; ``_record_outcome`` applies the counting rules (``rules.py``), the
holds, the breaker and the halt, and queues the registry write that the loop's
next transaction makes (``_write_outcome``). The Pool (``loop.py``) inherits
this and only schedules.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from .. import holds
from ..agents import classes
from ..errors import SmbError
from ..lifecycle import PARKED, RANK
from ..notify import notify
from ..runs import AgentRecord
from ..runs import save as save_run
from ..sitelog import read_tail
from ..units import format_money
from . import rules
from .attempt import append_log, judge
from .executor import Ended
from .halt import Halt
from .results import Outcome, RunResult

if TYPE_CHECKING:
    from .state import LiveAgent


class Recorder:
    """The Pool's recording half (a mixin: it shares the Pool's state)."""

    def _notify_end(self, result: RunResult) -> None:
        if not self.options.notify:
            return
        if result.exit_code == 0 and result.ok and self._batch_complete():
            notify(self.options.notify, {"event": "batch-complete", "phase": self.phase.name,
                                         "batch": self.options.batch, "run": self.run_id, "ok": result.ok,
                                         "cost_usd": round(self.spend.total, 4)}, warn=self.reporter.line)
        from ..notify import wait

        wait(2.0)

    def _batch_complete(self) -> bool:
        """Every site of the batch is past this phase (none waiting, claimed or parked)."""
        try:
            rows = self.store.read().batch_rows(self.options.batch)
        except SmbError:
            return False
        done = RANK[self.phase.done]
        return bool(rows) and all(RANK.get(row.status, 0) >= done and row.status != PARKED for row in rows)

    def _write_outcome(self, txn, outcome: Outcome) -> None:
        row = txn.row(outcome.domain)
        if row is None or row.status != self.phase.claim or row.get("owner") != self.run_id:
            return  # taken from us (doctor, --force): the registry now says otherwise
        previous = self.work.before_claim.get(outcome.domain, self.phase.todo)
        fields = {"run": self.run_id, "log": outcome.log, "seconds": round(outcome.seconds, 1)}
        if outcome.report is not None:
            fields.update({k: v for k, v in outcome.report.as_event().items() if v not in (None, "", 0, 0.0)})
        if outcome.failure_class:
            fields["class"] = outcome.failure_class
        if outcome.session:  # issue 21: the attempt's session, and what became of its repair turns
            fields.pop("session_id", None)
            fields["session"] = outcome.session
            if outcome.resumed:
                fields["resumed"] = True
            if outcome.repair_turns:
                fields.update(repair_turns=outcome.repair_turns, repaired=outcome.repaired)
        if outcome.kind == "ok":
            txn.set_status(row, self.phase.done, owner="", attempts=0, note="", **fields)
        elif outcome.kind == "stopped":
            txn.set_status(row, previous, owner="", attempts=max(0, row.attempts - 1), reason=outcome.kind, **fields)
        elif not outcome.counted:
            # Not the site's fault (an outage, a limit, a halt): back where it was, the attempt given back,
            # and the reason in the note so that `smb list-sites --format table` says why.
            txn.set_status(row, previous, owner="", attempts=max(0, row.attempts - 1), reason=outcome.kind,
                           note=f"{self.phase.name}: {_why(outcome)}"[:300],
                           **fields)
        elif outcome.parked:
            txn.set_status(row, PARKED, owner="", note=f"{self.phase.name}: {outcome.error}"[:300],
                           exit=outcome.exit_code, **fields)
        else:
            txn.set_status(row, previous, owner="", note=f"{self.phase.name}: {outcome.error}"[:300],
                           exit=outcome.exit_code, **fields)

    def _finish_agent(self, agent: LiveAgent, ended: Ended) -> None:
        job = agent.job
        if job.repair:
            self._finish_repair(agent, ended)
            return
        seconds = time.monotonic() - agent.started
        verdict = self._verdict(agent, ended)
        if job.resumed and verdict.kind != "ok" and _resume_refused(verdict):
            # The CLI could not continue the session (its transcript unreadable, another version...): the
            # session is given up and the site launched again at once, fresh, nothing counted.
            verdict.failure_class, verdict.counted = classes.RESUME_FAILED, False
            verdict.error = f"resume failed: {verdict.report.message or verdict.error}"
        outcome = Outcome(job.domain, verdict.kind, job.attempt, seconds, exit_code=ended.exit_code, log=job.log_rel,
                          error=verdict.error, counted=verdict.counted, failure_class=verdict.failure_class,
                          report=verdict.report, not_counted_because=verdict.not_counted_because,
                          session=job.session, resumed=job.resumed)
        if verdict.kind == "ok" and self._start_repair(agent, job, outcome, turn=1):
            return  # the attempt goes on: its session fixes what finish would refuse, then it is promoted
        self._conclude(job, outcome, agent)

    def _verdict(self, agent: LiveAgent, ended: Ended):
        """``attempt.judge`` on an ended agent: its output, and its log from where this attempt began (the
        stream that followed it live, fed to the end, when there is one: a long log is not parsed twice)."""
        job = agent.job
        ran = not (ended.stopped or ended.lost or ended.error)
        output_ok = ran and self.launcher.has_output(job)  # judge adds the exit code and the timeout
        if not ran:
            said = ""
        elif agent.stream is not None and agent.stream.read_new(job.log_path):
            said = agent.stream
        else:
            said = read_tail(job.log_path, 256 * 1024, start=agent.log_offset)
        return judge(job, ended, output_ok=output_ok, said=said, missing_output=self._missing_output())

    def _conclude(self, job, outcome: Outcome, agent: LiveAgent) -> None:
        """Promote a success, keep or give up the session, and record the attempt."""
        if outcome.kind == "ok":
            try:
                problem = self.launcher.promote(job)
            except OSError as exc:  # one odd site must not end the run (issue 8)
                problem = f"cannot move the result into place: {exc.strerror or exc}"
            if problem:
                outcome.kind, outcome.error, outcome.failure_class = "failed", problem, classes.NO_OUTPUT
        self.launcher.discard(job)
        self.launcher.end_session(job.domain, job.session, _keep_reason(outcome))
        self._log_verdict(job, outcome)
        self._record_outcome(outcome, probe=agent.probe, hold_probe=agent.hold_probe)

    @staticmethod
    def _log_verdict(job, outcome: Outcome) -> None:
        """The per-site log ends with smb's verdict: class and message, next to the agent's own output."""
        verdict = "ok" if outcome.kind == "ok" else _why(outcome)
        line = f"\n=== smb end {job.domain} attempt {job.attempt}: {verdict} ({outcome.seconds:.1f}s)\n"
        if outcome.report is not None and outcome.report.warnings:  # issue 22: absurd numbers, one line
            line = f"\n=== smb warning: {'; '.join(outcome.report.warnings)}" + line
        append_log(job.log_path, line)

    def _missing_output(self) -> str:
        if self.phase.name == "implement":
            return "exit 0 but no index.html in the output folder"
        return "exit 0 but no design file was written"

    def _record_outcome(self, outcome: Outcome, probe: bool, hold_probe: bool = False) -> None:
        """The one place a result is recorded: counting rules, holds, the breaker and the halt, then
        the registry write (on the next flush), the FAIL/OK line and the run's tally."""
        now = time.monotonic()
        self._count_cost(outcome)
        stalls = self.work.stalls.get(outcome.domain, 0)
        if outcome.failure_class == classes.STALLED:
            self.work.stalls[outcome.domain] = stalls + 1
        decision = rules.triage(outcome.failure_class, outcome.kind, halted=self.halt is not None, probe=probe,
                                stalled_before=stalls > 0)
        if hold_probe:
            self.holding.probe_running = False
            if not decision.hold and outcome.kind != "stopped":
                self._end_hold("the probe got through")
        if decision.probe_done:
            self.breaker.probe_running = False
        if not decision.counted:
            outcome.counted, outcome.not_counted_because = False, decision.because
        if decision.park:
            outcome.parked = True
        if decision.requeue == rules.FRONT:
            self.work.queue.appendleft(outcome.domain)  # first in line once the hold or the back-off ends
        elif decision.requeue == rules.LATER:
            self.work.queue.append(outcome.domain)  # after the other sites (a first stall)
        if decision.hold:
            self._start_hold(outcome)
        said = outcome.report.message if outcome.report is not None else outcome.error
        if decision.back_off:
            wait = self.backoff.failed(now)
            self.reporter.line(f"rate limited ({said}); backing off {wait:g}s")
        if decision.stop_run and outcome.failure_class == classes.CANNOT_START:
            self.cannot_start = self.cannot_start or outcome.error
            self._stop_run(f"{outcome.error}; every site goes back, nothing counted", event="cannot-start",
                           now_stop=True)
        elif decision.stop_run:
            self._stop_run(f"the agent cannot authenticate: {said}"
                           f"; fix its credentials (smb agents shows what it uses), then run again",
                           event="auth", now_stop=True)
        if decision.judged and self._judge(outcome, probe, now):
            return
        self.ledger.pending.append(outcome)
        self.ledger.unreported.append(outcome)
        self.reporter.outcome(outcome, self.options.max_attempts)

    def _judge(self, outcome: Outcome, probe: bool, now: float) -> bool:
        """The breaker and the halt watch see the attempt. True when it is held back: shown now,
        written (counted or not) once the halt's first window decides."""
        if outcome.kind == "ok":
            self.backoff.succeeded()
        held_back = outcome.kind != "ok" and self.halt_watch.holds_back(outcome)
        halt, released = self.halt_watch.observe(outcome)
        if halt is not None and halt.failure and self.halt_watch.window:
            # The first attempts all failed the same way: the agent's fault, not the sites'.
            for waiting in self.halt_watch.window:
                waiting.counted, waiting.not_counted_because = False, "halted"
                if waiting is not outcome:
                    self.ledger.pending.append(waiting)
            self.halt_watch.window = []
            outcome.counted, outcome.not_counted_because = False, "halted"
            self._halt(halt)
            return False
        for waiting in released:
            if waiting is not outcome:
                self._breaker_and_retry(waiting, False, now, late=True)
        if not held_back or released:
            self._breaker_and_retry(outcome, probe, now)
        if halt is not None:
            self._halt(halt)
        if held_back and not released:
            self.ledger.unreported.append(outcome)
            self.reporter.outcome(outcome, self.options.max_attempts)
            return True
        return False

    def _settle_window(self) -> None:
        """The run ends before its first window decided (fewer sites than `same`): count those failures."""
        waiting, self.halt_watch.window = self.halt_watch.window, []
        self.halt_watch.window_open = False
        now = time.monotonic()
        for outcome in waiting:
            self._breaker_and_retry(outcome, False, now, late=True)

    def _breaker_and_retry(self, outcome: Outcome, probe: bool, now: float, late: bool = False) -> None:
        """The breaker's verdict, then a retry after the other sites or parking at max_attempts."""
        if outcome.kind != "ok" and outcome.counted:
            counted, message = self.breaker.record(False, probe, now)
            outcome.counted = counted
            if not counted:
                outcome.not_counted_because = "breaker open"
            if message:
                self.reporter.line(message)
                self._event({"event": "breaker", "state": "open", "reason": message})
                notify(self.options.notify, {"event": "breaker-open", "run": self.run_id, "reason": message},
                       warn=self.reporter.line)
        elif outcome.kind == "ok":
            counted, message = self.breaker.record(True, probe, now)
            if message:
                self.reporter.line(message)
        cost_parked = (self.options.max_cost_per_site is not None
                       and self.spend.per_site.get(outcome.domain, 0.0) >= self.options.max_cost_per_site)
        decision = rules.settle(ok=outcome.kind == "ok", counted=outcome.counted, cls=outcome.failure_class,
                                probe=probe, attempt=outcome.attempt, max_attempts=self.options.max_attempts,
                                cost_reached=cost_parked, retries_used=self.work.retries_used.get(outcome.domain, 0),
                                retries=self.options.retries)
        if not decision.counted:
            outcome.counted = False
            outcome.not_counted_because = decision.because or outcome.not_counted_because
        if decision.park:
            outcome.parked = True
            self.launcher.end_session(outcome.domain, outcome.session, None)  # parked: nothing to continue
            if cost_parked:
                outcome.error += (f" (cost {format_money(self.spend.per_site[outcome.domain])} reached "
                                  f"max_cost_per_site {format_money(self.options.max_cost_per_site)})")
        elif decision.requeue == rules.RETRY:
            self.work.retries_used[outcome.domain] = self.work.retries_used.get(outcome.domain, 0) + 1
            self.work.retry_queue.append(outcome.domain)  # after the other sites
        elif decision.requeue == rules.LATER:
            self.work.queue.append(outcome.domain)  # not counted (breaker open, worker lost): try again later
        if late:
            self.ledger.pending.append(outcome)

    # -- holds, halts, cost -----------------------------------------------------------------
    def _count_cost(self, outcome: Outcome) -> None:
        cost = getattr(outcome.report, "cost_usd", 0.0) or 0.0
        if not cost:
            return
        self.spend.total += cost
        self.spend.per_site[outcome.domain] = self.spend.per_site.get(outcome.domain, 0.0) + cost
        if self.record is not None:
            self.record.cost_usd = round(self.spend.total, 6)
        limit = self.options.max_cost_total
        if limit is not None and self.spend.total >= limit and not self.stop_reason:
            self._stop_run(f"cost {format_money(self.spend.total)} reached max_cost_total {format_money(limit)}; "
                           "no more launches", event="cost")
        report = outcome.report
        if (report is not None and report.quota_utilization is not None and self.options.quota_budget < 1.0
                and report.quota_utilization >= self.options.quota_budget and report.cls != classes.USAGE_LIMIT):
            self._start_hold(outcome, limit="quota")

    def _held(self, wall: float) -> str | None:
        """None: launch freely; "held": launch nothing; "probe": the hold has passed, launch one probe."""
        key = holds.identity(self.workspace)
        if key != self.holding.key:
            self.holding.key = key
            hold = holds.read(self.workspace) if key is not None else None
            if hold is None and self.holding.current is not None:
                self.reporter.line("hold released: launching resumes")
                self.holding.current = None
            elif hold is not None and (self.holding.current is None or hold.until != self.holding.current.until):
                self.holding.current = hold
                self.holding.resume_at = hold.until + _jitter(hold.until - max(hold.since, 0) if hold.since else 60)
        if self.holding.current is None:
            return None
        if wall - (self.holding.current.since or wall) > self.options.max_hold:
            self._stop_run(f"usage limits held this run for longer than max_hold "
                           f"({self.options.max_hold / 3600:g}h); stopping", event="max-hold")
            return "held"
        if wall < self.holding.resume_at:
            self.activity.text = self.holding.current.describe()
            if self.holding.logged != self.holding.current.until:
                self.holding.logged = self.holding.current.until
                self.reporter.line(f"{self.holding.current.describe()}: not launching ({self.holding.current.message})")
            return "held"
        return "held" if self.holding.probe_running or self.live else "probe"

    def _start_hold(self, outcome: Outcome, limit: str | None = None) -> None:
        report = outcome.report
        wall = time.time()
        until = getattr(report, "reset_at", None) or wall + min(self.options.max_hold, 1800)
        current = holds.read(self.workspace)
        if current is not None and current.until >= until:
            return  # already held at least that long (another agent or run said so first)
        mine = self.holding.current
        since = current.since if current is not None else (mine.since if mine is not None else wall)
        probes = (current.probes + 1) if current is not None else (mine.probes + 1 if mine else 0)
        hold = holds.Hold(until=until, limit=limit or getattr(report, "limit", "") or "unknown",
                          message=(getattr(report, "message", "") or outcome.error)[:200],
                          source=f"{outcome.domain} attempt {outcome.attempt} of run {self.run_id}",
                          since=since, probes=probes)
        try:
            holds.write(self.workspace, hold)
        except (SmbError, OSError) as exc:
            self.reporter.line(f"cannot record the hold: {getattr(exc, 'message', None) or exc}")
        self.holding.current, self.holding.key = hold, holds.identity(self.workspace)
        self.holding.resume_at = until + _jitter(until - wall)
        self.holding.logged = until
        self.reporter.line(f"usage limit: {hold.describe()}: {hold.message}; no attempt counted")
        self._event({"event": "hold", "until": until, "limit": hold.limit, "message": hold.message,
                     "run": self.run_id, "domain": outcome.domain})
        notify(self.options.notify, {"event": "hold-start", "until": until, "limit": hold.limit,
                                     "message": hold.message, "run": self.run_id}, warn=self.reporter.line)

    def _end_hold(self, why: str) -> None:
        if self.holding.current is None:
            return
        ended, self.holding.current = self.holding.current, None
        current = holds.read(self.workspace)
        if current is not None and current.until <= ended.until:
            holds.release(self.workspace)
        self.holding.key = holds.identity(self.workspace)
        self.reporter.line(f"hold ended: {why}; launching resumes")
        self._event({"event": "hold-end", "reason": why, "run": self.run_id,
                     "seconds": round(time.time() - (ended.since or time.time()))})
        notify(self.options.notify, {"event": "hold-end", "reason": why, "run": self.run_id}, warn=self.reporter.line)

    def _halt(self, halt: Halt) -> None:
        self.halt = halt
        line = f"halt: {halt.reason}" + (f"; {halt.fix}" if halt.fix else "")
        if halt.failure:
            if self.record is not None:
                self.record.halted = {"reason": halt.reason, "fix": halt.fix, "at": time.time()}
            self._stop_run(line, event="halt", now_stop=halt.mode == "now")
        else:
            self.reporter.line(line)
            self.stop_reason = None
            self.work.clear()
            if halt.mode == "now":
                self.executor.stop()

    def _stop_run(self, reason: str, *, event: str, now_stop: bool = False) -> None:
        if self.stop_reason:
            return
        self.stop_reason = reason
        self.reporter.line(reason if event == "halt" else f"stopping: {reason}")
        self.work.clear()
        if now_stop:
            self.executor.stop()
        fields = {"event": event, "reason": reason, "run": self.run_id}
        if event == "halt" and self.halt is not None:
            fields.update(reason=self.halt.reason, fix=self.halt.fix)
        self._event(fields)
        self._save_record()
        notify(self.options.notify, fields,
               warn=self.reporter.line)

    def _event(self, event: dict) -> None:
        from .. import events as event_log

        try:
            event_log.append(self.workspace.events, [{"actor": self.run_id, "batch": self.options.batch, **event}])
        except (SmbError, OSError):
            pass  # the registry is the record; a lost event line is not worth stopping the run

    def _tally(self, result: RunResult) -> None:
        outcomes, self.ledger.unreported = self.ledger.unreported, []
        for outcome in outcomes:
            result.outcomes.append(outcome)
            if outcome.kind == "stopped":
                result.stopped += 1
            elif outcome.kind == "ok" or outcome.counted:
                self.ledger.final[outcome.domain] = outcome
        # Counted per site, by its last counted outcome: a site that failed, was retried and then
        # built is ok, and a site parked after three failures is one parked site, not three failures.
        finals = self.ledger.final.values()
        result.ok = sum(1 for o in finals if o.kind == "ok")
        result.parked = sum(1 for o in finals if o.kind != "ok" and o.parked)
        result.failed = sum(1 for o in finals if o.kind != "ok" and not o.parked and o.counted)
        if self.record is not None:
            self.record.done = result.ok
            self.record.failed = result.failed + result.parked

    # -- the run record and the live action ----------------------------------------------
    def _save_record(self, final: bool = False) -> None:
        if self.record is None:
            return
        if not final:
            by_key = {r.key: r for r in self.executor.running()}
            self.record.agents = [
                AgentRecord(a.job.domain, by_key[k].pid, by_key[k].create_time, a.job.attempt,
                            time.time() - (time.monotonic() - a.started), phase=a.job.phase, action=a.action,
                            turn=a.turn, cost_usd=round(a.cost_usd, 6), worker=by_key[k].worker,
                            session=a.job.session)
                for k, a in self.live.items() if k in by_key]
        self.record.breaker = {"state": self.breaker.state, "trips": self.breaker.trips,
                               "until": None if self.breaker.open_until is None else
                               time.time() + max(0.0, self.breaker.open_until - time.monotonic())}
        try:
            save_run(self.workspace, self.record)
        except (SmbError, OSError) as exc:
            self.reporter.line(f"cannot save run file: {getattr(exc, 'message', None) or exc}")

    def _follow_activity(self) -> None:
        """Latest action, turn and cost of each agent that reports as it goes (stream-json)."""
        now = time.monotonic()
        if now - self.activity.read_at < 1.0:
            return
        self.activity.read_at = now
        changed = False
        latest = None
        for agent in self.live.values():
            if agent.stream is None:
                continue
            agent.stream.read_new(agent.job.log_path)
            action, turn, cost = agent.stream.snapshot()
            if (action, turn, cost) != (agent.action, agent.turn, agent.cost_usd):
                agent.action, agent.turn, agent.cost_usd = action, turn, cost
                changed = True
                latest = agent
        if latest is not None and latest.action:
            self.activity.text = f"{latest.job.domain}: {latest.action} (turn {latest.turn})"
        if changed:
            self._save_record()


# The classes that are not the conversation's fault: its session is kept for the next launch.
_KEEP_CLASSES = frozenset({classes.USAGE_LIMIT, classes.RATE_LIMITED, classes.OUTAGE, classes.STALLED,
                           classes.STOPPED})


def _keep_reason(outcome: Outcome) -> str | None:
    """Why the attempt's session is kept for the site's next launch; None: give it up (issue 21).
    Kept when the conversation is not at fault: a limit, an outage, a stall, a timeout, a stop."""
    if outcome.kind == "ok" or outcome.failure_class == classes.RESUME_FAILED:
        return None
    if outcome.kind in ("stopped", "timeout"):
        return outcome.kind
    return outcome.failure_class if outcome.failure_class in _KEEP_CLASSES else None


def _resume_refused(verdict) -> bool:
    """A continued session that failed at once: the CLI could not load it ("No conversation found"),
    or it ended without a single turn for a reason of its own (not a limit, an outage or a login)."""
    report = verdict.report
    if report is None:
        return False
    if "no conversation found" in report.message.lower():
        return True
    return report.turns == 0 and report.cls in (classes.SITE, classes.NO_OUTPUT) and not report.cost_usd


def _why(outcome: Outcome) -> str:
    """"<class>: <error>", without saying the class twice ("stalled: stalled: ...")."""
    reason = outcome.failure_class or outcome.kind
    return outcome.error if outcome.error.startswith(reason + ":") else f"{reason}: {outcome.error}"


def _jitter(hold_seconds: float) -> float:
    """A little after the reset (printed times are minute-rounded, and many runs resume at once)."""
    import random

    return 1.0 + random.uniform(0, min(30.0, max(0.0, hold_seconds) * 0.05))


