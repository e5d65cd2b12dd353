"""The runner: a rolling pool of agents with claims, supervision, retries and a circuit breaker.

One loop, one thread. Each turn it (1) collects agents that ended and
verifies their output, (2) writes every result and every new claim in one
registry transaction, (3) launches the claimed sites, (4) sleeps until an
agent exits, a deadline passes or a signal arrives (pidfds and the signal
wakeup fd in one selector). The runner alone writes the registry; agents only
write into their staging folder, and only a verified success is moved into
``sites/`` or ``designs/`` (SPEC §4).
"""

from __future__ import annotations

import errno
import os
import selectors
import shutil
import signal
import socket
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from . import proc
from .agents import agent_argv, prompt_template
from .config import Settings
from .errors import EXIT_FAILED, EXIT_SIGINT, EXIT_SIGTERM, RegistryInvalid, SmbError
from .manifest import parse_manifest
from .runs import AgentRecord, RunRecord, live_owner_ids, load_all, new_run_id, own_create_time, stop_survivors
from .runs import save as save_run
from .selection import IMPLEMENT, UNCLAIM, Phase, Selection, select
from .store import Store
from .workspace import Workspace

_RENAME_EXCHANGE = 2


@dataclass
class RunOptions:
    phase: Phase
    batch: str
    max_agents: int
    timeout: float
    grace: float
    max_attempts: int
    retries: int | None  # None: retry until the site is parked
    agent: str
    wave: int | None = None
    sites: list[str] | None = None
    redo: bool = False
    dry_run: bool = False
    breaker_failures: int = 5
    breaker_cooldown: float = 120.0
    min_free_memory: int = 0
    disk_critical: int = 0
    run_id: str | None = None


@dataclass
class Outcome:
    """What became of one agent run; ``bool(outcome)`` is success."""

    domain: str
    kind: str  # ok | failed | timeout | stopped | error
    attempt: int
    seconds: float
    exit_code: int | None = None
    log: str = ""
    error: str = ""
    parked: bool = False
    counted: bool = True

    def __bool__(self) -> bool:
        return self.kind == "ok"


@dataclass
class RunResult:
    run_id: str
    phase: str
    batch: str
    selection: Selection
    outcomes: list[Outcome] = field(default_factory=list)
    ok: int = 0
    failed: int = 0
    parked: int = 0
    stopped: int = 0
    reclaimed: int = 0
    seconds: float = 0.0
    signal_name: str | None = None
    exit_code: int = 0

    @property
    def skipped(self) -> list[tuple[str, str]]:
        return self.selection.skipped


class Breaker:
    """Circuit breaker: after N consecutive failures, pause; then one probe; a success resumes.

    Failures reported while the breaker is open come from agents launched
    before it opened: they are most likely the outage itself, so they are not
    counted against their site (an outage must not burn every site's attempts).
    """

    def __init__(self, threshold: int, cooldown: float) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self.consecutive = 0
        self.open_until: float | None = None
        self.probe_running = False
        self.trips = 0

    def may_launch(self, now: float) -> tuple[bool, bool]:
        """(may launch, the launch is the probe)."""
        if self.open_until is None:
            return True, False
        if now < self.open_until or self.probe_running:
            return False, False
        return True, True

    def record(self, success: bool, probe: bool, now: float) -> tuple[bool, str | None]:
        """Returns (the failure counts against the site, a message when the state changed)."""
        if probe:
            self.probe_running = False
        if success:
            was_open = self.open_until is not None
            self.consecutive = 0
            self.open_until = None
            return True, "breaker closed: a success, launching resumes" if was_open else None
        if self.open_until is not None and not probe:
            return False, None
        self.consecutive += 1
        if probe or self.consecutive >= self.threshold:
            self.open_until = now + self.cooldown
            self.trips += 1
            why = "probe failed" if probe else f"{self.consecutive} consecutive failures"
            return True, f"breaker open: {why}; pausing launches for {self.cooldown:g}s, then one probe"
        return True, None


