"""``smb doctor``: one module per runbook scenario behind one ``Check`` protocol (SPEC §6).

Each check diagnoses (read-only) and may offer a safe, idempotent fix. With
``--fix`` the registry is backed up first, the fix applied, the check run
again, and the state after the fix reported. Every check runs under a time
limit; a crash or a timeout is its own status (``error``, exit 3), never ok.
"""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Protocol

from ..config import Settings
from ..errors import SmbError
from ..registry import Registry, parse
from ..store import Store
from ..workspace import Workspace

OK, WARN, FAIL, ERROR = "ok", "warn", "fail", "error"
_RANK = {OK: 0, WARN: 1, FAIL: 2, ERROR: 3}


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

    def as_json(self) -> dict:
        return {"scenario": self.scenario, "status": self.status, "summary": self.summary,
                "findings": self.findings, "fix": self.fix, "fixed": self.fixed, "duration_ms": self.duration_ms}


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
                self._registry = parse(self.workspace.registry.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError):
                self._registry = parse("")
        return self._registry

    def refresh(self) -> None:
        self._registry = None


class Check(Protocol):
    name: str
    about: str  # one line for --list
    time_limit: float

    def diagnose(self, ctx: DoctorContext) -> Finding: ...

    def repair(self, ctx: DoctorContext, finding: Finding) -> list[str]:
        """Apply the safe fixes; return what was done (empty: nothing to do)."""
        ...


def all_checks() -> list[Check]:
    from .disk_space import DiskSpace
    from .environment import Environment
    from .finalization import Finalization
    from .network import Network
    from .registry_duplicates import RegistryDuplicates
    from .resources import Resources
    from .site_stuck import SiteStuck
    from .wave_failure import WaveFailure

    # Registry repair first: the other fixes write the registry and need it clean.
    return [Environment(), RegistryDuplicates(), WaveFailure(), DiskSpace(), SiteStuck(), Resources(),
            Finalization(), Network()]


SCENARIOS = ("environment", "wave-failure", "registry-duplicates", "disk-space", "site-stuck", "resources",
             "finalization", "network")


def _with_time_limit(func, limit: float, *args):
    """Run ``func(*args)`` in a daemon thread; (result, error text) — a hung check cannot hang doctor."""
    box: dict = {}

    def target():
        try:
            box["result"] = func(*args)
        except SmbError as exc:
            box["error"] = exc.message
        except Exception as exc:  # a crashed check is reported as such, never as ok
            box["error"] = f"{type(exc).__name__}: {exc}"
            box["trace"] = traceback.format_exc()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(limit)
    if thread.is_alive():
        return None, f"timed out after {limit:g}s"
    return box.get("result"), box.get("error")


def backup_registry(ctx: DoctorContext) -> str | None:
    """A copy of the registry in .smbatcher/backups/ before any repair."""
    import shutil

    source = ctx.workspace.registry
    if not source.exists():
        return None
    ctx.workspace.backups.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    target = ctx.workspace.backups / f"REGISTRY-{stamp}-{time.time_ns() % 1_000_000:06d}.md"
    shutil.copy2(source, target)
    return ctx.workspace.rel(target)


def run_checks(ctx: DoctorContext, checks: list[Check], *, fix: bool) -> tuple[list[Finding], str | None]:
    results = []
    backup = None
    for check in checks:
        started = time.monotonic()
        finding, error = _with_time_limit(check.diagnose, check.time_limit, ctx)
        if error is not None:
            finding = Finding(check.name, ERROR, f"the check could not run: {error}")
        elif fix and finding.status in (WARN, FAIL) and hasattr(check, "repair"):
            if backup is None:
                backup = backup_registry(ctx) or ""
            done, error = _with_time_limit(check.repair, check.time_limit, ctx, finding)
            ctx.refresh()
            if error is not None:
                finding.status = ERROR
                finding.summary = f"the fix failed: {error}"
            elif done:
                after, error = _with_time_limit(check.diagnose, check.time_limit, ctx)
                if error is not None:
                    finding = Finding(check.name, ERROR, f"the re-check after the fix failed: {error}")
                else:
                    finding = after
                finding.fixed = list(done)
        finding.duration_ms = int((time.monotonic() - started) * 1000)
        results.append(finding)
    return results, backup or None


def overall(findings: list[Finding]) -> str:
    worst = max((_RANK[f.status] for f in findings), default=0)
    return next(name for name, rank in _RANK.items() if rank == worst)


def exit_code(findings: list[Finding], strict: bool) -> int:
    statuses = {f.status for f in findings}
    if ERROR in statuses:
        return 3
    if FAIL in statuses or (strict and WARN in statuses):
        return 1
    return 0
