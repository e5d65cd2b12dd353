"""Per-site agent logs: ``logs/sites/<domain>/<phase>-<attempt>.log`` (SPEC §1).

Each holds one agent run: a ``=== smb ...`` header line written by the pool,
then the agent's stdout and stderr. Readers want its tail: the last thing the
agent said is usually why it failed.
"""

from __future__ import annotations

import os
from pathlib import Path

HEADER = "=== smb"


def read_tail(path: Path, limit: int = 4096, start: int = 0) -> str:
    """The last ``limit`` bytes of the log after offset ``start``, as text ("" when unreadable)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return ""
    try:
        size = os.fstat(fd).st_size
        offset = max(start, size - limit)
        return os.pread(fd, max(size - offset, 0), offset).decode("utf-8", "replace")
    except OSError:
        return ""
    finally:
        os.close(fd)


def last_error_line(path: Path) -> str:
    """The agent's last non-empty line (not the pool's header), at most 200 characters."""
    lines = [line.strip() for line in read_tail(path).splitlines() if line.strip() and not line.startswith(HEADER)]
    return lines[-1][:200] if lines else ""
