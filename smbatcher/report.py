"""``smb status``: counts per batch and status, runs live and dead, stale claims, throughput, ETA."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from . import events as event_log
from .registry import STATUSES, Registry
from .runs import RunRecord, load_all
from .workspace import Workspace

# Phase steps still ahead of a site in each status (design + implement).
_STEPS_LEFT = {"-": 2, "d": 2, "D": 1, "i": 1}


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
        }


def run_summary(record: RunRecord, alive: bool) -> dict:
    return {"run_id": record.run_id, "alive": alive, "pid": record.pid, "phase": record.phase,
            "batch": record.batch, "wave": record.wave, "agents": len(record.agents), "started": record.started,
            "ended": record.ended, "exit_code": record.exit_code, "done": record.done, "failed": record.failed,
            "total": record.total, "log": record.log}


def find_stale_claims(registry: Registry, live_ids: set[str], batch: str | None = None) -> list[StaleClaim]:
    rows = registry.rows if batch is None else registry.batch_rows(batch)
    return [StaleClaim(r.domain, r.status, r.get("owner"), r.batch) for r in rows
            if r.status in ("d", "i") and r.get("owner") not in live_ids]


def build_status(workspace: Workspace, registry: Registry, batch: str | None = None) -> StatusReport:
    counts: dict[str, Counter] = {}
    steps = 0
    for row in registry.rows if batch is None else registry.batch_rows(batch):
        key = f"{int(row.batch):03d}" if row.batch.isdigit() else row.batch
        counts.setdefault(key, Counter())[row.status] += 1
        steps += _STEPS_LEFT.get(row.status, 0)
    records = [r for r in load_all(workspace) if batch is None or r.batch == batch]
    live = [r for r in records if r.alive()]
    # A run that ended cleanly is history; one whose process vanished without ending is "dead".
    dead = [r for r in records if r.ended is None and r not in live]
    now = time.time()
    recent = event_log.read_since(workspace.events, now - 15 * 60)
    if batch is not None:
        recent = [e for e in recent if e.get("batch") == batch]
    done = event_log.completions(recent)
    report = StatusReport(counts=dict(sorted(counts.items())), runs_live=live, runs_dead=dead,
                          stale=find_stale_claims(registry, {r.run_id for r in live}, batch),
                          rate_5m=sum(1 for t in done if t >= now - 300) / 5.0,
                          rate_15m=len(done) / 15.0, steps_left=steps, problems=registry.problems)
    return report


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
