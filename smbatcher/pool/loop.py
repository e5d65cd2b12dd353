"""The pool: a rolling set of agents with claims, retries, a breaker and a clean stop (SPEC §4).

One loop, one thread. Each turn it (1) enforces deadlines and collects the
agents that ended, verifying their output, (2) writes every result and every
new claim in one registry transaction, (3) launches the claimed sites through
the executor, (4) sleeps until an agent exits, a deadline passes or a signal
arrives. The pool alone writes the registry; agents only write into their
staging folder, and only a verified success is moved into place.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import time
from collections import deque
from dataclasses import dataclass

from .. import holds, jail
from ..errors import EXIT_FAILED, EXIT_SIGINT, EXIT_SIGTERM, RegistryInvalid, SmbError, UsageError
from ..fs import open_append
from ..lifecycle import PARKED, RANK, UNCLAIM
from ..manifest import parse_manifest
from ..proc import own_create_time
from ..runs import AgentRecord, RunRecord, new_run_id, run_states, stop_survivors, take_breaker_reset
from ..runs import save as save_run
from ..selection import Selection, select
from ..notify import notify
from ..sitelog import read_tail
from ..units import format_money
from ..store import Store
from ..workspace import Workspace
from . import results as classes
from .executor import Ended, Executor, Job
from .guards import Backoff, Breaker, ResourceGuard
from .halt import Halt, HaltWatch
from .launch import Launcher, SiteProblem
from .options import RunOptions
from .results import Outcome, RunResult
from .wakeup import Wakeup


@dataclass
class LiveAgent:
    """A claimed site whose agent is running: what the pool needs when it ends."""

    job: Job
    started: float
    probe: bool  # the breaker's probe
    hold_probe: bool = False  # the first launch after a usage-limit hold
    stream: object = None  # agents.outcome.AgentStream for agents that report as they go
    action: str = ""
    turn: int = 0
    cost_usd: float = 0.0
    log_offset: int = 0  # where this attempt's output starts in its log


class Pool:
    def __init__(self, workspace: Workspace, store: Store, options: RunOptions, reporter,
                 executor: Executor | None = None) -> None:
        from .local import LocalExecutor

        self.workspace = workspace
        self.store = store
        self.options = options
        self.reporter = reporter
        self.phase = options.phase
        self.run_id = options.run_id or new_run_id(options.phase.name, options.batch)
        self.executor: Executor = executor or LocalExecutor()
        self.wakeup = Wakeup()
        self.live: dict[str, LiveAgent] = {}  # job key -> agent
        self.queue: deque[str] = deque()
        self.retry_queue: deque[str] = deque()
        self.before_claim: dict[str, str] = {}
        self.retries_used: dict[str, int] = {}
        self.pending: list[Outcome] = []  # outcomes not yet written to the registry
        self.unreported: list[Outcome] = []  # outcomes not yet counted in the result
        self.claim_attempt: dict[str, int] = {}
        self.last_write_error: str | None = None
        self.final: dict[str, Outcome] = {}  # each site's last counted outcome in this run
        self.breaker = Breaker(options.breaker_failures, options.breaker_cooldown)
        self.guard = ResourceGuard(workspace.root, options.disk_critical, options.min_free_memory)
        self.guard_reason: str | None = None
        self.staging_root = workspace.tmp / self.run_id
        self.record: RunRecord | None = None
        self.launcher: Launcher | None = None
        self.spec = None  # the agent (agents.presets.AgentSpec)
        self._stop_logged = False
        self.halt_watch = HaltWatch(options.halt, 0)
        self.halt: Halt | None = None
        self.stop_reason: str | None = None  # auth failure, halt, max_hold, cost: no more launches
        self.backoff = Backoff(options.breaker_cooldown)
        self.hold: holds.Hold | None = None
        self.hold_key: tuple | None = None
        self.hold_logged: float | None = None
        self.hold_probe_running = False
        self.hold_resume_at = 0.0  # wall clock: reset time plus jitter
        self.cost_total = 0.0
        self.site_cost: dict[str, float] = {}
        self.activity_at = 0.0
        self.activity = ""

    # -- selection ------------------------------------------------------------------------
    def plan(self) -> Selection:
        registry = self.store.read()
        if registry.problems:  # a writing command refuses it before anything starts (SPEC §2)
            raise RegistryInvalid(self.workspace.rel(self.workspace.registry), registry.problems)
        return select(registry, self.workspace, self.phase, self.options.batch, wave=self.options.wave,
                      wave_size=self.options.max_agents, sites=self.options.sites, redo=self.options.redo,
                      live_runs=run_states(self.workspace).live_ids)

    # -- the run --------------------------------------------------------------------------
    def run(self) -> RunResult:
        from ..agents import prompt_template
        from ..agents.presets import resolve_agent

        started = time.monotonic()
        self.spec = resolve_agent(self.options.agent, self.phase.name)
        selection = self.plan()
        result = RunResult(self.run_id, self.phase.name, self.options.batch, selection)
        if self.options.dry_run:
            return result
        # Everything that could refuse the run is read before the first claim (issue 8).
        template = prompt_template(self.workspace.prompts, self.phase.name)
        brief = self._read_brief()
        base_env = dict(os.environ)
        base_env.pop("SMB_BG_CHILD", None)
        base_env[jail.ENV], jail_warning = self.options.sandbox, jail.check(self.options.sandbox)  # issue 22
        self.launcher = Launcher(self.workspace, self.phase, self.options.batch, self.run_id, self.spec, template,
                                 brief, self.options.timeout, self.options.grace, self.staging_root, base_env)
        self.record = RunRecord(run_id=self.run_id, pid=os.getpid(), create_time=own_create_time(),
                                host=socket.gethostname(), phase=self.phase.name, batch=self.options.batch,
                                wave=self.options.wave, log=self.reporter.log_rel,
                                total=len(selection.eligible) + len(selection.stale), executor=self.executor.kind)
        # The executor first: a scheduler that cannot be reached is one line before anything is
        # recorded or claimed (issue 12).
        self.executor.open(self.wakeup)
        try:
            save_run(self.workspace, self.record)
        except BaseException:
            self.executor.close()
            raise
        self.wakeup.install()
        try:
            result.reclaimed = self._reclaim_stale(selection)
            self.queue.extend(selection.eligible + [d for d in selection.stale if d not in selection.eligible])
            self.record.total = len(self.queue)
            self.halt_watch.selection_size = len(self.queue)
            self.reporter.start(run_id=self.run_id, phase=self.phase.name, batch=self.options.batch,
                                wave=self.options.wave, total=len(self.queue), max_agents=self.options.max_agents,
                                agent=self.options.agent, pid=self.record.pid)
            if jail_warning:
                self.reporter.line(jail_warning)
            for domain, reason in selection.skipped:
                self.reporter.line(f"SKIP {domain} {reason}")
            self._loop(result)
        finally:
            if self.executor.running() and self.wakeup.stop_signal is None:
                # Leaving the loop on an error (not a signal): say so, never "SIGTERM received".
                self.reporter.line(f"stopping {len(self.live)} agents: the run is ending on an error; "
                                   "returning their sites")
                self.executor.stop()
            # Each step runs even if one before it fails: the claims must go back, the record must end.
            failed = _each(self.reporter.line, self.executor.close, self._collect, self._settle_window,
                           lambda: self._flush(final=True), self.wakeup.restore)
            self._tally(result)
            shutil.rmtree(self.staging_root, ignore_errors=True)
            result.seconds = time.monotonic() - started
            result.exit_code = self._exit_code(result)
            if self.wakeup.stop_signal is not None:
                result.signal_name = signal.Signals(self.wakeup.stop_signal).name  # the summary says why
            result.halt_reason = self.stop_reason
            result.cost_usd = self.cost_total
            self.record.ended = time.time()
            self.record.exit_code = result.exit_code
            self.record.agents = []
            self._save_record(final=True)
        if failed is not None:
            raise failed
        if self.stop_reason:
            self.reporter.line(f"stopped: {self.stop_reason}")
        self.reporter.finish(result)
        self._notify_end(result)
        return result

    def _notify_end(self, result: RunResult) -> None:
        if not self.options.notify:
            return
        if result.exit_code == 0 and result.ok and self._batch_complete():
            notify(self.options.notify, {"event": "batch-complete", "phase": self.phase.name,
                                         "batch": self.options.batch, "run": self.run_id, "ok": result.ok,
                                         "cost_usd": round(self.cost_total, 4)}, warn=self.reporter.line)
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

    def _exit_code(self, result: RunResult) -> int:
        if self.wakeup.stop_signal is not None:
            return EXIT_SIGINT if self.wakeup.stop_signal == signal.SIGINT else EXIT_SIGTERM
        if self.stop_reason and not (self.halt is not None and not self.halt.failure):
            return EXIT_FAILED
        if result.failed or result.parked or result.skipped:
            return EXIT_FAILED
        return 0

    def _read_brief(self) -> str:
        path = self.workspace.manifest(self.options.batch)
        try:
            return parse_manifest(path.read_text(encoding="utf-8")).brief
        except FileNotFoundError:
            return ""
        except UnicodeDecodeError as exc:
            raise UsageError(f"{self.workspace.rel(path)} is not UTF-8 text (byte {exc.start}); "
                             "nothing was claimed") from None
        except OSError as exc:
            raise UsageError(f"cannot read {self.workspace.rel(path)}: {exc.strerror or exc}; "
                             "nothing was claimed") from None

    def _reclaim_stale(self, selection: Selection) -> int:
        """Stop a dead run's surviving agents, then return its claims in our scope (logged)."""
        if not selection.stale:
            return 0
        stale = set(selection.stale)
        states = run_states(self.workspace)
        registry = self.store.read()
        owners = {registry.row(d).get("owner") for d in stale if registry.row(d) is not None} - states.live_ids - {""}
        for run_id, pid, domain in stop_survivors(states.dead, owners, self.options.grace, stale):
            self.reporter.line(f"stopped agent pid {pid} of dead run {run_id} ({domain})")
        reclaimed = 0
        with self.store.transaction(actor=self.run_id) as txn:
            for domain in selection.stale:
                row = txn.row(domain)
                if row is None or row.status != self.phase.claim or row.get("owner") in states.live:
                    continue
                txn.set_status(row, UNCLAIM[row.status], owner="", run=self.run_id, reason="stale claim reclaimed",
                               stale_owner=row.get("owner"))
                reclaimed += 1
        if reclaimed:
            self.reporter.line(f"reclaimed {reclaimed} stale claims: {', '.join(selection.stale[:10])}"
                               + (" ..." if len(selection.stale) > 10 else ""))
        return reclaimed

    def _loop(self, result: RunResult) -> None:
        while True:
            now = time.monotonic()
            for line in self.executor.tick(now):
                self.reporter.line(line)
            claims, probe = self._claim_count(now)
            claimed = self._flush(claim=claims)
            if probe and not claimed:
                self.breaker.probe_running = False
            self._launch_all(claimed, probe)
            if claimed:
                self._save_record()
            self._tally(result)
            if not self.live and not self._has_work() and self.halt_watch.window and self.wakeup.stop_signal is None \
                    and not self.stop_reason:
                self._settle_window()  # fewer sites than the window: they were the sites' own failures
                continue
            if not self.live and (self.wakeup.stop_signal is not None or self.stop_reason or not self._has_work()):
                return
            self._follow_activity()
            self.reporter.tick(running=len(self.live), activity=self.activity)
            self.wakeup.wait(self._next_timeout())
            if self.wakeup.stop_signal is not None:
                self._begin_stop()
            self._collect()
            if self.executor.changed():
                self._save_record()  # a remote agent started: its worker and pid go into the record

    def _has_work(self) -> bool:
        return bool(self.queue or self.retry_queue or self.pending)

    def _claim_count(self, now: float) -> tuple[int, bool]:
        """How many sites to claim now, and whether the one launch is the breaker's probe."""
        if self.wakeup.stop_signal is not None or self.stop_reason:
            return 0, False
        free = self.options.max_agents - len(self.live)
        if free <= 0 or not (self.queue or self.retry_queue):
            return 0, False
        held = self._held(time.time())
        if held is not None:
            return (1, False) if held == "probe" else (0, False)
        if self.backoff.active(now):
            return 0, False
        reason = self.guard.blocked(time.time())
        if reason != self.guard_reason:
            self.guard_reason = reason
            self.reporter.line(f"not launching: {reason}" if reason else "resources recovered: launching resumes")
        if reason:
            return 0, False
        if self.breaker.open_until is not None and take_breaker_reset(self.workspace, self.run_id):
            self.breaker.reset()
            self.reporter.line("breaker closed by hand (dashboard): launching resumes")
        allowed, probe = self.breaker.may_launch(now)
        if not allowed:
            return 0, False
        if probe:
            self.breaker.probe_running = True
            self.reporter.line("breaker half-open: launching one probe")
            return 1, True
        return free, False

    def _next_timeout(self) -> float:
        now = time.monotonic()
        timeout = 1.0
        due = self.executor.next_due(now)
        if due is not None:
            timeout = min(timeout, due)
        if self.breaker.open_until is not None:
            timeout = min(timeout, max(0.0, self.breaker.open_until - now))
        if self.backoff.until is not None:
            timeout = min(timeout, max(0.0, self.backoff.until - now))
        if self.hold is not None:
            timeout = min(timeout, max(0.0, self.hold_resume_at - time.time()))
        return timeout

    # -- registry writes ------------------------------------------------------------------
    def _flush(self, claim: int = 0, final: bool = False) -> list[str]:
        """Write pending outcomes and make up to ``claim`` new claims, in one transaction."""
        if final and self.launcher is not None:
            self.launcher.settle()  # the run's staging folder goes next, whole
        if not self.pending and not claim:
            return []
        claimed: list[str] = []
        attempts = 3 if final else 1
        for attempt in range(attempts):
            try:
                with self.store.transaction(actor=self.run_id) as txn:
                    for outcome in self.pending:
                        self._write_outcome(txn, outcome)
                    while claim > len(claimed) and (self.queue or self.retry_queue):
                        domain = (self.queue or self.retry_queue).popleft()
                        row = txn.row(domain)
                        if row is None:
                            continue
                        if row.status != self.phase.todo and not (self.options.redo and row.status in self.phase.redo_from):
                            continue  # another run took it, or its status changed: not ours to do
                        before = row.status  # read before set_status changes it to the claim
                        count = 0 if before == PARKED else row.attempts
                        txn.set_status(row, self.phase.claim, expect=before, owner=self.run_id,
                                       attempts=count + 1, run=self.run_id)
                        self.before_claim[domain] = self.phase.returned(before)
                        self.claim_attempt[domain] = count + 1
                        claimed.append(domain)
                self.pending = []
                if self.last_write_error:
                    self.reporter.line("registry writes succeed again")
                    self.last_write_error = None
                return claimed
            except SmbError as exc:
                # The claims popped from the queue were not written: put them back.
                for domain in reversed(claimed):
                    self.queue.appendleft(domain)
                claimed = []
                if exc.message != self.last_write_error:  # once per distinct error, not once a second
                    self.reporter.line(f"registry write failed ({exc.message}); will retry")
                self.last_write_error = exc.message
                if final and attempt + 1 < attempts:
                    time.sleep(1)
        return claimed

    def _write_outcome(self, txn, outcome: Outcome) -> None:
        row = txn.row(outcome.domain)
        if row is None or row.status != self.phase.claim or row.get("owner") != self.run_id:
            return  # taken from us (doctor, --force): the registry now says otherwise
        previous = self.before_claim.get(outcome.domain, self.phase.todo)
        fields = {"run": self.run_id, "log": outcome.log, "seconds": round(outcome.seconds, 1)}
        if outcome.report is not None:
            fields.update({k: v for k, v in outcome.report.as_event().items() if v not in (None, "", 0, 0.0)})
        if outcome.failure_class:
            fields["class"] = outcome.failure_class
        if outcome.kind == "ok":
            txn.set_status(row, self.phase.done, owner="", attempts=0, note="", **fields)
        elif outcome.kind == "stopped":
            txn.set_status(row, previous, owner="", attempts=max(0, row.attempts - 1), reason=outcome.kind, **fields)
        elif not outcome.counted:
            # Not the site's fault (an outage, a limit, a halt): back where it was, the attempt given back,
            # and the reason in the note so that `smb list-sites --format table` says why.
            txn.set_status(row, previous, owner="", attempts=max(0, row.attempts - 1), reason=outcome.kind,
                           note=f"{self.phase.name}: {outcome.failure_class or outcome.kind}: {outcome.error}"[:300],
                           **fields)
        elif outcome.parked:
            txn.set_status(row, PARKED, owner="", note=f"{self.phase.name}: {outcome.error}"[:300],
                           exit=outcome.exit_code, **fields)
        else:
            txn.set_status(row, previous, owner="", note=f"{self.phase.name}: {outcome.error}"[:300],
                           exit=outcome.exit_code, **fields)

    # -- agents ---------------------------------------------------------------------------
    def _launch_all(self, domains: list[str], probe: bool) -> None:
        """Start the claimed sites' agents; a launch that cannot happen is a failed attempt."""
        hold_probe = self.hold is not None and bool(domains)
        if hold_probe:
            self.hold_probe_running = True
            self.reporter.line(f"{self.hold.describe()} has passed: launching one probe")
        for domain in domains:
            attempt = self.claim_attempt.get(domain, 1)
            log = self.launcher.log_rel(domain, attempt)
            try:
                job = self.launcher.job(domain, attempt)
            except SiteProblem as exc:
                self._record_outcome(Outcome(domain, "error", attempt, 0.0, log=log, error=str(exc)), probe)
                continue
            except OSError as exc:
                self._record_outcome(Outcome(domain, "error", attempt, 0.0, log=log,
                                             error=f"cannot prepare the agent: {exc.strerror or exc}"), probe)
                continue
            try:
                log_offset = os.stat(job.log_path).st_size  # a retried attempt number appends to its log
            except OSError:
                log_offset = 0
            try:
                self.executor.start(job)
            except OSError as exc:
                self.launcher.discard(job)
                self._record_outcome(Outcome(domain, "error", attempt, 0.0, log=log,
                                             error=f"cannot start agent: {exc.strerror or exc}"), probe)
                continue
            stream = None
            if self.spec.protocol == "json-result":
                from ..agents.outcome import AgentStream

                stream = AgentStream()
                stream._offset = log_offset  # follow this attempt's lines only
            self.live[job.key] = LiveAgent(job, time.monotonic(), probe, hold_probe=hold_probe, stream=stream,
                                           log_offset=log_offset)

    def _collect(self) -> None:
        for ended in self.executor.collect():
            agent = self.live.pop(ended.key, None)
            if agent is None:
                continue
            try:
                self._finish_agent(agent, ended)
            except Exception as exc:  # a bug handling one result must not strand the others' claims
                self.reporter.line(f"internal error finishing {agent.job.domain}: {type(exc).__name__}: {exc}; "
                                   "its site is returned, the attempt not counted")
                self.pending.append(Outcome(agent.job.domain, "stopped", agent.job.attempt, 0.0,
                                            log=agent.job.log_rel, counted=False))

    def _finish_agent(self, agent: LiveAgent, ended: Ended) -> None:
        from ..agents.outcome import classify

        job = agent.job
        seconds = time.monotonic() - agent.started
        log_rel = job.log_rel
        outcome = Outcome(job.domain, "failed", job.attempt, seconds, exit_code=ended.exit_code, log=log_rel)
        if ended.stopped:
            outcome.kind, outcome.failure_class = "stopped", classes.STOPPED
        elif ended.lost:
            outcome.kind, outcome.counted, outcome.error = "error", False, ended.error or "worker lost"
            outcome.not_counted_because = "worker lost"
            outcome.failure_class = classes.OUTAGE
        elif ended.error:
            outcome.kind, outcome.error, outcome.failure_class = "error", ended.error, classes.SITE
        else:
            output_ok = ended.exit_code == 0 and not ended.timed_out and self.launcher.has_output(job)
            said = read_tail(job.log_path, 256 * 1024, start=agent.log_offset)
            report = classify(ended.exit_code, said, ended.timed_out, output_ok)
            outcome.report, outcome.failure_class = report, report.cls
            if report.cls == classes.OK:
                try:
                    problem = self.launcher.promote(job)
                except OSError as exc:  # one odd site must not end the run (issue 8)
                    problem = f"cannot move the result into place: {exc.strerror or exc}"
                if problem:
                    outcome.error, outcome.failure_class = problem, classes.NO_OUTPUT
                else:
                    outcome.kind = "ok"
            elif ended.timed_out:
                outcome.kind = "timeout"
                outcome.error = f"timeout after {job.timeout:g}s" + (f": {report.message}" if report.message else "")
            elif ended.exit_code == 0:
                outcome.error = (report.message if report.cls != classes.NO_OUTPUT or "index.html" in report.message
                                 else self._missing_output())
            else:
                outcome.error = f"exit={ended.exit_code}" + (f": {report.message}" if report.message else "")
        self.launcher.discard(job)
        self._log_verdict(job, outcome)
        self._record_outcome(outcome, probe=agent.probe, hold_probe=agent.hold_probe)

    @staticmethod
    def _log_verdict(job, outcome: Outcome) -> None:
        """The per-site log ends with smb's verdict: class and message, next to the agent's own output."""
        verdict = "ok" if outcome.kind == "ok" else f"{outcome.failure_class or outcome.kind}: {outcome.error}"
        line = f"\n=== smb end {job.domain} attempt {job.attempt}: {verdict} ({outcome.seconds:.1f}s)\n"
        try:
            log = open_append(job.log_path)
            try:
                os.write(log, line.encode("utf-8", "replace"))
            finally:
                os.close(log)
        except OSError:
            pass  # the registry and the event log carry the verdict too

    def _missing_output(self) -> str:
        if self.phase.name == "implement":
            return "exit 0 but no index.html in the output folder"
        return "exit 0 but no design file was written"

    def _record_outcome(self, outcome: Outcome, probe: bool, hold_probe: bool = False) -> None:
        now = time.monotonic()
        cls = outcome.failure_class or (classes.OK if outcome.kind == "ok" else classes.SITE)
        self._count_cost(outcome)
        if hold_probe:
            self.hold_probe_running = False
            if cls != classes.USAGE_LIMIT and outcome.kind != "stopped":
                self._end_hold("the probe got through")
        if outcome.kind == "stopped":
            if probe:
                self.breaker.probe_running = False
        elif self.halt is not None and outcome.kind != "ok":
            outcome.counted = False  # the run halted: what its agents did after is not the sites' fault
            outcome.not_counted_because = "halted"
        elif cls == classes.USAGE_LIMIT:
            outcome.counted, outcome.not_counted_because = False, "usage limit"
            if probe:
                self.breaker.probe_running = False
            self.queue.appendleft(outcome.domain)  # first in line once the hold ends
            self._start_hold(outcome)
        elif cls == classes.RATE_LIMITED:
            outcome.counted, outcome.not_counted_because = False, "rate limited"
            if probe:
                self.breaker.probe_running = False
            self.queue.appendleft(outcome.domain)
            wait = self.backoff.failed(now)
            self.reporter.line(f"rate limited ({outcome.report.message if outcome.report is not None else outcome.error}); "
                               f"backing off {wait:g}s")
        elif cls == classes.AUTH:
            outcome.counted, outcome.not_counted_because = False, "auth failure"
            if probe:
                self.breaker.probe_running = False
            self._stop_run(f"the agent cannot authenticate: {outcome.report.message if outcome.report is not None else outcome.error}"
                           f"; fix its credentials (smb agents shows what it uses), then run again",
                           event="auth", now_stop=True)
        else:
            if outcome.kind == "ok":
                self.backoff.succeeded()
            held_back = outcome.kind != "ok" and self.halt_watch.holds_back(outcome)
            halt, released = self.halt_watch.observe(outcome)
            if halt is not None and halt.failure and self.halt_watch.window:
                # The first attempts all failed the same way: the agent's fault, not the sites'.
                for waiting in self.halt_watch.window:
                    waiting.counted, waiting.not_counted_because = False, "halted"
                    if waiting is not outcome:
                        self.pending.append(waiting)
                self.halt_watch.window = []
                outcome.counted, outcome.not_counted_because = False, "halted"
                self._halt(halt)
            else:
                for waiting in released:
                    if waiting is not outcome:
                        self._breaker_and_retry(waiting, False, now, late=True)
                if not held_back or released:
                    self._breaker_and_retry(outcome, probe, now)
                if halt is not None:
                    self._halt(halt)
                if held_back and not released:
                    # Shown now; written (counted or not) once the first window decides.
                    self.unreported.append(outcome)
                    self.reporter.outcome(outcome, self.options.max_attempts)
                    return
        self.pending.append(outcome)
        self.unreported.append(outcome)
        self.reporter.outcome(outcome, self.options.max_attempts)

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
        if outcome.kind != "ok" and outcome.counted and outcome.failure_class == classes.OUTAGE and not probe:
            # The agent said the API failed (5xx, 529, network, API timeout): the breaker's business,
            # not the site's. Only the breaker's probe counts, so that an outage lasting all night
            # burns one attempt per cooldown, not every site's attempts in minutes.
            outcome.counted, outcome.not_counted_because = False, "outage"
        cost_parked = (self.options.max_cost_per_site is not None
                       and self.site_cost.get(outcome.domain, 0.0) >= self.options.max_cost_per_site)
        if outcome.kind != "ok" and outcome.counted:
            if outcome.attempt >= self.options.max_attempts or cost_parked:
                outcome.parked = True
                if cost_parked:
                    outcome.error += (f" (cost {format_money(self.site_cost[outcome.domain])} reached "
                                      f"max_cost_per_site {format_money(self.options.max_cost_per_site)})")
            else:
                used = self.retries_used.get(outcome.domain, 0)
                if self.options.retries is None or used < self.options.retries:
                    self.retries_used[outcome.domain] = used + 1
                    self.retry_queue.append(outcome.domain)  # after the other sites
        elif outcome.kind != "ok":
            self.queue.append(outcome.domain)  # not counted (breaker open, worker lost): try again later
        if late:
            self.pending.append(outcome)

    # -- holds, halts, cost -----------------------------------------------------------------
    def _count_cost(self, outcome: Outcome) -> None:
        cost = getattr(outcome.report, "cost_usd", 0.0) or 0.0
        if not cost:
            return
        self.cost_total += cost
        self.site_cost[outcome.domain] = self.site_cost.get(outcome.domain, 0.0) + cost
        if self.record is not None:
            self.record.cost_usd = round(self.cost_total, 6)
        limit = self.options.max_cost_total
        if limit is not None and self.cost_total >= limit and not self.stop_reason:
            self._stop_run(f"cost {format_money(self.cost_total)} reached max_cost_total {format_money(limit)}; "
                           "no more launches", event="cost")
        report = outcome.report
        if (report is not None and report.quota_utilization is not None and self.options.quota_budget < 1.0
                and report.quota_utilization >= self.options.quota_budget and report.cls != classes.USAGE_LIMIT):
            self._start_hold(outcome, limit="quota")

    def _held(self, wall: float) -> str | None:
        """None: launch freely; "held": launch nothing; "probe": the hold has passed, launch one probe."""
        key = holds.identity(self.workspace)
        if key != self.hold_key:
            self.hold_key = key
            hold = holds.read(self.workspace) if key is not None else None
            if hold is None and self.hold is not None:
                self.reporter.line("hold released: launching resumes")
                self.hold = None
            elif hold is not None and (self.hold is None or hold.until != self.hold.until):
                self.hold = hold
                self.hold_resume_at = hold.until + _jitter(hold.until - max(hold.since, 0) if hold.since else 60)
        if self.hold is None:
            return None
        if wall - (self.hold.since or wall) > self.options.max_hold:
            self._stop_run(f"usage limits held this run for longer than max_hold "
                           f"({self.options.max_hold / 3600:g}h); stopping", event="max-hold")
            return "held"
        if wall < self.hold_resume_at:
            self.activity = self.hold.describe()
            if self.hold_logged != self.hold.until:
                self.hold_logged = self.hold.until
                self.reporter.line(f"{self.hold.describe()}: not launching ({self.hold.message})")
            return "held"
        return "held" if self.hold_probe_running or self.live else "probe"

    def _start_hold(self, outcome: Outcome, limit: str | None = None) -> None:
        report = outcome.report
        wall = time.time()
        until = getattr(report, "reset_at", None) or wall + min(self.options.max_hold, 1800)
        current = holds.read(self.workspace)
        if current is not None and current.until >= until:
            return  # already held at least that long (another agent or run said so first)
        since = current.since if current is not None else (self.hold.since if self.hold is not None else wall)
        probes = (current.probes + 1) if current is not None else (self.hold.probes + 1 if self.hold else 0)
        hold = holds.Hold(until=until, limit=limit or getattr(report, "limit", "") or "unknown",
                          message=(getattr(report, "message", "") or outcome.error)[:200],
                          source=f"{outcome.domain} attempt {outcome.attempt} of run {self.run_id}",
                          since=since, probes=probes)
        try:
            holds.write(self.workspace, hold)
        except (SmbError, OSError) as exc:
            self.reporter.line(f"cannot record the hold: {getattr(exc, 'message', None) or exc}")
        self.hold, self.hold_key = hold, holds.identity(self.workspace)
        self.hold_resume_at = until + _jitter(until - wall)
        self.hold_logged = until
        self.reporter.line(f"usage limit: {hold.describe()}: {hold.message}; no attempt counted")
        self._event({"event": "hold", "until": until, "limit": hold.limit, "message": hold.message,
                     "run": self.run_id, "domain": outcome.domain})
        notify(self.options.notify, {"event": "hold-start", "until": until, "limit": hold.limit,
                                     "message": hold.message, "run": self.run_id}, warn=self.reporter.line)

    def _end_hold(self, why: str) -> None:
        if self.hold is None:
            return
        ended, self.hold = self.hold, None
        current = holds.read(self.workspace)
        if current is not None and current.until <= ended.until:
            holds.release(self.workspace)
        self.hold_key = holds.identity(self.workspace)
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
            self.queue.clear()
            self.retry_queue.clear()
            if halt.mode == "now":
                self.executor.stop()

    def _stop_run(self, reason: str, *, event: str, now_stop: bool = False) -> None:
        if self.stop_reason:
            return
        self.stop_reason = reason
        self.reporter.line(reason if event == "halt" else f"stopping: {reason}")
        self.queue.clear()
        self.retry_queue.clear()
        if now_stop:
            self.executor.stop()
        fields = {"event": event if event != "halt" else "halt", "reason": reason, "run": self.run_id}
        if event == "halt" and self.halt is not None:
            fields.update(reason=self.halt.reason, fix=self.halt.fix)
        self._event(fields)
        self._save_record()
        notify(self.options.notify, {**fields, "event": event if event != "halt" else "halt"},
               warn=self.reporter.line)

    def _event(self, event: dict) -> None:
        from .. import events as event_log

        try:
            event_log.append(self.workspace.events, [{"actor": self.run_id, "batch": self.options.batch, **event}])
        except (SmbError, OSError):
            pass  # the registry is the record; a lost event line is not worth stopping the run

    def _follow_activity(self) -> None:
        """Latest action, turn and cost of each agent that reports as it goes (stream-json)."""
        now = time.monotonic()
        if now - self.activity_at < 1.0:
            return
        self.activity_at = now
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
            self.activity = f"{latest.job.domain}: {latest.action} (turn {latest.turn})"
        if changed:
            self._save_record()

    def _tally(self, result: RunResult) -> None:
        outcomes, self.unreported = self.unreported, []
        for outcome in outcomes:
            result.outcomes.append(outcome)
            if outcome.kind == "stopped":
                result.stopped += 1
            elif outcome.kind == "ok" or outcome.counted:
                self.final[outcome.domain] = outcome
        # Counted per site, by its last counted outcome: a site that failed, was retried and then
        # built is ok, and a site parked after three failures is one parked site, not three failures.
        finals = self.final.values()
        result.ok = sum(1 for o in finals if o.kind == "ok")
        result.parked = sum(1 for o in finals if o.kind != "ok" and o.parked)
        result.failed = sum(1 for o in finals if o.kind != "ok" and not o.parked and o.counted)
        if self.record is not None:
            self.record.done = result.ok
            self.record.failed = result.failed + result.parked

    def _save_record(self, final: bool = False) -> None:
        if self.record is None:
            return
        if not final:
            by_key = {r.key: r for r in self.executor.running()}
            self.record.agents = [
                AgentRecord(a.job.domain, by_key[k].pid, by_key[k].create_time, a.job.attempt,
                            time.time() - (time.monotonic() - a.started), phase=a.job.phase, action=a.action,
                            turn=a.turn, cost_usd=round(a.cost_usd, 6), worker=by_key[k].worker)
                for k, a in self.live.items() if k in by_key]
        self.record.breaker = {"state": self.breaker.state, "trips": self.breaker.trips,
                               "until": None if self.breaker.open_until is None else
                               time.time() + max(0.0, self.breaker.open_until - time.monotonic())}
        try:
            save_run(self.workspace, self.record)
        except (SmbError, OSError) as exc:
            self.reporter.line(f"cannot save run file: {getattr(exc, 'message', None) or exc}")

    # -- stopping -------------------------------------------------------------------------
    def _begin_stop(self) -> None:
        self.executor.stop(kill=self.wakeup.kill_now)
        if not self._stop_logged:
            self._stop_logged = True
            name = signal.Signals(self.wakeup.stop_signal).name
            self.reporter.line(f"{name} received: stopping {len(self.live)} agents "
                               f"(grace {self.options.grace:g}s), returning their sites")
        self.queue.clear()
        self.retry_queue.clear()


def _jitter(hold_seconds: float) -> float:
    """A little after the reset (printed times are minute-rounded, and many runs resume at once)."""
    import random

    return 1.0 + random.uniform(0, min(30.0, max(0.0, hold_seconds) * 0.05))


def _each(say, *steps) -> BaseException | None:
    """Run every step; report and keep the first exception instead of skipping the steps after it."""
    first = None
    for step in steps:
        try:
            step()
        except Exception as exc:
            say(f"while ending the run: {type(exc).__name__}: {exc}")
            first = first or exc
    return first
