"""``smb status``, ``smb set-status``, ``smb design``, ``smb implement`` and ``smb run`` without Typer
(issue 13).

Scripts and cron call the first two on registries of 100,000 rows, and importing the Typer app
(Click, Pydantic) and reading its options costs as much as the whole command; the run commands paid
the same quarter of a second before their first agent started. ``entry.py`` routes them here, as
it routes ``smb list-sites`` to ``listing.py``. This parser accepts only what the Typer command
accepts, read the same way; for anything else (``--help``, ``--watch``, an unknown or missing
option, a value argparse would read otherwise) ``main`` returns None and ``entry.py`` runs the Typer
app, so help and usage errors come from one place. The bodies are those of ``cli/sites.py``, and
``tests/test_lean.py`` runs both paths on the same workspaces and compares what they print.
"""

from __future__ import annotations

from .errors import EXIT_FAILED, guarded

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
    """Run ``smb status`` or ``smb set-status``; None when the Typer app must read this command line."""
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


def _open(args):
    """What ``commands.open_workspace`` gives: the UI, the workspace, its settings, the Store."""
    from .commands import open_workspace

    ctx = open_workspace(_globals(args))
    return ctx.ui, ctx.workspace, ctx.settings, ctx.store


def run_agents(args) -> int:
    from .commands import run_agents as body

    return body(_globals(args), args.command, batch=args.batch, max_agents=args.max_agents, wave=args.wave,
                sites=args.sites, redo=args.redo, timeout=args.timeout, retries=args.retries, agent=args.agent,
                bg=args.bg, dry_run=args.dry_run, halt=args.halt, executor=args.executor, scheduler=args.scheduler)


def status(args) -> int:
    from .errors import UsageError
    from .registry import unclean_warning
    from .render import render_status
    from .report import build_status
    from .sites import parse_batch

    ui, workspace, _, store = _open(args)
    wanted = parse_batch(args.batch) if args.batch is not None else None
    report = build_status(workspace, store.read(), wanted)
    if args.json:
        ui.json(report.as_json())
        return 0
    if report.problems:
        ui.warn(unclean_warning(workspace.rel(workspace.registry), report.problems))
    if wanted is not None and wanted not in report.counts:
        raise UsageError(f"batch {wanted} has no sites")
    render_status(ui, report)
    return 0


def set_status(args) -> int:
    from .sites import set_status as change

    ui, workspace, settings, store = _open(args)
    result = change(store, args.domains, args.status, expect=args.expect, note=args.note, force=args.force)
    if result.changed and settings.git.autocommit:
        from .gitlog import commit_registry

        message = (f"smb set-status {args.status}: {', '.join(result.changed[:5])}"
                   + (f" (+{len(result.changed) - 5})" if len(result.changed) > 5 else ""))
        sha = commit_registry(workspace, message)
        if sha:
            ui.detail(f"committed {sha[:10]}: {message}")
    if args.json:
        ui.json(result.as_json())
    else:
        for domain in result.changed:
            ui.info(f"{domain} -> {args.status}")
        for item in result.unchanged:
            reason = item.get("reason") or f"status is {item['status']}, expected {args.expect}"
            ui.info(f"{item['domain']} unchanged: {reason}")
    return EXIT_FAILED if result.unchanged else 0
