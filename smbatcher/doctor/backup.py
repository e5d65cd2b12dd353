"""The registry backup ``doctor --fix`` takes before its first change (SPEC §6).

Issue 8: on a full disk ``shutil.copy2`` left an empty ``REGISTRY-<stamp>.md``,
the newest file in ``backups/`` and so the one an operator restores. The copy
is now written under a temporary name and renamed (``fs.atomic_write``), then
read back and compared with the bytes it copies; only then may a fix run. A
backup that cannot be made leaves no file named like one, and no fix runs.
"""

from __future__ import annotations

import time

from ..errors import DiskFull, SmbError
from ..errors import os_error
from ..fs import NotDurable, atomic_write, read_bytes
from ..units import compact_stamp
from .base import DoctorContext


class BackupFailed(SmbError):
    """No verified copy of the registry could be made: doctor changes nothing."""


def backup_registry(ctx: DoctorContext) -> str | None:
    """Copy the registry to ``.smbatcher/backups/``; its workspace path, or None when there is no registry."""
    workspace = ctx.workspace
    source = workspace.registry
    try:
        data = read_bytes(source, workspace.rel(source))  # a FIFO in its place: refused, never waited on
    except FileNotFoundError:
        return None
    except SmbError as exc:
        raise BackupFailed(exc.message) from None
    except OSError as exc:
        raise BackupFailed(os_error(exc, workspace.rel(source), "read").message) from None
    # The microseconds keep two doctor runs in one second from writing the same name.
    target = workspace.backups / f"REGISTRY-{compact_stamp()}-{time.time_ns() // 1000 % 1_000_000:06d}.md"
    shown = workspace.rel(target)
    try:
        workspace.backups.mkdir(parents=True, exist_ok=True)
        atomic_write(target, data)
    except NotDurable:
        pass  # the copy is in place (only syncing its folder failed); it is verified below
    except (SmbError, OSError) as exc:
        error = exc if isinstance(exc, SmbError) else os_error(exc, shown)
        if isinstance(error, DiskFull):
            raise BackupFailed(f"no space left on the device for {shown}") from None
        raise BackupFailed(error.message) from None
    try:
        verified = target.read_bytes() == data
    except OSError:
        verified = False
    if not verified:
        try:
            target.unlink()  # a copy that differs must not pass for the latest good one
        except OSError:
            pass
        raise BackupFailed(f"{shown} does not read back as a copy of {workspace.rel(source)}")
    return shown
