"""What every doctor check shares: the Finding it returns, the Check protocol, the context it reads.

Scenario modules import from here, never from the package ``__init__``: the
package imports every scenario to list them, so a scenario importing the
package back would be a cycle.

Adding a scenario: a module with one class that has ``name``, ``about``,
``time_limit``, ``diagnose`` (read-only) and, when a safe fix exists,
``repair``; then one entry in ``CHECKS`` in ``__init__.py`` (its place there
is its place in ``--list``). A repair that writes the registry goes through
``ctx.store.transaction()`` and calls ``ctx.checkpoint()`` before each other
change it makes, so that a repair whose time ran out stops changing things.

Reserved: a future ``cluster`` scenario (the distributed executor: workers
reachable, their agents vs the run records, claims held by a lost worker)
belongs in ``cluster.py`` beside the others, reading the executor's state
through ``ctx`` like ``wave_failure`` reads ``runs.run_states``. Not written
yet: there is no distributed executor to check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from ..config import Settings
from ..errors import WrongKind
from ..fs import read_bytes
from ..registry import Registry, parse
from ..store import Store
from ..workspace import Workspace

OK, WARN, FAIL, ERROR = "ok", "warn", "fail", "error"
RANK = {OK: 0, WARN: 1, FAIL: 2, ERROR: 3}


@dataclass
class Finding:
    scenario: str
    status: str = OK
    summary: str = ""
    findings: list[str] = field(default_factory=list)
    fix: str | None = None  # the exact command that repairs it
    fixed: list[str] = field(default_factory=list)
    duration_ms: int = 0
    data: dict = field(default_factory=dict)  # numbers for --report

    def conclude(self, *, fail: str | None = None, warn: str | None = None, ok: str = "",
                 fix: str | None = None) -> "Finding":
        """The ladder every diagnosis ends with: ``fail`` if given, else ``warn``, else ok.

        The given summary becomes the finding's; ``fix`` is kept only when something is wrong
        (an ok check has nothing to fix). Returns the finding, so a check can end with it.
        """
        if fail:
            self.status, self.summary = FAIL, fail
        elif warn:
            self.status, self.summary = WARN, warn
        else:
            self.status, self.summary = OK, ok
        self.fix = fix if self.status != OK else None
        return self

    def as_json(self) -> dict:
        return {"scenario": self.scenario, "status": self.status, "summary": self.summary,
                "findings": self.findings, "fix": self.fix, "fixed": self.fixed, "duration_ms": self.duration_ms}


def first_of(lines: list[str]) -> str | None:
    """``"the first (+2 more)"`` for a summary line; None when there is nothing."""
    if not lines:
        return None
    return lines[0] + (f" (+{len(lines) - 1} more)" if len(lines) > 1 else "")


@dataclass
class DoctorContext:
    workspace: Workspace
    settings: Settings
    store: Store
    config_error: str | None = None
    site: str | None = None
    batch: str | None = None
    _registry: Registry | None = None

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            try:
                # Bytes, not text mode: a CRLF registry must be seen with its own line endings.
                self._registry = parse(read_bytes(self.workspace.registry).decode("utf-8"))
            except (OSError, UnicodeDecodeError, WrongKind):
                self._registry = parse("")
        return self._registry

    def refresh(self) -> None:
        self._registry = None

    def checkpoint(self) -> None:
        """Raise if the calling repair's time ran out: it must change nothing more (see limits.py)."""
        checkpoint = getattr(self.store, "checkpoint", None)
        if checkpoint is not None:
            checkpoint()


class Check(Protocol):
    name: str  # the --scenario name
    about: str  # one line for --list
    time_limit: float  # seconds, for diagnose and for repair

    def diagnose(self, ctx: DoctorContext) -> Finding: ...

    # Optional: ``repair(self, ctx, finding) -> list[str]`` applies the safe fixes and returns what
    # was done (empty: nothing to do). A check without it only diagnoses (environment, resources).
