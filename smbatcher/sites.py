"""Operator commands on sites: add them, list them, set their status by hand."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UsageError
from .manifest import add_domains, new_manifest_text, read_manifest_text
from .lifecycle import STATUSES
from .registry import BadValue, Registry, bad_cell_text, normalize_batch, normalize_domain
from .store import Store


def parse_batch(value: str) -> str:
    try:
        return normalize_batch(value)
    except BadValue as exc:
        raise UsageError(f"--batch: {exc}") from None


def parse_statuses(value: str | None) -> set[str] | None:
    """``--status D,I`` -> {"D", "I"}; case matters (lower case = claimed)."""
    if value is None:
        return None
    wanted = {part.strip() for part in value.split(",") if part.strip()}
    unknown = sorted(wanted - set(STATUSES))
    if unknown or not wanted:
        raise UsageError(f"--status: unknown status {', '.join(unknown) or repr(value)} (known: {' '.join(STATUSES)})")
    return wanted


def read_domain_file(path: str) -> list[str]:
    """``--from FILE``: one domain per line; blank lines and ``#`` comments skipped; ``-`` is stdin."""
    import sys

    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--from: cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"--from: {path} is not UTF-8 text") from None
    domains = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            domains.append(line)
    return domains


@dataclass
class AddResult:
    batch: str
    added: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def add_sites(store: Store, domains: list[str], batch: str, *, skip_existing: bool = False) -> AddResult:
    """All or nothing: one invalid domain, or one duplicate without --skip-existing, writes nothing."""
    if not domains:
        raise UsageError("no domains given (pass DOMAIN... or --from FILE)")
    normalized: list[str] = []
    for raw in domains:
        try:
            normalized.append(normalize_domain(raw))
        except BadValue as exc:
            raise UsageError(f"{exc}; nothing was added") from None
    result = AddResult(batch=batch)
    with store.transaction(actor="add") as txn:
        seen: set[str] = set()
        for domain in normalized:
            existing = txn.row(domain)
            if existing is not None or domain in seen:
                if not skip_existing:
                    where = f"batch {existing.batch}" if existing is not None else "this call"
                    raise UsageError(
                        f"{domain} is already in the registry ({where}); nothing was added (use --skip-existing)"
                    )
                result.skipped.append(domain)
                continue
            seen.add(domain)
            txn.add(domain, batch)
            result.added.append(domain)
        manifest_path = store.workspace.manifest(batch)
        if result.added or not manifest_path.exists():
            try:
                text = read_manifest_text(manifest_path, store.workspace.rel(manifest_path))
            except FileNotFoundError:
                text = new_manifest_text(batch)
            txn.write_manifest(manifest_path, add_domains(text, result.added))
            txn.changed = True
    return result


class SelectedRows(Sequence):
    """The rows ``smb list-sites`` shows, held by position: counting them or printing their domains
    makes no Row object, which on 100,000 rows costs more than reading the file (issue 13)."""

    def __init__(self, registry: Registry, positions: Sequence[int]) -> None:
        self.registry = registry
        self.positions = positions

    def __len__(self) -> int:
        return len(self.positions)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self.registry.row_at(p) for p in self.positions[index]]
        return self.registry.row_at(self.positions[index])

    def domains(self) -> list[str]:
        column = self.registry.column("domain")
        return [column[p] for p in self.positions]


def select_rows(registry: Registry, batch: str | None, statuses: set[str] | None) -> SelectedRows:
    positions: Sequence[int] = range(registry.row_count) if batch is None else registry.batch_positions(batch)
    if batch is not None and not positions:
        raise UsageError(f"batch {batch} has no sites (batches: {', '.join(registry.batches()) or 'none'})")
    if statuses is not None:
        column = registry.column("status")
        positions = [p for p in positions if column[p] in statuses]
    return SelectedRows(registry, positions)


@dataclass
class SetStatusResult:
    changed: list[str] = field(default_factory=list)
    unchanged: list[dict] = field(default_factory=list)
    no_design: list[str] = field(default_factory=list)  # asked for D, set to - (issue 23)

    def as_json(self) -> dict:
        data = {"changed": self.changed, "unchanged": self.unchanged}
        if self.no_design:
            data["no_design"] = self.no_design
        return data


def set_status(
    store: Store,
    domains: list[str],
    status: str,
    *,
    expect: str | None = None,
    note: str | None = None,
    force: bool = False,
) -> SetStatusResult:
    """The operator's override, compare-and-set with ``expect``; nothing is written on bad input."""
    from .runs import live_owner_ids

    if status not in STATUSES:
        raise UsageError(f"--status: unknown status {status!r} (known: {' '.join(STATUSES)})")
    if status != status.upper():
        raise UsageError(f"--status {status}: lower-case statuses are claims; only runs set them")
    if expect is not None and expect not in STATUSES:
        raise UsageError(f"--expect: unknown status {expect!r} (known: {' '.join(STATUSES)})")
    if not domains:
        raise UsageError("no domains given")
    if note is not None and bad_cell_text(note):
        raise UsageError(f"--note: {bad_cell_text(note)}; nothing was written")
    wanted = []
    for raw in domains:
        try:
            wanted.append(normalize_domain(raw))
        except BadValue as exc:
            raise UsageError(f"{exc}; nothing was written") from None
    live_runs = live_owner_ids(store.workspace)
    result = SetStatusResult()
    with store.transaction(actor="set-status") as txn:
        missing = [d for d in wanted if txn.row(d) is None]
        if missing:
            raise UsageError(f"unknown domain {missing[0]}" + (f" (+{len(missing) - 1} more)" if len(missing) > 1 else "")
                             + "; nothing was written")
        for domain in dict.fromkeys(wanted):
            row = txn.row(domain)
            current = row.status
            claimed_live = current.islower() and row.get("owner") in live_runs
            if claimed_live and not force:
                result.unchanged.append({"domain": domain, "status": current,
                                         "reason": f"claimed by live run {row.get('owner')} (use --force)"})
                continue
            if expect is not None and current != expect:
                result.unchanged.append({"domain": domain, "status": current})
                continue
            # Leaving X by hand is a fresh start: the parked site gets its attempts back.
            attempts = 0 if current == "X" and status != "X" else None
            if status == "D" and not store.workspace.design_file(domain).is_file():
                # D promises a design; without one no run would touch the site (issue 23). - is the retry it meant.
                txn.set_status(row, "-", owner="", note=note or "set-status D: no design file, set to -",
                               attempts=attempts)
                result.no_design.append(domain)
                result.changed.append(domain)
                continue
            txn.set_status(row, status, owner="", note=note, attempts=attempts)
            result.changed.append(domain)
    return result
