"""Site names and registry text, written straight to the file (milliseconds for thousands of rows)."""

from __future__ import annotations

from smbatcher.registry import DEFAULT_COLUMNS, Row, new_registry_text, parse, render_cells
from smbatcher.workspace import Workspace

STAMP = "2026-11-21T10:02:11Z"


def domains(count: int, prefix: str = "site") -> list[str]:
    """``site-00000.dev``, ``site-00001.dev``, ...: the one naming scheme of the tests.

    Five digits keep registry order and name order the same up to 100,000 sites (bench/registry.py's
    largest registry). Tests should index this list (``names[1]``) rather than spell a name out.
    """
    return [f"{prefix}-{n:05d}.dev" for n in range(count)]


def row_line(domain: str, batch: str = "001", status: str = "D", owner: str = "", attempts: int = 0,
             note: str = "", updated: str = STAMP) -> str:
    """One registry row, rendered the way smb renders rows (a trailing newline included)."""
    values = {"domain": domain, "batch": batch, "status": status, "owner": owner, "attempts": str(attempts),
              "updated": updated, "note": note}
    return render_cells([values[column] for column in DEFAULT_COLUMNS]) + "\n"


def registry_text(rows: list[str | tuple], status: str = "D", batch: str = "001") -> str:
    """A registry with one row per item: a domain (in ``status`` and ``batch``), or a tuple of
    ``row_line`` arguments ``(domain, batch, status[, owner[, attempts[, note]]])``."""
    return new_registry_text() + "".join(
        row_line(*row) if isinstance(row, tuple) else row_line(row, batch, status) for row in rows)


def write_registry(ws: Workspace, count: int | list[str], status: str = "D", batch: str = "001") -> list[str]:
    """Write a registry of ``count`` sites (``domains(count)``) or of the given names; returns the names.

    The registry only: no manifest, no design file (``workspaces.make_workspace`` writes those).
    """
    names = domains(count) if isinstance(count, int) else list(count)
    ws.registry.write_text(registry_text(names, status, batch), encoding="utf-8")
    return names


def assert_clean(text: str) -> None:
    problems = parse(text).problems
    assert not problems, [str(p) for p in problems]


def rows(ws: Workspace) -> dict[str, Row]:
    """domain -> Row of a registry that must parse clean (a broken one fails here, naming the problems)."""
    registry = parse(ws.registry.read_text(encoding="utf-8"))
    assert not registry.problems, [str(p) for p in registry.problems]
    return {row.domain: row for row in registry.rows}


def statuses(ws: Workspace) -> dict[str, str]:
    """domain -> status letter, in registry order."""
    return {domain: row.status for domain, row in rows(ws).items()}


def row_dicts(ws: Workspace) -> dict[str, dict[str, str]]:
    """domain -> {column: cell}, for comparing whole rows with ``==``."""
    return {domain: row.as_dict() for domain, row in rows(ws).items()}
