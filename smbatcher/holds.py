"""The usage-limit hold: ``.smbatcher/hold.json``, shared by every run of the workspace (issue 10).

When an agent reports a subscription usage limit, the run that saw it writes
the hold: until when, which limit, the agent's words, which attempt. Every run
(and every cron invocation) reads it before launching and launches nothing
until it ends; then one probe goes first, because printed reset times are
sometimes wrong. ``smb hold --release`` ends it by hand. Absent file: no hold.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass

from .units import utc_clock
from .workspace import Workspace

HOLD_FILE = "hold.json"
LIMITS = ("session", "weekly", "opus", "quota", "unknown")


@dataclass
class Hold:
    until: float
    limit: str = "unknown"
    message: str = ""
    source: str = ""
    since: float = 0.0
    probes: int = 0

    def describe(self) -> str:
        """``held until 17:39 UTC (session limit)``."""
        what = "quota budget" if self.limit == "quota" else f"{self.limit} limit"
        return f"held until {utc_clock(self.until)} ({what})"

    def active(self, now: float | None = None) -> bool:
        return (time.time() if now is None else now) < self.until


def path(workspace: Workspace):
    return workspace.smb_dir / HOLD_FILE


def read(workspace: Workspace) -> Hold | None:
    """The hold in force, if any; a torn or foreign file is no hold (never fatal)."""
    try:
        data = json.loads(path(workspace).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("until"), (int, float)) or isinstance(
            data.get("until"), bool):
        return None
    fields = {k: data[k] for k in Hold.__dataclass_fields__ if k in data}
    try:
        hold = Hold(**fields)
    except TypeError:
        return None
    if hold.limit not in LIMITS:
        hold.limit = "unknown"
    return hold


def write(workspace: Workspace, hold: Hold) -> None:
    from .fs import atomic_write

    atomic_write(path(workspace), json.dumps(asdict(hold), indent=1) + "\n")


def release(workspace: Workspace) -> Hold | None:
    """End the hold; returns the hold that was in force (None: there was none)."""
    hold = read(workspace)
    try:
        os.unlink(path(workspace))
    except FileNotFoundError:
        return None
    return hold


def identity(workspace: Workspace) -> tuple | None:
    """(inode, mtime, size) of the hold file: a run re-reads it only when this changes."""
    try:
        info = os.stat(path(workspace))
    except OSError:
        return None
    return (info.st_ino, info.st_mtime_ns, info.st_size)
