"""What an agent may leave as its output: one rule for every executor (issue 22).

Regular files and folders only. The output path itself a symlink (``rm -rf "$SMB_OUTPUT";
ln -s /outside "$SMB_OUTPUT"``), or a symlink, FIFO, socket or device inside it, fails the attempt
with that reason: nothing that resolves outside the staging folder is ever promoted into
``sites/`` or ``.smbatcher/designs/`` on this machine, nor packed on a Dask worker. Nothing here
follows a link (lstat / scandir without follow_symlinks), so a FIFO is never opened.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ..text import clean_text

_KINDS = ((stat.S_ISLNK, "a symlink"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"))


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "a special file"


def output_problem(output: Path | str) -> str | None:
    """Why ``output`` (the agent's design file or site folder) cannot be taken; None when it can
    (or when it does not exist: a missing output is the caller's own message)."""
    output = os.fspath(output)
    try:
        mode = os.lstat(output).st_mode
    except FileNotFoundError:
        return None
    if stat.S_ISREG(mode):
        return None
    if not stat.S_ISDIR(mode):
        return (f"the output {clean_text(os.path.basename(output))} is {_kind(mode)}, not a file or folder; "
                "only regular files and folders are taken")
    pending = [output]
    while pending:
        folder = pending.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
                elif not entry.is_file(follow_symlinks=False):
                    rel = clean_text(os.path.relpath(entry.path, output))  # an agent-chosen name
                    what = _kind(entry.stat(follow_symlinks=False).st_mode)
                    return (f"{rel} in the output is {what} (a symlink or a special file); "
                            "only regular files and folders are taken")
    return None
