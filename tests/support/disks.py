"""Real small file systems for the full-disk and read-only tests (issue 8): tmpfs mounts, filled to the last byte.

A mock of ENOSPC proves only that the mock is handled; a tiny tmpfs is a real full disk. Mounting needs
root (and, in a container, CAP_SYS_ADMIN): where it cannot be done the test is skipped, never faked.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=30)


@contextmanager
def tmpfs_mounts() -> Iterator[Callable[..., Path]]:
    """``mount(folder, size="256k")`` puts a fresh tmpfs at ``folder`` and returns it; all are unmounted on exit.

    For a fixture: ``with tmpfs_mounts() as mount: yield mount``. Skips the test where mounting is not allowed.
    """
    if os.geteuid() != 0:
        pytest.skip("a real full disk or read-only file system needs a tmpfs mount, and mounting needs root")
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    mounted: list[Path] = []

    def mount(folder: Path, size: str = "256k") -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        result = _run("mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(folder))
        if result.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here (a container without CAP_SYS_ADMIN?): {result.stderr.strip()}")
        mounted.append(folder)
        return folder

    try:
        yield mount
    finally:
        # Innermost first; a lazy unmount if something (a test's stray process) still holds a file open.
        for folder in reversed(mounted):
            if _run("umount", str(folder)).returncode != 0:
                _run("umount", "-l", str(folder))


def fill(folder: Path) -> Path:
    """Write into ``folder`` until its file system says ENOSPC, down to the last byte; returns the filler file.

    Fails if the file system is not full afterwards: a test on a disk with room left would prove nothing.
    """
    filler = folder / f"filler-{uuid.uuid4().hex[:8]}.bin"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        for size in (1 << 20, 1 << 16, 4096, 512, 1):
            chunk = bytes(size)
            while True:
                try:
                    os.write(fd, chunk)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC, exc
                    break
    finally:
        os.close(fd)
    assert os.statvfs(folder).f_bavail == 0, f"{folder} is not full: the test would prove nothing"
    return filler
