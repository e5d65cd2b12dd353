"""wave-failure: runs that died, agents missing, stuck claims, throughput drops (runbook scenario 1).

The fix stops a dead run's agents that are still alive (pid + create time from
its run file, never by name), returns its claims (``i -> D``, ``d -> -``) and
marks the run ended. A live run's claims and agents are never touched.
"""

from __future__ import annotations

import time
from collections import Counter

from .. import events as event_log
from .. import holds
from ..lifecycle import UNCLAIM, is_claim
from ..proc import process_alive
from ..runs import run_states, save, stop_survivors
from ..units import parse_stamp
from .base import DoctorContext, Finding


class WaveFailure:
    name = "wave-failure"
    about = "dead runs, agents alive vs expected, stuck claims, throughput (last 5 min vs the 15 before)"
    time_limit = 20.0

    def _state(self, ctx: DoctorContext):
        # Liveness over every run, not only --batch's: a claim's owner may be any run.
        states = run_states(ctx.workspace)
        claims = [row for row in ctx.registry.rows
                  if is_claim(row.status) and (not ctx.batch or row.batch == ctx.batch)]
        return states, claims, states.stale_claims(claims)

    def diagnose(self, ctx: DoctorContext) -> Finding:
        finding = Finding(self.name)
        states, claims, stale = self._state(ctx)
        live, dead = states.live, states.dead
        lines = finding.findings
        for run in live.values():
            # An agent on a Dask worker has its pid on that worker's host: not ours to look up.
            alive = sum(1 for a in run.agents if a.worker or process_alive(a.pid, a.create_time))
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
        now = time.time()
        old = [row for row in claims if (then := parse_stamp(row.get("updated"))) is not None
               and now - then > stuck_after]
        if stale:
            lines.append(f"stale claims (owner run dead): {len(stale)}: "
                         + ", ".join(r.domain for r in stale[:8]) + (" ..." if len(stale) > 8 else ""))
        if old:
            lines.append(f"claims older than stuck_after ({stuck_after / 60:g} min): {len(old)}: "
                         + ", ".join(r.domain for r in old[:8]))
        recent = event_log.completions(event_log.read_since(ctx.workspace.events, now - 20 * 60))
        last5 = sum(1 for t in recent if t >= now - 300)
        before15 = sum(1 for t in recent if now - 1200 <= t < now - 300)
        lines.append(f"throughput: {last5 / 5:.1f} sites/min in the last 5 min, {before15 / 15:.1f} in the 15 before")
        finding.data.update(dead=len(dead), stale=len(stale), live=len(live), claims=len(claims))
        halted = self._halted(states, ctx.batch)
        for run in halted:
            lines.append(f"halted run {run.run_id}: {run.phase} batch {run.batch}: {run.halted.get('reason', '')}"
                         + (f"; {run.halted['fix']}" if run.halted.get("fix") else ""))
        hold = holds.read(ctx.workspace)
        if hold is not None and hold.active(now):
            lines.append(f"{hold.describe()}: {hold.message} (source: {hold.source})")
        if dead or stale:
            for phase, batch, wave in sorted({(r.phase, r.batch, r.wave) for r in dead}, key=str):
                lines.append("then redeploy: " + self.redeploy_command(phase, batch, wave))
            return finding.conclude(
                fail=(f"{len(dead)} dead runs, {len(stale)} stale claims"
                      + (f" ({len(claims) - len(stale)} claims held by live runs)" if claims != stale else "")),
                fix="smb doctor --scenario wave-failure --fix")
        falling = before15 >= 3 and last5 / 5 < before15 / 15 / 2
        if halted and not old and not finding.data.get("missing_agents"):
            run = halted[0]
            return finding.conclude(
                warn=f"run {run.run_id} halted: {run.halted.get('reason', '')}",
                fix=(run.halted.get("fix") or "fix the agent") + "; then: "
                    + self.redeploy_command(run.phase, run.batch, run.wave))
        if hold is not None and hold.active(now) and not old and not finding.data.get("missing_agents"):
            return finding.conclude(warn=hold.describe(), fix="wait for the reset, or end it now: smb hold --release")
        return finding.conclude(
            warn=("claims older than stuck_after held by live runs" if old else
                  "a live run has fewer agents alive than recorded" if finding.data.get("missing_agents") else
                  "throughput fell by more than half in the last 5 minutes" if falling else None),
            ok=f"{len(live)} live runs, no dead run, no stale claim",
            fix=f"smb status  (and if a run is wedged: smb stop {next(iter(live))})" if live else None)

    @staticmethod
    def _halted(states, batch: str | None) -> list:
        """Runs a halt policy ended that are still the latest of their phase and batch (issue 15)."""
        latest: dict = {}
        for run in states.records:
            key = (run.phase, run.batch)
            if (batch is None or run.batch == batch) and (key not in latest or run.started > latest[key].started):
                latest[key] = run
        return [run for run in latest.values() if isinstance(run.halted, dict) and run.ended is not None]

    @staticmethod
    def redeploy_command(phase: str, batch: str, wave: int | None) -> str:
        return f"smb {phase} --batch {batch}" + (f" --wave {wave}" if wave else "")

    def repair(self, ctx: DoctorContext, finding: Finding) -> list[str]:
        done: list[str] = []
        states, claims, stale = self._state(ctx)
        dead = states.dead
        owners = {row.get("owner") for row in stale} - states.live_ids - {""}
        stopped = Counter(run_id for run_id, _, _ in stop_survivors(dead, owners, ctx.settings.agents.grace))
        for run_id, count in sorted(stopped.items()):
            done.append(f"stopped {count} surviving agents of dead run {run_id}")
        if stale:
            returned = 0
            with ctx.store.transaction(actor="doctor") as txn:
                fresh = run_states(ctx.workspace)  # under the lock: a run may have started since
                for domain in [r.domain for r in stale]:
                    row = txn.row(domain)
                    if row is None or not fresh.is_stale(row):
                        continue  # a live run's claim is never touched
                    txn.set_status(row, UNCLAIM[row.status], owner="", reason="doctor: stale claim returned",
                                   stale_owner=row.get("owner"))
                    returned += 1
            if returned:
                done.append(f"returned {returned} stale claims (i -> D, d -> -)")
        for run in dead:
            ctx.checkpoint()
            run.ended = time.time()
            run.exit_code = None
            run.agents = []
            save(ctx.workspace, run)
            done.append(f"marked dead run {run.run_id} ended; redeploy: "
                        + self.redeploy_command(run.phase, run.batch, run.wave))
        return done
