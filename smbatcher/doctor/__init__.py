"""``smb doctor``: one module per runbook scenario behind one ``Check`` protocol (SPEC §6).

Each check diagnoses (read-only) and may offer a safe, idempotent fix. With
``--fix`` the registry is backed up first (and the copy verified), the fix
applied, the check run again, and the state after the fix reported. Every
check runs under a time limit; a crash or a timeout is its own status
(``error``, exit 3), never ok.

    base.py      Finding, Check, DoctorContext, the statuses
    limits.py    time limits; a timed-out repair lets go of the registry lock
    backup.py    the verified registry backup before any fix
    <scenario>.py  one check each; evidence.py what the files on disk say
    escalation.py  --report
"""

from __future__ import annotations

import time

from ..config import Settings
from ..errors import EXIT_CANNOT_RUN, EXIT_FAILED
from .backup import backup_registry
from .base import ERROR, FAIL, OK, RANK, WARN, Check, DoctorContext, Finding
from .cluster import Cluster
from .disk_space import DiskSpace
from .environment import Environment
from .finalization import Finalization
from .limits import GuardedStore, run_limited
from .network import Network
from .registry_duplicates import RegistryDuplicates
from .resources import Resources
from .site_stuck import SiteStuck
from .wave_failure import WaveFailure

__all__ = ["CHECKS", "ERROR", "FAIL", "OK", "SCENARIOS", "WARN", "Check", "DoctorContext", "Finding",
           "all_checks", "choose_checks", "exit_code", "open_context", "overall", "run_checks"]

# The scenarios in SPEC §6's order: the order of --list and of the names in messages.
CHECKS = (Environment, WaveFailure, RegistryDuplicates, DiskSpace, SiteStuck, Resources, Finalization, Network,
          Cluster)  # the eight of SPEC §6, then cluster (issue 12)
SCENARIOS = tuple(check.name for check in CHECKS)
# Run before the rest: the environment explains other failures, and the registry repair must come
# before every other fix, since those write the registry and a transaction refuses a damaged one.
RUN_FIRST = (Environment.name, RegistryDuplicates.name)
BACKUP_TIME_LIMIT = 30.0  # seconds to copy and verify the registry (a hung disk must not hang doctor)


def all_checks() -> list[Check]:
    """Every check, in the order they run (and repair): RUN_FIRST, then SPEC §6's order."""
    checks = [cls() for cls in CHECKS]
    return sorted(checks, key=lambda c: RUN_FIRST.index(c.name) if c.name in RUN_FIRST else len(RUN_FIRST))


def run_checks(ctx: DoctorContext, checks: list[Check], *, fix: bool) -> tuple[list[Finding], str | None]:
    """Diagnose each check (and with ``fix`` repair and diagnose again); the findings and the backup's path."""
    if fix and not isinstance(ctx.store, GuardedStore):
        ctx.store = GuardedStore.like(ctx.store)
    results = []
    backup: str | None = None
    backup_error: str | None = None
    backed_up = False
    for check in checks:
        started = time.monotonic()
        finding, error = run_limited(check.diagnose, check.time_limit, ctx)
        if error is not None:
            finding = Finding(check.name, ERROR, f"the check could not run: {error}")
        elif fix and finding.status in (WARN, FAIL) and hasattr(check, "repair"):
            if not backed_up:
                # Once, before the first change; no fix at all runs without a verified copy (issue 8).
                backed_up = True
                backup, backup_error = run_limited(backup_registry, BACKUP_TIME_LIMIT, ctx)
            if backup_error is not None:
                finding.status = ERROR
                finding.summary = f"the fix could not run: backup failed: {backup_error}"
                finding.fix = ("make room for the backup in .smbatcher/backups/ (free disk space, fix its "
                               "permissions), then: smb doctor --fix")
            else:
                finding = _repair(ctx, check, finding)
        finding.duration_ms = int((time.monotonic() - started) * 1000)
        results.append(finding)
    return results, backup


def _repair(ctx: DoctorContext, check: Check, finding: Finding) -> Finding:
    done, error = run_limited(check.repair, check.time_limit, ctx, finding, store=ctx.store)
    ctx.refresh()
    if error is not None:
        finding.status = ERROR
        finding.summary = f"the fix failed: {error}"
        return finding
    if not done:
        return finding
    after, error = run_limited(check.diagnose, check.time_limit, ctx)
    if error is not None:
        after = Finding(check.name, ERROR, f"the re-check after the fix failed: {error}")
    after.fixed = list(done)
    return after


def overall(findings: list[Finding]) -> str:
    worst = max((RANK[f.status] for f in findings), default=0)
    return next(name for name, rank in RANK.items() if rank == worst)


def exit_code(findings: list[Finding], strict: bool) -> int:
    statuses = {f.status for f in findings}
    if ERROR in statuses:
        return EXIT_CANNOT_RUN
    if FAIL in statuses or (strict and WARN in statuses):
        return EXIT_FAILED
    return 0


def choose_checks(scenarios: list[str] | None) -> list:
    """The checks to run, in the runbook's order; an unknown scenario name is bad usage."""
    from ..errors import UsageError

    unknown = [s for s in scenarios or [] if s not in SCENARIOS]
    if unknown:
        raise UsageError(f"--scenario: unknown {unknown[0][:60]!r} (known: {', '.join(SCENARIOS)})")
    checks = all_checks()  # in repair order: the registry first, since the other fixes write it
    return [c for c in checks if c.name in scenarios] if scenarios else checks


def open_context(root, *, site: str | None = None, batch: str | None = None) -> DoctorContext:
    """The workspace as doctor sees it: a bad config is a finding (environment), not a refusal."""
    from ..config import load_settings
    from ..errors import UsageError
    from ..registry import BadValue, normalize_batch, normalize_domain
    from ..workspace import find_workspace

    workspace = find_workspace(root)
    config_error = None
    try:
        settings = load_settings(workspace.config_file)
    except UsageError as exc:
        settings, config_error = Settings(), exc.message
    if site is not None:
        try:
            site = normalize_domain(site)
        except BadValue as exc:
            raise UsageError(f"--site: {exc}") from None
    if batch is not None:
        try:
            batch = normalize_batch(batch)
        except BadValue as exc:
            raise UsageError(f"--batch: {exc}") from None
    return DoctorContext(workspace, settings, GuardedStore(workspace, settings.registry.lock_timeout),
                         config_error=config_error, site=site, batch=batch)
