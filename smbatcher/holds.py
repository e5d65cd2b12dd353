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

from .errors import SmbError
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
    """The hold in force, if any; a torn or foreign file is no hold (never fatal: one warning).

    Issue 22: a lone surrogate in the agent's words made every command fail until a person deleted
    the file. Its text is now made valid (U+FFFD) and the hold still holds; a file that is not UTF-8
    or not JSON is ignored with one warning naming it.
    """
    from .fs import read_bytes
    from .jsonfiles import Unreadable, loads, warn_once

    where = path(workspace)
    shown = workspace.rel(where)
    try:
        data = loads(read_bytes(where, shown))
    except FileNotFoundError:
        return None
    except (OSError, Unreadable, SmbError) as exc:
        warn_once(f"hold:{where}", f"ignoring the hold {shown}: {_reason(exc)} "
                                   f"(smb hold --release removes it)")
        return None
    if not isinstance(data, dict) or not isinstance(data.get("until"), (int, float)) or isinstance(
            data.get("until"), bool):
        warn_once(f"hold:{where}", f"ignoring the hold {shown}: not a hold (no until time)")
        return None
    fields = {k: data[k] for k in Hold.__dataclass_fields__ if k in data}
    try:
        hold = Hold(**fields)
    except TypeError:
        return None
    for name in ("limit", "message", "source"):  # shown by status, hold, doctor: text, whatever was stored
        if not isinstance(getattr(hold, name), str):
            setattr(hold, name, str(getattr(hold, name)))
    for name in ("since",):
        if not isinstance(hold.since, (int, float)) or isinstance(hold.since, bool):
            hold.since = 0.0
    if not isinstance(hold.probes, int) or isinstance(hold.probes, bool):
        hold.probes = 0
    if hold.limit not in LIMITS:
        hold.limit = "unknown"
    return hold


def write(workspace: Workspace, hold: Hold) -> None:
    from .fs import atomic_write

    from .jsonfiles import valid_unicode

    # Never store a lone surrogate: every later read would have to repair it (issue 22).
    atomic_write(path(workspace), json.dumps(valid_unicode(asdict(hold)), indent=1) + "\n")


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


def _reason(exc: Exception) -> str:
    if isinstance(exc, SmbError):
        return exc.message
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc)
