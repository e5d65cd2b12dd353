"""The Pool's state, grouped by what it is about (issue 19: ``Pool.__init__`` set 39 attributes)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .executor import Job


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


@dataclass
class LiveAgent:
    """A claimed site whose agent is running: what the pool needs when it ends."""

    job: Job
    started: float
    probe: bool  # the breaker's probe
    hold_probe: bool = False  # the first launch after a usage-limit hold
    stream: object = None  # agents.stream.AgentStream for agents that report as they go
    action: str = ""
    turn: int = 0
    cost_usd: float = 0.0
    log_offset: int = 0  # where this attempt's output starts in its log
    repair_of: tuple | None = None  # a repair turn (issue 21): (the attempt's job, its outcome so far)
    repair_problems: tuple = ()  # what the repair turn was sent
