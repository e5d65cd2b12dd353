"""The Typer app: each command parses options, calls one core function, renders its result.

Only this module turns errors into exit codes (SPEC §3): ``SmbError`` becomes
one line on stderr and its exit code, a traceback only with ``-v``.
"""

from __future__ import annotations

import functools
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Callable, List, Optional

import typer

from .config import Settings, load_settings
from .errors import EXIT_FAILED, EXIT_SIGINT, EXIT_USAGE, SmbError, UsageError
from .registry import unclean_warning
from .store import Store
from .ui import UI
from .workspace import Workspace, find_workspace

app = typer.Typer(
    name="smb",
    help="Run batches of AI coding agents that design and build hundreds of small websites.",
    add_completion=False,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)

RootOpt = Annotated[Optional[Path], typer.Option("--root", help="Workspace folder (else $SMB_ROOT, else walk up).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Only data and errors.")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="More detail; tracebacks on errors.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON only.")]
BatchOpt = Annotated[Optional[str], typer.Option("--batch", "-b", help="Batch: 1, 01 or 001.")]


@dataclass
class Context:
    ui: UI
    workspace: Workspace
    settings: Settings
    store: Store


def open_workspace(root: Path | None, quiet: bool = False, verbose: bool = False) -> Context:
    ui = UI(quiet=quiet, verbose=verbose)
    workspace = find_workspace(root)
    settings = load_settings(workspace.config_file)
    return Context(ui, workspace, settings, Store(workspace, settings.registry.lock_timeout))


