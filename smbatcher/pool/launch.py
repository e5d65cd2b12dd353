"""From a claimed site to a ``Job``, and from an ended job to a site in place (SPEC §4, §5).

Agents work in a staging folder under ``.smbatcher/tmp/<run-id>/``; only a
verified result is moved into ``sites/`` or ``.smbatcher/designs/``, atomically,
so a crashed agent never damages a good site. Nothing from a domain or a design
reaches a command line: the agent gets them on stdin and in SMB_* variables.
"""

from __future__ import annotations

import os
import shutil
import stat
import time
from dataclasses import dataclass, replace
from pathlib import Path
from string import Template

from .. import promotion, sessions
from ..agents.presets import AgentSpec, agent_env
from ..lifecycle import IMPLEMENT, Phase
from ..units import utc_stamp
from ..workspace import Workspace
from .executor import Job


def read_brief(workspace: Workspace, batch: str) -> str:
    """The batch's brief from its manifest ("" without one); unreadable refuses the run, before any claim."""
    from ..errors import UsageError
    from ..fs import read_text
    from ..manifest import parse_manifest

    path = workspace.manifest(batch)
    try:
        return parse_manifest(read_text(path, workspace.rel(path))).brief  # read_text: no FIFO wait
    except FileNotFoundError:
        return ""
    except UnicodeDecodeError as exc:
        raise UsageError(f"{workspace.rel(path)} is not UTF-8 text (byte {exc.start}); "
                         "nothing was claimed") from None
    except OSError as exc:
        raise UsageError(f"cannot read {workspace.rel(path)}: {exc.strerror or exc}; "
                         "nothing was claimed") from None


class SiteProblem(Exception):
    """This one site cannot be worked on (a file where its folder goes, ...): it fails, the run goes on."""


