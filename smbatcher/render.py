"""Turning result objects into what a person reads. Everything goes through ``ui.UI``."""

from __future__ import annotations

from .lifecycle import STATUSES
from .report import StatusReport
from .ui import UI
from .units import format_duration, format_money, local_clock

_when = local_clock


def render_status(ui: UI, report: StatusReport) -> None:
    columns = ["batch", *STATUSES, "total"]
    rows = []
    totals = {s: 0 for s in STATUSES}
    for batch, counts in report.counts.items():
        rows.append([batch, *(counts.get(s, 0) or "" for s in STATUSES), sum(counts.values())])
        for s in STATUSES:
            totals[s] += counts.get(s, 0)
    if len(report.counts) > 1:
        rows.append(["all", *(totals[s] or "" for s in STATUSES), sum(totals.values())])
    ui.table(columns, rows, title="sites per batch and status")
    if report.hold is not None:
        ui.out(f"{report.hold.describe()}: {report.hold.message} (end it early: smb hold --release)")
    for batch, dollars in sorted(report.cost.items()):
        ui.out(f"cost: batch {batch} {format_money(dollars)} reported by its agents")
    for run in report.runs_live:
        wave = f" wave {run.wave}" if run.wave else ""
        cost = f", {format_money(run.cost_usd)}" if run.cost_usd else ""
        ui.out(f"live run {run.run_id}: {run.phase} batch {run.batch}{wave}, pid {run.pid}, "
               f"{len(run.agents)} agents, {run.done}/{run.total} done{cost}, log {run.log}")
        workers: dict[str, int] = {}
        for agent in run.agents:
            if agent.worker:
                workers[agent.worker] = workers.get(agent.worker, 0) + 1
        if workers:
            ui.out("  on workers: " + ", ".join(f"{w} ({n} agents)" for w, n in sorted(workers.items())))
        for agent in run.agents:
            if agent.action:
                ui.out(f"  {agent.domain} attempt {agent.attempt}: {agent.action} (turn {agent.turn}"
                       + (f", {format_money(agent.cost_usd)}" if agent.cost_usd else "") + ")"
                       + (f" on {agent.worker}" if agent.worker else "")
                       + (f", session {agent.session}" if agent.session else ""))
    for run in report.runs_dead:
        ui.out(f"dead run {run.run_id}: {run.phase} batch {run.batch}, pid {run.pid} gone since before "
               f"{_when(run.started)} ended; repair: smb doctor --scenario wave-failure --fix")
    if report.stale:
        sample = ", ".join(s.domain for s in report.stale[:5])
        ui.out(f"stale claims: {len(report.stale)} ({sample}{', ...' if len(report.stale) > 5 else ''}); "
               "the next run of their batch reclaims them")
    if report.runs_live:  # a rate and an ETA mean something only while a run is working (issue 23)
        ui.out(f"throughput: {report.rate_5m:.1f} sites/min (5 min), {report.rate_15m:.1f} sites/min (15 min); "
               f"ETA {format_duration(report.eta_seconds) if report.steps_left else 'nothing left'}")
    elif report.last_ended is not None:
        run = report.last_ended
        outcome = (f"halted ({run.halted.get('reason', '?')})" if run.halted
                   else "ok" if run.exit_code == 0 else f"exit {run.exit_code}")
        ui.out(f"no live run; last run {run.run_id}: {run.phase} batch {run.batch}, {run.done}/{run.total} done, "
               f"{run.failed} failed, {outcome}, ended {_when(run.ended)}")
    else:
        ui.out("no run yet")


def render_history(ui: UI, domain: str, items: list[dict]) -> None:
    if not items:
        ui.out(f"{domain}: no events yet")
        return
    for item in items:
        kind = item.get("event", "?")
        change = f"{item.get('from', '')} -> {item.get('to', '')}" if "from" in item else f"-> {item.get('to', '')}"
        extra = []
        for key in ("actor", "run", "attempts", "exit", "class", "log", "session"):
            if item.get(key) not in (None, ""):
                extra.append(f"{key}={item[key]}")
        extra += _session_marks(item)
        for key in ("note", "commit", "message"):
            if item.get(key) not in (None, ""):
                extra.append(f"{key}={item[key]}")
        if item.get("cost_usd"):
            extra.append(f"cost={format_money(item['cost_usd'])}")
        ui.out(f"{_when(item.get('ts', 0))}  {kind:<8} {change:<10} {' '.join(extra)}".rstrip())
    costs = [i["cost_usd"] for i in items if isinstance(i.get("cost_usd"), (int, float)) and i["cost_usd"] > 0]
    if costs:
        ui.out(f"cost: {format_money(sum(costs))} over {len(costs)} attempts that reported one")


def _session_marks(item: dict) -> list[str]:
    """What an attempt did with its agent session (issue 21): continued it, and repair turns after finish's checks."""
    marks = ["resumed"] if item.get("resumed") is True else []
    turns = item.get("repair_turns")
    if isinstance(turns, int) and not isinstance(turns, bool) and turns > 0:
        marks.append(f"repair_turns={turns}")
    if item.get("repaired") is True:
        marks.append("repaired")
    return marks