def handles_errors(func: Callable) -> Callable:
    """The error boundary of every command: one line on stderr, the documented exit code."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        verbose = bool(kwargs.get("verbose"))
        try:
            code = func(*args, **kwargs)
        except SmbError as exc:
            if verbose:
                traceback.print_exc()
            UI().error(exc.message)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            UI().error("interrupted")
            raise typer.Exit(EXIT_SIGINT) from None
        except BrokenPipeError:
            raise typer.Exit(0) from None
        if code:
            raise typer.Exit(code)

    return wrapper


def required_batch(batch: str | None) -> str:
    from .sites import parse_batch

    if batch is None:
        raise UsageError("--batch is required")
    return parse_batch(batch)


def autocommit(ctx: Context, message: str) -> None:
    if ctx.settings.git.autocommit:
        from .gitlog import commit_registry

        sha = commit_registry(ctx.workspace, message)
        if sha:
            ctx.ui.detail(f"committed {sha[:10]}: {message}")


# -- commands -------------------------------------------------------------------------


@app.command("init")
@handles_errors
def init_cmd(
    directory: Annotated[Path, typer.Argument(help="Folder to make a workspace of.")] = Path("."),
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> int:
    """Create a workspace (never overwrites an existing registry)."""
    from .workspace import create_workspace

    ui = UI(quiet=quiet, verbose=verbose)
    workspace, created = create_workspace(directory)
    load_settings(workspace.config_file)
    if created:
        ui.info(f"initialised workspace {workspace.root}: created {', '.join(created)}")
    else:
        ui.info(f"workspace {workspace.root} already exists; nothing changed")
    return 0


@app.command("add")
@handles_errors
def add_cmd(
    domains: Annotated[Optional[List[str]], typer.Argument(help="Domains to add.")] = None,
    batch: BatchOpt = None,
    from_file: Annotated[Optional[str], typer.Option("--from", help="File of domains, one a line (- = stdin).")] = None,
    skip_existing: Annotated[bool, typer.Option("--skip-existing", help="Skip domains already present.")] = False,
    root: RootOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> int:
    """Add sites (status -) to the registry and the batch manifest; all or nothing."""
    from .sites import add_sites, read_domain_file

    ctx = open_workspace(root, quiet, verbose)
    wanted_batch = required_batch(batch)
    names = list(domains or []) + (read_domain_file(from_file) if from_file else [])
    result = add_sites(ctx.store, names, wanted_batch, skip_existing=skip_existing)
    if result.added:
        autocommit(ctx, f"smb add: {len(result.added)} sites to batch {wanted_batch}")
    if json_out:
        ctx.ui.json({"batch": result.batch, "added": result.added, "skipped": result.skipped})
    else:
        ctx.ui.info(f"added {len(result.added)} sites to batch {result.batch}"
                    + (f"; skipped {len(result.skipped)} already present" if result.skipped else ""))
    return 0


@app.command("list-sites")
@handles_errors
def list_sites_cmd(
    batch: BatchOpt = None,
    status: Annotated[Optional[str], typer.Option("--status", "-s", help="Statuses, comma-separated (case matters).")] = None,
    fmt: Annotated[Optional[str], typer.Option("--format", "-f", help="plain, table, json or csv.")] = None,
    count: Annotated[bool, typer.Option("--count", help="Print only the number of sites.")] = False,
    root: RootOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> int:
    """List sites: one domain a line when piped, a table on a terminal."""
    from .listing import list_sites

    return list_sites(str(root) if root else None, batch, status, "json" if json_out else fmt, count, quiet=quiet)


@app.command("status")
@handles_errors
def status_cmd(
    batch: BatchOpt = None,
    watch: Annotated[bool, typer.Option("--watch", help="Refresh every 2 seconds until Ctrl-C.")] = False,
    root: RootOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> int:
    """Counts per batch and status, live and dead runs, stale claims, throughput and ETA."""
    from .render import render_status
    from .report import build_status
    from .sites import parse_batch

    ctx = open_workspace(root, quiet, verbose)
    wanted = parse_batch(batch) if batch is not None else None
    while True:
        registry = ctx.store.read()
        report = build_status(ctx.workspace, registry, wanted)
        if json_out:
            ctx.ui.json(report.as_json())
            return 0
        if report.problems and not watch:
            ctx.ui.warn(unclean_warning(ctx.workspace.rel(ctx.workspace.registry), report.problems))
        if wanted is not None and wanted not in report.counts:
            raise UsageError(f"batch {wanted} has no sites")
        if not watch or not ctx.ui.terminal:
            render_status(ctx.ui, report)
            return 0
        import time

        ctx.ui.console.clear()
        render_status(ctx.ui, report)
        time.sleep(2)


@app.command("set-status")
@handles_errors
def set_status_cmd(
    domains: Annotated[List[str], typer.Argument(help="Domains to change.")],
    status: Annotated[str, typer.Option("--status", "-s", help="New status: - D I Q X.")],
    expect: Annotated[Optional[str], typer.Option("--expect", help="Only change sites now in this status.")] = None,
    note: Annotated[Optional[str], typer.Option("--note", help="Text for the note column.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Also change sites claimed by a live run.")] = False,
    root: RootOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> int:
    """Set sites' status by hand; with --expect, compare-and-set."""
    from .sites import set_status

    ctx = open_workspace(root, quiet, verbose)
    result = set_status(ctx.store, domains, status, expect=expect, note=note, force=force)
    if result.changed:
        autocommit(ctx, f"smb set-status {status}: {', '.join(result.changed[:5])}"
                   + (f" (+{len(result.changed) - 5})" if len(result.changed) > 5 else ""))
    if json_out:
        ctx.ui.json(result.as_json())
    else:
        for domain in result.changed:
            ctx.ui.info(f"{domain} -> {status}")
        for item in result.unchanged:
            reason = item.get("reason") or f"status is {item['status']}, expected {expect}"
            ctx.ui.info(f"{item['domain']} unchanged: {reason}")
    return EXIT_FAILED if result.unchanged else 0


