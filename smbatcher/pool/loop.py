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

from .. import jail
from ..agents import classes
from ..agents.presets import JSON_RESULT
from ..errors import EXIT_FAILED, EXIT_SIGINT, EXIT_SIGTERM, EXIT_USAGE, RegistryInvalid, SmbError, UsageError
from ..lifecycle import PARKED, UNCLAIM
from ..proc import own_create_time
from ..runs import RunRecord, new_run_id, run_states, stop_survivors, take_breaker_reset
from ..runs import save as save_run
from ..selection import Selection, select
from ..store import Store
from ..workspace import Workspace
from .attempt import exec_failure
from .executor import Executor, Job
from .guards import Backoff, Breaker, ResourceGuard
from .halt import Halt, HaltWatch
from .launch import Launcher, SiteBusy, SiteProblem, read_brief
from .options import RunOptions
from .record import Recorder
from .repair import Repairer
from .results import Outcome, RunResult
from .state import Activity, HoldState, Ledger, LiveAgent, Spend, Work
from .wakeup import Wakeup


class Pool(Recorder, Repairer):
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
        self.work, self.ledger = Work(), Ledger()
        self.launcher: Launcher | None = None
        self.spec = None  # the agent (agents.presets.AgentSpec)
        self.staging_root = workspace.tmp / self.run_id
        self.record: RunRecord | None = None
        # What may hold launching back: the breaker, a 429's back-off, the disk/memory guard, a
        # usage-limit hold, the halt watch, a reason to stop launching at all.
        self.breaker = Breaker(options.breaker_failures, options.breaker_cooldown)
        self.backoff = Backoff(options.breaker_cooldown)
        self.guard = ResourceGuard(workspace.root, options.disk_critical, options.min_free_memory)
        self.guard_reason: str | None = None
        self.holding = HoldState()
        self.halt_watch = HaltWatch(options.halt, 0)
        self.halt: Halt | None = None
        self.stop_reason: str | None = None  # auth failure, halt, max_hold, cost: no more launches
        self._stop_logged = False
        self.started_any = False  # an agent has been started in this run
        self.cannot_start = ""  # the agent's command cannot be executed: the run's problem (issue 20)
        self.spend, self.activity = Spend(), Activity()

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
        from ..agents.presets import agent_caps, keeps_sessions, resolve_agent

        started = time.monotonic()
        self.spec = resolve_agent(self.options.agent, self.phase.name)
        selection = self.plan()
        result = RunResult(self.run_id, self.phase.name, self.options.batch, selection)
        if self.options.dry_run:
            return result
        # Everything that could refuse the run is read before the first claim (issue 8).
        template = prompt_template(self.workspace.prompts, self.phase.name)
        brief = read_brief(self.workspace, self.options.batch)
        base_env = dict(os.environ)
        base_env.pop("SMB_BG_CHILD", None)
        base_env[jail.ENV] = self.options.sandbox  # issue 22: the mode travels with every job
        # Where the agents run decides: on Dask each worker probes its own bwrap (and "on" without it
        # stops the run as an agent that cannot start); this machine's bwrap says nothing about theirs.
        jail_warning = jail.check(self.options.sandbox) if self.executor.kind == "local" else None
        self.launcher = Launcher(self.workspace, self.phase, self.options.batch, self.run_id, self.spec, template,
                                 brief, self.options.timeout, self.options.grace, self.staging_root, base_env,
                                 stall_timeout=self._stall_timeout(),
                                 caps=agent_caps(self.spec, max_turns=self.options.max_turns,
                                                 fallback_model=self.options.fallback_model),
                                 sessions=keeps_sessions(self.spec), max_resumes=self.options.max_resumes)
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
            self.work.queue.extend(selection.eligible + [d for d in selection.stale if d not in selection.eligible])
            self.record.total = len(self.work.queue)
            self.halt_watch.selection_size = len(self.work.queue)
            self.reporter.start(run_id=self.run_id, phase=self.phase.name, batch=self.options.batch,
                                wave=self.options.wave, total=len(self.work.queue), max_agents=self.options.max_agents,
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
            result.cost_usd = self.spend.total
            self.record.ended = time.time()
            self.record.exit_code = result.exit_code
            self.record.agents = []
            self._save_record(final=True)
        if failed is not None:
            raise failed
        if self.cannot_start and not self.started_any:
            raise UsageError(f"{self.cannot_start}; nothing was counted")  # one line, exit 2
        if self.stop_reason:
            self.reporter.line(f"stopped: {self.stop_reason}")
        self.reporter.finish(result)
        self._notify_end(result)
        return result

    def _exit_code(self, result: RunResult) -> int:
        if self.wakeup.stop_signal is not None:
            return EXIT_SIGINT if self.wakeup.stop_signal == signal.SIGINT else EXIT_SIGTERM
        if self.cannot_start and not self.started_any:
            return EXIT_USAGE
        if self.stop_reason and not (self.halt is not None and not self.halt.failure):
            return EXIT_FAILED
        if result.failed or result.parked or result.skipped:
            return EXIT_FAILED
        return 0

    def _budget(self, domain: str) -> float | None:
        """What the site may still spend in this run, for an agent that takes it (max_cost_per_site)."""
        from ..agents.presets import wants_budget

        limit = self.options.max_cost_per_site
        if limit is None or not wants_budget(self.spec):
            return None
        return limit - self.spend.per_site.get(domain, 0.0)

    def _stall_timeout(self) -> float:
        """``--stall-timeout``, else ``[agents] stall_timeout``, else the agent preset's default."""
        chosen = self.options.stall_timeout
        return chosen if chosen is not None else self.spec.stall_timeout

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
            self.reporter.tick(running=len(self.live), activity=self.activity.text)
            self.wakeup.wait(self._next_timeout())
            if self.wakeup.stop_signal is not None:
                self._begin_stop()
            self._collect()
            if self.executor.changed():
                self._save_record()  # a remote agent started: its worker and pid go into the record

    def _has_work(self) -> bool:
        return bool(self.work.queue or self.work.retry_queue or self.ledger.pending)

    def _claim_count(self, now: float) -> tuple[int, bool]:
        """How many sites to claim now, and whether the one launch is the breaker's probe."""
        if self.wakeup.stop_signal is not None or self.stop_reason:
            return 0, False
        free = self.options.max_agents - len(self.live)
        if free <= 0 or not (self.work.queue or self.work.retry_queue):
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
        if self.holding.current is not None:
            timeout = min(timeout, max(0.0, self.holding.resume_at - time.time()))
        return timeout

    # -- registry writes ------------------------------------------------------------------
    def _flush(self, claim: int = 0, final: bool = False) -> list[str]:
        """Write pending outcomes and make up to ``claim`` new claims, in one transaction."""
        if final and self.launcher is not None:
            self.launcher.settle()  # the run's staging folder goes next, whole
        if not self.ledger.pending and not claim:
            return []
        claimed: list[str] = []
        attempts = 3 if final else 1
        for attempt in range(attempts):
            try:
                with self.store.transaction(actor=self.run_id) as txn:
                    for outcome in self.ledger.pending:
                        self._write_outcome(txn, outcome)
                    while claim > len(claimed) and (self.work.queue or self.work.retry_queue):
                        domain = (self.work.queue or self.work.retry_queue).popleft()
                        row = txn.row(domain)
                        if row is None:
                            continue
                        redo = self.options.redo and row.status in self.phase.redo_from
                        if row.status != self.phase.todo and not redo:
                            continue  # another run took it, or its status changed: not ours to do
                        before = row.status  # read before set_status changes it to the claim
                        count = 0 if before == PARKED else row.attempts
                        txn.set_status(row, self.phase.claim, expect=before, owner=self.run_id,
                                       attempts=count + 1, run=self.run_id)
                        self.work.before_claim[domain] = self.phase.returned(before)
                        self.work.claim_attempt[domain] = count + 1
                        claimed.append(domain)
                self.ledger.pending = []
                if self.ledger.last_write_error:
                    self.reporter.line("registry writes succeed again")
                    self.ledger.last_write_error = None
                return claimed
            except SmbError as exc:
                # The claims popped from the queue were not written: put them back.
                for domain in reversed(claimed):
                    self.work.queue.appendleft(domain)
                claimed = []
                if exc.message != self.ledger.last_write_error:  # once per distinct error, not once a second
                    self.reporter.line(f"registry write failed ({exc.message}); will retry")
                self.ledger.last_write_error = exc.message
                if final and attempt + 1 < attempts:
                    time.sleep(1)
        return claimed

    # -- agents ---------------------------------------------------------------------------
    def _launch_all(self, domains: list[str], probe: bool) -> None:
        """Start the claimed sites' agents; a launch that cannot happen is a failed attempt."""
        hold_probe = self.holding.current is not None and bool(domains)
        if hold_probe:
            self.holding.probe_running = True
            self.reporter.line(f"{self.holding.current.describe()} has passed: launching one probe")
        for domain in domains:
            attempt = self.work.claim_attempt.get(domain, 1)
            log = self.launcher.log_rel(domain, attempt)
            try:
                job = self.launcher.job(domain, attempt, budget=self._budget(domain))
            except SiteBusy as exc:  # issue 21: a person has its session open; the site goes back
                self.reporter.line(f"SKIP {domain}: {exc}")
                self._record_outcome(Outcome(domain, "stopped", attempt, 0.0, log=log, counted=False,
                                             error=str(exc)), probe)
                continue
            except SiteProblem as exc:
                self._record_outcome(Outcome(domain, "error", attempt, 0.0, log=log, error=str(exc)), probe)
                continue
            except OSError as exc:
                self._record_outcome(Outcome(domain, "error", attempt, 0.0, log=log,
                                             error=f"cannot prepare the agent: {exc.strerror or exc}"), probe)
                continue
            if self.cannot_start:  # an earlier launch found the agent cannot start: this site goes back
                self.launcher.not_started(job)
                self._record_outcome(Outcome(domain, "stopped", attempt, 0.0, log=log, counted=False), probe)
                continue
            try:
                self._start_agent(job, probe, hold_probe)
            except OSError as exc:
                self.launcher.not_started(job)
                line = exec_failure(exc, job)
                self._record_outcome(Outcome(domain, "error", attempt, 0.0, log=log,
                                             error=line or f"cannot start agent: {exc.strerror or exc}",
                                             failure_class=classes.CANNOT_START if line else ""), probe)
                continue
            self.started_any = True

    def _start_agent(self, job: Job, probe: bool, hold_probe: bool, *, started: float | None = None,
                     **extra) -> LiveAgent:
        """Start ``job`` on the executor (OSError when it cannot) and follow it: from where its log ends now
        (a retried attempt number appends to its log), with a stream for an agent that reports as it goes."""
        try:
            log_offset = os.stat(job.log_path).st_size
        except OSError:
            log_offset = 0
        self.executor.start(job)
        stream = None
        if self.spec.protocol == JSON_RESULT:
            from ..agents.stream import AgentStream

            stream = AgentStream(offset=log_offset)
        agent = LiveAgent(job, time.monotonic() if started is None else started, probe, hold_probe=hold_probe,
                          stream=stream, log_offset=log_offset, **extra)
        self.live[job.key] = agent
        return agent

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
                self.ledger.pending.append(Outcome(agent.job.domain, "stopped", agent.job.attempt, 0.0,
                                            log=agent.job.log_rel, counted=False))

    # -- stopping -------------------------------------------------------------------------
    def _begin_stop(self) -> None:
        self.executor.stop(kill=self.wakeup.kill_now)
        if not self._stop_logged:
            self._stop_logged = True
            name = signal.Signals(self.wakeup.stop_signal).name
            self.reporter.line(f"{name} received: stopping {len(self.live)} agents "
                               f"(grace {self.options.grace:g}s), returning their sites")
        self.work.clear()


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
