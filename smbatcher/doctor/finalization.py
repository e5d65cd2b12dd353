"""finalization: per-batch status counts against the manifest (runbook scenario 6).

Finds lost rows (a manifest lists the site, the registry has no row) and
batches split between ``I`` and ``Q``. The fix rebuilds lost rows from the
manifest and the files on disk (site built -> ``I``, design -> ``D``, else
``-``) at their manifest position, so wave numbers keep meaning the same sites;
then ``smb finish`` can be run again.
"""

from __future__ import annotations

from collections import Counter

from ..lifecycle import FINISHED, IMPLEMENTED, batch_key
from ..manifest import add_domains, read_manifest_text, read_manifests
from .base import DoctorContext, Finding
from .evidence import status_from_disk


def _manifests(ctx: DoctorContext) -> dict[str, list[str]]:
    manifests = read_manifests(ctx.workspace.batches)
    return {b: d for b, d in manifests.items() if not ctx.batch or b == ctx.batch}


class Finalization:
    name = "finalization"
    about = "per-batch status counts vs the manifest: lost rows, batches split between I and Q"
    time_limit = 20.0

    def _lost(self, ctx: DoctorContext) -> dict[str, list[str]]:
        present = set(ctx.registry.index)
        return {batch: [d for d in domains if d not in present] for batch, domains in _manifests(ctx).items()}

    def diagnose(self, ctx: DoctorContext) -> Finding:
        finding = Finding(self.name)
        manifests = _manifests(ctx)
        lost = self._lost(ctx)
        split = []
        for batch, domains in manifests.items():
            counts = Counter(row.status for row in ctx.registry.batch_rows(batch))
            rows = sum(counts.values())
            finding.findings.append(f"batch {batch}: manifest {len(domains)}, rows {rows}: "
                                    + ", ".join(f"{s} {n}" for s, n in sorted(counts.items())))
            if lost[batch]:
                finding.findings.append(f"batch {batch}: {len(lost[batch])} lost rows: "
                                        + ", ".join(lost[batch][:10]) + (" ..." if len(lost[batch]) > 10 else ""))
            if counts.get(IMPLEMENTED) and counts.get(FINISHED):
                split.append(batch)
                finding.findings.append(f"batch {batch}: split between I ({counts[IMPLEMENTED]}) "
                                        f"and Q ({counts[FINISHED]}): "
                                        f"finish again with: smb finish --batch {batch}")
        unlisted = self._unlisted(ctx, manifests)
        for batch, domains in unlisted.items():
            finding.findings.append(f"batch {batch}: {len(domains)} rows not in its manifest: " + ", ".join(domains[:10]))
        total_lost = sum(len(v) for v in lost.values())
        total_unlisted = sum(len(v) for v in unlisted.values())
        finding.data.update(lost=total_lost, split=split, unlisted=total_unlisted)
        if total_lost:
            return finding.conclude(fail=f"{total_lost} rows lost from the registry (listed in manifests)",
                                    fix="smb doctor --scenario finalization --fix  (then: smb finish --batch B)")
        if total_unlisted:
            return finding.conclude(
                warn=f"{total_unlisted} rows are missing from their batch manifest (finish refuses such a batch)",
                fix="smb doctor --scenario finalization --fix")
        if split:
            return finding.conclude(warn=f"batch {', '.join(split)} split between I and Q (finalization incomplete)",
                                    fix=f"smb finish --batch {split[0]}")
        return finding.conclude(ok=f"{len(manifests)} batches: every manifest site has its row")

    @staticmethod
    def _unlisted(ctx: DoctorContext, manifests: dict[str, list[str]]) -> dict[str, list[str]]:
        """Rows whose batch manifest does not list them (or that have no manifest at all)."""
        result: dict[str, list[str]] = {}
        listed = {batch: set(domains) for batch, domains in manifests.items()}
        for row in ctx.registry.rows:
            key = batch_key(row.batch)
            if ctx.batch and key != ctx.batch:
                continue
            if row.domain not in listed.get(key, ()):
                result.setdefault(key, []).append(row.domain)
        return result

    def repair(self, ctx: DoctorContext, finding: Finding) -> list[str]:
        manifests = _manifests(ctx)
        done = []
        with ctx.store.transaction(actor="doctor") as txn:
            registry = txn.registry
            for batch, domains in self._unlisted(ctx, manifests).items():
                path = ctx.workspace.manifest(batch)
                try:
                    text = read_manifest_text(path)
                except FileNotFoundError:
                    from ..manifest import new_manifest_text

                    text = new_manifest_text(batch)
                txn.write_manifest(path, add_domains(text, domains))
                txn.changed = True
                done.append(f"batch {batch}: added {len(domains)} registry sites to its manifest")
            for batch, domains in manifests.items():
                for position, domain in enumerate(domains):
                    if registry.row(domain) is not None:
                        continue
                    status = status_from_disk(ctx.workspace, domain)
                    row = registry.add(domain, batch, status)
                    txn.changed = True
                    # Put it after the row of the nearest earlier manifest site, as it was.
                    registry.rows.pop()
                    anchor = next((registry.index[d] for d in reversed(domains[:position]) if d in registry.index), None)
                    insert_at = anchor + 1 if anchor is not None else self._batch_start(registry, batch)
                    registry.rows.insert(insert_at, row)
                    registry.reindex()
                    txn.note_event({"event": "add", "domain": domain, "batch": batch, "to": status,
                                    "reason": "doctor: lost row rebuilt from the files on disk"})
                    done.append(f"{domain}: row rebuilt in batch {batch} as {status}")
        return done

    @staticmethod
    def _batch_start(registry, batch: str) -> int:
        for position, row in enumerate(registry.rows):
            if row.batch == batch:
                return position
        return len(registry.rows)
