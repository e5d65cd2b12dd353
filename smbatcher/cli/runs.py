"""Commands that run agents: design, implement, run (their options declared once), and stop."""

from __future__ import annotations

import os
import sys
from typing import Annotated, Optional

import typer

from ..errors import EXIT_FAILED
from .common import BatchOpt, Context, Globals, command, open_workspace, optional_batch, required_batch

MaxAgentsOpt = Annotated[Optional[int], typer.Option("--max-agents", "-n", help="Agents at once (default from config, 25).")]
WaveOpt = Annotated[Optional[int], typer.Option("--wave", "-w", help="Only wave W: the batch's rows (W-1)*N+1 ... W*N.")]
SitesOpt = Annotated[Optional[str], typer.Option("--sites", help="Only these sites: a.dev,b.dev.")]
RedoOpt = Annotated[bool, typer.Option("--redo", help="With --sites: run again sites already past this phase.")]
TimeoutOpt = Annotated[Optional[str], typer.Option("--timeout", help="Per agent: 90s, 30m, 2h.")]
RetriesOpt = Annotated[Optional[int], typer.Option("--retries", help="Retries within this run (default: until parked).")]
AgentOpt = Annotated[Optional[str], typer.Option("--agent", help="Agent command (default from config: builtin).")]
BgOpt = Annotated[bool, typer.Option("--bg", help="Detach: print run id, pid and log path, return at once.")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Print what would run; change nothing.")]
HaltOpt = Annotated[Optional[str], typer.Option("--halt", help="When to give up: soon,same=5 (default), "
                                                               "now,fail=10%, success=N, never.")]
ExecutorOpt = Annotated[Optional[str], typer.Option("--executor", help="Where agents run: local or dask.")]
SchedulerOpt = Annotated[Optional[str], typer.Option("--scheduler", help="Dask scheduler: tcp://host:8786.")]

_PHASE_HELP = {
    "design": "Run design agents on eligible sites: - (and stale d) become D.",
    "implement": "Run implement agents on eligible sites: D (and stale i) become I.",
    "run": "Design, implement and finish a batch in one go.",
}


def register(app: typer.Typer) -> None:
    for name in ("design", "implement", "run"):
        _run_command(app, name)

    @command(app, "stop")
    def stop_cmd(
        g: Globals,
        run_id: Annotated[Optional[str], typer.Argument(help="The run to stop (see smb status).")] = None,
        batch: BatchOpt = None,
        stop_all: Annotated[bool, typer.Option("--all", help="Stop every live run.")] = False,
    ) -> int:
        """Stop live runs gracefully and wait for them: their sites go back to where they were."""
        from ..pool import stop_runs

        ctx = open_workspace(g)
        result = stop_runs(ctx.workspace, ctx.settings, run_id, optional_batch(batch), stop_all)
        if g.json:
            ctx.ui.json(result.__dict__)
        else:
            if not (result.stopped or result.still_alive or result.not_found):
                ctx.ui.info("no live run to stop")
            for rid in result.stopped:
                ctx.ui.info(f"stopped {rid}")
            for rid in result.not_found:
                ctx.ui.info(f"{rid} is not running")
            for rid in result.still_alive:
                ctx.ui.error(f"{rid} did not stop in time; see smb status")
        return EXIT_FAILED if result.still_alive else 0


def _run_command(app: typer.Typer, name: str) -> None:
    """design, implement and run share every option: declared here once."""

    def body(g: Globals, batch: BatchOpt = None, max_agents: MaxAgentsOpt = None, wave: WaveOpt = None,
             sites: SitesOpt = None, redo: RedoOpt = False, timeout: TimeoutOpt = None,
             retries: RetriesOpt = None, agent: AgentOpt = None, bg: BgOpt = False,
             dry_run: DryRunOpt = False, halt: HaltOpt = None, executor: ExecutorOpt = None,
             scheduler: SchedulerOpt = None) -> int:
        from ..pool import RunFlags
        from ..selection import parse_sites

        ctx = open_workspace(g)
        flags = RunFlags(batch=required_batch(batch), max_agents=max_agents, wave=wave,
                         sites=parse_sites(sites) if sites is not None else None, redo=redo, timeout=timeout,
                         retries=retries, agent=agent, dry_run=dry_run, halt=halt, executor=executor,
                         scheduler=scheduler)
        if bg and not dry_run:
            return _background(ctx, g, name, flags)
        if name == "run":
            return _run_batch(ctx, g, flags)
        return _run_phase(ctx, g, name, flags)

    body.__doc__ = _PHASE_HELP[name]
    body.__name__ = f"{name}_cmd"
    command(app, name)(body)


def _background(ctx: Context, g: Globals, name: str, flags) -> int:
    from ..pool import build_options, start_background

    build_options(ctx.settings, "design" if name == "run" else name, flags)  # refuse bad flags here, not in the log
    info = start_background(ctx.workspace, name, flags.batch, flags.wave, sys.argv[1:])
    if g.json:
        ctx.ui.json(info)
    else:
        ctx.ui.out(f"started {name} batch {flags.batch} in the background: run {info['run_id']}, "
                   f"pid {info['pid']}, log {info['log']}")
    return 0


def _after_phase(ctx: Context, phase: str, flags, result) -> None:
    from ..render import render_dry_run

    if flags.dry_run:
        render_dry_run(ctx.ui, result.selection, phase)
    elif result.ok or result.failed or result.parked:
        ctx.autocommit(f"smb {phase} batch {flags.batch}: {result.ok} ok, {result.failed} failed, "
                       f"{result.parked} parked")


def _run_phase(ctx: Context, g: Globals, phase: str, flags) -> int:
    from ..pool import RUN_ID_ENV, run_phase

    result = run_phase(ctx.ui, ctx.workspace, ctx.settings, ctx.store, phase, flags,
                       run_id=os.environ.get(RUN_ID_ENV))
    _after_phase(ctx, phase, flags, result)
    if g.json:
        ctx.ui.json(result.as_json())
    return 0 if flags.dry_run else result.exit_code


def _run_batch(ctx: Context, g: Globals, flags) -> int:
    from ..pool import run_batch
    from ..render import render_finish

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
