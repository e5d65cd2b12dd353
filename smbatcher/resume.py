"""``smb resume DOMAIN``: a person takes over a site's kept agent session, or promotes what it left (issue 21).

A ``claude`` agent whose attempt was interrupted leaves its conversation in the site's session folder
(``sessions.py``). ``takeover`` finds it and says how to continue it by hand: the same program,
``--resume <id>``, from the same working folder with the same ``CLAUDE_CONFIG_DIR`` (the CLI finds a
conversation only from both). ``promote`` takes the session's output as a finished attempt's would be
taken: the same output rule, moved into place the same way, the site's status set in one transaction.

Neither touches a site whose row is claimed by a live run: its agent is working in that folder.
"""

from __future__ import annotations

import os
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

from . import promotion, sessions
from .errors import SmbError, UsageError, os_error
from .lifecycle import IMPLEMENT, PHASES, RANK
from .registry import BadValue, normalize_domain
from .sessions import Session
from .store import Store
from .workspace import Workspace

PROGRAM = "claude"  # a session recorded without its program was made by the claude preset


@dataclass
class Takeover:
    """How to continue one session by hand: argv, working folder and the variables added to smb's environment."""

    domain: str
    session: Session
    folder: Path
    transcript: Path
    argv: list[str]
    env: dict[str, str]  # added to os.environ (the preset's defaults not already set, the SMB_* variables)

    def shell_command(self) -> str:
        """The one line a person types: ``cd <folder> && env CLAUDE_CONFIG_DIR=<...> <program> --resume <id>``."""
        config = f"CLAUDE_CONFIG_DIR={self.env['CLAUDE_CONFIG_DIR']}"
        return " ".join(["cd", shlex.quote(str(self.folder)), "&&", "env", shlex.quote(config),
                         *(shlex.quote(arg) for arg in self.argv)])

    def as_json(self) -> dict:
        return {"domain": self.domain, "phase": self.session.phase, "session": self.session.id,
                "folder": str(self.folder), "transcript": str(self.transcript), "argv": self.argv,
                "env": self.env, "command": self.shell_command()}


@dataclass
class Promoted:
    """A session's output moved into place: where it went, and the site's status before and after."""

    domain: str
    phase: str
    session: str
    dest: Path
    before: str
    after: str

    def as_json(self) -> dict:
        return {"domain": self.domain, "phase": self.phase, "session": self.session, "dest": str(self.dest),
                "from": self.before, "to": self.after}


def check_phase(phase: str | None) -> None:
    if phase is not None and phase not in PHASES:
        raise UsageError(f"--phase: unknown phase {phase!r} (expected design or implement)")


def site_name(domain: str) -> str:
    """The domain as smb stores it; anything that is not a domain (``../x``, ``a/b``) is bad input."""
    try:
        return normalize_domain(domain)
    except BadValue as exc:
        raise UsageError(str(exc)) from None


def _row(store: Store, domain: str):
    row = store.read().row(domain)
    if row is None:
        raise UsageError(f"unknown domain {domain}")
    return row


def _live_claim(workspace: Workspace, row) -> str | None:
    """The live run holding the row's claim, if any (a claim of a dead run is stale: no agent works there)."""
    from .runs import live_owner_ids

    owner = row.get("owner")
    if row.status.islower() and owner and owner in live_owner_ids(workspace):
        return owner
    return None


def _session(workspace: Workspace, domain: str, phase: str | None) -> Session:
    session = sessions.load(workspace, domain, phase) if phase else sessions.latest(workspace, domain)
    if session is None:
        what = f"no {phase} agent session" if phase else "no agent session"
        raise SmbError(f"{what} for {domain} in {workspace.rel(sessions.sessions_dir(workspace))} "
                       "(sessions are kept for claude agents whose attempt was interrupted)")
    return session


def _refuse_live(workspace: Workspace, row, doing: str) -> None:
    run = _live_claim(workspace, row)
    if run is not None:
        raise SmbError(f"{row.domain} is claimed by live run {run} (status {row.status}): its agent is working "
                       f"in the session folder; not {doing} (stop the run first: smb stop {run})")


def _folder(workspace: Workspace, session: Session, doing: str) -> Path:
    folder = sessions.folder(workspace, session.domain, session.phase)
    if not folder.is_dir() or folder.is_symlink():
        raise SmbError(f"{session.domain}'s {session.phase} session folder {workspace.rel(folder)} is gone; "
                       f"nothing to {doing}")
    return folder


def output_of(workspace: Workspace, session: Session) -> Path:
    """Where the session's agent writes its output: ``site/`` (implement) or the design file (design)."""
    folder = sessions.folder(workspace, session.domain, session.phase)
    if session.phase == IMPLEMENT.name:
        return folder / "site"
    return folder / f"{session.domain}-DESIGN.md"


