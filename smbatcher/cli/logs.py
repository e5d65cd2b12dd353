"""``smb logs DOMAIN``: a site's latest (or chosen) agent attempt log, readable, and followed with -f."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Annotated, Optional

import typer

from ..commands import open_workspace
from . import complete
from .common import Globals, command


def _phases(incomplete: str) -> list[str]:
    return [name for name in ("design", "implement") if name.startswith(incomplete)]


def register(app: typer.Typer) -> None:
    @command(app, "logs", json=False)
    def logs_cmd(
        g: Globals,
        domain: Annotated[str, typer.Argument(help="The site.", autocompletion=complete.domains)],
        follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep showing what the agent writes "
                                                                   "until its attempt ends.")] = False,
        phase: Annotated[Optional[str], typer.Option("--phase", help="design or implement (default: the latest).",
                                                     autocompletion=_phases)] = None,
        attempt: Annotated[Optional[int], typer.Option("--attempt", help="Attempt number (default: the latest).")] = None,
        raw: Annotated[bool, typer.Option("--raw", help="The log's bytes as written (stream-json and all).")] = False,
    ) -> int:
        """Show a site's agent log (latest attempt); -f follows a live agent until it ends."""
        from ..agentlog import check_choice, choose_log, follow as follow_log, is_running, log_to_follow, read_all
        from ..errors import UsageError
        from ..registry import BadValue, normalize_domain

        check_choice(phase, attempt)
        try:
            name = normalize_domain(domain)
        except BadValue as exc:
            raise UsageError(str(exc)) from None
        ctx = open_workspace(g)

        def waiting(step: str, number: int) -> None:
            if not g.quiet:  # on stderr: stdout is the log (its bytes with --raw)
                sys.stderr.write(f"smb: waiting for {name}'s {step} agent (attempt {number}) to start\n")
                sys.stderr.flush()

        log = (log_to_follow(ctx.workspace, ctx.store, name, phase, attempt, waiting=waiting) if follow
               else choose_log(ctx.workspace, name, phase, attempt))
        if log is None:
            wanted = " ".join(f"{what} {value}" for what, value in (("phase", phase), ("attempt", attempt)) if value)
            raise UsageError(f"no agent log for {name}" + (f" ({wanted})" if wanted else "")
                             + f" in {ctx.workspace.rel(ctx.workspace.logs / 'sites' / name)}")
        chunks = (follow_log(log.path, lambda: is_running(ctx.workspace, ctx.store, log)) if follow
                  else read_all(log.path))
        (_write_raw if raw else _write_readable)(ctx.ui, chunks)
        return 0


def _write_raw(ui, chunks: Iterable[bytes]) -> None:
    ui.flush()
    out = sys.stdout.buffer
    for chunk in chunks:
        out.write(chunk)
        out.flush()


def _write_readable(ui, chunks: Iterable[bytes]) -> None:
    """Whole lines as they arrive (flushed: a follower on a pipe or in cron sees them at once)."""
    from ..agentlog import Lines, Readable

    lines, view = Lines(), Readable()
    for chunk in chunks:
        for line in lines.feed(chunk):
            for shown in view.lines(line):
                ui.out(shown)
        ui.flush()
    for line in lines.end():
        for shown in view.lines(line):
            ui.out(shown)
