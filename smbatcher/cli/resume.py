"""``smb resume DOMAIN``: continue a site's kept agent session by hand, or ``--promote`` what it left (issue 21)."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from ..commands import open_workspace
from . import complete
from .common import Globals, command


def _phases(incomplete: str) -> list[str]:
    return [name for name in ("design", "implement") if name.startswith(incomplete)]


def _on_a_terminal() -> bool:
    """Both ends: an interactive agent reads the keyboard and draws on the screen (SPEC §3: never wait
    for input without a terminal)."""
    try:
        return sys.stdin.isatty() and sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def register(app: typer.Typer) -> None:
    @command(app, "resume")
    def resume_cmd(
        g: Globals,
        domain: Annotated[str, typer.Argument(help="The site.", autocompletion=complete.domains)],
        promote: Annotated[bool, typer.Option("--promote", help="Take the session's output into place (status D "
                                                                "or I) and give the session up.")] = False,
        phase: Annotated[Optional[str], typer.Option("--phase", help="design or implement (default: the latest).",
                                                     autocompletion=_phases)] = None,
    ) -> int:
        """Continue a site's kept agent session on this terminal (else print the command); --promote takes its output."""
        from .. import resume

        ctx = open_workspace(g)
        if promote:
            done = resume.promote(ctx.workspace, ctx.store, domain, phase)
            ctx.autocommit(f"smb resume --promote: {done.domain} {done.before} -> {done.after}")
            if g.json:
                ctx.ui.json(done.as_json())
            else:
                ctx.ui.out(f"{done.domain}: {done.phase} session {done.session} promoted to "
                           f"{ctx.workspace.rel(done.dest)}; {done.before} -> {done.after}; session removed")
            return 0
        plan = resume.takeover(ctx.workspace, ctx.store, domain, phase)
        if g.json:
            ctx.ui.json(plan.as_json())
            return 0
        if not _on_a_terminal():
            ctx.ui.out(plan.shell_command())
            return 0
        ctx.ui.info(f"{plan.domain}: continuing its {plan.session.phase} session {plan.session.id} in "
                    f"{ctx.workspace.rel(plan.folder)} (then: smb resume {plan.domain} --promote)")
        ctx.ui.flush()
        return resume.run_interactive(ctx.workspace, plan)
