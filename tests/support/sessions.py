"""Agent sessions on disk (issue 21) as the pool leaves them: a working folder, its transcript, smb's record."""

from __future__ import annotations

import time
from pathlib import Path

from smbatcher import sessions
from smbatcher.workspace import Workspace


def write_session(ws: Workspace, domain: str, phase: str = "implement", *, run: str = "implement-001-x",
                  transcript: bool = True, record: bool = True, folder: bool = True) -> Path:
    """``.smbatcher/sessions/<domain>-<phase>/`` with some output and (``transcript``) the CLI's
    transcript under ``.claude-home/projects/``, and (``record``) smb's record beside it; returns the folder."""
    work = sessions.folder(ws, domain, phase)
    session = sessions.Session(domain=domain, phase=phase, id=sessions.new_id(), run=run, attempt=1,
                               created=time.time(), program="claude", state="kept", reason="stopped")
    if folder:
        output = work / "site" if phase == "implement" else work
        output.mkdir(parents=True, exist_ok=True)
        (output / ("index.html" if phase == "implement" else f"{domain}-DESIGN.md")).write_text("x" * 3000)
        if transcript:
            project = sessions.config_folder(work) / "projects" / "-work-ws"
            project.mkdir(parents=True)
            (project / f"{session.id}.jsonl").write_text('{"type":"user"}\n' * 200)
    if record:
        sessions.save(ws, session)
    return work
