"""Quick builders and assertions shared by the registry, store and CLI tests."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from smbatcher.registry import DEFAULT_COLUMNS, new_registry_text, parse, render_cells
from smbatcher.workspace import Workspace

STAMP = "2026-11-21T10:02:11Z"


def domains(count: int, prefix: str = "site") -> list[str]:
    return [f"{prefix}-{n:05d}.dev" for n in range(count)]


def registry_text(names: list[str], status: str = "D", batch: str = "001") -> str:
    """A clean registry with one row per domain, written the way ``smb`` writes rows."""
    rows = [render_cells([d, batch, status, "", "0", STAMP, ""]) + "\n" for d in names]
    assert len(DEFAULT_COLUMNS) == 7
    return new_registry_text() + "".join(rows)


def write_registry(ws: Workspace, count: int | list[str], status: str = "D", batch: str = "001") -> list[str]:
    """Write a registry of ``count`` sites directly (no transactions: milliseconds for thousands of rows)."""
    names = domains(count) if isinstance(count, int) else list(count)
    ws.registry.write_text(registry_text(names, status, batch), encoding="utf-8")
    return names


def assert_clean(text: str) -> None:
    problems = parse(text).problems
    assert not problems, [str(p) for p in problems]


def statuses(ws: Workspace) -> dict[str, str]:
    reg = parse(ws.registry.read_text(encoding="utf-8"))
    return {row.domain: row.status for row in reg.rows}


def assert_one_line_error(proc: subprocess.CompletedProcess, code: int) -> str:
    """Exit ``code``, exactly one line on stderr, no traceback; returns that line."""
    detail = f"exit={proc.returncode}\nstdout={proc.stdout!r}\nstderr={proc.stderr!r}"
    assert proc.returncode == code, detail
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, detail
    assert "Traceback" not in proc.stderr, detail
    return lines[0]


def wait_for(predicate, timeout: float, what: str, interval: float = 0.01):
    """Poll ``predicate`` until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def read_bytes(path: Path) -> bytes:
    return path.read_bytes()
