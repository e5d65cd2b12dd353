"""The Pool's state, grouped by what it is about (issue 19: ``Pool.__init__`` set 39 attributes)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class Work:
    """Sites waiting for an agent, and what the pool remembers of each claim."""

    queue: deque = field(default_factory=deque)  # first launches, and sites given back uncounted
    retry_queue: deque = field(default_factory=deque)  # counted failures, after the other sites
    before_claim: dict = field(default_factory=dict)  # domain -> the status a returned site goes back to
    claim_attempt: dict = field(default_factory=dict)  # domain -> the attempt number of its claim
    retries_used: dict = field(default_factory=dict)  # domain -> retries taken in this run
    stalls: dict = field(default_factory=dict)  # domain -> stalled attempts in this run

    def __bool__(self) -> bool:
        return bool(self.queue or self.retry_queue)

    def clear(self) -> None:
        self.queue.clear()
        self.retry_queue.clear()


@dataclass
class Ledger:
    """Outcomes on their way: to the registry (pending), to the run's result (unreported)."""

    pending: list = field(default_factory=list)  # not yet written to the registry
    unreported: list = field(default_factory=list)  # not yet counted in the result
    final: dict = field(default_factory=dict)  # each site's last counted outcome in this run
    last_write_error: str | None = None


@dataclass
class HoldState:
    """The usage-limit hold as this run follows it (holds.py is the shared file)."""

    current: object = None  # holds.Hold
    key: tuple | None = None  # the hold file's identity when last read
    logged: float | None = None
    probe_running: bool = False
    resume_at: float = 0.0  # wall clock: reset time plus jitter


@dataclass
class Spend:
    total: float = 0.0
    per_site: dict = field(default_factory=dict)


@dataclass
class Activity:
    """The latest action shown on the progress line."""

    text: str = ""
    read_at: float = 0.0
