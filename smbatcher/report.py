"""``smb status``: counts per batch and status, runs live and dead, stale claims, throughput, ETA."""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Sequence
from itertools import compress, count, groupby
from dataclasses import dataclass, field

from . import events as event_log
from . import holds
from .lifecycle import CLAIMS, STATUSES, STEPS_LEFT, batch_key
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
    stale: Sequence[StaleClaim] = field(default_factory=list)
    rate_5m: float = 0.0
    rate_15m: float = 0.0
    steps_left: int = 0
    problems: list = field(default_factory=list)
    hold: holds.Hold | None = None
    cost: dict[str, float] = field(default_factory=dict)  # batch -> dollars reported by its runs' agents
    last_ended: RunRecord | None = None  # the run that ended last (of the batch asked about)

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
                          "cost_usd": a.cost_usd, "worker": a.worker,
                          **({"session": a.session} if a.session else {})} for a in record.agents]}


def find_stale_claims(registry: Registry, states, batch: str | None = None) -> Sequence[StaleClaim]:
    """Claims whose owner run is not alive (``RunStates.is_stale``), read from columns: no Row made."""
    statuses = registry.column("status")
    claims = list(compress(count(), map(frozenset(CLAIMS).__contains__, statuses)))
    if not claims:
        return []
    if batch is not None:
        wanted = set(registry.batch_positions(batch))
        claims = [p for p in claims if p in wanted]
    owners = registry.column("owner")
    live = states.live
    if live:
        claims = [p for p in claims if owners[p] not in live]
    return StaleClaims(registry, statuses, owners, claims)


class StaleClaims(Sequence):
    """Stale claims held as positions: a crashed run on 100,000 rows can leave tens of thousands,
    and `smb status` shows their number and five of them (issue 13); a StaleClaim is made when read."""

    def __init__(self, registry: Registry, statuses: list[str], owners: list[str], positions: list[int]) -> None:
        self._columns = (registry.column("domain"), statuses, owners, registry.column("batch"))
        self._positions = positions

    def __len__(self) -> int:
        return len(self._positions)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._claim(p) for p in self._positions[index]]
        return self._claim(self._positions[index])

    def _claim(self, position: int) -> StaleClaim:
        return StaleClaim(*(column[position] for column in self._columns))


def count_statuses(registry: Registry, batch: str | None = None) -> tuple[dict[str, Counter], int]:
    """Sites per batch and status, and the steps left to do (issue 13: through Row objects this
    made `smb status` take seconds on 100,000 rows). Counted in C: each run of rows of one batch
    value (a registry keeps its batches together) as slices of one string of status letters."""
    batches, statuses = registry.column("batch"), registry.column("status")
    letters = "".join(statuses)
    pairs: Counter = Counter()
    runs = _runs(batches) if len(letters) == len(statuses) else None  # every status one letter
    if runs is None:
        pairs.update(zip(batches, statuses))
    else:
        for value, start, end in runs:
            for status in STATUSES:
                n = letters.count(status, start, end)
                if n:
                    pairs[value, status] += n
    counts: dict[str, Counter] = {}
    steps = 0
    for (value, status), n in pairs.items():
        key = batch_key(value)
        if batch is not None and key != batch:
            continue
        per_batch = counts.get(key)
        if per_batch is None:
            per_batch = counts[key] = Counter()
        per_batch[status] += n
        steps += STEPS_LEFT.get(status, 0) * n
    return counts, steps


def _runs(values: list[str], most: int = 5000) -> list[tuple[str, int, int]] | None:
    """(value, start, end) of each run of equal values; None past ``most`` runs."""
    runs = []
    start = 0
    for value, group in groupby(values):
        end = start + len(list(group))
        runs.append((value, start, end))
        if len(runs) > most:
            return None
        start = end
    return runs


def build_status(workspace: Workspace, registry: Registry, batch: str | None = None) -> StatusReport:
    counts, steps = count_statuses(registry, batch)
    states = run_states(workspace, batch)
    cost: dict[str, float] = {}
    for record in states.records:
        if record.cost_usd and math.isfinite(record.cost_usd) and record.cost_usd > 0:  # a record from
            cost[record.batch] = cost.get(record.batch, 0.0) + record.cost_usd  # before issue 22 may hold NaN
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
                        hold=hold if hold is not None and hold.active(now) else None, cost=cost,
                        last_ended=max((r for r in states.records if r.ended is not None), key=lambda r: r.ended,
                                       default=None))
