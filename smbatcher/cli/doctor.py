"""``smb doctor``: diagnose, and with --fix repair, every runbook scenario (SPEC §6)."""

from __future__ import annotations

from typing import Annotated, List, Optional

import typer

from ..commands import Context
from .common import BatchOpt, Globals, command


def register(app: typer.Typer) -> None:
    @command(app, "doctor")
    def doctor_cmd(
        g: Globals,
        scenario: Annotated[Optional[List[str]], typer.Option("--scenario", help="Only this scenario (repeatable).")] = None,
        site: Annotated[Optional[str], typer.Option("--site", help="The site for site-stuck.")] = None,
        batch: BatchOpt = None,
        fix: Annotated[bool, typer.Option("--fix", help="Apply the safe fixes (after a registry backup).")] = False,
        strict: Annotated[bool, typer.Option("--strict", help="Warnings count as failures.")] = False,
        list_only: Annotated[bool, typer.Option("--list", help="Name the scenarios.")] = False,
        report: Annotated[bool, typer.Option("--report", help="Print the escalation block, ready to paste.")] = False,
    ) -> int:
        """Diagnose (and with --fix, repair) every runbook scenario."""
        from .. import doctor
        from ..render import render_doctor

        ui = g.ui()
        checks = doctor.choose_checks(scenario)
        if list_only:
            for check in sorted(doctor.all_checks(), key=lambda c: doctor.SCENARIOS.index(c.name)):
                ui.out(f"{check.name:<20} {check.about}")
            return 0
        ctx = doctor.open_context(g.root, site=site, batch=batch)
        findings, backup = doctor.run_checks(ctx, checks, fix=fix)
        if fix and any(f.fixed for f in findings):
            Context(ui, ctx.workspace, ctx.settings, ctx.store).autocommit(
                "smb doctor --fix: " + "; ".join(f.scenario for f in findings if f.fixed))
        if g.json:
            data = {"status": doctor.overall(findings), "checks": [f.as_json() for f in findings]}
            if backup:
                data["backup"] = backup
            ui.json(data)
        elif report:
            from ..doctor.escalation import escalation_report

            ui.out(escalation_report(ctx, findings, backup))
        else:
            render_doctor(ui, findings, g.verbose)
            if backup:
                ui.info(f"registry backed up to {backup} before the fixes")
        return doctor.exit_code(findings, strict)
