"""Values read from files that smb may not have written itself: checked, never trusted.

Records on disk come from older and newer smb versions, from other tools, or
are torn (CONTRACTS: every new field is optional). A reader asks these for a
number, a string or a batch key and gets the default for anything else.
"""

from __future__ import annotations

import os
from pathlib import Path

Identity = tuple[int, int, int]


def identity(path: Path) -> Identity | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_ino, info.st_mtime_ns, info.st_size)


def number(value, default: float = 0.0) -> float:
    """A JSON number, or ``default`` for anything else (bool, str, null): fields are optional."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return default
    return float(value)


def text(value, default: str = "") -> str:
    return value if isinstance(value, str) else default
