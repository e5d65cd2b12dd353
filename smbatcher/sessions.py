"""Agent sessions: what an agent's conversation leaves on disk so that it can be continued (issue 21).

A ``claude`` agent's attempt runs with a pinned session id (``--session-id``) in a working folder
that belongs to its site and phase, ``.smbatcher/sessions/<domain>-<phase>/``, not to one run:

- the folder is the agent's working folder (its output: ``site/`` or the design file) and holds
  its ``CLAUDE_CONFIG_DIR`` (``.claude-home/``, where the CLI keeps the transcript, under
  ``projects/<cwd>/<session id>.jsonl``);
- ``.smbatcher/sessions/<domain>-<phase>.json`` beside it is smb's record of the session (its id,
  the run and attempt that made it, how often it was continued). It lies outside the folder the
  agent may write, so an agent cannot rewrite it.

The CLI continues a conversation only from the same working folder and the same config folder, so
both are kept while the site may still continue (an attempt that was held, stopped, stalled, timed
out, rate limited or ended by an outage, or whose runner died) and removed once the site is
promoted, parked, or its session given up. ``smb doctor`` cleans the ones no site can continue.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .workspace import Workspace

RECORD_SUFFIX = ".json"

CONTINUE_PROMPT = """You were interrupted before you had finished this task (the run was stopped, or hit a
usage limit, an outage or a time limit). Nothing you wrote is lost: the files are where you left them, in
{output}. Continue the same task from where you stopped: check what is already there, write what is
missing, and stop when the work is complete. Do not start over.
"""

REPAIR_PROMPT = """Fix these problems that `smb finish` found in the site before publishing it:
{problems}

The site is the folder {output}. Edit its files there (do not start over, and add a page only if a link
needs one), then stop.
"""

@dataclass
class Session:
    """smb's record of one site's conversation in one phase."""

    domain: str
    phase: str
    id: str  # the CLI's session id (a UUID)
    run: str = ""  # the run that started or last continued it
    attempt: int = 0
    resumes: int = 0  # how often it was continued (resumes and repair turns are not counted here)
    created: float = 0.0
    updated: float = 0.0
    program: str = ""  # the agent program that owns it (for `smb resume`)
    state: str = "running"  # running | kept (the site may continue it)
    reason: str = ""  # why it was kept (the attempt's class)
    holder: list = field(default_factory=list)  # [pid, create time] of the `smb resume` that has it open


def sessions_dir(workspace: Workspace) -> Path:
    return workspace.smb_dir / "sessions"


def folder(workspace: Workspace, domain: str, phase: str) -> Path:
    """The agent's working folder for this site and phase (domains were validated: no "/" or "..")."""
    return sessions_dir(workspace) / f"{domain}-{phase}"


def record_path(workspace: Workspace, domain: str, phase: str) -> Path:
    return sessions_dir(workspace) / f"{domain}-{phase}{RECORD_SUFFIX}"


def config_folder(work: Path) -> Path:
    """The CLI's config folder inside a session's folder: the claude preset's per-agent one."""
    from .agents.presets import config_dir

    return config_dir(work)


def new_id() -> str:
    return str(uuid.uuid4())


def load(workspace: Workspace, domain: str, phase: str) -> Session | None:
    """The session record, or None when there is none or it cannot be read (then it is not continued)."""
    from .jsonfiles import Unreadable, loads

    try:
        with open(record_path(workspace, domain, phase), "rb") as handle:
            data = loads(handle.read(1 << 16))
    except (OSError, Unreadable):
        return None
    return _from_dict(data)


def _from_dict(data) -> Session | None:
    if not isinstance(data, dict):
        return None
    try:
        session = Session(domain=str(data["domain"]), phase=str(data["phase"]), id=str(data["id"]))
    except KeyError:
        return None
    for key, kind in (("run", str), ("attempt", int), ("resumes", int), ("created", float), ("updated", float),
                      ("program", str), ("state", str), ("reason", str)):
        value = data.get(key)
        if isinstance(value, bool):
            continue
        if isinstance(value, kind) or (kind is float and isinstance(value, int)):
            setattr(session, key, value)
    holder = data.get("holder")
    if isinstance(holder, list) and len(holder) == 2 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in holder):
        session.holder = [int(holder[0]), float(holder[1])]
    try:
        uuid.UUID(session.id)
    except ValueError:
        return None  # an id that is not a UUID never reaches a command line
    return session


def held_by_hand(session: Session) -> int | None:
    """The pid of the live `smb resume` that has this session open on a terminal, else None."""
    if not session.holder:
        return None
    from .proc import process_alive

    pid, created = session.holder
    return pid if process_alive(pid, created) else None


def save(workspace: Workspace, session: Session) -> None:
    import json

    from .fs import atomic_write

    session.updated = time.time()
    path = record_path(workspace, session.domain, session.phase)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps(asdict(session), sort_keys=True) + "\n", durable=False)


def remove(workspace: Workspace, domain: str, phase: str) -> None:
    """Give the session up: its folder and its record go."""
    with contextlib.suppress(OSError):
        os.unlink(record_path(workspace, domain, phase))
    shutil.rmtree(folder(workspace, domain, phase), ignore_errors=True)


def transcript(work: Path, session_id: str) -> Path | None:
    """The CLI's transcript of the session in this working folder's config folder, if it is there."""
    projects = config_folder(work) / "projects"
    try:
        with os.scandir(projects) as entries:
            for entry in entries:
                candidate = Path(entry.path) / f"{session_id}.jsonl"
                if entry.is_dir(follow_symlinks=False) and candidate.is_file() and candidate.stat().st_size > 0:
                    return candidate
    except OSError:
        return None
    return None


@dataclass
class Found:
    """A session on disk, for doctor and `smb resume`: its record (None when missing) and folder."""

    domain: str
    phase: str
    folder: Path
    session: Session | None
    bytes: int = 0


def listing(workspace: Workspace) -> list[Found]:
    """Every session folder and record under ``.smbatcher/sessions/`` (a record without its folder,
    or a folder without its record, included)."""
    root = sessions_dir(workspace)
    names: dict[str, bool] = {}
    try:
        with os.scandir(root) as entries:
            for entry in entries:
                name = entry.name
                if name.endswith(RECORD_SUFFIX):
                    names.setdefault(name[: -len(RECORD_SUFFIX)], False)
                elif entry.is_dir(follow_symlinks=False):
                    names[name] = True
    except OSError:
        return []
    found = []
    for name in sorted(names):
        domain, _, phase = name.rpartition("-")
        if not domain or phase not in ("design", "implement"):
            continue
        session = load(workspace, domain, phase)
        found.append(Found(domain, phase, root / name, session))
    return found


def latest(workspace: Workspace, domain: str) -> Session | None:
    """The site's most recently used session (implement before design when both are as new)."""
    best = None
    for phase in ("implement", "design"):
        session = load(workspace, domain, phase)
        if session is not None and (best is None or session.updated > best.updated):
            best = session
    return best
