"""``smb doctor --report``: the runbook's escalation block, filled in from the findings, ready to paste."""

from __future__ import annotations

import os
import time
from collections import Counter

from .. import events as event_log
from ..lifecycle import is_claim
from ..runs import run_states
from ..units import format_duration, format_size, parse_stamp, utc_stamp
from .base import ERROR, FAIL, OK, WARN, DoctorContext, Finding

_HIGH = {"registry-duplicates", "finalization", "disk-space"}


def _severity(findings: list[Finding]) -> str:
    failing = {f.scenario for f in findings if f.status in (FAIL, ERROR)}
    if failing & _HIGH or ERROR in {f.status for f in findings}:
        return "High"
    if failing:
        return "Medium"
    if any(f.status == WARN for f in findings):
        return "Low"
    return "None (all checks ok)"


def _since(ctx: DoctorContext) -> str:
    """Age of the oldest sign of trouble: a dead run's start, or the oldest claim."""
    starts = [r.started for r in run_states(ctx.workspace).dead]
    stamps = [parse_stamp(row.get("updated")) for row in ctx.registry.rows if is_claim(row.status)]
    oldest = min(starts + [s for s in stamps if s is not None], default=None)
    if oldest is None:
        return "unknown (no dead run or open claim)"
    return f"{format_duration(time.time() - oldest)} (since {utc_stamp(oldest)})"


def escalation_report(ctx: DoctorContext, findings: list[Finding], backup: str | None) -> str:
    problems = [f for f in findings if f.status != OK]
    issue = "; ".join(f"{f.scenario}: {f.summary}" for f in problems) or "no problem found"
    impact_parts = []
    for f in problems:
        for key in ("stale", "lost", "parked", "built_not_marked", "no_design", "problems", "dead", "unreachable"):
            if f.data.get(key):
                impact_parts.append(f"{key.replace('_', ' ')}: {f.data[key]}")
    counts = {}
    for row in ctx.registry.rows:
        counts.setdefault(row.batch, Counter())[row.status] += 1
    state = "; ".join(f"batch {b}: " + ", ".join(f"{s} {n}" for s, n in sorted(c.items()))
                      for b, c in sorted(counts.items())) or "empty registry"
    fixes = [line for f in findings for line in f.fixed]
    if backup:
        fixes.insert(0, f"registry backed up to {backup}")
    recent_repairs = [e for e in event_log.read_since(ctx.workspace.events, time.time() - 86400)
                      if e.get("actor") == "doctor"]
    if recent_repairs:
        fixes.append(f"{len(recent_repairs)} doctor repairs recorded in logs/events.jsonl in the last 24 h")
    disk = next((f for f in findings if f.scenario == "disk-space"), None)
    res = next((f for f in findings if f.scenario == "resources"), None)
    health = []
    if disk is not None and "free" in disk.data:
        health.append(f"disk {format_size(disk.data['free'])} free")
    if res is not None and "available" in res.data:
        health.append(f"memory {format_size(res.data['available'])} available, load {res.data['load']:.1f} "
                      f"on {res.data['cores']} cores, {res.data['agents']} agent processes")
    if not health:
        health.append(f"load {os.getloadavg()[0]:.1f}")
    logs = sorted(ctx.workspace.logs.glob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True)[:5]
    attachments = [ctx.workspace.rel(p) for p in logs] + [ctx.workspace.rel(ctx.workspace.events)]
    if ctx.site:
        attachments += [ctx.workspace.rel(p) for p in sorted((ctx.workspace.logs / "sites" / ctx.site).glob("*.log"))]
    return "\n".join([
        f"ISSUE: {issue}",
        f"IMPACT: {', '.join(impact_parts) or 'none found'}",
        f"SEVERITY: {_severity(findings)}",
        f"TIME SINCE OCCURRENCE: {_since(ctx)}",
        f"ATTEMPTED FIXES: {'; '.join(fixes) or 'none yet (run: smb doctor --fix)'}",
        f"CURRENT STATE: {state}",
        f"SYSTEM HEALTH: {'; '.join(health)}",
        f"ATTACHMENT: {', '.join(attachments)}",
    ])
