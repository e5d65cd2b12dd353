"""Run options: flags and config become one frozen set of options, in one place."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..config import Settings
from ..errors import UsageError
from ..lifecycle import PHASES, Phase
from ..units import parse_duration
from .halt import HaltPolicy, parse_halt


@dataclass
class RunFlags:
    """What the operator typed on design/implement/run (None: take the config's value)."""

    batch: str
    max_agents: int | None = None
    wave: int | None = None
    sites: list[str] | None = None
    redo: bool = False
    timeout: str | None = None
    retries: int | None = None
    agent: str | None = None
    dry_run: bool = False
    halt: str | None = None
    executor: str | None = None  # local | dask (None: [executor] kind)
    scheduler: str | None = None
    stall_timeout: str | None = None


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
    halt: HaltPolicy = field(default_factory=HaltPolicy)
    max_hold: float = 12 * 3600
    max_cost_total: float | None = None
    max_cost_per_site: float | None = None
    quota_budget: float = 1.0
    notify: str = ""
    executor: str = "local"
    scheduler: str = ""
    stall_timeout: float | None = None  # None: the agent preset's default
    max_turns: int | None = None
    fallback_model: str = ""
    sandbox: str = "auto"  # issue 22: jail.py
    max_resumes: int = 3  # issue 21: sessions continued at most this often, then started fresh
    repair_turns: int = 2  # issue 21: repair turns before promotion


# Bounds that catch typos before they become a run: 10,000 agents or 5000-digit waves are not plans.
_MAX_AGENTS = 10_000
_MAX_WAVE = 10**9


def build_options(settings: Settings, phase_name: str, flags: RunFlags, run_id: str | None = None) -> RunOptions:
    agents = settings.agents
    if flags.max_agents is not None and not 1 <= flags.max_agents <= _MAX_AGENTS:
        raise UsageError(f"--max-agents must be between 1 and {_MAX_AGENTS}")
    if flags.retries is not None and not 0 <= flags.retries <= _MAX_AGENTS:
        raise UsageError(f"--retries must be between 0 and {_MAX_AGENTS}")
    if flags.wave is not None and not 1 <= flags.wave <= _MAX_WAVE:
        raise UsageError(f"--wave must be 1 or more, got {flags.wave}" if flags.wave < 1 else "--wave is out of range")
    if flags.agent is not None and not flags.agent.strip():
        # An unset $AGENT in a cron line: never a silent fall-back to the configured agent (issue 8).
        raise UsageError("--agent is empty (an unset variable?): give a command, or leave --agent out")
    command = flags.agent if flags.agent is not None else getattr(agents, phase_name)
    executor = flags.executor if flags.executor is not None else settings.executor.kind
    if executor not in ("local", "dask"):
        raise UsageError(f"--executor: want local or dask, got {executor[:40]!r}")
    scheduler = flags.scheduler if flags.scheduler is not None else settings.executor.scheduler
    if executor == "dask" and not scheduler:
        raise UsageError("--executor dask needs --scheduler tcp://host:8786 (or [executor] scheduler)")
    return RunOptions(
        phase=PHASES[phase_name], batch=flags.batch, max_agents=flags.max_agents or agents.max_agents,
        timeout=parse_duration(flags.timeout, "--timeout") if flags.timeout is not None else agents.timeout,
        grace=agents.grace, max_attempts=agents.max_attempts, retries=flags.retries, agent=command,
        wave=flags.wave, sites=flags.sites, redo=flags.redo, dry_run=flags.dry_run,
        breaker_failures=agents.breaker_failures, breaker_cooldown=agents.breaker_cooldown,
        min_free_memory=agents.min_free_memory, disk_critical=settings.doctor.disk_critical, run_id=run_id,
        halt=parse_halt(flags.halt if flags.halt is not None else agents.halt,
                        "--halt" if flags.halt is not None else "agents.halt"),
        max_hold=agents.max_hold, max_cost_total=agents.max_cost_total, max_cost_per_site=agents.max_cost_per_site,
        quota_budget=agents.quota_budget, notify=settings.notify.command,
        executor=executor, scheduler=scheduler,
        stall_timeout=(parse_duration(flags.stall_timeout, "--stall-timeout") if flags.stall_timeout is not None
                       else agents.stall_timeout),
        max_turns=agents.max_turns, fallback_model=agents.fallback_model,
        sandbox=agents.sandbox, max_resumes=agents.max_resumes, repair_turns=agents.repair_turns,
    )
