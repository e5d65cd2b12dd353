"""From a claimed site to a ``Job``, and from an ended job to a site in place (SPEC §4, §5).

Agents work in a staging folder under ``.smbatcher/tmp/<run-id>/``; only a
verified result is moved into ``sites/`` or ``.smbatcher/designs/``, atomically,
so a crashed agent never damages a good site. Nothing from a domain or a design
reaches a command line: the agent gets them on stdin and in SMB_* variables.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from string import Template

from ..agents.presets import AgentSpec, agent_env
from ..fs import exchange_or_move
from ..lifecycle import IMPLEMENT, Phase
from ..units import utc_stamp
from ..workspace import Workspace
from .executor import Job


class SiteProblem(Exception):
    """This one site cannot be worked on (a file where its folder goes, ...): it fails, the run goes on."""


@dataclass
class Launcher:
    """Builds the jobs of one run: the template and brief are read once, not once per agent."""

    workspace: Workspace
    phase: Phase
    batch: str
    run_id: str
    spec: AgentSpec
    template: Template
    brief: str
    timeout: float
    grace: float
    staging_root: Path
    base_env: dict[str, str]

    def __post_init__(self) -> None:
        self.log_dirs: set[str] = set()  # logs/sites/<domain>/ folders known to exist

    def job(self, domain: str, attempt: int) -> Job:
        staging = self.staging_root / f"{domain}-{self.phase.name}-{attempt}"
        try:
            staging.mkdir(parents=True)
        except FileExistsError:  # left by an earlier launch of this attempt: start clean
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
        design_file = self.workspace.design_file(domain)
        design_text = ""
        if self.phase is IMPLEMENT:
            output = staging / "site"
            output.mkdir()
            try:
                design_text = design_file.read_text(encoding="utf-8", errors="replace")
            except OSError:
                design_text = ""
        else:
            output = staging / f"{domain}-DESIGN.md"
        prompt = self.template.safe_substitute({
            "domain": domain, "batch": self.batch, "phase": self.phase.name, "output": str(output),
            "brief": self.brief, "design": design_text, "design_path": str(design_file), "attempt": str(attempt),
        })
        env = dict(self.base_env)
        env.update(agent_env(self.spec, staging, self.base_env))
        env.update({
            "SMB_PHASE": self.phase.name, "SMB_DOMAIN": domain, "SMB_BATCH": self.batch,
            "SMB_ATTEMPT": str(attempt), "SMB_ROOT": str(self.workspace.root), "SMB_OUTPUT": str(output),
            "SMB_BRIEF": str(self.workspace.manifest(self.batch)), "SMB_RUN_ID": self.run_id,
        })
        if self.phase is IMPLEMENT:
            env["SMB_DESIGN"] = str(design_file)
        log_path = self.workspace.site_log(domain, self.phase.name, attempt)
        if domain not in self.log_dirs:
            try:
                log_path.parent.mkdir(parents=True, exist_ok=True)
            except (FileExistsError, NotADirectoryError):
                raise SiteProblem(f"{self.workspace.rel(log_path.parent)} is not a folder") from None
            self.log_dirs.add(domain)
        header = (f"=== smb {self.phase.name} {domain} attempt {attempt} run {self.run_id} "
                  f"{utc_stamp()}\n").encode()
        return Job(key=f"{domain}-{self.phase.name}-{attempt}", domain=domain, phase=self.phase.name,
                   attempt=attempt, argv=list(self.spec.argv), env=env, cwd=staging, output=output,
                   prompt=prompt.encode("utf-8"), log_path=log_path, header=header, timeout=self.timeout,
                   grace=self.grace)

    def has_output(self, job: Job) -> bool:
        """Whether the agent left the phase's expected output (before anything is moved)."""
        try:
            if self.phase is IMPLEMENT:
                return (job.output / "index.html").is_file()
            return job.output.is_file() and job.output.stat().st_size > 0
        except OSError:
            return False

    def promote(self, job: Job) -> str | None:
        """Move a verified result into place atomically; a problem string if it is not acceptable."""
        output = job.output
        if self.phase is IMPLEMENT:
            if not (output / "index.html").is_file():
                return "exit 0 but no index.html in the output folder"
            dest = self.workspace.site_dir(job.domain)
            if dest.is_symlink() or (dest.exists() and not dest.is_dir()):
                # Never follow or replace an odd entry where the site goes: the operator must look.
                return f"{self.workspace.rel(dest)} exists and is not a folder; move it away and retry"
            old = exchange_or_move(output, dest)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
            return None
        try:
            if output.is_dir():
                return "exit 0 but the design output is a folder, not a file"
            if output.stat().st_size == 0:
                return "exit 0 but the design file is empty"
        except FileNotFoundError:
            return "exit 0 but no design file was written"
        dest = self.workspace.design_file(job.domain)
        if dest.is_symlink() or (dest.exists() and not dest.is_file()):
            return f"{self.workspace.rel(dest)} exists and is not a file; move it away and retry"
        self.workspace.designs.mkdir(parents=True, exist_ok=True)
        os.replace(output, dest)
        return None

    def discard(self, job: Job) -> None:
        shutil.rmtree(job.cwd, ignore_errors=True)
