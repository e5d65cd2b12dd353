"""``smb finish``: check every I site and finalize the passing ones in one transaction."""

from __future__ import annotations

from typing import Annotated

import typer

from ..commands import open_workspace, required_batch
from .common import BatchOpt, Globals, command


def register(app: typer.Typer) -> None:
    @command(app, "finish")
    def finish_cmd(
        g: Globals,
        batch: BatchOpt = None,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and report; write nothing.")] = False,
        reset_failed: Annotated[bool, typer.Option("--reset-failed", help="Send failing sites back to D.")] = False,
        screenshots: Annotated[bool, typer.Option("--screenshots", help="Screenshot each finished site (Chromium).")] = False,
    ) -> int:
        """Check every I site; passing ones become Q in one transaction; failures are listed with reasons."""
        from ..finish import finish_batch
        from ..render import render_finish

        ctx = open_workspace(g)
        wanted = required_batch(batch)
        report = finish_batch(ctx.workspace, ctx.store, wanted, dry_run=dry_run, reset_failed=reset_failed,
                              screenshots=screenshots)
        if report.written:
            ctx.autocommit(f"smb finish batch {wanted}: {len(report.passed)} -> Q, {len(report.failed)} failed")
        if g.json:
            ctx.ui.json(report.as_json())
        else:
            render_finish(ctx.ui, report)
        return report.exit_code
