"""Filesystem operations smb relies on: atomic replacement, and what an OSError means to an operator.

Every file smb rewrites (the registry, batch manifests, run records, finish
reports) goes through ``atomic_write`` so that a ``kill -9`` or a full disk at
any instant leaves the old file or the new one, never a mix (SPEC §2).
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

from .errors import DiskFull, WrongKind


def atomic_write(path: Path, data: str | bytes, *, mode: int | None = None, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves the old or the new file, never a mix.

    A symlink is followed: its target is replaced, in the target's folder, and the link stays a link
    (issue 8: an operator who keeps REGISTRY.md in a synced folder links to it).
    ``durable=False`` skips the fsyncs: still never torn, but a power cut may bring back the old
    file. Only for files rewritten every few moments whose loss costs nothing (a run's record).
    Raises DiskFull for a full disk (the file unchanged); NotDurable when only syncing the folder
    failed (the new file is in place); any other OSError as it came (``os_error`` words it).
    """
    path = Path(path)
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    payload = data.encode() if isinstance(data, str) else data
    if mode is None:
        try:
            mode = path.stat().st_mode & 0o7777
        except FileNotFoundError:
            mode = 0o644
    tmp_name = _filled_temp(path, payload, mode, durable, "it is unchanged")
    try:
        os.replace(tmp_name, path)
    except BaseException as exc:
        _discard(tmp_name, exc, path, "it is unchanged")
    if not durable:
        return
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        raise NotDurable(exc.errno, exc.strerror) from exc


class NotDurable(OSError):
    """The new file is in place, but syncing its folder failed: a power cut may bring back the old one.

    Raised only after ``os.replace`` succeeded, so a caller for whom the replace is the commit point
    (the registry) can report "changed" with a warning instead of a failure (issue 8, order of effects).
    """


