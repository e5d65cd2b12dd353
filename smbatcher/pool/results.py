"""What became of each agent run, and of a whole run: values, never printed here (STYLE habit 6)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..selection import Selection


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
    failure_class: str = ""  # one of agents/classes.py ("" until classified)
    report: object = None  # the agent's own report (cost, turns, tokens) when it gave one
    not_counted_because: str = ""  # breaker open, usage limit, halted, ...: shown on the FAIL line
    session: str = ""  # the agent's session id (issue 21)
    resumed: bool = False  # the attempt continued an earlier session
    repair_turns: int = 0  # repair turns run before promotion
    repaired: bool = False  # finish's checks failed, and passed after the repair turns
    repair_problems: tuple = ()  # what finish's checks found before the first repair turn

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
    halt_reason: str | None = None
    cost_usd: float = 0.0

    @property
    def skipped(self) -> list[tuple[str, str]]:
        return self.selection.skipped

    def as_json(self) -> dict:
        return {"run_id": self.run_id, "phase": self.phase, "batch": self.batch, "ok": self.ok,
                "failed": self.failed, "parked": self.parked, "stopped": self.stopped,
                "skipped": [{"domain": d, "reason": r} for d, r in self.skipped],
                "reclaimed": self.reclaimed, "seconds": round(self.seconds, 2), "exit_code": self.exit_code,
                "halt": self.halt_reason, "cost_usd": round(self.cost_usd, 4),
                "outcomes": [{"domain": o.domain, "kind": o.kind, "attempt": o.attempt, "exit": o.exit_code,
                              "log": o.log, "error": o.error, "parked": o.parked, "seconds": round(o.seconds, 2),
                              "class": o.failure_class,
                              **({"session": o.session, "resumed": o.resumed, "repair_turns": o.repair_turns,
                                  "repaired": o.repaired} if o.session else {})}
                             for o in self.outcomes]}
