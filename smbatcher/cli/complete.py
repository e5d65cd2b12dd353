"""Shell completion from the registry: domains, batches and statuses (issue 23).

A shell asks on every Tab, so these read the registry file as text (the domain is its first column,
the batch its second, by contract) instead of parsing and validating it, and never fail: a missing or
broken workspace completes nothing.
"""

from __future__ import annotations


def _cells(ctx) -> list[list[str]]:
    from ..workspace import find_workspace

    try:
        root = (ctx.params.get("root") if ctx is not None else None) or None
        text = find_workspace(root).registry.read_text(encoding="utf-8", errors="replace")
    except Exception:  # completion must never print an error into the shell's prompt
        return []
    rows = []
    for line in text.splitlines():
        if line.startswith("|") and not line.startswith("|-"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if cells and cells[0] != "domain":
                rows.append(cells)
    return rows


def domains(ctx, incomplete: str) -> list[str]:
    return [cells[0] for cells in _cells(ctx) if cells[0].startswith(incomplete.lower())]


def domain_list(ctx, incomplete: str) -> list[str]:
    """``--sites a.dev,b.d``: completes the last domain of a comma-separated list."""
    done, _, last = incomplete.rpartition(",")
    prefix = done + "," if done else ""
    return [prefix + domain for domain in domains(ctx, last)]


def batches(ctx, incomplete: str) -> list[str]:
    found = dict.fromkeys(cells[1] for cells in _cells(ctx) if len(cells) > 1)
    return [batch for batch in found if batch.startswith(incomplete)]


def statuses(ctx, incomplete: str) -> list[str]:
    """One status, or the last of a comma-separated list (``--status D,``)."""
    from ..lifecycle import STATUSES

    done, _, last = incomplete.rpartition(",")
    prefix = done + "," if done else ""
    return [prefix + status for status in STATUSES if status.startswith(last)]
