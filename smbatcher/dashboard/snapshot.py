"""One version of the registry, as the pages need it: three parallel lists and the counts.

The overview counts statuses per batch and the gallery filters by batch and
status over up to 100,000 rows, so domain, batch and status live in parallel
lists (``Counter(zip(...))`` counts them in C); a page that shows a row whole
asks the parsed document for it. After a change, only the changed rows are
parsed again (``snapshot_of``'s docstring says when that is safe).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from ..lifecycle import CLAIMS
from ..registry import Registry, parse
from ..lifecycle import batch_key


class SiteRow(NamedTuple):
    domain: str
    batch: str
    status: str
    attempts: int
    owner: str
    updated: str
    note: str


@dataclass
class RegistrySnapshot:
    """One version of the registry: domain, batch and status of every row in parallel lists (what the
    overview counts and the gallery filters), the parsed document for the few rows a page shows whole."""

    domains: list[str] = field(default_factory=list)
    batches: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)  # domain -> position of its first row
    counts: dict[str, Counter] = field(default_factory=dict)  # batch -> status -> n
    claims: Counter = field(default_factory=Counter)  # owner run id -> sites it claims (d, i)
    problems: list[str] = field(default_factory=list)
    error: str | None = None  # the registry could not be read at all
    registry: Registry | None = None
    lines: list[str] = field(default_factory=list)  # the file's lines, to see which changed next time

    def site(self, position: int) -> SiteRow:
        row = self.registry.rows[position]
        return SiteRow(self.domains[position], self.batches[position], self.statuses[position], row.attempts,
                       row.get("owner"), row.get("updated"), row.get("note"))

    def row(self, domain: str) -> SiteRow | None:
        position = self.index.get(domain)
        return None if position is None else self.site(position)


PATCH_LIMIT = 2000  # more changed lines than this: parse the whole registry again


def snapshot_of(text_: str, previous: RegistrySnapshot | None = None) -> RegistrySnapshot:
    """The snapshot of a registry text, patched from ``previous`` when only some rows changed.

    Every smb write rewrites a handful of rows among up to 100,000, and a full parse of 100,000 rows
    takes most of a second (issue 11: a change is on the page within 2 s). So when the previous version
    parsed cleanly and the new text has the same lines but for some table rows, only those rows are
    parsed (by ``registry.parse``, the one authority on what a valid row is, under the same header) and
    put in place; anything else, or any doubt, is a full parse.
    """
    lines = text_.splitlines(keepends=True)
    if previous is not None:
        patched = _patch(previous, lines)
        if patched is not None:
            return patched
    registry = parse(text_)
    rows = registry.rows
    columns = registry.column_index
    batch_at, status_at = columns.get("batch"), columns.get("status")
    snapshot = RegistrySnapshot(index=registry.index, problems=[str(p) for p in registry.problems],
                                registry=registry, lines=lines)
    snapshot.domains, snapshot.batches, snapshot.statuses = [""] * len(rows), [""] * len(rows), [""] * len(rows)
    if batch_at is None or status_at is None:  # a registry without them has problems; show its domains
        snapshot.domains = [row.domain for row in rows]
    else:
        _read_rows(snapshot, rows, range(len(rows)), batch_at, status_at)
    counts: dict[str, Counter] = {}
    for (batch, status), n in Counter(zip(snapshot.batches, snapshot.statuses)).items():
        counts.setdefault(batch, Counter())[status] = n
    snapshot.counts = counts
    for position, status in enumerate(snapshot.statuses):
        if status in CLAIMS:
            snapshot.claims[rows[position].get("owner")] += 1
    return snapshot


def _patch(previous: RegistrySnapshot, lines: list[str]) -> RegistrySnapshot | None:
    """``previous`` with its changed rows parsed again, or None when that would not be what a full parse gives."""
    old = previous.registry
    if old is None or previous.problems or not old.rows or len(previous.lines) != len(lines):
        return None
    first, last = old.rows[0].line - 1, old.rows[-1].line - 1  # 0-based line numbers of the table's rows
    changed = [i for i, (a, b) in enumerate(zip(previous.lines, lines)) if a != b]
    if len(changed) > PATCH_LIMIT or (changed and (changed[0] < first or changed[-1] > last)):
        return None  # text around the table, the header, or too much: not a patch
    columns = old.column_index
    batch_at, status_at = columns.get("batch"), columns.get("status")
    if batch_at is None or status_at is None:
        return None
    mini = parse(old.header + old.align + "".join(lines[i] for i in changed))
    # Each changed line must be a clean row on its own (cells, domain, status, batch), keep its domain
    # (so no duplicate can appear), and stay a table row (so the table ends where it ended).
    if mini.problems or mini.before or mini.after or len(mini.rows) != len(changed):
        return None
    positions = [i - first for i in changed]
    if any(row.domain != previous.domains[p] for row, p in zip(mini.rows, positions)):
        return None
    rows = list(old.rows)
    for i, position, row in zip(changed, positions, mini.rows):
        row.line = i + 1
        rows[position] = row
    registry = replace(old, rows=rows)
    snapshot = RegistrySnapshot(domains=list(previous.domains), batches=list(previous.batches),
                                statuses=list(previous.statuses), index=old.index, registry=registry, lines=lines,
                                counts={b: Counter(c) for b, c in previous.counts.items()},
                                claims=Counter(previous.claims))
    for position in positions:  # take the old rows out of the counts...
        batch, status = snapshot.batches[position], snapshot.statuses[position]
        snapshot.counts[batch][status] -= 1
        if status in CLAIMS:
            snapshot.claims[old.rows[position].get("owner")] -= 1
    _read_rows(snapshot, rows, positions, batch_at, status_at)
    for position in positions:  # ...and the new ones in
        batch, status = snapshot.batches[position], snapshot.statuses[position]
        snapshot.counts.setdefault(batch, Counter())[status] += 1
        if status in CLAIMS:
            snapshot.claims[rows[position].get("owner")] += 1
    snapshot.counts = {b: +c for b, c in snapshot.counts.items() if +c}  # +c drops the zero counts
    snapshot.claims = +snapshot.claims
    return snapshot


def _read_rows(snapshot: RegistrySnapshot, rows, positions, batch_at: int, status_at: int) -> None:
    domains, batches, statuses = snapshot.domains, snapshot.batches, snapshot.statuses
    need = max(batch_at, status_at) + 1
    keys: dict[str, str] = {}
    for i in positions:
        row = rows[i]
        raw = row.raw
        # A split of the raw line where it is plain (most rows); the registry's own split otherwise.
        parts = raw.split("|", need + 1) if raw is not None and "\\" not in raw else ()
        if len(parts) > need + 1:
            domain, batch, status = parts[1].strip(), parts[batch_at + 1].strip(), parts[status_at + 1].strip()
        else:
            domain, batch, status = row.domain, row.batch, row.status
        key = keys.get(batch)
        if key is None:
            key = keys[batch] = batch_key(batch)
        domains[i], batches[i], statuses[i] = domain, key, status
