"""Moving an agent's verified output into place: the one rule for a run's attempt and for
``smb resume --promote`` (issues 8, 21).

``problem`` says why an output cannot be taken (the output rule of ``pool/output.py``, then what
the phase needs and what lies where it goes); ``move_into_place`` swaps a site folder in whole
(never half old, half new) or replaces the design file.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from .workspace import Workspace


def problem(workspace: Workspace, phase: str, domain: str, output: Path) -> tuple[str, bool] | None:
    """None when ``output`` can be taken; else (why, whether it is the output's own fault: the agent
    ended without it, as against something in the way where it goes)."""
    from .pool.output import output_problem

    found = output_problem(output)  # issue 22: a symlink or special file anywhere in it
    if found:
        return found, False
    if phase == "implement":
        if not os.path.isfile(f"{output}/index.html"):
            return "no index.html in the output folder", True
        dest = workspace.site_dir(domain)
        try:
            kind = os.lstat(dest).st_mode
        except FileNotFoundError:
            return None  # no site yet: the common case
        if not stat.S_ISDIR(kind):
            # Never follow or replace an odd entry where the site goes (a link, a file): the operator must look.
            return f"{workspace.rel(dest)} exists and is not a folder; move it away and retry", False
        return None
    try:
        info = os.stat(output)
    except FileNotFoundError:
        return "no design file was written", True
    if stat.S_ISDIR(info.st_mode):
        return "the design output is a folder, not a file", True
    if info.st_size == 0:
        return "the design file is empty", True
    dest = workspace.design_file(domain)
    if dest.is_symlink() or (dest.exists() and not dest.is_file()):
        return f"{workspace.rel(dest)} exists and is not a file; move it away and retry", False
    return None


def move_into_place(workspace: Workspace, phase: str, domain: str, output: Path) -> Path:
    """Move a checked output where it goes; returns that path (OSError as it comes)."""
    from .fs import exchange_or_move

    if phase == "implement":
        dest = workspace.site_dir(domain)
        old = exchange_or_move(output, dest)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return dest
    dest = workspace.design_file(domain)
    workspace.designs.mkdir(parents=True, exist_ok=True)
    os.replace(output, dest)
    return dest
