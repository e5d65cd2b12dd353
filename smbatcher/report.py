"""``smb status``: counts per batch and status, runs live and dead, stale claims, throughput, ETA."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from . import events as event_log
from . import holds
from .lifecycle import STATUSES, STEPS_LEFT, batch_key
from .registry import Registry
from .runs import RunRecord, run_states
from .workspace import Workspace


@dataclass
class StaleClaim:
    domain: str
    status: str
    owner: str
    batch: str


@dataclass
class StatusReport:
    counts: dict[str, Counter]
    runs_live: list[RunRecord] = field(default_factory=list)
    runs_dead: list[RunRecord] = field(default_factory=list)
    stale: list[StaleClaim] = field(default_factory=list)
    rate_5m: float = 0.0
    rate_15m: float = 0.0
    steps_left: int = 0
    problems: list = field(default_factory=list)
    hold: holds.Hold | None = None
    cost: dict[str, float] = field(default_factory=dict)  # batch -> dollars reported by its runs' agents

    @property
    def eta_seconds(self) -> float | None:
        rate = self.rate_5m or self.rate_15m
        if not self.steps_left:
            return 0.0
        return self.steps_left / rate * 60 if rate else None

    def as_json(self) -> dict:
        return {
            "batches": {b: {s: c.get(s, 0) for s in STATUSES} | {"total": sum(c.values())}
                        for b, c in self.counts.items()},
            "runs": [run_summary(r, True) for r in self.runs_live] + [run_summary(r, False) for r in self.runs_dead],
            "stale_claims": [s.__dict__ for s in self.stale],
            "throughput": {"sites_per_min_5m": round(self.rate_5m, 2), "sites_per_min_15m": round(self.rate_15m, 2)},
            "eta_seconds": None if self.eta_seconds is None else round(self.eta_seconds),
            "problems": [str(p) for p in self.problems],
            "hold": None if self.hold is None else {**self.hold.__dict__, "text": self.hold.describe()},
            "cost_usd": {b: round(c, 4) for b, c in self.cost.items()},
        }


def run_summary(record: RunRecord, alive: bool) -> dict:
    return {"run_id": record.run_id, "alive": alive, "pid": record.pid, "phase": record.phase,
            "batch": record.batch, "wave": record.wave, "agents": len(record.agents), "started": record.started,
            "ended": record.ended, "exit_code": record.exit_code, "done": record.done, "failed": record.failed,
            "total": record.total, "log": record.log, "cost_usd": record.cost_usd, "halted": record.halted,
            "executor": record.executor, "breaker": record.breaker,
            "activity": [{"domain": a.domain, "attempt": a.attempt, "action": a.action, "turn": a.turn,
                          "cost_usd": a.cost_usd, "worker": a.worker} for a in record.agents]}


def find_stale_claims(registry: Registry, states, batch: str | None = None) -> list[StaleClaim]:
    rows = registry.rows if batch is None else registry.batch_rows(batch)
    return [StaleClaim(r.domain, r.status, r.get("owner"), r.batch) for r in states.stale_claims(rows)]


def build_status(workspace: Workspace, registry: Registry, batch: str | None = None) -> StatusReport:
    counts: dict[str, Counter] = {}
    steps = 0
    for row in registry.rows if batch is None else registry.batch_rows(batch):
        counts.setdefault(batch_key(row.batch), Counter())[row.status] += 1
        steps += STEPS_LEFT.get(row.status, 0)
    states = run_states(workspace, batch)
    cost: dict[str, float] = {}
    for record in states.records:
        if record.cost_usd:
            cost[record.batch] = cost.get(record.batch, 0.0) + record.cost_usd
    now = time.time()
    recent = event_log.read_since(workspace.events, now - 15 * 60)
    if batch is not None:
        recent = [e for e in recent if e.get("batch") == batch]
    done = event_log.completions(recent)
    hold = holds.read(workspace)
    return StatusReport(counts=dict(sorted(counts.items())), runs_live=list(states.live.values()),
                        runs_dead=states.dead, stale=find_stale_claims(registry, states, batch),
                        rate_5m=sum(1 for t in done if t >= now - 300) / 5.0,
                        rate_15m=len(done) / 15.0, steps_left=steps, problems=registry.problems,
                        hold=hold if hold is not None and hold.active(now) else None, cost=cost)
