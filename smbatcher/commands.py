"""The workspace context every command opens, and the bodies of ``status``, ``set-status``, ``design``,
``implement`` and ``run``, without Typer (the Typer commands in ``cli/`` read the command line and call them).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from .config import Settings, load_settings
from .errors import EXIT_FAILED, UsageError
from .store import Store
from .ui import UI
from .workspace import Workspace, find_workspace


@dataclass(frozen=True)
class Globals:
    """``--root``, ``--json``, ``-q``, ``-v``: on every command (SPEC §3)."""

    root: Path | None = None
    json: bool = False
    quiet: bool = False
    verbose: bool = False

    def ui(self) -> UI:
        return UI(quiet=self.quiet, verbose=self.verbose)


@dataclass
class Context:
    ui: UI
    workspace: Workspace
    settings: Settings
    store: Store

    def autocommit(self, message: str) -> None:
        if self.settings.git.autocommit:
            from .gitlog import commit_registry

            sha = commit_registry(self.workspace, message)
            if sha:
                self.ui.detail(f"committed {sha[:10]}: {message}")


def open_workspace(g: Globals) -> Context:
    ui = g.ui()
    workspace = find_workspace(g.root)
    settings = load_settings(workspace.config_file)
    return Context(ui, workspace, settings, Store(workspace, settings.registry.lock_timeout))


def required_batch(batch: str | None) -> str:
    from .sites import parse_batch

    if batch is None:
        raise UsageError("--batch is required")
    return parse_batch(batch)


def optional_batch(batch: str | None) -> str | None:
    from .sites import parse_batch

    return parse_batch(batch) if batch is not None else None


def show_status(g: Globals, batch: str | None = None, watch: bool = False) -> int:
    """``smb status``: counts per batch and status, runs, stale claims, throughput and ETA."""
    import time

    from .registry import unclean_warning
    from .render import render_status
    from .report import build_status

    ctx = open_workspace(g)
    wanted = optional_batch(batch)
    while True:
        report = build_status(ctx.workspace, ctx.store.read(), wanted)
        if g.json:
            ctx.ui.json(report.as_json())
            return 0
        if report.problems and not watch:
            ctx.ui.warn(unclean_warning(ctx.workspace.rel(ctx.workspace.registry), report.problems))
        if wanted is not None and wanted not in report.counts:
            raise UsageError(f"batch {wanted} has no sites")
        if not watch or not ctx.ui.terminal:
            render_status(ctx.ui, report)
            return 0
        ctx.ui.console.clear()
        render_status(ctx.ui, report)
        time.sleep(2)


def set_status(g: Globals, domains: list[str], status: str, *, expect: str | None = None,
               note: str | None = None, force: bool = False) -> int:
    """``smb set-status``: sites' status by hand; with ``expect``, compare-and-set."""
    from .sites import set_status as change

    ctx = open_workspace(g)
    result = change(ctx.store, domains, status, expect=expect, note=note, force=force)
    if result.changed:
        ctx.autocommit(f"smb set-status {status}: {', '.join(result.changed[:5])}"
                       + (f" (+{len(result.changed) - 5})" if len(result.changed) > 5 else ""))
    if g.json:
        ctx.ui.json(result.as_json())
    else:
        for domain in result.changed:
            if domain in result.no_design:
                ctx.ui.info(f"{domain} -> - (not D: it has no design file; the next smb design or smb run designs it)")
            else:
                ctx.ui.info(f"{domain} -> {status}")
        for item in result.unchanged:
            reason = item.get("reason") or f"status is {item['status']}, expected {expect}"
            ctx.ui.info(f"{item['domain']} unchanged: {reason}")
    return EXIT_FAILED if result.unchanged else 0


def run_agents(g: Globals, name: str, *, batch: str | None = None, max_agents: int | None = None,
               wave: int | None = None, sites: str | None = None, redo: bool = False, timeout: str | None = None,
               retries: int | None = None, agent: str | None = None, bg: bool = False, dry_run: bool = False,
               halt: str | None = None, executor: str | None = None, scheduler: str | None = None,
               stall_timeout: str | None = None) -> int:
    """``smb design|implement|run`` with its options as read from the command line."""
    from .pool import RunFlags
    from .selection import parse_sites

    ctx = open_workspace(g)
    flags = RunFlags(batch=required_batch(batch), max_agents=max_agents, wave=wave,
                     sites=parse_sites(sites) if sites is not None else None, redo=redo, timeout=timeout,
                     retries=retries, agent=agent, dry_run=dry_run, halt=halt, executor=executor,
                     scheduler=scheduler, stall_timeout=stall_timeout)
    if bg and not dry_run:
        return _background(ctx, g, name, flags)
    if name in ("run", "implement") and not dry_run:  # a D without its design goes back to - (issue 23)
        heal_missing_designs(ctx, flags.batch, actor=name, sites=flags.sites)
    if name == "run":
        return _run_batch(ctx, g, flags)
    return _run_phase(ctx, g, name, flags)


