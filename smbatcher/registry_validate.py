"""What makes a registry unclean (SPEC §2): the header's columns and each row's values. Pure: no I/O.

The line parser asks these for every line; the bulk parser (``registry_parse``) takes only
tables that pass the same rules, checked column-wise, and falls back to the line parser on any doubt.
"""

from __future__ import annotations

from .lifecycle import STATUSES
from .registry_cells import KNOWN, REQUIRED, is_domain
from .registry_model import Problem

_STATUSES = frozenset(STATUSES)


def header_problems(columns: list[str], line: int) -> list[Problem]:
    """What is wrong with the header on ``line`` (1-based): only a person can say which column was meant."""
    problems = []
    for name in REQUIRED:
        if name not in columns:
            problems.append(Problem(line, f"missing required column '{name}'", by_hand=True))
    for name in KNOWN:
        # Two `status` columns: smb would read one cell and awk or a reader the other (issue 8).
        positions = [i + 1 for i, column in enumerate(columns) if column == name]
        if len(positions) > 1:
            problems.append(Problem(line, f"column '{name}' appears {len(positions)} times "
                                    f"(columns {', '.join(map(str, positions))}); rename or remove one by hand",
                                    by_hand=True))
    if columns and columns[0] != "domain" and "domain" in columns:
        problems.append(Problem(line, "column 'domain' must come first", by_hand=True))
    return problems


def row_problems(line: int, domain: str, status: str | None, batch: str | None,
                 first_line: int | None) -> list[Problem]:
    """What is wrong with one row's values; ``first_line``: where the same domain was seen first, if it was."""
    problems = []
    if not is_domain(domain):
        problems.append(Problem(line, f"invalid domain {domain!r}"))
    if first_line is not None:
        problems.append(Problem(line, f"duplicate domain {domain} (first at line {first_line})"))
    if status is not None and status not in _STATUSES:
        problems.append(Problem(line, f"unknown status {status!r} for {domain}"))
    if batch is not None and not (batch.isdigit() and batch.isascii()):
        problems.append(Problem(line, f"invalid batch {batch!r} for {domain}"))
    return problems