class ResourceGuard:
    """No new launch while free disk is under disk_critical or available memory under min_free_memory."""

    def __init__(self, root: Path, disk_critical: int, min_free_memory: int) -> None:
        self.root = root
        self.disk_critical = disk_critical
        self.min_free_memory = min_free_memory
        self.checked_at = 0.0
        self.reason: str | None = None

    def blocked(self, now: float) -> str | None:
        if now - self.checked_at < 1.0:
            return self.reason
        self.checked_at = now
        from .config import format_size

        reason = None
        free = shutil.disk_usage(self.root).free
        if free < self.disk_critical:
            reason = f"free disk {format_size(free)} is under disk_critical {format_size(self.disk_critical)}"
        elif self.min_free_memory:
            import psutil

            available = psutil.virtual_memory().available
            if available < self.min_free_memory:
                reason = (f"available memory {format_size(available)} is under min_free_memory "
                          f"{format_size(self.min_free_memory)}")
        self.reason = reason
        return reason


def exchange_or_move(new: Path, dest: Path) -> Path | None:
    """Put ``new`` at ``dest`` atomically; returns where the old ``dest`` went (to delete), if any.

    With an existing good site, renameat2(RENAME_EXCHANGE) swaps the two in
    one step, so ``dest`` is never missing nor half old and half new.
    """
    try:
        os.rename(new, dest)  # no site yet: the common case, one system call
        return None
    except FileNotFoundError:
        dest.parent.mkdir(parents=True, exist_ok=True)
        if not dest.exists():
            os.rename(new, dest)
            return None
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
            raise
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        at_fdcwd = -100
        if libc.renameat2(at_fdcwd, os.fsencode(new), at_fdcwd, os.fsencode(dest), _RENAME_EXCHANGE) == 0:
            return new  # the old site now sits where the new one was
    except (OSError, AttributeError):
        pass
    old = new.with_name(new.name + ".old")
    os.rename(dest, old)
    os.rename(new, dest)
    return old


@contextmanager
def _prompt_stdin(prompt: bytes, staging: Path):
    """The agent's stdin: a pipe already holding the prompt (no file to create), or a file when the
    prompt is larger than a pipe holds."""
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


def last_error_line(log_path: Path) -> str:
    try:
        with log_path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 4096))
            tail = handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
    lines = [line.strip() for line in tail.splitlines() if line.strip() and not line.startswith("=== smb")]
    return lines[-1][:200] if lines else ""


