"""``smb status``, ``smb set-status``, ``smb design``, ``smb implement`` and ``smb run`` without Typer
(issue 13).

Scripts and cron call the first two on registries of 100,000 rows, and importing the Typer app
(Click, Pydantic) and reading its options costs as much as the whole command; the run commands paid
about a fifth of a second before their first agent started. ``entry.py`` routes them here, as
it routes ``smb list-sites`` to ``listing.py``. This parser accepts only what the Typer command
accepts, read the same way; for anything else (``--help``, ``--watch``, an unknown or missing
option, a value argparse would read otherwise) ``main`` returns None and ``entry.py`` runs the Typer
app, so help and usage errors come from one place. Both call the bodies in ``commands.py``, and
``tests/test_lean.py`` runs both paths on the same workspaces and compares what they print.
"""

from __future__ import annotations

from .errors import guarded

COMMANDS = ("status", "set-status", "design", "implement", "run")
RUNS = ("design", "implement", "run")


class _Refused(Exception):
    """Not for this parser: the Typer app takes the command line."""


def parse_args(argv: list[str]):
    import argparse

    class Parser(argparse.ArgumentParser):
        def error(self, message):  # never print or exit: hand the command line to Typer
            raise _Refused(message)

    command = argv[0]
    parser = Parser(prog=f"smb {command}", add_help=False, allow_abbrev=False)
    parser.add_argument("--root")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--quiet", "-q", action="store_true")
    parser.add_argument("--verbose", "-v", action="store_true")
    if command == "status":
        parser.add_argument("--batch", "-b")
    elif command in RUNS:  # the options of cli/runs.py, read as Click reads them
        parser.add_argument("--batch", "-b")
        parser.add_argument("--max-agents", "-n", type=int)
        parser.add_argument("--wave", "-w", type=int)
        parser.add_argument("--sites")
        parser.add_argument("--redo", action="store_true")
        parser.add_argument("--timeout")
        parser.add_argument("--retries", type=int)
        parser.add_argument("--agent")
        parser.add_argument("--bg", action="store_true")
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--halt")
        parser.add_argument("--executor")
        parser.add_argument("--scheduler")
    else:
        parser.add_argument("domains", nargs="+")
        parser.add_argument("--status", "-s", required=True)
        parser.add_argument("--expect")
        parser.add_argument("--note")
        parser.add_argument("--force", action="store_true")
    args = parser.parse_intermixed_args(argv[1:])
    args.command = command
    return args


def main(argv: list[str]) -> int | None:
    """Run one of ``COMMANDS``; None when the Typer app must read this command line."""
    if argv[:1] not in ([c] for c in COMMANDS) or "--" in argv:
        return None
    try:
        args = parse_args(argv)
    except _Refused:
        return None
    body = run_agents if args.command in RUNS else status if args.command == "status" else set_status
    return guarded(lambda: body(args), verbose=args.verbose)


def _globals(args):
    from pathlib import Path

    from .commands import Globals

    return Globals(root=Path(args.root) if args.root is not None else None, json=args.json, quiet=args.quiet,
                   verbose=args.verbose)


def status(args) -> int:
    from .commands import show_status

    return show_status(_globals(args), args.batch)


def set_status(args) -> int:
    from .commands import set_status as body

    return body(_globals(args), args.domains, args.status, expect=args.expect, note=args.note, force=args.force)


def run_agents(args) -> int:
    from .commands import run_agents as body

    return body(_globals(args), args.command, batch=args.batch, max_agents=args.max_agents, wave=args.wave,
                sites=args.sites, redo=args.redo, timeout=args.timeout, retries=args.retries, agent=args.agent,
                bg=args.bg, dry_run=args.dry_run, halt=args.halt, executor=args.executor, scheduler=args.scheduler)
