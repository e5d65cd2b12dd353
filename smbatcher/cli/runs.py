"""Commands that run agents: design, implement, run (their options declared once), and stop."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..errors import EXIT_FAILED
from ..commands import open_workspace, optional_batch
from . import complete
from .common import BatchOpt, Globals, command

MaxAgentsOpt = Annotated[Optional[int], typer.Option("--max-agents", "-n", help="Agents at once (default from config, 25).")]
WaveOpt = Annotated[Optional[int], typer.Option("--wave", "-w", help="Only wave W: the batch's rows (W-1)*N+1 ... W*N.")]
SitesOpt = Annotated[Optional[str], typer.Option("--sites", help="Only these sites: a.dev,b.dev.",
                                                           autocompletion=complete.domain_list)]
RedoOpt = Annotated[bool, typer.Option("--redo", help="With --sites: run again sites already past this phase.")]
TimeoutOpt = Annotated[Optional[str], typer.Option("--timeout", help="Per agent: 90s, 30m, 2h.")]
RetriesOpt = Annotated[Optional[int], typer.Option("--retries", help="Retries within this run (default: until parked).")]
AgentOpt = Annotated[Optional[str], typer.Option("--agent", help="Agent command (default from config: builtin).")]
BgOpt = Annotated[bool, typer.Option("--bg", help="Detach: print run id, pid and log path, return at once.")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Print what would run; change nothing.")]
HaltOpt = Annotated[Optional[str], typer.Option("--halt", help="When to give up: soon,same=5 (default), "
                                                               "now,fail=10%, success=N, never.")]
ExecutorOpt = Annotated[Optional[str], typer.Option("--executor", help="Where agents run: local or dask.")]
StallOpt = Annotated[Optional[str], typer.Option("--stall-timeout", help="No agent output this long: stop it "
                                                                    "(10m for claude, 0 = off).")]
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
             scheduler: SchedulerOpt = None, stall_timeout: StallOpt = None) -> int:
        from ..commands import run_agents

        return run_agents(g, name, batch=batch, max_agents=max_agents, wave=wave, sites=sites, redo=redo,
                          timeout=timeout, retries=retries, agent=agent, bg=bg, dry_run=dry_run, halt=halt,
                          executor=executor, scheduler=scheduler, stall_timeout=stall_timeout)

    body.__doc__ = _PHASE_HELP[name]
    body.__name__ = f"{name}_cmd"
    command(app, name)(body)
