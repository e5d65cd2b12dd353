"""``smb dashboard``: the live web view (the web stack is imported only here, when it runs)."""

from __future__ import annotations

import os
from typing import Annotated, Optional

import typer

from ..commands import open_workspace
from .common import Globals, command


def register(app: typer.Typer) -> None:
    @command(app, "dashboard", json=False)
    def dashboard_cmd(
        g: Globals,
        port: Annotated[int, typer.Option("--port", help="TCP port to listen on.")] = 3000,
        host: Annotated[str, typer.Option("--host", help="Address to bind (loopback by default).")] = "127.0.0.1",
        open_browser: Annotated[bool, typer.Option("--open", help="Open the page in a browser.")] = False,
        token: Annotated[Optional[str], typer.Option("--token", help="Required with a non-loopback --host "
                                                                      "(else $SMB_DASHBOARD_TOKEN).")] = None,
        allow_control: Annotated[bool, typer.Option("--allow-control", help="Enable stop/retry/release controls.")] = False,
    ) -> int:
        """Serve the live dashboard: progress, runs, holds, failures and a gallery of built sites."""
        from ..dashboard import serve

        ctx = open_workspace(g)
        return serve(ctx.workspace, ctx.settings, host=host, port=port,
                     token=token or os.environ.get("SMB_DASHBOARD_TOKEN") or None,
                     allow_control=allow_control, open_browser=open_browser, ui=ctx.ui)