@app.command("history")
@handles_errors
def history_cmd(
    domain: Annotated[str, typer.Argument(help="The site.")],
    root: RootOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> int:
    """A site's events, oldest first (and its registry commits with git autocommit)."""
    from .history import site_history
    from .render import render_history

    ctx = open_workspace(root, quiet, verbose)
    problems = ctx.store.read().problems
    if problems:
        ctx.ui.warn(unclean_warning(ctx.workspace.rel(ctx.workspace.registry), problems))
    items = site_history(ctx.workspace, ctx.settings, ctx.store, domain)
    if json_out:
        ctx.ui.json(items)
    else:
        render_history(ctx.ui, domain, items)
    return 0


MaxAgentsOpt = Annotated[Optional[int], typer.Option("--max-agents", "-n", help="Agents at once (default from config, 25).")]
WaveOpt = Annotated[Optional[int], typer.Option("--wave", "-w", help="Only wave W: the batch's rows (W-1)*N+1 ... W*N.")]
SitesOpt = Annotated[Optional[str], typer.Option("--sites", help="Only these sites: a.dev,b.dev.")]
RedoOpt = Annotated[bool, typer.Option("--redo", help="With --sites: run again sites already past this phase.")]
TimeoutOpt = Annotated[Optional[str], typer.Option("--timeout", help="Per agent: 90s, 30m, 2h.")]
RetriesOpt = Annotated[Optional[int], typer.Option("--retries", help="Retries within this run (default: until parked).")]
AgentOpt = Annotated[Optional[str], typer.Option("--agent", help="Agent command (default from config: builtin).")]
BgOpt = Annotated[bool, typer.Option("--bg", help="Detach: print run id, pid and log path, return at once.")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Print what would run; change nothing.")]


def _run_flags(batch, max_agents, wave, sites, redo, timeout, retries, agent, dry_run):
    from .jobs import RunFlags
    from .selection import parse_sites

    return RunFlags(batch=required_batch(batch), max_agents=max_agents, wave=wave,
                    sites=parse_sites(sites) if sites is not None else None, redo=redo, timeout=timeout,
                    retries=retries, agent=agent, dry_run=dry_run)


def _background(ctx: Context, command: str, flags, json_out: bool) -> int:
    from .jobs import start_background

    info = start_background(ctx.ui, ctx.workspace, command, flags.batch, flags.wave, sys.argv[1:])
    if json_out:
        ctx.ui.json(info)
    else:
        ctx.ui.out(f"started {command} batch {flags.batch} in the background: run {info['run_id']}, "
                   f"pid {info['pid']}, log {info['log']}")
    return 0


def _phase(ctx: Context, phase: str, flags, run_id: str | None = None):
    from .jobs import run_phase
    from .render import render_dry_run

    result = run_phase(ctx.ui, ctx.workspace, ctx.settings, ctx.store, phase, flags, run_id=run_id)
    if flags.dry_run:
        render_dry_run(ctx.ui, result.selection, phase)
        return result
    if result.ok or result.failed or result.parked:
        autocommit(ctx, f"smb {phase} batch {flags.batch}: {result.ok} ok, {result.failed} failed, "
                   f"{result.parked} parked")
    return result


def _phase_command(phase: str, batch, max_agents, wave, sites, redo, timeout, retries, agent, bg, dry_run,
                   root, json_out, quiet, verbose) -> int:
    import os

    from .jobs import RUN_ID_ENV

    ctx = open_workspace(root, quiet, verbose)
    flags = _run_flags(batch, max_agents, wave, sites, redo, timeout, retries, agent, dry_run)
    if bg and not dry_run:
        return _background(ctx, phase, flags, json_out)
    result = _phase(ctx, phase, flags, run_id=os.environ.get(RUN_ID_ENV))
    if json_out:
        ctx.ui.json(_result_json(result))
    return 0 if flags.dry_run else result.exit_code


def _result_json(result) -> dict:
    return {"run_id": result.run_id, "phase": result.phase, "batch": result.batch, "ok": result.ok,
            "failed": result.failed, "parked": result.parked, "stopped": result.stopped,
            "skipped": [{"domain": d, "reason": r} for d, r in result.skipped],
            "reclaimed": result.reclaimed, "seconds": round(result.seconds, 2), "exit_code": result.exit_code,
            "outcomes": [{"domain": o.domain, "kind": o.kind, "attempt": o.attempt, "exit": o.exit_code,
                          "log": o.log, "error": o.error, "parked": o.parked, "seconds": round(o.seconds, 2)}
                         for o in result.outcomes]}


@app.command("design")
@handles_errors
def design_cmd(batch: BatchOpt = None, max_agents: MaxAgentsOpt = None, wave: WaveOpt = None, sites: SitesOpt = None,
               redo: RedoOpt = False, timeout: TimeoutOpt = None, retries: RetriesOpt = None, agent: AgentOpt = None,
               bg: BgOpt = False, dry_run: DryRunOpt = False, root: RootOpt = None, json_out: JsonOpt = False,
               quiet: QuietOpt = False, verbose: VerboseOpt = False) -> int:
    """Run design agents on eligible sites: - (and stale d) become D."""
    return _phase_command("design", batch, max_agents, wave, sites, redo, timeout, retries, agent, bg, dry_run,
                          root, json_out, quiet, verbose)


@app.command("implement")
@handles_errors
def implement_cmd(batch: BatchOpt = None, max_agents: MaxAgentsOpt = None, wave: WaveOpt = None,
                  sites: SitesOpt = None, redo: RedoOpt = False, timeout: TimeoutOpt = None,
                  retries: RetriesOpt = None, agent: AgentOpt = None, bg: BgOpt = False, dry_run: DryRunOpt = False,
                  root: RootOpt = None, json_out: JsonOpt = False, quiet: QuietOpt = False,
                  verbose: VerboseOpt = False) -> int:
    """Run implement agents on eligible sites: D (and stale i) become I."""
    return _phase_command("implement", batch, max_agents, wave, sites, redo, timeout, retries, agent, bg, dry_run,
                          root, json_out, quiet, verbose)


@app.command("run")
@handles_errors
def run_cmd(batch: BatchOpt = None, max_agents: MaxAgentsOpt = None, wave: WaveOpt = None, sites: SitesOpt = None,
            redo: RedoOpt = False, timeout: TimeoutOpt = None, retries: RetriesOpt = None, agent: AgentOpt = None,
            bg: BgOpt = False, dry_run: DryRunOpt = False, root: RootOpt = None, json_out: JsonOpt = False,
            quiet: QuietOpt = False, verbose: VerboseOpt = False) -> int:
    """Design, implement and finish a batch in one go."""
    import os

    from .jobs import RUN_ID_ENV

    ctx = open_workspace(root, quiet, verbose)
    flags = _run_flags(batch, max_agents, wave, sites, redo, timeout, retries, agent, dry_run)
    if bg and not dry_run:
        return _background(ctx, "run", flags, json_out)
    results = []
    code = 0
    for phase in ("design", "implement"):
        result = _phase(ctx, phase, flags, run_id=os.environ.get(RUN_ID_ENV) if phase == "design" else None)
        results.append(result)
        if flags.dry_run:
            continue
        if result.exit_code in (EXIT_SIGINT, 143):
            code = result.exit_code
            break
        code = max(code, result.exit_code)
    else:
        code = max(code, _finish_after_run(ctx, flags))
    if json_out:
        ctx.ui.json([_result_json(r) for r in results])
    return 0 if flags.dry_run else code


def _finish_after_run(ctx: Context, flags) -> int:
    from .finish import finish_batch
    from .render import render_finish

    report = finish_batch(ctx.workspace, ctx.store, flags.batch, dry_run=flags.dry_run)
    render_finish(ctx.ui, report)
    if report.written:
        autocommit(ctx, f"smb finish batch {flags.batch}: {len(report.passed)} -> Q, {len(report.failed)} failed")
    return report.exit_code


@app.command("finish")
@handles_errors
def finish_cmd(
    batch: BatchOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and report; write nothing.")] = False,
    reset_failed: Annotated[bool, typer.Option("--reset-failed", help="Send failing sites back to D.")] = False,
    screenshots: Annotated[bool, typer.Option("--screenshots", help="Screenshot each finished site (Chromium).")] = False,
    root: RootOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> int:
    """Check every I site; passing ones become Q in one transaction; failures are listed with reasons."""
    from .finish import finish_batch
    from .render import render_finish

    ctx = open_workspace(root, quiet, verbose)
    wanted = required_batch(batch)
    report = finish_batch(ctx.workspace, ctx.store, wanted, dry_run=dry_run, reset_failed=reset_failed,
                          screenshots=screenshots)
    if report.written:
        autocommit(ctx, f"smb finish batch {wanted}: {len(report.passed)} -> Q, {len(report.failed)} failed")
    if json_out:
        ctx.ui.json(report.as_json())
    else:
        render_finish(ctx.ui, report)
    return report.exit_code


@app.command("stop")
@handles_errors
def stop_cmd(
    run_id: Annotated[Optional[str], typer.Argument(help="The run to stop (see smb status).")] = None,
    batch: BatchOpt = None,
    stop_all: Annotated[bool, typer.Option("--all", help="Stop every live run.")] = False,
    root: RootOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> int:
    """Stop live runs gracefully and wait for them: their sites go back to where they were."""
    from .jobs import stop_runs
    from .sites import parse_batch

    ctx = open_workspace(root, quiet, verbose)
    result = stop_runs(ctx.workspace, ctx.settings, run_id, parse_batch(batch) if batch else None, stop_all)
    if json_out:
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


@app.command("doctor")
@handles_errors
def doctor_cmd(
    scenario: Annotated[Optional[List[str]], typer.Option("--scenario", help="Only this scenario (repeatable).")] = None,
    site: Annotated[Optional[str], typer.Option("--site", help="The site for site-stuck.")] = None,
    batch: BatchOpt = None,
    fix: Annotated[bool, typer.Option("--fix", help="Apply the safe fixes (after a registry backup).")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings count as failures.")] = False,
    list_only: Annotated[bool, typer.Option("--list", help="Name the scenarios.")] = False,
    report: Annotated[bool, typer.Option("--report", help="Print the escalation block, ready to paste.")] = False,
    root: RootOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> int:
    """Diagnose (and with --fix, repair) every runbook scenario."""
    from . import doctor
    from .render import render_doctor
    from .sites import parse_batch

    ui = UI(quiet=quiet, verbose=verbose)
    checks = doctor.all_checks()
    if list_only:
        for check in sorted(checks, key=lambda c: doctor.SCENARIOS.index(c.name)):
            ui.out(f"{check.name:<20} {check.about}")
        return 0
    unknown = [s for s in scenario or [] if s not in doctor.SCENARIOS]
    if unknown:
        raise UsageError(f"--scenario: unknown {unknown[0]!r} (known: {', '.join(doctor.SCENARIOS)})")
    if scenario:
        checks = [c for c in checks if c.name in scenario]
    from .config import Settings

    workspace = find_workspace(root)
    config_error = None
    try:
        settings = load_settings(workspace.config_file)
    except UsageError as exc:  # doctor reports a bad config instead of refusing to run
        settings, config_error = Settings(), exc.message
    if site is not None:
        from .registry import BadValue, normalize_domain

        try:
            site = normalize_domain(site)
        except BadValue as exc:
            raise UsageError(f"--site: {exc}") from None
    ctx = doctor.DoctorContext(workspace, settings, Store(workspace, settings.registry.lock_timeout),
                               config_error=config_error, site=site,
                               batch=parse_batch(batch) if batch is not None else None)
    findings, backup = doctor.run_checks(ctx, checks, fix=fix)
    if fix and any(f.fixed for f in findings):
        autocommit(Context(ui, workspace, settings, ctx.store), "smb doctor --fix: " + "; ".join(
            f.scenario for f in findings if f.fixed))
    if json_out:
        data = {"status": doctor.overall(findings), "checks": [f.as_json() for f in findings]}
        if backup:
            data["backup"] = backup
        ui.json(data)
    elif report:
        from .doctor.escalation import escalation_report

        ui.out(escalation_report(ctx, findings, backup))
    else:
        render_doctor(ui, findings, verbose)
        if backup:
            ui.info(f"registry backed up to {backup} before the fixes")
    return doctor.exit_code(findings, strict)


def main(argv: list[str] | None = None) -> int:
    """Run the app; a bad flag or argument is one line on stderr and exit 2."""
    command = typer.main.get_command(app)
    args = sys.argv[1:] if argv is None else argv
    try:
        result = command.main(args=args, prog_name="smb", standalone_mode=False)
    except SmbError as exc:  # raised outside a command body (should not happen)
        UI().error(exc.message)
        return exc.exit_code
    except KeyboardInterrupt:
        return EXIT_SIGINT
    except Exception as exc:
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):  # click's usage errors
            message = exc.format_message()
            if not message:  # `smb` alone: the help was printed, nothing went wrong
                return 0
            sub = next((a for a in args if not a.startswith("-")), "")
            known = sub in getattr(command, "commands", {})
            UI().error(f"{message} (see: smb {sub + ' ' if known else ''}--help)")
            return exc.exit_code if exc.exit_code else EXIT_USAGE
        if type(exc).__name__ == "Abort":
            return EXIT_SIGINT
        raise
    return result if isinstance(result, int) else 0