def heal_missing_designs(ctx: Context, batch: str, *, actor: str = "run", sites: list[str] | None = None) -> list[str]:
    """A D site without its design goes back to - with a note, before ``smb run``'s design phase (which
    then designs and builds it) or ``smb implement`` (which says so), instead of being skipped
    ("design missing") run after run until a person moves it (issue 23). ``sites``: only those
    (``--sites``); the event names the command (``actor``)."""
    healed = []
    registry = ctx.store.read()
    if batch not in registry.batches():
        return healed
    try:  # one listing of the designs folder, not one stat per site (it runs before every implement)
        with os.scandir(ctx.workspace.designs) as entries:
            present = {entry.name for entry in entries if entry.is_file()}
    except OSError:
        present = set()
    scope = set(sites) if sites else None
    suspects = [row.domain for row in registry.batch_rows(batch) if row.status == "D"
                and (scope is None or row.domain in scope) and f"{row.domain}-DESIGN.md" not in present]
    if not suspects:
        return healed
    with ctx.store.transaction(actor=actor) as txn:
        for domain in suspects:
            row = txn.row(domain)
            if row is not None and not ctx.workspace.design_file(domain).is_file() and txn.set_status(
                    row, "-", expect="D", note="design missing: back to -", reason="design missing"):
                healed.append(domain)
    for domain in healed:
        ctx.ui.info(f"{domain}: D -> - (its design file is missing: it will be designed again)")
    if healed:
        ctx.autocommit(f"smb: {len(healed)} D sites without a design back to -")
    return healed


def _background(ctx: Context, g: Globals, name: str, flags) -> int:
    from .pool import build_options, start_background

    build_options(ctx.settings, "design" if name == "run" else name, flags)  # refuse bad flags here, not in the log
    info = start_background(ctx.workspace, name, flags.batch, flags.wave, sys.argv[1:])
    if g.json:
        ctx.ui.json(info)
    else:
        ctx.ui.out(f"started {name} batch {flags.batch} in the background: run {info['run_id']}, "
                   f"pid {info['pid']}, log {info['log']}")
    return 0


def _after_phase(ctx: Context, phase: str, flags, result) -> None:
    from .render import render_dry_run

    if flags.dry_run:
        render_dry_run(ctx.ui, result.selection, phase)
    elif result.ok or result.failed or result.parked:
        ctx.autocommit(f"smb {phase} batch {flags.batch}: {result.ok} ok, {result.failed} failed, "
                       f"{result.parked} parked")


def _run_phase(ctx: Context, g: Globals, phase: str, flags) -> int:
    from .pool import RUN_ID_ENV, run_phase

    result = run_phase(ctx.ui, ctx.workspace, ctx.settings, ctx.store, phase, flags,
                       run_id=os.environ.get(RUN_ID_ENV))
    _after_phase(ctx, phase, flags, result)
    if g.json:
        ctx.ui.json(result.as_json())
    return 0 if flags.dry_run else result.exit_code


def _run_batch(ctx: Context, g: Globals, flags) -> int:
    from .finish import stop_signals
    from .pool import run_batch
    from .render import render_finish

    with stop_signals():  # issue 22: a stop between phases or during finish ends like one during a phase
        result = run_batch(ctx.ui, ctx.workspace, ctx.settings, ctx.store, flags,
                           on_phase=lambda phase, r: _after_phase(ctx, phase, flags, r))
    if result.finish is not None:
        render_finish(ctx.ui, result.finish)
        if result.finish.written:
            ctx.autocommit(f"smb finish batch {flags.batch}: {len(result.finish.passed)} -> Q, "
                           f"{len(result.finish.failed)} failed")
    if g.json:
        ctx.ui.json([r.as_json() for r in result.phases])
    return result.exit_code
