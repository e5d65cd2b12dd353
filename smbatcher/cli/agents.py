"""Commands about the agents themselves: what a preset expands to, the usage-limit hold, the digest."""

from __future__ import annotations

from typing import Annotated

import typer

from ..commands import open_workspace
from .common import Globals, command


def register(app: typer.Typer) -> None:
    @command(app, "agents")
    def agents_cmd(g: Globals) -> int:
        """Show what each agent preset (builtin, claude) expands to: command, environment, protocol."""
        from ..agents.presets import describe_presets, render_presets

        rows = describe_presets()
        if g.json:
            g.ui().json(rows)
        else:
            g.ui().out(render_presets(rows).rstrip("\n"))
        return 0

    @command(app, "hold")
    def hold_cmd(
        g: Globals,
        release: Annotated[bool, typer.Option("--release", help="End the hold now: runs launch again.")] = False,
    ) -> int:
        """Show the usage-limit hold every run respects; --release ends it."""
        from .. import holds

        ctx = open_workspace(g)
        hold = holds.release(ctx.workspace) if release else holds.read(ctx.workspace)
        if g.json:
            ctx.ui.json({"hold": None if hold is None else hold.__dict__, "released": bool(release and hold)})
        elif hold is None:
            ctx.ui.info("no hold")
        elif release:
            ctx.ui.info(f"released: was {hold.describe()}")
            from .. import events as event_log

            event_log.append(ctx.workspace.events, [{"event": "hold-end", "reason": "released by smb hold --release",
                                                     "actor": "operator"}])
        else:
            ctx.ui.out(f"{hold.describe()}: {hold.message}" + (f" [{hold.source}]" if hold.source else ""))
        return 0

    @command(app, "report")
    def report_cmd(
        g: Globals,
        since: Annotated[str, typer.Option("--since", help="How far back: 12h, 90m, 2d.")] = "12h",
    ) -> int:
        """The morning digest: sites done, failures by class and message, holds, halts and cost."""
        import time

        from ..digest import build_digest
        from ..render import render_digest
        from ..units import parse_duration

        ctx = open_workspace(g)
        digest = build_digest(ctx.workspace, time.time() - parse_duration(since, "--since"))
        if g.json:
            ctx.ui.json(digest.as_json())
        else:
            render_digest(ctx.ui, digest)
        return 0