def takeover(workspace: Workspace, store: Store, domain: str, phase: str | None = None) -> Takeover:
    """The site's latest (or ``phase``'s) session, ready to continue by hand; SmbError when it cannot be."""
    check_phase(phase)
    name = site_name(domain)
    row = _row(store, name)
    session = _session(workspace, name, phase)
    _refuse_live(workspace, row, "opening it")
    folder = _folder(workspace, session, "resume")
    found = sessions.transcript(folder, session.id)
    if found is None:
        config = sessions.config_folder(folder)
        raise SmbError(f"{name}'s {session.phase} session {session.id} has no transcript in "
                       f"{workspace.rel(config / 'projects')}; the agent cannot continue it "
                       "(smb resume --promote still takes its output)")
    return Takeover(name, session, folder, found, [session.program or PROGRAM, "--resume", session.id],
                    _environment(workspace, row.batch, session, folder))


def _environment(workspace: Workspace, batch: str, session: Session, folder: Path) -> dict[str, str]:
    """What a pool agent of this site and phase gets (pool/launch.py ``Launcher.job``), but no run or attempt."""
    from .agents.presets import CLAUDE_ENV

    env = {key: value for key, value in CLAUDE_ENV.items() if key not in os.environ}
    env["CLAUDE_CONFIG_DIR"] = str(sessions.config_folder(folder))
    env.update({"SMB_PHASE": session.phase, "SMB_BATCH": batch, "SMB_ROOT": str(workspace.root),
                "SMB_BRIEF": str(workspace.manifest(batch)), "SMB_DOMAIN": session.domain,
                "SMB_OUTPUT": str(output_of(workspace, session))})
    if session.phase == IMPLEMENT.name:
        env["SMB_DESIGN"] = str(workspace.design_file(session.domain))
    return env


def run_interactive(workspace: Workspace, plan: Takeover) -> int:
    """Run the agent on this terminal and wait for it; its exit code (128+n when a signal ended it).

    Not in a session of its own, unlike every agent a run starts (STYLE habit 5): an interactive
    program needs the terminal as its controlling terminal. Ctrl-C is the agent's own key (it
    interrupts a turn), so smb ignores SIGINT while the agent runs instead of dying under it.
    """
    import signal
    import subprocess

    program = plan.argv[0]
    if "/" not in program and shutil.which(program) is None:
        raise SmbError(f"cannot run {program}: not found on PATH")
    _hold(workspace, plan.session, True)  # before the agent starts: no run launches into its folder meanwhile
    try:
        child = subprocess.Popen(plan.argv, cwd=plan.folder, env={**os.environ, **plan.env})
    except OSError as exc:
        _hold(workspace, plan.session, False)
        raise SmbError(f"cannot run {program}: {exc.strerror or exc}") from None
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # after the fork: the agent keeps its Ctrl-C
    try:
        code = child.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
        _hold(workspace, plan.session, False)
    return 128 - code if code < 0 else code


def _hold(workspace: Workspace, session: Session, held: bool) -> None:
    """Mark the session open by this process (a run then leaves the site alone), or no longer."""
    from .proc import own_create_time

    current = sessions.load(workspace, session.domain, session.phase)
    if current is None or current.id != session.id:
        return
    current.holder = [os.getpid(), own_create_time()] if held else []
    try:
        sessions.save(workspace, current)
    except OSError:
        pass


def promote(workspace: Workspace, store: Store, domain: str, phase: str | None = None) -> Promoted:
    """Take the session's output as an attempt's would be taken, set the phase's done status, give the
    session up. SmbError (nothing moved, the registry untouched) when the output or the site refuses it."""
    check_phase(phase)
    name = site_name(domain)
    _row(store, name)
    session = _session(workspace, name, phase)
    the_phase = PHASES[session.phase]
    # Checked, moved and set under the registry lock: no run can claim the site in between (habit 4).
    with store.transaction(actor="resume") as txn:
        row = txn.row(name)
        if row is None:
            raise UsageError(f"unknown domain {name}")
        _refuse_live(workspace, row, "promoting it")
        holder = sessions.held_by_hand(session)
        if holder is not None:  # a person is working in that folder on a terminal right now
            raise SmbError(f"{name}'s {session.phase} session is open in smb resume (pid {holder}); "
                           "not promoting it (finish there first)")
        if RANK.get(row.status, 0) > RANK[the_phase.done]:
            raise SmbError(f"{name} is already past {session.phase} (status {row.status}); "
                           f"its {session.phase} session's output was not taken")
        _folder(workspace, session, "promote")
        output = output_of(workspace, session)
        problem = promotion.problem(workspace, session.phase, name, output)
        if problem:
            raise SmbError(f"{name}'s {session.phase} session output was not taken: {problem[0]}")
        try:
            dest = promotion.move_into_place(workspace, session.phase, name, output)
        except OSError as exc:
            raise os_error(exc, workspace.rel(output), "move") from None
        before = row.status
        txn.set_status(row, the_phase.done, owner="", session=session.id,
                       note=f"{session.phase} output promoted from session by smb resume")
    sessions.remove(workspace, name, session.phase)
    return Promoted(name, session.phase, session.id, dest, before, the_phase.done)
