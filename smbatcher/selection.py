"""Which sites a run works on: waves, ``--sites``, ``--redo``, eligibility per phase (SPEC §4)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import UsageError
from .lifecycle import IMPLEMENT, Phase
from .registry import BadValue, Registry, normalize_domain
from .workspace import Workspace


@dataclass
class Selection:
    phase: Phase
    batch: str
    scope: list[str]  # the wave or --sites, in registry order
    eligible: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)  # claims of dead runs, reclaimed first
    busy: list[str] = field(default_factory=list)  # claimed by a live run: someone else's work
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (domain, reason): not launched, exit 1
    done_already: int = 0


def wave_rows(registry: Registry, batch: str, wave: int, size: int) -> list[str]:
    """Wave W is rows (W-1)*N+1 ... W*N of all the batch's rows, whatever their status."""
    rows = registry.batch_rows(batch)
    if wave < 1:
        raise UsageError(f"--wave must be 1 or more, got {wave}")
    start = (wave - 1) * size
    if start >= len(rows):
        waves = (len(rows) + size - 1) // size
        raise UsageError(f"--wave {wave} is past the end of batch {batch}: {len(rows)} sites make {waves} waves of {size}")
    return [row.domain for row in rows[start : start + size]]


def parse_sites(value: str) -> list[str]:
    domains = []
    for part in value.split(","):
        if part.strip():
            try:
                domains.append(normalize_domain(part))
            except BadValue as exc:
                raise UsageError(f"--sites: {exc}") from None
    if not domains:
        raise UsageError("--sites: no domains given")
    return list(dict.fromkeys(domains))


def select(
    registry: Registry,
    workspace: Workspace,
    phase: Phase,
    batch: str,
    *,
    wave: int | None,
    wave_size: int,
    sites: list[str] | None,
    redo: bool,
    live_runs: set[str],
) -> Selection:
    batch_rows = registry.batch_rows(batch)
    if not batch_rows:
        raise UsageError(f"batch {batch} has no sites (batches: {', '.join(registry.batches()) or 'none'})")
    if redo and not sites:
        raise UsageError("--redo needs --sites: name the sites to run again")
    if wave is not None:
        scope = wave_rows(registry, batch, wave, wave_size)
    else:
        scope = [row.domain for row in batch_rows]
    if sites:
        in_batch = {row.domain for row in batch_rows}
        unknown = [d for d in sites if d not in in_batch]
        if unknown:
            raise UsageError(f"--sites: {unknown[0]} is not in batch {batch}")
        wanted = set(sites)
        scope = [d for d in scope if d in wanted]
    selection = Selection(phase=phase, batch=batch, scope=scope)
    for domain in scope:
        row = registry.row(domain)
        status = row.status
        if status == phase.claim:
            if row.get("owner") in live_runs:
                selection.busy.append(domain)
                continue
            selection.stale.append(domain)
            status = phase.todo
        elif status.islower():
            # Claimed for the other phase: a live run is on it, or doctor/the other phase reclaims it.
            selection.busy.append(domain)
            continue
        if status == phase.todo or (redo and status in phase.redo_from):
            if phase is IMPLEMENT and not workspace.design_file(domain).is_file():
                selection.skipped.append((domain, "design missing"))
                continue
            selection.eligible.append(domain)
        else:
            selection.done_already += 1
    return selection
