"""environment: agent commands on PATH, a writable workspace, a valid config, git and tmux."""

from __future__ import annotations

import os
import shutil

from ..agents import check_agent
from ..errors import UsageError
from .base import DoctorContext, Finding, first_of


class Environment:
    name = "environment"
    about = "agent commands on PATH, workspace writable, config valid, git (autocommit), tmux"
    time_limit = 10.0

    def diagnose(self, ctx: DoctorContext) -> Finding:
        finding = Finding(self.name)
        problems, warnings = [], []
        if ctx.config_error:
            problems.append(f"bad config: {ctx.config_error}")
        agents = ctx.settings.agents
        for phase in ("design", "implement"):
            command = getattr(agents, phase)
            try:
                argv = check_agent(command)
                finding.findings.append(f"{phase} agent: {command!r} -> {argv[0]}")
            except UsageError as exc:
                problems.append(f"{phase} agent: {exc.message}")
        for folder in (ctx.workspace.smb_dir, ctx.workspace.sites, ctx.workspace.logs):
            if folder.exists() and not os.access(folder, os.W_OK | os.X_OK):
                problems.append(f"workspace folder not writable: {ctx.workspace.rel(folder)}")
            elif not folder.exists() and folder != ctx.workspace.smb_dir:
                warnings.append(f"{ctx.workspace.rel(folder)}/ is missing (created on the next run)")
        if ctx.workspace.registry.exists() and not os.access(ctx.workspace.registry, os.W_OK):
            problems.append("the registry is not writable")
        git = shutil.which("git")
        if ctx.settings.git.autocommit and not git:
            problems.append("git autocommit is on but git is not on PATH")
        finding.findings.append(f"git: {git or 'not found'}")
        tmux = shutil.which("tmux")
        if not tmux:
            warnings.append("tmux not found: long runs need tmux, nohup or --bg to survive a closed terminal")
        finding.findings.append(f"tmux: {tmux or 'not found'}")
        _sandbox_line(agents.sandbox, problems, warnings, finding.findings)  # issue 22
        finding.findings[:0] = problems + warnings
        fix = ("edit .smbatcher/config.toml ([agents] design/implement) or install the agent CLI" if problems
               else None if tmux else "apt-get install -y tmux")
        return finding.conclude(fail=first_of(problems), warn=warnings[0] if warnings else None,
                                ok="agents found, workspace writable, config valid", fix=fix)


def _sandbox_line(mode: str, problems: list, warnings: list, findings: list) -> None:
    from .. import jail

    bwrap = None if mode == "off" else jail.probe()
    findings.append(f"agent jail: sandbox = {mode!r}, " + (f"bwrap {bwrap}" if bwrap else
                                                            "off" if mode == "off" else jail.why_not()))
    if mode != "off" and bwrap is None:
        (problems if mode == "on" else warnings).append(f"agents run without a jail: {jail.why_not()}"
                                                       + (" (sandbox = \"on\": runs refuse)" if mode == "on" else ""))
