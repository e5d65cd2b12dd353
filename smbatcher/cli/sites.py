"""Commands on the registry itself: init, add, list-sites, status, set-status, history."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Optional

import typer

from ..commands import open_workspace, required_batch
from ..registry import unclean_warning
from . import complete
from .common import BatchOpt, Globals, command


def register(app: typer.Typer) -> None:
    @command(app, "init", json=False)
    def init_cmd(g: Globals, directory: Annotated[Path, typer.Argument(help="Folder to make a workspace of.")] = Path("."),
                 force: Annotated[bool, typer.Option("--force", help="Make it even inside another workspace.")] = False) -> int:
        """Create a workspace (never overwrites an existing registry)."""
        from ..config import load_settings
        from ..workspace import create_workspace

        ui = g.ui()
        if g.root is not None and directory == Path("."):
            directory = g.root  # `smb --root DIR init` means the same as `smb init DIR`
        workspace, created = create_workspace(directory, allow_nested=force)
        load_settings(workspace.config_file)
        if created:
            ui.info(f"initialised workspace {workspace.root}: created {', '.join(created)}")
        else:
            ui.info(f"workspace {workspace.root} already exists; nothing changed")
        return 0

    @command(app, "add")
    def add_cmd(
        g: Globals,
        domains: Annotated[Optional[List[str]], typer.Argument(help="Domains to add.")] = None,
        batch: BatchOpt = None,
        from_file: Annotated[Optional[str], typer.Option("--from", help="File of domains, one a line (- = stdin).")] = None,
        skip_existing: Annotated[bool, typer.Option("--skip-existing", help="Skip domains already present.")] = False,
    ) -> int:
        """Add sites (status -) to the registry and the batch manifest; all or nothing."""
        from ..sites import add_sites, read_domain_file

        ctx = open_workspace(g)
        wanted_batch = required_batch(batch)
        names = list(domains or []) + (read_domain_file(from_file) if from_file else [])
        result = add_sites(ctx.store, names, wanted_batch, skip_existing=skip_existing)
        if result.added:
            ctx.autocommit(f"smb add: {len(result.added)} sites to batch {wanted_batch}")
        if g.json:
            ctx.ui.json({"batch": result.batch, "added": result.added, "skipped": result.skipped})
        else:
            ctx.ui.info(f"added {len(result.added)} sites to batch {result.batch}"
                        + (f"; skipped {len(result.skipped)} already present" if result.skipped else ""))
        return 0

    @command(app, "list-sites")
    def list_sites_cmd(
        g: Globals,
        batch: BatchOpt = None,
        status: Annotated[Optional[str], typer.Option("--status", "-s", help="Statuses, comma-separated (case matters).",
                                                                    autocompletion=complete.statuses)] = None,
        fmt: Annotated[Optional[str], typer.Option("--format", "-f", help="plain, table, json or csv.")] = None,
        count: Annotated[bool, typer.Option("--count", help="Print only the number of sites.")] = False,
    ) -> int:
        """List sites: one domain a line when piped, a table on a terminal."""
        from ..listing import list_sites

        return list_sites(str(g.root) if g.root else None, batch, status, "json" if g.json else fmt, count,
                          quiet=g.quiet)

    @command(app, "status")
    def status_cmd(
        g: Globals,
        batch: BatchOpt = None,
        watch: Annotated[bool, typer.Option("--watch", help="Refresh every 2 seconds until Ctrl-C.")] = False,
    ) -> int:
        """Counts per batch and status, live and dead runs, stale claims, throughput and ETA."""
        from ..commands import show_status

        return show_status(g, batch, watch)

    @command(app, "set-status")
    def set_status_cmd(
        g: Globals,
        domains: Annotated[List[str], typer.Argument(help="Domains to change.", autocompletion=complete.domains)],
        status: Annotated[str, typer.Option("--status", "-s", help="New status: - D I Q X.",
                                                                autocompletion=complete.statuses)],
        expect: Annotated[Optional[str], typer.Option("--expect", help="Only change sites now in this status.",
                                                                                    autocompletion=complete.statuses)] = None,
        note: Annotated[Optional[str], typer.Option("--note", help="Text for the note column.")] = None,
        force: Annotated[bool, typer.Option("--force", help="Also change sites claimed by a live run.")] = False,
    ) -> int:
        """Set sites' status by hand; with --expect, compare-and-set."""
        from ..commands import set_status

        return set_status(g, domains, status, expect=expect, note=note, force=force)

    @command(app, "history")
    def history_cmd(g: Globals, domain: Annotated[str, typer.Argument(help="The site.", autocompletion=complete.domains)]) -> int:
        """A site's events, oldest first (and its registry commits with git autocommit)."""
        from ..history import site_history
        from ..render import render_history

        ctx = open_workspace(g)
        problems = ctx.store.read().problems
        if problems:
            ctx.ui.warn(unclean_warning(ctx.workspace.rel(ctx.workspace.registry), problems))
        items = site_history(ctx.workspace, ctx.settings, ctx.store, domain)
        if g.json:
            ctx.ui.json(items)
        else:
            render_history(ctx.ui, domain, items)
        return 0
