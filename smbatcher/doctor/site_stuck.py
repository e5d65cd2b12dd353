"""site-stuck: a site that never completes (runbook scenario 4), one with ``--site`` or all of them.

Fixes: output complete but the status never moved -> ``I``; ``D`` without its
design -> ``-`` (so the next ``smb design`` makes one); a parked ``X`` site is
explained with its last error, and the command that retries it is given.
"""

from __future__ import annotations

from .. import events as event_log
from ..lifecycle import DESIGNED, IMPLEMENTED, NEW, PARKED, is_claim
from ..runs import run_states
from .base import DoctorContext, Finding
from .evidence import design_present, last_log_errors, site_built


class SiteStuck:
    name = "site-stuck"
    about = "a site that never completes: status, attempts, design, output, last errors (--site D for one)"
    time_limit = 30.0

    def _problems(self, ctx: DoctorContext):
        """(built but still D, D without design, parked X) rows."""
        rows = ctx.registry.rows
        if ctx.site:
            rows = [r for r in rows if r.domain == ctx.site]
        elif ctx.batch:
            rows = ctx.registry.batch_rows(ctx.batch)
        built_not_marked, no_design, parked = [], [], []
        for row in rows:
            if row.status == DESIGNED:
                if site_built(ctx.workspace, row.domain):
                    built_not_marked.append(row)
                elif not design_present(ctx.workspace, row.domain):
                    no_design.append(row)
            elif row.status == PARKED:
                parked.append(row)
        return built_not_marked, no_design, parked

    def diagnose(self, ctx: DoctorContext) -> Finding:
        finding = Finding(self.name)
        if ctx.site:  # normalized by the CLI: a bad --site is exit 2 before any check runs
            row = ctx.registry.row(ctx.site)
            if row is None:
                return finding.conclude(fail=f"{ctx.site} has no row in the registry",
                                        fix="smb doctor --scenario finalization --fix  (if a manifest lists it)")
            self._describe(ctx, row, finding)
        built, no_design, parked = self._problems(ctx)
        for row in built:
            finding.findings.append(f"{row.domain}: status D but sites/{row.domain}-v1/index.html exists "
                                    "(agent finished, registry not updated)")
        for row in no_design:
            finding.findings.append(f"{row.domain}: status D but its design file is missing")
        for row in parked:
            errors = last_log_errors(ctx.workspace, row.domain, 1)
            finding.findings.append(f"{row.domain}: parked (X) after {row.attempts} attempts: "
                                    f"{row.get('note') or 'no note'}" + (f"; last log line {errors[0]}" if errors else ""))
        finding.data.update(built_not_marked=len(built), no_design=len(no_design), parked=len(parked))
        if built or no_design:
            return finding.conclude(
                fail=(f"{len(built)} sites built but still D, {len(no_design)} D sites without a design"
                      + (f", {len(parked)} parked" if parked else "")),
                fix="smb doctor --scenario site-stuck --fix" + (f" --site {ctx.site}" if ctx.site else ""))
        if parked:
            sample = parked[0]
            phase = "implement" if design_present(ctx.workspace, sample.domain) else "design"
            return finding.conclude(
                warn=f"{len(parked)} sites parked as X after max_attempts",
                fix=(f"fix the cause (see the log), then: smb set-status {sample.domain} --status "
                     f"{DESIGNED if phase == 'implement' else NEW} --expect {PARKED} && "
                     f"smb {phase} --batch {sample.batch} --sites {sample.domain}"))
        return finding.conclude(ok=f"{ctx.site}: nothing stuck" if ctx.site else "no stuck site")

    def _describe(self, ctx: DoctorContext, row, finding: Finding) -> None:
        d = row.domain
        finding.findings.append(f"{d}: status {row.status}, attempts {row.attempts}, batch {row.batch}, "
                                f"updated {row.get('updated') or '?'}" + (f", note: {row.get('note')}" if row.get("note") else ""))
        if is_claim(row.status):
            stale = run_states(ctx.workspace).is_stale(row)
            finding.findings.append(f"claimed by run {row.get('owner') or '(none recorded)'}: "
                                    + ("not alive, a stale claim (smb doctor --scenario wave-failure --fix "
                                       "returns it)" if stale else "alive"))
        finding.findings.append(f"design: {'present' if design_present(ctx.workspace, d) else 'missing'} "
                                f"({ctx.workspace.rel(ctx.workspace.design_file(d))})")
        site = ctx.workspace.site_dir(d)
        if site_built(ctx.workspace, d):
            from ..sitecheck import check_site

            problems = check_site(site, ctx.workspace.design_file(d))
            finding.findings.append(f"output: {ctx.workspace.rel(site)}/ "
                                    + ("complete (passes finish's checks)" if not problems
                                       else f"incomplete: {'; '.join(str(p) for p in problems[:3])}"))
        else:
            finding.findings.append(f"output: none ({ctx.workspace.rel(site)}/index.html missing)")
        for line in last_log_errors(ctx.workspace, d):
            finding.findings.append(f"last error: {line}")
        history = list(event_log.read(ctx.workspace.events, d))[-5:]
        for event in history:
            finding.findings.append(f"history: {event.get('from', '')} -> {event.get('to', '')} "
                                    f"by {event.get('actor', '?')}" + (f" ({event['note']})" if event.get("note") else ""))

    def repair(self, ctx: DoctorContext, finding: Finding) -> list[str]:
        built, no_design, _ = self._problems(ctx)
        if not built and not no_design:
            return []
        done = []
        with ctx.store.transaction(actor="doctor") as txn:
            for row in built:
                live = txn.row(row.domain)
                if live is not None and site_built(ctx.workspace, row.domain) and txn.set_status(
                        live, IMPLEMENTED, expect=DESIGNED, note="doctor: output was complete",
                        reason="doctor site-stuck"):
                    done.append(f"{row.domain}: D -> I (its site was already built)")
            for row in no_design:
                live = txn.row(row.domain)
                if live is not None and not design_present(ctx.workspace, row.domain) and txn.set_status(
                        live, NEW, expect=DESIGNED, note="doctor: design was missing", reason="doctor site-stuck"):
                    done.append(f"{row.domain}: D -> - (design missing; run smb design --batch {row.batch})")
        return done
