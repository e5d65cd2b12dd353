"""Agent sessions as a claude agent's attempt leaves them (issue 21): smb's record, the working folder
with its output, and the CLI's transcript under ``.claude-home/projects/``."""

from __future__ import annotations

import json
import time
from pathlib import Path

from smbatcher import sessions
from smbatcher.sessions import Session
from smbatcher.workspace import Workspace


def write_session(ws: Workspace, domain: str, phase: str = "implement", *, run: str = "", output: bool = True,
                  transcript: bool = True, record: bool = True, folder: bool = True, program: str = "",
                  state: str = "kept", reason: str = "stopped", resumes: int = 0) -> Session:
    """A kept session of ``domain`` in ``phase``: its record (``record``), its folder (``folder``) with
    the phase's output (``site/index.html`` or ``<domain>-DESIGN.md``) and a transcript; returns the record."""
    session = Session(domain=domain, phase=phase, id=sessions.new_id(), run=run or f"{phase}-001-test", attempt=1,
                      resumes=resumes, created=time.time(), program=program, state=state, reason=reason)
    if record:
        sessions.save(ws, session)
    if not folder:
        return session
    work = sessions.folder(ws, domain, phase)
    work.mkdir(parents=True, exist_ok=True)
    if output and phase == "implement":
        (work / "site").mkdir()
        (work / "site" / "index.html").write_text(f"<h1>{domain} from its session</h1>\n", encoding="utf-8")
    elif output:
        (work / f"{domain}-DESIGN.md").write_text(f"# {domain}\n\nA design from its session.\n", encoding="utf-8")
    if transcript:
        path = transcript_path(work, session.id)
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps({"type": "user", "sessionId": session.id}) + "\n", encoding="utf-8")
    return session


def transcript_path(work: Path, session_id: str) -> Path:
    """Where the CLI keeps the transcript: ``projects/<cwd with / as ->/<id>.jsonl`` in its config folder."""
    return sessions.config_folder(work) / "projects" / str(work).replace("/", "-") / f"{session_id}.jsonl"
