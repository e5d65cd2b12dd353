"""registry-duplicates: duplicate domains, malformed rows, unknown statuses, rows vs manifests (scenario 2).

The fix keeps one row per domain: the furthest status in the lifecycle
(``- < d < D < i < I < Q``, ``X`` with ``D``) at the position of the first
occurrence. A malformed row is mended when it can be (cells padded, an
unescaped ``|`` folded back into the last cell, a status inferred from the
files on disk, a batch from the manifests) and dropped only when it names no
valid domain. The file is written atomically after a backup.
"""

from __future__ import annotations

from ..lifecycle import RANK, STATUSES
from ..manifest import read_manifests
from ..registry import Registry, Row, is_domain, parse, serialize, split_cells
from .base import DoctorContext, Finding
from .evidence import status_from_disk


def _manifest_batches(ctx: DoctorContext) -> dict[str, str]:
    """domain -> the first batch whose manifest lists it."""
    owner: dict[str, str] = {}
    for batch, domains in read_manifests(ctx.workspace.batches).items():
        for domain in domains:
            owner.setdefault(domain, batch)
    return owner


def repaired_registry(ctx: DoctorContext, registry: Registry) -> tuple[Registry, list[str]]:
    """A clean registry made from a damaged one, and what was done to each row."""
    notes: list[str] = []
    if not registry.header:
        return registry, notes
    columns = registry.column_index
    width = len(registry.columns)
    status_i, batch_i = columns.get("status"), columns.get("batch")
    manifests = None
    damaged_lines = {p.line for p in registry.problems}
    candidates: list[Row] = list(registry.rows)
    for row in candidates:
        if row.line in damaged_lines:
            row.raw = None  # re-rendered from its mended cells
    # Rows stranded after a break in the table (an `echo >>` after a blank line) join the table.
    lines = registry.after.splitlines(keepends=True)
    kept_after = []
    for line in lines:
        if line.lstrip(" ").startswith("|"):
            candidates.append(Row(split_cells(line), columns, None, 0))
            notes.append("moved a row from after the table into it")
        else:
            kept_after.append(line)
    chosen: dict[str, Row] = {}
    order: list[str] = []
    for row in candidates:
        cells = row.cells
        if len(cells) > width:
            cells[width - 1:] = ["|".join(cells[width - 1:])]  # an unescaped pipe in the last cell
            row.raw = None
        elif len(cells) < width:
            cells.extend([""] * (width - len(cells)))
            row.raw = None
        domain = cells[0].strip().lower()
        if domain != cells[0]:
            cells[0] = domain
            row.raw = None
        where = f"line {row.line}" if row.line else "a stranded row"
        if not is_domain(domain):
            notes.append(f"dropped {where}: no valid domain ({domain!r})")
            continue
        if batch_i is not None and not cells[batch_i].isdigit():
            manifests = manifests if manifests is not None else _manifest_batches(ctx)
            if domain not in manifests:
                notes.append(f"dropped {where} ({domain}): invalid batch {cells[batch_i]!r} and no manifest lists it")
                continue
            cells[batch_i] = manifests[domain]
            row.raw = None
            notes.append(f"{domain}: batch taken from its manifest ({manifests[domain]})")
        if status_i is not None and cells[status_i] not in STATUSES:
            inferred = status_from_disk(ctx.workspace, domain)
            notes.append(f"{domain}: unknown status {cells[status_i]!r} -> {inferred} (from the files on disk)")
            cells[status_i] = inferred
            row.raw = None
        if domain not in chosen:
            chosen[domain] = row
            order.append(domain)
            continue
        kept = chosen[domain]
        if RANK[row.status] > RANK[kept.status]:
            chosen[domain] = row
        notes.append(f"{domain}: merged a duplicate row (kept status {chosen[domain].status})")
    fixed = Registry(before=registry.before, header=registry.header, align=registry.align or "",
                     columns=registry.columns, after="".join(kept_after), newline=registry.newline)
    if not fixed.align:
        fixed.align = "|" + "|".join("---" for _ in registry.columns) + "|" + registry.newline
        notes.append("added the missing alignment row")
    fixed.rows = [chosen[d] for d in order]
    fixed.reindex()
    return fixed, notes


class RegistryDuplicates:
    name = "registry-duplicates"
    about = "duplicate domains, malformed rows, unknown statuses, rows per batch vs the manifests"
    time_limit = 20.0

    def diagnose(self, ctx: DoctorContext) -> Finding:
        finding = Finding(self.name)
        registry = ctx.registry
        problems = registry.problems
        finding.findings = [str(p) for p in problems[:50]]
        if len(problems) > 50:
            finding.findings.append(f"... and {len(problems) - 50} more")
        counts: dict[str, int] = {}
        for row in registry.rows:
            counts[row.batch] = counts.get(row.batch, 0) + 1
        mismatched = []
        for batch, listed_domains in read_manifests(ctx.workspace.batches).items():
            listed = len(listed_domains)
            have = counts.get(batch, 0)
            finding.findings.append(f"batch {batch}: {have} rows, manifest lists {listed}")
            if have != listed:
                mismatched.append(batch)
        finding.data.update(problems=len(problems), rows=len(registry.rows))
        by_hand = [p for p in problems if p.by_hand]
        if by_hand:
            return finding.conclude(
                fail=f"the registry's header must be fixed by hand: {by_hand[0]}; writers refuse it",
                fix=f"edit line {by_hand[0].line} of {ctx.workspace.rel(ctx.workspace.registry)} by hand "
                    "(or restore a copy from .smbatcher/backups/); --fix cannot choose which column was meant")
        if problems:
            dupes = sum(1 for p in problems if "duplicate domain" in p.message)
            return finding.conclude(
                fail=f"{len(problems)} problems in the registry ({dupes} duplicate rows); writers refuse it",
                fix="smb doctor --scenario registry-duplicates --fix")
        return finding.conclude(
            warn=f"row counts differ from the manifest for batch {', '.join(mismatched)}" if mismatched else None,
            ok=f"{len(registry.rows)} rows, one per domain, all valid",
            fix="smb doctor --scenario finalization --fix")

    def repair(self, ctx: DoctorContext, finding: Finding) -> list[str]:
        with ctx.store.transaction(actor="doctor", strict=False) as txn:
            if not txn.registry.problems or any(p.by_hand for p in txn.registry.problems):
                return []  # nothing to do, or nothing doctor may decide: the finding says what to edit
            fixed, notes = repaired_registry(ctx, txn.registry)
            text = serialize(fixed)
            remaining = parse(text).problems
            if remaining:
                raise RuntimeError(f"cannot repair safely: {remaining[0]} (restore a backup from .smbatcher/backups/)")
            txn.replace_document(text, {"event": "repair", "scenario": self.name, "notes": notes[:200]})
        return notes[:20] + ([f"... and {len(notes) - 20} more"] if len(notes) > 20 else [])
