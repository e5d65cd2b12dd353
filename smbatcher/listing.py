"""``smb list-sites``: the command scripts call in loops, so start-up time is a feature.

The body imports neither Rich, filelock, GitPython nor psutil (STYLE habit 7) unless a table is drawn;
``bench/registry.py`` holds the whole command to 10x a bare interpreter.
"""

from __future__ import annotations

import sys

from .errors import UsageError

FORMATS = ("plain", "table", "json", "csv")


def list_sites(
    root: str | None,
    batch: str | None,
    status: str | None,
    fmt: str | None,
    count: bool,
    quiet: bool = False,
) -> int:
    from .config import load_settings
    from .sites import parse_batch, parse_statuses, select_rows
    from .store import Store
    from .workspace import find_workspace

    workspace = find_workspace(root)
    load_settings(workspace.config_file)  # validates: a bad config is exit 2 everywhere
    if fmt is not None and fmt not in FORMATS:
        raise UsageError(f"--format: want one of {', '.join(FORMATS)}, got {fmt!r}")
    wanted_batch = parse_batch(batch) if batch is not None else None
    wanted = parse_statuses(status)
    registry = Store(workspace).read()
    if registry.problems and not quiet:
        from .registry import unclean_warning

        sys.stderr.write(f"smb: warning: {unclean_warning(workspace.rel(workspace.registry), registry.problems)}\n")
    rows = select_rows(registry, wanted_batch, wanted)
    write = sys.stdout.write
    if count:
        write(f"{len(rows)}\n")
        return 0
    if fmt is None:
        fmt = "table" if sys.stdout.isatty() else "plain"
    if fmt == "plain":
        domains = rows.domains()
        write("\n".join(domains) + "\n" if domains else "")
    elif fmt == "json":
        import json

        from .text import escape_lines  # issue 22: notes are agent text; JSON stays valid, same data

        write(escape_lines(json.dumps([row.as_dict() for row in rows], indent=1, ensure_ascii=False)) + "\n")
    elif fmt == "csv":
        import csv

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(registry.columns)
        from .text import escape_control  # issue 22: notes are agent text

        writer.writerows([escape_control(row.get(c)) for c in registry.columns] for row in rows)
    else:
        from .ui import UI

        columns = [c for c in ("domain", "batch", "status", "attempts", "updated", "note") if c in registry.columns]
        UI().table(columns, ([row.get(c) for c in columns] for row in rows))
    return 0
