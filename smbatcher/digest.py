"""``smb report --since 12h``: the morning digest of a night's work, from logs/events.jsonl.

Sites done per phase, failures grouped by class and message, holds and how long
they lasted, halts and auth stops, what the agents cost, and the sites a repair
turn saved (issue 21: finish's checks failed before the turn and passed after). Read-only; the
event log is the history, the registry the truth (a digest never changes either).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from . import events as event_log
from .lifecycle import DESIGNED, FINISHED, IMPLEMENTED
from .workspace import Workspace

_DONE = {DESIGNED: "designed", IMPLEMENTED: "implemented", FINISHED: "finished"}
_STEPS = {("d", DESIGNED), ("i", IMPLEMENTED), (IMPLEMENTED, FINISHED)}  # a phase done, not a site returned
MOST_REPAIR_TURNS = 1000  # per attempt; more is not a number the pool wrote (habit 11)


@dataclass
class Digest:
    since: float
    until: float
    done: Counter = field(default_factory=Counter)  # designed / implemented / finished -> sites
    failures: dict = field(default_factory=dict)  # (class, message) -> [domains]
    parked: list = field(default_factory=list)
    holds: list = field(default_factory=list)  # {"at", "until", "limit", "message", "seconds"}
    stops: list = field(default_factory=list)  # halts, auth stops, cost and max_hold stops
    breaker_trips: int = 0
    cost_usd: float = 0.0
    cost_by_batch: Counter = field(default_factory=Counter)
    attempts: int = 0
    repaired: dict = field(default_factory=dict)  # domain -> batch: its latest implement success was repaired
    repair_turns: int = 0  # repair turns run by the implement attempts that ended in the window

    def repaired_by_batch(self) -> dict[str, int]:
        return dict(sorted(Counter(self.repaired.values()).items()))

    def as_json(self) -> dict:
        return {"since": self.since, "until": self.until, "done": dict(self.done), "attempts": self.attempts,
                "failures": [{"class": cls, "message": msg, "count": len(domains), "sites": domains[:20]}
                             for (cls, msg), domains in self.sorted_failures()],
                "parked": self.parked, "holds": self.holds, "stops": self.stops,
                "breaker_trips": self.breaker_trips, "cost_usd": round(self.cost_usd, 4),
                "cost_by_batch": {b: round(c, 4) for b, c in sorted(self.cost_by_batch.items())},
                "repaired": {"sites": len(self.repaired), "by_batch": self.repaired_by_batch(),
                             "repair_turns": self.repair_turns}}

    def sorted_failures(self):
        return sorted(self.failures.items(), key=lambda item: (-len(item[1]), item[0]))


def build_digest(workspace: Workspace, since: float, now: float | None = None) -> Digest:
    now = time.time() if now is None else now
    digest = Digest(since=since, until=now)
    open_holds: dict[str, dict] = {}
    for event in event_log.read_since(workspace.events, since):
        kind = event.get("event")
        cost = event.get("cost_usd")
        if isinstance(cost, (int, float)) and not isinstance(cost, bool) and cost > 0:
            digest.cost_usd += cost
            digest.cost_by_batch[str(event.get("batch", "?"))] += cost
        if kind == "status":
            before, after = event.get("from"), event.get("to")
            if after in ("d", "i") and before not in ("d", "i"):
                digest.attempts += 1  # a claim: one agent launched
            if (before, after) in _STEPS:
                digest.done[_DONE[after]] += 1
            cls = event.get("class")
            if before in ("d", "i") and cls not in (None, "ok", "stopped") and after != IMPLEMENTED:
                message = str(event.get("message") or event.get("note") or "").strip()
                message = message.split(": ", 1)[1] if message.startswith(("design: ", "implement: ")) else message
                digest.failures.setdefault((cls, message[:160]), []).append(event.get("domain", "?"))
            if before == "i":
                _note_repairs(digest, event, succeeded=after == IMPLEMENTED)
            if after == "X":
                digest.parked.append({"domain": event.get("domain"), "note": event.get("note", "")})
        elif kind == "hold":
            entry = {"at": event.get("ts"), "until": event.get("until"), "limit": event.get("limit", ""),
                     "message": event.get("message", ""), "seconds": None}
            digest.holds.append(entry)
            open_holds[str(event.get("run", ""))] = entry
        elif kind == "hold-end":
            entry = open_holds.pop(str(event.get("run", "")), None)
            if entry is not None and isinstance(event.get("ts"), (int, float)) and entry["at"]:
                entry["seconds"] = round(event["ts"] - entry["at"])
        elif kind in ("halt", "auth", "cost", "max-hold"):
            digest.stops.append({"at": event.get("ts"), "kind": kind, "run": event.get("run", ""),
                                 "reason": event.get("reason", ""), "fix": event.get("fix", "")})
        elif kind == "breaker" and event.get("state") == "open":
            digest.breaker_trips += 1
    return digest


def _note_repairs(digest: Digest, event: dict, *, succeeded: bool) -> None:
    """Count an implement attempt's repair turns; a site counts as repaired when its latest
    implement success in the window says ``repaired: true`` (a later plain success un-counts it)."""
    turns = event.get("repair_turns")
    if isinstance(turns, int) and not isinstance(turns, bool) and 0 <= turns <= MOST_REPAIR_TURNS:
        digest.repair_turns += turns
    if not succeeded:
        return
    domain = str(event.get("domain", "?"))
    digest.repaired.pop(domain, None)
    if event.get("repaired") is True:  # only the pool's boolean: not "yes", not 1
        digest.repaired[domain] = str(event.get("batch", "?"))
