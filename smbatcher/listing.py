"""``smb list-sites``: the command scripts call in loops, so start-up time is a feature.

``entry.py`` routes ``smb list-sites`` here without importing Typer, Rich,
filelock, GitPython or psutil (STYLE habit 7; issue 2's benchmark holds it to
5x a bare interpreter). The Typer command of the same name calls ``list_sites``
too, so both paths print the same thing; ``parse_args`` mirrors its options
and ``tests/test_cli_basic.py`` checks the two agree.
"""

from __future__ import annotations

import sys

from .errors import SmbError, UsageError, guarded

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


def parse_args(argv: list[str]):
    import argparse

    parser = argparse.ArgumentParser(prog="smb list-sites", add_help=False, exit_on_error=False)
    parser.add_argument("--root")
    parser.add_argument("--batch", "-b")
    parser.add_argument("--status", "-s")
    parser.add_argument("--format", "-f", dest="fmt")
    parser.add_argument("--count", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--quiet", "-q", action="store_true")
    parser.add_argument("--verbose", "-v", action="store_true")
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        raise UsageError(f"unexpected argument {unknown[0]!r} (see smb list-sites --help)")
    return args


def main(argv: list[str]) -> int:
    """The fast path, inside the same error boundary as every other command."""

    def run() -> int:
        try:
            args = parse_args(argv)
        except SmbError:
            raise
        except Exception as exc:  # argparse.ArgumentError, without importing argparse twice
            raise UsageError(f"{exc} (see smb list-sites --help)") from None
        return list_sites(args.root, args.batch, args.status, "json" if args.json else args.fmt, args.count,
                          quiet=args.quiet)

    return guarded(run, verbose="-v" in argv or "--verbose" in argv)