def render_dry_run(ui: UI, selection, phase: str) -> None:
    """What a run would do; nothing was changed."""
    for domain in selection.stale:
        ui.out(f"would reclaim {domain} (stale claim of a dead run)")
    for domain in selection.eligible:
        ui.out(f"would run {phase} {domain}")
    for domain in selection.stale:
        if domain not in selection.eligible:
            ui.out(f"would run {phase} {domain}")
    for domain, reason in selection.skipped:
        ui.out(f"SKIP {domain} {reason}")
    for domain in selection.busy:
        ui.out(f"busy {domain} (claimed by a live run)")
    ui.out(f"dry run: {phase} batch {selection.batch}: {len(selection.eligible) + len(selection.stale)} to run, "
           f"{len(selection.skipped)} skipped, {len(selection.busy)} busy, {selection.done_already} already past "
           f"{phase}; nothing was changed")


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{status} {n}" for status, n in counts.items()) or "none"


def render_finish(ui: UI, report) -> None:
    verb = "would pass" if report.dry_run else "passed -> Q"
    for domain, reasons in report.failed.items():
        ui.out(f"FAIL {domain}: {'; '.join(reasons)}")
    if report.refused:
        ui.error(f"finish wrote nothing: {report.refused}")
    failed_to = "back to D" if report.reset_failed else "stay I"
    ui.out(f"finish batch {report.batch}: {len(report.passed)} {verb}, {len(report.failed)} failed ({failed_to}), "
           f"{len(report.already_final)} already final" + (" (dry run: nothing written)" if report.dry_run else ""))
    ui.out(f"before: {_counts_text(report.before)}; after: {_counts_text(report.after)}")
    if report.screenshot_note:
        ui.warn(report.screenshot_note)
    if report.screenshots:
        ui.out(f"screenshots: {len(report.screenshots)} in sites/<domain>-v1/.smb/screenshot.png "
               f"(first: {report.screenshots[0]})")
    if report.report_file:
        ui.info(f"report: {report.report_file}")


_MARK = {"ok": "[✓]", "warn": "[!]", "fail": "[✗]", "error": "[☠]"}
_STYLE = {"ok": "green", "warn": "yellow", "fail": "red", "error": "magenta"}


def render_doctor(ui: UI, findings, verbose: bool) -> None:
    """In the manner of flutter/brew doctor: a header per scenario, evidence, the fix command."""
    for f in findings:
        if f.status == "ok" and not verbose and not f.fixed:
            continue  # a check that --fix repaired is shown: doctor says what it did (SPEC §6)
        ui.rich(f"{ui.styled(_MARK[f.status], _STYLE[f.status])} {f.scenario}: {_escape(f.summary)}")
        for line in f.findings:
            ui.rich(f"    {_escape(line)}")
        for line in f.fixed:
            ui.rich(f"    fixed: {_escape(line)}")
        if f.fix and f.status != "ok":
            ui.rich(f"    → fix: {_escape(f.fix)}")
    counts = {status: sum(1 for f in findings if f.status == status) for status in _MARK}
    closing = f"{len(findings)} checks: {counts['ok']} ok, {counts['warn']} warn, {counts['fail']} fail"
    if counts["error"]:
        closing += f", {counts['error']} could not run"
    ui.out(closing)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def render_digest(ui: UI, digest) -> None:
    """``smb report``: what a person reads over coffee."""
    from .units import format_duration, format_money, local_clock

    ui.out(f"since {local_clock(digest.since)}: {digest.attempts} attempts; "
           + (", ".join(f"{n} {what}" for what, n in sorted(digest.done.items())) or "nothing done"))
    if digest.cost_usd:
        ui.out(f"cost: {format_money(digest.cost_usd)} ("
               + ", ".join(f"batch {b} {format_money(c)}" for b, c in sorted(digest.cost_by_batch.items())) + ")")
    if digest.repaired or digest.repair_turns:
        ui.out(f"repaired before publishing: {len(digest.repaired)} sites"
               + (" (" + ", ".join(f"batch {b} {n}" for b, n in digest.repaired_by_batch().items()) + ")"
                  if digest.repaired else "")
               + f"; {digest.repair_turns} repair turns run")
    if digest.failures:
        ui.out("failures by class and message:")
        for (cls, message), domains in digest.sorted_failures():
            sample = ", ".join(domains[:3]) + (" ..." if len(domains) > 3 else "")
            ui.out(f"  {len(domains):>4} {cls:<13} {message}  [{sample}]")
    for item in digest.parked:
        ui.out(f"  parked {item['domain']}: {item['note']}")
    for hold in digest.holds:
        lasted = format_duration(hold["seconds"]) if hold["seconds"] is not None else "still held or unknown"
        ui.out(f"hold at {local_clock(hold['at'] or 0)} ({hold['limit']} limit): {lasted}: {hold['message']}")
    for stop in digest.stops:
        ui.out(f"{stop['kind']} at {local_clock(stop['at'] or 0)} in {stop['run']}: {stop['reason']}"
               + (f"; {stop['fix']}" if stop["fix"] else ""))
    if digest.breaker_trips:
        ui.out(f"breaker opened {digest.breaker_trips} times")
