"""wave-failure: runs that died, agents missing, stuck claims, throughput drops (runbook scenario 1).

The fix stops a dead run's agents that are still alive (pid + create time from
its run file, never by name), returns its claims (``i -> D``, ``d -> -``) and
marks the run ended. A live run's claims and agents are never touched.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime, timezone

from .. import events as event_log
from ..runs import load_all, process_alive, save, stop_survivors
from ..selection import UNCLAIM
from . import FAIL, OK, WARN, DoctorContext, Finding


def _age_seconds(stamp: str) -> float | None:
    try:
        then = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return None
    return time.time() - then.timestamp()


class WaveFailure:
    name = "wave-failure"
    about = "dead runs, agents alive vs expected, stuck claims, throughput (last 5 min vs the 15 before)"
    time_limit = 20.0

    def _state(self, ctx: DoctorContext):
        records = load_all(ctx.workspace)
        live = {r.run_id: r for r in records if r.alive()}
        dead = [r for r in records if r.ended is None and r.run_id not in live]
        claims = [row for row in ctx.registry.rows if row.status in UNCLAIM]
        if ctx.batch:
            claims = [row for row in claims if row.batch == ctx.batch]
        stale = [row for row in claims if row.get("owner") not in live]
        return records, live, dead, claims, stale

    def diagnose(self, ctx: DoctorContext) -> Finding:
        finding = Finding(self.name)
        records, live, dead, claims, stale = self._state(ctx)
        lines = finding.findings
        for run in live.values():
            alive = sum(1 for a in run.agents if process_alive(a.pid, a.create_time))
            lines.append(f"live run {run.run_id}: pid {run.pid}, agents alive {alive} of {len(run.agents)} expected, "
                         f"{run.done}/{run.total} done")
            if alive < len(run.agents):
                finding.data.setdefault("missing_agents", []).append(run.run_id)
        for run in dead:
            survivors = sum(1 for a in run.agents if process_alive(a.pid, a.create_time))
            lines.append(f"dead run {run.run_id}: {run.phase} batch {run.batch}"
                         + (f" wave {run.wave}" if run.wave else "")
                         + f", pid {run.pid} gone, {survivors} of its agents still alive")
        stuck_after = ctx.settings.doctor.stuck_after
        old = [row for row in claims if (age := _age_seconds(row.get("updated"))) is not None and age > stuck_after]
        if stale:
            lines.append(f"stale claims (owner run dead): {len(stale)}: "
                         + ", ".join(r.domain for r in stale[:8]) + (" ..." if len(stale) > 8 else ""))
        if old:
            lines.append(f"claims older than stuck_after ({stuck_after / 60:g} min): {len(old)}: "
                         + ", ".join(r.domain for r in old[:8]))
        now = time.time()
        recent = event_log.completions(event_log.read_since(ctx.workspace.events, now - 20 * 60))
        last5 = sum(1 for t in recent if t >= now - 300)
        before15 = sum(1 for t in recent if now - 1200 <= t < now - 300)
        lines.append(f"throughput: {last5 / 5:.1f} sites/min in the last 5 min, {before15 / 15:.1f} in the 15 before")
        finding.data.update(dead=len(dead), stale=len(stale), live=len(live), claims=len(claims))
        redeploy = sorted({(r.phase, r.batch, r.wave) for r in dead}, key=str)
        if dead or stale:
            finding.status = FAIL
            finding.summary = (f"{len(dead)} dead runs, {len(stale)} stale claims"
                               + (f" ({len(claims) - len(stale)} claims held by live runs)" if claims != stale else ""))
            finding.fix = "smb doctor --scenario wave-failure --fix"
            for phase, batch, wave in redeploy:
                lines.append("then redeploy: " + self.redeploy_command(phase, batch, wave))
        elif old or finding.data.get("missing_agents") or (before15 >= 3 and last5 / 5 < before15 / 15 / 2):
            finding.status = WARN
            finding.summary = ("claims older than stuck_after held by live runs" if old else
                               "a live run has fewer agents alive than recorded" if finding.data.get("missing_agents")
                               else "throughput fell by more than half in the last 5 minutes")
            if live:
                finding.fix = "smb status  (and if a run is wedged: smb stop " + next(iter(live)) + ")"
        else:
            finding.status = OK
            finding.summary = f"{len(live)} live runs, no dead run, no stale claim"
        return finding

    @staticmethod
    def redeploy_command(phase: str, batch: str, wave: int | None) -> str:
        return f"smb {phase} --batch {batch}" + (f" --wave {wave}" if wave else "")

    def repair(self, ctx: DoctorContext, finding: Finding) -> list[str]:
        done: list[str] = []
        records, live, dead, claims, stale = self._state(ctx)
        owners = {row.get("owner") for row in stale} - set(live) - {""}
        stopped = Counter(run_id for run_id, _, _ in stop_survivors(dead, owners, ctx.settings.agents.grace))
        for run_id, count in sorted(stopped.items()):
            done.append(f"stopped {count} surviving agents of dead run {run_id}")
        if stale:
            returned = 0
            with ctx.store.transaction(actor="doctor") as txn:
                live_now = {r.run_id for r in load_all(ctx.workspace) if r.alive()}
                for domain in [r.domain for r in stale]:
                    row = txn.row(domain)
                    if row is None or row.status not in UNCLAIM or row.get("owner") in live_now:
                        continue  # a live run's claim is never touched
                    txn.set_status(row, UNCLAIM[row.status], owner="", reason="doctor: stale claim returned",
                                   stale_owner=row.get("owner"))
                    returned += 1
            if returned:
                done.append(f"returned {returned} stale claims (i -> D, d -> -)")
        for run in dead:
            run.ended = time.time()
            run.exit_code = None
            run.agents = []
            save(ctx.workspace, run)
            done.append(f"marked dead run {run.run_id} ended; redeploy: "
                        + self.redeploy_command(run.phase, run.batch, run.wave))
        return done