class Runner:
    def __init__(self, workspace: Workspace, settings: Settings, store: Store, options: RunOptions, reporter) -> None:
        self.workspace = workspace
        self.settings = settings
        self.store = store
        self.options = options
        self.reporter = reporter
        self.phase = options.phase
        self.run_id = options.run_id or new_run_id(options.phase.name, options.batch)
        self.running: dict[int, proc.Agent] = {}
        self.queue: deque[str] = deque()
        self.retry_queue: deque[str] = deque()
        self.before_claim: dict[str, str] = {}
        self.retries_used: dict[str, int] = {}
        self.pending: list[Outcome] = []  # outcomes not yet written to the registry
        self.unreported: list[Outcome] = []  # outcomes not yet counted in the result
        self.claim_attempt: dict[str, int] = {}
        self.last_write_error: str | None = None
        self.template = None  # the prompt template, read once per run
        self.log_dirs: set[str] = set()  # logs/sites/<domain>/ folders known to exist
        self.final: dict[str, Outcome] = {}  # each site's last counted outcome in this run
        self.breaker = Breaker(options.breaker_failures, options.breaker_cooldown)
        self.guard = ResourceGuard(workspace.root, options.disk_critical, options.min_free_memory)
        self.stop_signal: int | None = None
        self.kill_now = False
        self.staging_root = workspace.tmp / self.run_id
        self.record: RunRecord | None = None
        self.selector: selectors.BaseSelector | None = None
        self.wakeup_r: int | None = None
        self.guard_reason: str | None = None
        self.brief = ""
        self.argv: list[str] = []

    # -- selection ------------------------------------------------------------------------
    def plan(self) -> Selection:
        registry = self.store.read()
        if registry.problems:  # a writing command refuses it before anything starts (SPEC §2)
            raise RegistryInvalid(self.workspace.rel(self.workspace.registry), registry.problems)
        return select(registry, self.workspace, self.phase, self.options.batch, wave=self.options.wave,
                      wave_size=self.options.max_agents, sites=self.options.sites, redo=self.options.redo,
                      live_runs=live_owner_ids(self.workspace))

    # -- the run --------------------------------------------------------------------------
    def run(self) -> RunResult:
        started = time.monotonic()
        self.argv = agent_argv(self.options.agent)
        selection = self.plan()
        result = RunResult(self.run_id, self.phase.name, self.options.batch, selection)
        if self.options.dry_run:
            return result
        self.brief = self._read_brief()
        self.record = RunRecord(run_id=self.run_id, pid=os.getpid(), create_time=own_create_time(),
                                host=socket.gethostname(), phase=self.phase.name, batch=self.options.batch,
                                wave=self.options.wave, log=self.reporter.log_rel,
                                total=len(selection.eligible) + len(selection.stale))
        save_run(self.workspace, self.record)
        proc.become_subreaper()
        self._install_signals()
        try:
            result.reclaimed = self._reclaim_stale(selection)
            self.queue.extend(selection.eligible + [d for d in selection.stale if d not in selection.eligible])
            self.record.total = len(self.queue)
            self.reporter.start(self, selection, len(self.queue))
            for domain, reason in selection.skipped:
                self.reporter.line(f"SKIP {domain} {reason}")
            self._loop(result)
        finally:
            self._shutdown_agents()
            self._flush(final=True)
            self._restore_signals()
            self._tally(result)
            shutil.rmtree(self.staging_root, ignore_errors=True)
            result.seconds = time.monotonic() - started
            result.exit_code = self._exit_code(result)
            if self.stop_signal is not None:
                result.signal_name = signal.Signals(self.stop_signal).name  # the summary says why it stopped
            self.record.ended = time.time()
            self.record.exit_code = result.exit_code
            self.record.agents = []
            save_run(self.workspace, self.record)
        self.reporter.finish(result)
        return result

    def _exit_code(self, result: RunResult) -> int:
        if self.stop_signal is not None:
            return EXIT_SIGINT if self.stop_signal == signal.SIGINT else EXIT_SIGTERM
        if result.failed or result.parked or result.skipped:
            return EXIT_FAILED
        return 0

    def _read_brief(self) -> str:
        try:
            return parse_manifest(self.workspace.manifest(self.options.batch).read_text(encoding="utf-8")).brief
        except OSError:
            return ""

    def _reclaim_stale(self, selection: Selection) -> int:
        """Stop a dead run's surviving agents, then return its claims in our scope (logged)."""
        if not selection.stale:
            return 0
        stale = set(selection.stale)
        live = live_owner_ids(self.workspace)
        registry = self.store.read()
        owners = {registry.row(d).get("owner") for d in stale if registry.row(d) is not None} - live - {""}
        dead_runs = [r for r in load_all(self.workspace) if r.ended is None and r.run_id not in live]
        for run_id, pid, domain in stop_survivors(dead_runs, owners, self.options.grace, stale):
            self.reporter.line(f"stopped agent pid {pid} of dead run {run_id} ({domain})")
        reclaimed = 0
        with self.store.transaction(actor=self.run_id) as txn:
            for domain in selection.stale:
                row = txn.row(domain)
                if row is None or row.status != self.phase.claim or row.get("owner") in live:
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
            self._check_deadlines(now)
            claims, probe = self._claim_count(now)
            claimed = self._flush(claim=claims)
            if probe and not claimed:
                self.breaker.probe_running = False
            self._launch_all(claimed, probe)
            if claimed:
                self._save_record()
            self._tally(result)
            if not self.running and (self.stop_signal is not None or not self._has_work()):
                return
            self.reporter.tick(self)
            self._wait(self._next_timeout())
            self._collect()

    def _has_work(self) -> bool:
        return bool(self.queue or self.retry_queue or self.pending)

    def _claim_count(self, now: float) -> tuple[int, bool]:
        """How many sites to claim now, and whether the one launch is the breaker's probe."""
        if self.stop_signal is not None:
            return 0, False
        free = self.options.max_agents - len(self.running)
        if free <= 0 or not (self.queue or self.retry_queue):
            return 0, False
        reason = self.guard.blocked(time.time())
        if reason != self.guard_reason:
            self.guard_reason = reason
            self.reporter.line(f"not launching: {reason}" if reason else "resources recovered: launching resumes")
        if reason:
            return 0, False
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
        for agent in self.running.values():
            due = agent.deadline if agent.term_sent_at is None else agent.term_sent_at + self.options.grace
            timeout = min(timeout, max(0.0, due - now))
        if self.breaker.open_until is not None:
            timeout = min(timeout, max(0.0, self.breaker.open_until - now))
        return timeout

    # -- registry writes ------------------------------------------------------------------
    def _flush(self, claim: int = 0, final: bool = False) -> list[str]:
        """Write pending outcomes and make up to ``claim`` new claims, in one transaction."""
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
                        count = 0 if before == "X" else row.attempts
                        txn.set_status(row, self.phase.claim, expect=before, owner=self.run_id,
                                       attempts=count + 1, run=self.run_id)
                        self.before_claim[domain] = before if before != "X" else self.phase.todo
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
        if outcome.kind == "ok":
            txn.set_status(row, self.phase.done, owner="", attempts=0, note="", **fields)
        elif outcome.kind == "stopped" or not outcome.counted:
            txn.set_status(row, previous, owner="", attempts=max(0, row.attempts - 1), reason=outcome.kind, **fields)
        elif outcome.parked:
            txn.set_status(row, "X", owner="", note=f"{self.phase.name}: {outcome.error}", exit=outcome.exit_code,
                           **fields)
        else:
            txn.set_status(row, previous, owner="", note=f"{self.phase.name}: {outcome.error}",
                           exit=outcome.exit_code, **fields)

    # -- agents ---------------------------------------------------------------------------
    def _launch_all(self, domains: list[str], probe: bool) -> None:
        """Start the claimed sites' agents and supervise them."""
        if self.template is None:
            self.template = prompt_template(self.workspace.prompts, self.phase.name)
        for domain in domains:
            item = self._launch(domain, probe)
            if isinstance(item, Outcome):
                self._record_outcome(item, probe=probe)
            else:
                self._supervise(item)

    def _launch(self, domain: str, probe: bool) -> "proc.Agent | Outcome":
        """Start one claimed site's agent; a launch that cannot happen (disk full, ...) is a failed attempt."""
        attempt = self.claim_attempt.get(domain, 1)
        try:
            return self._start_agent(domain, attempt, probe)
        except OSError as exc:
            log = self.workspace.rel(self.workspace.site_log(domain, self.phase.name, attempt))
            return Outcome(domain, "error", attempt, 0.0, log=log, error=f"cannot start agent: {exc.strerror or exc}")

    def _supervise(self, agent: "proc.Agent") -> None:
        agent.pidfd = proc.open_pidfd(agent.pid)
        if agent.pidfd is not None and self.selector is not None:
            self.selector.register(agent.pidfd, selectors.EVENT_READ, agent.pid)
        self.running[agent.pid] = agent

    def _start_agent(self, domain: str, attempt: int, probe: bool) -> "proc.Agent":
        staging = self.staging_root / f"{domain}-{self.phase.name}-{attempt}"
        try:
            staging.mkdir(parents=True)
        except FileExistsError:  # left by an earlier launch of this attempt: start clean
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
        design_file = self.workspace.design_file(domain)
        if self.phase is IMPLEMENT:
            output = staging / "site"
            output.mkdir()
        else:
            output = staging / f"{domain}-DESIGN.md"
        design_text = ""
        if self.phase is IMPLEMENT:
            try:
                design_text = design_file.read_text(encoding="utf-8", errors="replace")
            except OSError:
                design_text = ""
        prompt = self.template.safe_substitute({
            "domain": domain, "batch": self.options.batch, "phase": self.phase.name, "output": str(output),
            "brief": self.brief, "design": design_text, "design_path": str(design_file), "attempt": str(attempt),
        })
        env = dict(os.environ)
        env.update({
            "SMB_PHASE": self.phase.name, "SMB_DOMAIN": domain, "SMB_BATCH": self.options.batch,
            "SMB_ATTEMPT": str(attempt), "SMB_ROOT": str(self.workspace.root), "SMB_OUTPUT": str(output),
            "SMB_BRIEF": str(self.workspace.manifest(self.options.batch)), "SMB_RUN_ID": self.run_id,
        })
        env.pop("SMB_BG_CHILD", None)
        if self.phase is IMPLEMENT:
            env["SMB_DESIGN"] = str(design_file)
        log_path = self.workspace.site_log(domain, self.phase.name, attempt)
        if domain not in self.log_dirs:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            self.log_dirs.add(domain)
        now = time.monotonic()
        # The prompt goes in through a pipe and the log is opened once (header, then the agent's
        # output): the launch path runs once per agent (bench/dispatch.py).
        with _prompt_stdin(prompt.encode("utf-8"), staging) as stdin, open(log_path, "ab") as log:
            log.write(f"=== smb {self.phase.name} {domain} attempt {attempt} run {self.run_id} "
                      f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\n".encode())
            log.flush()
            popen = proc.spawn(self.argv, cwd=staging, env=env, stdin=stdin, stdout=log)
        agent = proc.Agent(popen=popen, domain=domain, attempt=attempt, log_path=log_path, started=now,
                           deadline=now + self.options.timeout)
        agent.extra["staging"] = staging
        agent.extra["output"] = output
        agent.extra["probe"] = probe
        try:
            import psutil

            agent.create_time = psutil.Process(popen.pid).create_time()
        except Exception:  # it may already have exited: the pidfd/wait path handles that
            agent.create_time = 0.0
        return agent

    def _check_deadlines(self, now: float) -> None:
        for agent in self.running.values():
            if agent.term_sent_at is None and now >= agent.deadline:
                agent.timed_out = True
                self.reporter.line(f"timeout {agent.domain} after {self.options.timeout:g}s: stopping its group")
                self._terminate(agent, now)
            elif agent.term_sent_at is not None and now >= agent.term_sent_at + self.options.grace:
                self._kill(agent)

    def _terminate(self, agent: proc.Agent, now: float) -> None:
        agent.extra["tree"] = proc.descendants(agent.pid)
        proc.signal_group(agent.pid, signal.SIGTERM)
        agent.term_sent_at = now

    def _kill(self, agent: proc.Agent) -> None:
        proc.signal_group(agent.pid, signal.SIGKILL)
        proc.kill_processes(agent.extra.get("tree", []) + proc.descendants(agent.pid))

    def _collect(self) -> None:
        for pid, agent in list(self.running.items()):
            if agent.popen.poll() is None:
                continue
            del self.running[pid]
            if agent.pidfd is not None and self.selector is not None:
                try:
                    self.selector.unregister(agent.pidfd)
                except (KeyError, ValueError):
                    pass
            agent.close()
            # Whatever the agent left running in its group dies with it: no orphan outlives its agent.
            proc.signal_group(pid, signal.SIGKILL)
            proc.kill_processes(agent.extra.get("tree", []))
            self._finish_agent(agent)
        if self.running or self.pending:
            proc.reap_strays(set(self.running))

    def _finish_agent(self, agent: proc.Agent) -> None:
        seconds = time.monotonic() - agent.started
        code = agent.popen.returncode
        log_rel = self.workspace.rel(agent.log_path)
        outcome = Outcome(agent.domain, "failed", agent.attempt, seconds, exit_code=code, log=log_rel)
        if agent.stopping:
            outcome.kind = "stopped"
        elif agent.timed_out:
            outcome.kind = "timeout"
            outcome.error = f"timeout after {self.options.timeout:g}s"
        elif code != 0:
            last = last_error_line(agent.log_path)
            outcome.error = f"exit={code}" + (f": {last}" if last else "")
        else:
            problem = self._promote(agent)
            if problem:
                outcome.error = problem
            else:
                outcome.kind = "ok"
        shutil.rmtree(agent.extra["staging"], ignore_errors=True)
        self._record_outcome(outcome, probe=agent.extra.get("probe", False))

    def _promote(self, agent: proc.Agent) -> str | None:
        """Move a verified result into place atomically; a problem string if it is not acceptable."""
        output: Path = agent.extra["output"]
        if self.phase is IMPLEMENT:
            if not (output / "index.html").is_file():
                return "exit 0 but no index.html in the output folder"
            old = exchange_or_move(output, self.workspace.site_dir(agent.domain))
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
            return None
        try:
            if output.stat().st_size == 0:
                return "exit 0 but the design file is empty"
        except FileNotFoundError:
            return "exit 0 but no design file was written"
        self.workspace.designs.mkdir(parents=True, exist_ok=True)
        os.replace(output, self.workspace.design_file(agent.domain))
        return None

    def _record_outcome(self, outcome: Outcome, probe: bool) -> None:
        if outcome.kind != "stopped":
            counted, message = self.breaker.record(bool(outcome), probe, time.monotonic())
            outcome.counted = counted
            if message:
                self.reporter.line(message)
        if outcome.kind not in ("ok", "stopped") and outcome.counted:
            if outcome.attempt >= self.options.max_attempts:
                outcome.parked = True
            else:
                used = self.retries_used.get(outcome.domain, 0)
                if self.options.retries is None or used < self.options.retries:
                    self.retries_used[outcome.domain] = used + 1
                    self.retry_queue.append(outcome.domain)  # after the other sites
        elif outcome.kind not in ("ok", "stopped"):
            self.queue.append(outcome.domain)  # not counted (breaker open): try again later
        self.pending.append(outcome)
        self.unreported.append(outcome)
        self.reporter.outcome(outcome, self.options.max_attempts)

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
        result.failed = sum(1 for o in finals if o.kind != "ok" and not o.parked)
        if self.record is not None:
            self.record.done = result.ok
            self.record.failed = result.failed + result.parked

    def _save_record(self) -> None:
        if self.record is None:
            return
        self.record.agents = [AgentRecord(a.domain, a.pid, a.create_time, a.attempt, a.started)
                              for a in self.running.values()]
        try:
            save_run(self.workspace, self.record)
        except SmbError as exc:
            self.reporter.line(f"cannot save run file: {exc.message}")

    # -- waiting and signals ----------------------------------------------------------------
    def _install_signals(self) -> None:
        self.selector = selectors.DefaultSelector()
        read_fd, write_fd = os.pipe()
        os.set_blocking(read_fd, False)
        os.set_blocking(write_fd, False)
        self.wakeup_r, self._wakeup_w = read_fd, write_fd
        self.selector.register(read_fd, selectors.EVENT_READ, None)
        self._old_wakeup = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
        self._old_handlers = {}
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            current = signal.getsignal(sig)
            if sig == signal.SIGHUP and current == signal.SIG_IGN:
                continue  # started under nohup: the operator asked to survive the terminal closing
            self._old_handlers[sig] = current
            signal.signal(sig, self._on_signal)

    def _restore_signals(self) -> None:
        if self.selector is None:
            return
        for sig, handler in self._old_handlers.items():
            signal.signal(sig, handler)
        signal.set_wakeup_fd(self._old_wakeup)
        self.selector.close()
        for fd in (self.wakeup_r, self._wakeup_w):
            try:
                os.close(fd)
            except OSError:
                pass
        self.selector = None

    def _on_signal(self, signum: int, frame) -> None:
        if self.stop_signal is not None:
            if signum == signal.SIGINT:
                self.kill_now = True  # a second Ctrl-C: no more grace
            return
        self.stop_signal = signum
        # SIGHUP means the same as SIGTERM here: exit 143.
        if signum == signal.SIGHUP:
            self.stop_signal = signal.SIGTERM

    def _wait(self, timeout: float) -> None:
        if self.selector is None:
            time.sleep(timeout)
            return
        for key, _ in self.selector.select(timeout):
            if key.data is None:
                try:
                    while os.read(key.fd, 512):
                        pass
                except (BlockingIOError, OSError):
                    pass
        if self.stop_signal is not None:
            self._begin_stop()

    def _begin_stop(self) -> None:
        now = time.monotonic()
        for agent in self.running.values():
            if not agent.stopping:
                agent.stopping = True
                if agent.term_sent_at is None:
                    self._terminate(agent, now)
            if self.kill_now:
                self._kill(agent)
        if not getattr(self, "_stop_logged", False):
            self._stop_logged = True
            name = signal.Signals(self.stop_signal).name
            self.reporter.line(f"{name} received: stopping {len(self.running)} agents "
                               f"(grace {self.options.grace:g}s), returning their sites")
        self.queue.clear()
        self.retry_queue.clear()

    def _shutdown_agents(self) -> None:
        """On any exit from the loop (signal, error): stop every agent and wait for the groups."""
        if not self.running:
            return
        self.stop_signal = self.stop_signal or signal.SIGTERM
        self._begin_stop()
        deadline = time.monotonic() + self.options.grace + 5
        while self.running and time.monotonic() < deadline:
            self._check_deadlines(time.monotonic())
            self._wait(0.05)
            self._collect()
        for agent in list(self.running.values()):
            self._kill(agent)
        self._collect()