class SiteBusy(SiteProblem):
    """Someone works on this site by hand right now (``smb resume``): it goes back, nothing counted."""


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
    stall_timeout: float = 0.0
    caps: tuple[str, ...] = ()  # the claude preset's --max-turns / --fallback-model (agent_caps)
    sessions: bool = False  # issue 21: pinned sessions kept in .smbatcher/sessions/ (the claude preset)
    max_resumes: int = 3  # a session is continued at most this often, then started fresh

    def __post_init__(self) -> None:
        self.log_dirs: set[str] = set()  # logs/sites/<domain>/ folders known to exist
        # The launch path runs once per agent (bench/dispatch.py, issue 13): the per-run parts of
        # every path and variable are worked out here once, and per agent joined as strings.
        workspace = self.workspace
        self._staging = str(self.staging_root)
        self._designs = str(workspace.designs)
        self._site_logs = str(workspace.logs / "sites")
        self._site_logs_rel = workspace.rel(workspace.logs / "sites")
        self._run_env = {"SMB_PHASE": self.phase.name, "SMB_BATCH": self.batch, "SMB_ROOT": str(workspace.root),
                         "SMB_BRIEF": str(workspace.manifest(self.batch)), "SMB_RUN_ID": self.run_id}
        # argv[0] looked up on the agents' PATH once, not by every launch: a failed execve per PATH
        # entry before it costs the loop about a tenth of each launch (the child runs while it waits).
        # Only a bare name found in an absolute folder: a path with a slash, or a PATH entry such as
        # ".", means the staging folder to the agent's launch (its cwd), so those keep the search.
        self._executable = None
        if self.spec.argv and "/" not in self.spec.argv[0]:
            found = shutil.which(self.spec.argv[0], path=self.base_env.get("PATH", os.defpath))
            self._executable = found if found and os.path.isabs(found) else None
        # Empty staging folders of ended agents, renamed into the next launches' staging folders
        # instead of removed and made anew. On ext4 without a journal (this project's machines), every
        # inode freed in the last minutes is skipped, one by one, when the next is allocated, so each
        # removal made every later mkdir and file creation of the run slower (issue 13: 0.7 ms per
        # allocation after a large removal, against 0.05 ms).
        self._spare: list[str] = []

    def _folders(self, domain: str, attempt: int, staging: str | None = None) -> str:
        """Make the staging, output and log folders of one launch; returns the design's text.
        ``staging``: a session's folder, already made (issue 21); None: this run's staging folder."""
        if staging is None:
            staging = f"{self._staging}/{domain}-{self.phase.name}-{attempt}"
            if not self._reuse_spare(staging):
                try:
                    _make_folder(staging)
                except FileExistsError:  # left by an earlier launch of this attempt: start clean
                    shutil.rmtree(staging, ignore_errors=True)
                    _make_folder(staging)
        design_text = ""
        if self.phase is IMPLEMENT:
            _make_folder(staging + "/site", exist_ok=True)  # a continued session's site is already there
            try:
                with open(f"{self._designs}/{domain}-DESIGN.md", encoding="utf-8", errors="replace") as handle:
                    design_text = handle.read()
            except OSError:
                design_text = ""
        log_dir = f"{self._site_logs}/{domain}"
        if domain not in self.log_dirs:
            try:
                _make_folder(log_dir, exist_ok=True)
            except (FileExistsError, NotADirectoryError):
                raise SiteProblem(f"{self.workspace.rel(Path(log_dir))} is not a folder") from None
            self.log_dirs.add(domain)
        return design_text

    def _reuse_spare(self, staging: str) -> bool:
        """Rename an empty staging folder of an ended agent to ``staging``; False when there is none
        or the name is taken (a folder left by an earlier launch of this attempt: made anew)."""
        while self._spare:
            spare = self._spare.pop()
            try:
                os.rename(spare, staging)  # over an empty folder of that name: as good as a clean one
                return True
            except FileNotFoundError:
                continue  # gone (the operator cleared tmp/): try the next, else make one
            except OSError:  # a folder with something in it, or a file: the caller starts clean
                self._spare.append(spare)
                return False
        return False

    def _recycle(self, folder: str) -> None:
        """Keep an ended agent's staging folder for the next launch when it is empty, else remove it."""
        try:
            with os.scandir(folder) as entries:
                empty = next(entries, None) is None
        except OSError:
            return  # already gone
        if empty and len(self._spare) < _SPARE_MAX:
            self._spare.append(folder)
        else:
            _remove(folder)

    def log_rel(self, domain: str, attempt: int) -> str:
        """``workspace.rel(workspace.site_log(...))`` as one string join: it runs once per agent."""
        return f"{self._site_logs_rel}/{domain}/{self.phase.name}-{attempt}.log"

    def job(self, domain: str, attempt: int, budget: float | None = None) -> Job:
        phase = self.phase.name
        name = f"{domain}-{phase}-{attempt}"
        session, note = self._session(domain, attempt) if self.sessions else (None, "")
        staging = str(sessions.folder(self.workspace, domain, phase)) if session else f"{self._staging}/{name}"
        design_text = self._folders(domain, attempt, staging if session else None)
        design_file = f"{self._designs}/{domain}-DESIGN.md"
        output = staging + "/site" if self.phase is IMPLEMENT else f"{staging}/{domain}-DESIGN.md"
        resumed = session is not None and session.resumes > 0  # a new session has none
        if resumed:  # the conversation already holds the task: a short continuation, not the whole prompt
            prompt = sessions.CONTINUE_PROMPT.format(output=output)
        else:
            prompt = self.template.safe_substitute({
                "domain": domain, "batch": self.batch, "phase": phase, "output": output,
                "brief": self.brief, "design": design_text, "design_path": design_file, "attempt": str(attempt),
            })
        staging_path = Path(staging)
        env = dict(self.base_env)
        env.update(agent_env(self.spec, staging_path, self.base_env))
        env.update(self._run_env)
        env.update({"SMB_DOMAIN": domain, "SMB_ATTEMPT": str(attempt), "SMB_OUTPUT": output})
        if self.phase is IMPLEMENT:
            env["SMB_DESIGN"] = design_file
        header = f"=== smb {phase} {domain} attempt {attempt} run {self.run_id} {utc_stamp()}\n"
        if note:
            header += f"[smb] {note}\n"
        argv = list(self.spec.argv)
        if self.caps:
            argv += self.caps
        if budget is not None:
            argv += ["--max-budget-usd", f"{max(budget, 0.0001):.4f}"]  # what the site has left in this run
        if session is not None:
            argv += ["--resume" if resumed else "--session-id", session.id]
        return Job(key=name, domain=domain, phase=phase, attempt=attempt, argv=argv, env=env,
                   cwd=staging_path, output=Path(output), prompt=prompt.encode("utf-8"),
                   log_path=Path(f"{self._site_logs}/{domain}/{phase}-{attempt}.log"), header=header.encode(),
                   timeout=self.timeout, grace=self.grace, log_rel=self.log_rel(domain, attempt),
                   executable=self._executable, stall_timeout=self.stall_timeout,
                   session=session.id if session is not None else "", resumed=resumed)

    # -- sessions (issue 21) --------------------------------------------------------------------
    def _session(self, domain: str, attempt: int) -> tuple[sessions.Session, str]:
        """The session this launch works in: the site's kept one, continued, when it can be (its folder
        and transcript are there, max_resumes not reached), else a new one in a clean folder. Returns
        it (saved, ``resumes`` counting this launch) and the line the log gets about it."""
        phase = self.phase.name
        work = sessions.folder(self.workspace, domain, phase)
        kept = sessions.load(self.workspace, domain, phase)
        why = ""
        holder = sessions.held_by_hand(kept) if kept is not None else None
        if holder is not None:
            raise SiteBusy(f"its {phase} session is open in smb resume (pid {holder}); not launched")
        if kept is not None:
            if not work.is_dir():
                why = f"session {kept.id}: its folder {self.workspace.rel(work)} is gone"
            elif kept.resumes >= self.max_resumes:
                why = f"session {kept.id}: continued {kept.resumes} times (max_resumes {self.max_resumes})"
            elif sessions.transcript(work, kept.id) is None:
                why = (f"session {kept.id}: its transcript is not in {self.workspace.rel(sessions.config_folder(work))}"
                       " (removed, or written on a worker without shared storage)")
            else:
                kept.resumes += 1
                kept.run, kept.attempt, kept.state, kept.reason = self.run_id, attempt, "running", ""
                sessions.save(self.workspace, kept)
                return kept, (f"session {kept.id}: continued (resume {kept.resumes} of at most {self.max_resumes}), "
                              f"in {self.workspace.rel(work)}")
        elif work.exists() or work.is_symlink():
            why = f"{self.workspace.rel(work)} has no session record"
        sessions.remove(self.workspace, domain, phase)  # a clean folder: nothing of a given-up session
        if work.exists() or work.is_symlink():
            raise SiteProblem(f"cannot clear {self.workspace.rel(work)}; remove it by hand")
        _make_folder(str(work))
        now = time.time()
        session = sessions.Session(domain, phase, sessions.new_id(), run=self.run_id, attempt=attempt,
                                   created=now, program=self._executable or self.spec.argv[0])
        sessions.save(self.workspace, session)
        return session, (f"{why}: starting fresh, session {session.id}" if why else "")

    def repair_job(self, job: Job, problems: list[str], turn: int, turns: int) -> Job:
        """The same attempt's session sent finish's failures (a repair turn before promotion)."""
        listed = "\n".join(f"- {problem}" for problem in problems)
        prompt = sessions.REPAIR_PROMPT.format(output=job.output, problems=listed)
        header = (f"\n[smb] repair turn {turn} of {turns}: finish's checks found {len(problems)} problem"
                  f"{'s' if len(problems) != 1 else ''}; session {job.session} is sent them\n")
        argv = list(job.argv)
        flag = argv.index("--resume") if "--resume" in argv else argv.index("--session-id")
        argv[flag] = "--resume"
        return replace(job, key=f"{job.key}-repair{turn}", argv=argv, prompt=prompt.encode("utf-8"),
                       header=header.encode("utf-8", "replace"), resumed=True, repair=turn)

    def not_started(self, job: Job) -> None:
        """A job that never ran: its staging folder goes; a continued session is as it was (the resume
        not used up), a new one is given up (nothing in it)."""
        if not job.session:
            self._recycle(str(job.cwd))
            return
        session = sessions.load(self.workspace, job.domain, job.phase)
        if session is None or session.id != job.session:
            return
        if not job.resumed:
            sessions.remove(self.workspace, job.domain, job.phase)
            return
        session.resumes, session.state, session.reason = max(0, session.resumes - 1), "kept", "not started"
        try:
            sessions.save(self.workspace, session)
        except OSError:
            pass

    def end_session(self, domain: str, session_id: str, keep: str | None) -> None:
        """After an attempt: keep its session for the next launch (``keep``: why) or give it up."""
        if not session_id:
            return
        phase = self.phase.name
        if keep:
            session = sessions.load(self.workspace, domain, phase)
            if session is not None and session.id == session_id:
                session.state, session.reason = "kept", keep
                try:
                    sessions.save(self.workspace, session)
                except OSError:
                    pass
            return
        session = sessions.load(self.workspace, domain, phase)
        if session is None or session.id == session_id:  # never another launch's newer session
            sessions.remove(self.workspace, domain, phase)

    def has_output(self, job: Job) -> bool:
        """Whether the agent left the phase's expected output (before anything is moved)."""
        try:
            if self.phase is IMPLEMENT:
                return os.path.isfile(f"{job.output}/index.html")
            info = os.stat(job.output)
            return stat.S_ISREG(info.st_mode) and info.st_size > 0
        except OSError:
            return False

    def promote(self, job: Job) -> str | None:
        """Move a verified result into place atomically; a problem string if it is not acceptable."""
        found = promotion.problem(self.workspace, self.phase.name, job.domain, job.output)
        if found:
            why, the_output = found
            return f"exit 0 but {why}" if the_output else why
        promotion.move_into_place(self.workspace, self.phase.name, job.domain, job.output)
        return None

    def discard(self, job: Job) -> None:
        """Be done with a job's staging folder: kept for the next launch when empty, else removed.
        A session's folder is not this run's: ``end_session`` keeps or removes it."""
        if not job.session:
            self._recycle(str(job.cwd))

    def settle(self) -> None:
        """The run ends: its staging folder goes next, whole, spare folders with it."""
        self._spare.clear()


_SPARE_MAX = 256  # empty staging folders kept for reuse; more than the agents that end at once


def _remove(folder: str) -> None:
    try:
        os.rmdir(folder)  # empty once its output moved into place: one system call, not a tree walk
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)


def _make_folder(path: str, exist_ok: bool = False, parents: bool = True) -> None:
    """``Path(path).mkdir(parents=parents, exist_ok=exist_ok)``, step for step, for a path given as a string."""
    try:
        os.mkdir(path)
    except FileNotFoundError:
        parent = os.path.dirname(path)
        if not parents or parent == path:
            raise
        _make_folder(parent, exist_ok=True)
        _make_folder(path, exist_ok, parents=False)
    except OSError:
        if not exist_ok or not os.path.isdir(path):
            raise