def open_append(path) -> int:
    """``open(path, "ab")`` as a bare descriptor (close-on-exec): the per-agent logs are opened this way
    on the pool's hot path, where a Python file object costs more than the write it carries."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o666)


def read_bytes(path, shown: str | None = None) -> bytes:
    """A workspace file's bytes; a FIFO, socket or device in its place is refused at once (WrongKind).

    Issue 22: a FIFO where config.toml, REGISTRY.md or a prompt template belongs made every command
    wait forever on a blocking read. A folder raises IsADirectoryError and a missing file
    FileNotFoundError, as ``open`` would.
    """
    return read_bytes_and_stat(path, shown)[0]


def read_bytes_and_stat(path, shown: str | None = None) -> tuple[bytes, os.stat_result]:
    """``read_bytes``, with the stat of the very file read (the registry keys its cache on it)."""
    with open_regular(path, shown) as handle:
        # The stat before the read: a hand edit in place between the two then leaves a key older than
        # the bytes (the next read misses and parses again), never the new key on the old bytes.
        info = os.fstat(handle.fileno())
        return handle.read(), info


def open_regular(path, shown: str | None = None):
    """``open(path, "rb")`` for a regular file only: WrongKind, at once, for a FIFO, socket or device.

    The kind is checked before opening (so a device is never opened), and again on the descriptor,
    opened O_NONBLOCK, in case a FIFO was swapped in between: no read from it ever blocks.
    """
    shown = str(path) if shown is None else shown
    _refuse_special(os.stat(path).st_mode, path, shown)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        _refuse_special(os.fstat(fd).st_mode, path, shown)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def read_text(path, shown: str | None = None) -> str:
    """``read_bytes`` decoded as strict UTF-8; a file that is not UTF-8 raises UnicodeDecodeError (the caller
    names the file: see ``not_utf8``). Bytes, then decode: CR LF stays CR LF."""
    return read_bytes(path, shown).decode("utf-8")


def not_utf8(exc: UnicodeDecodeError, shown: str, remedy: str = "fix or remove it") -> WrongKind:
    """The one line for a workspace file that is not UTF-8 text: exit 2, naming the file and the byte."""
    return WrongKind(f"{shown} is not UTF-8 text (byte {exc.start}); {remedy}")


_SPECIAL_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
                  (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def _refuse_special(mode: int, path, shown: str) -> None:
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, "Is a directory", str(path))
    for test, kind in _SPECIAL_KINDS:
        if test(mode):
            raise WrongKind(f"{shown} is {kind}, not a regular file; remove it (rm {shown}) and put the file back")


_RENAME_EXCHANGE = 2


def exchange_or_move(new: Path, dest: Path) -> Path | None:
    """Put the folder ``new`` at ``dest`` atomically; returns where the old ``dest`` went (to delete), if any.

    With an existing good site, renameat2(RENAME_EXCHANGE) swaps the two in
    one step, so ``dest`` is never missing nor half old and half new.
    """
    try:
        os.rename(new, dest)  # no site yet: the common case, one system call
        return None
    except FileNotFoundError:
        dest.parent.mkdir(parents=True, exist_ok=True)
        if not dest.exists():
            os.rename(new, dest)
            return None
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
            raise
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        at_fdcwd = -100
        if libc.renameat2(at_fdcwd, os.fsencode(new), at_fdcwd, os.fsencode(dest), _RENAME_EXCHANGE) == 0:
            return new  # the old site now sits where the new one was
    except (OSError, AttributeError):
        pass
    old = new.with_name(new.name + ".old")
    os.rename(dest, old)
    os.rename(new, dest)
    return old


def tree_size(path, since: float | None = None) -> tuple[int, int]:
    """(bytes, bytes in files modified after ``since``) under ``path``, without following links."""
    total = recent = 0
    stack = [str(path)]
    while stack:
        folder = stack.pop()
        try:
            entries = os.scandir(folder)
        except OSError:
            continue
        with entries:
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    elif entry.is_file(follow_symlinks=False):
                        info = entry.stat(follow_symlinks=False)
                        total += info.st_size
                        if since is not None and info.st_mtime >= since:
                            recent += info.st_size
                except OSError:
                    continue
    return total, recent


def _filled_temp(path: Path, payload: bytes, mode: int, durable: bool, unchanged: str) -> str:
    """A temporary file beside ``path`` holding ``payload`` (synced when ``durable``): the first half of
    every all-or-nothing write. Nothing is left behind on failure; a full disk is DiskFull."""
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DiskFull(f"no space left on the device writing {path.name}; {unchanged}") from None
        raise
    try:
        try:
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view):]
            os.fchmod(fd, mode)
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException as exc:
        _discard(tmp_name, exc, path, unchanged)
    return tmp_name


def _discard(tmp_name: str, exc: BaseException, path: Path, unchanged: str):
    """Never leave a half-written temporary behind, whatever went wrong; a full disk is DiskFull."""
    try:
        os.unlink(tmp_name)
    except FileNotFoundError:
        pass
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        raise DiskFull(f"no space left on the device writing {path.name}; {unchanged}") from None
    raise exc


def write_new(path: Path, data: str | bytes, *, mode: int = 0o644) -> bool:
    """Create ``path`` holding ``data``, all or nothing; False, and nothing written, if it exists.

    ``smb init`` never overwrites a registry, and on a full disk must not leave an empty one that
    reads as "no registry table" (issue 8): the data goes to a temporary file first, which is then
    linked into place (``link`` fails when the name is taken, so a concurrent init loses cleanly).
    """
    path = Path(path)
    if os.path.lexists(path):
        return False
    payload = data.encode() if isinstance(data, str) else data
    tmp_name = _filled_temp(path, payload, mode, True, "nothing was written")
    try:
        try:
            os.link(tmp_name, path)
        except FileExistsError:
            return False
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DiskFull(f"no space left on the device writing {path.name}; nothing was written") from None
        raise
    finally:
        os.unlink(tmp_name)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return True
