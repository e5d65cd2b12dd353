"""The only writer of the registry: lock, read afresh, check, change, replace atomically.

Every change is a transaction (SPEC §2): take ``REGISTRY.md.lock`` with a
timeout, re-read the file (another process may have changed it since we last
looked), refuse a registry that does not parse cleanly, apply compare-and-set
changes, write a temporary file in the same folder, fsync, ``os.replace``,
fsync the folder, append the events, release. A ``kill -9`` at any instant
leaves the old file or the new one, never a mix.
"""

from __future__ import annotations

import errno
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from . import events as event_log
from .errors import DiskFull, LockTimeout, RegistryInvalid, UsageError
from .registry import Registry, Row, parse, serialize, utc_now
from .workspace import Workspace


def atomic_write(path: Path, data: str | bytes, *, mode: int | None = None, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves the old or the new file, never a mix.

    ``durable=False`` skips the fsyncs: still never torn, but a power cut may bring back the old
    file. Only for files rewritten every few moments whose loss costs nothing (a run's record).
    """
    payload = data.encode() if isinstance(data, str) else data
    if mode is None:
        try:
            mode = path.stat().st_mode & 0o7777
        except FileNotFoundError:
            mode = 0o644
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        try:
            view = memoryview(payload)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fchmod(fd, mode)
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp_name, path)
    except BaseException as exc:
        # Never leave a half-written temporary behind, whatever went wrong.
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DiskFull(f"no space left on the device writing {path.name}; it is unchanged") from None
        raise
    if not durable:
        return
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _record_holder(fd: int) -> None:
    # Written by whoever holds the lock, so a process that times out can name the holder.
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)


def lock_holder(lock_file: Path) -> int | None:
    """The pid written by the current holder, when it is still alive."""
    try:
        text = lock_file.read_text().strip()
    except OSError:
        return None
    if not text.isdigit():
        return None
    pid = int(text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return pid


class Transaction:
    """A registry read under the lock; changes are written when the block ends without error."""

    def __init__(self, store: "Store", registry: Registry, actor: str) -> None:
        self.store = store
        self.registry = registry
        self.actor = actor
        self.events: list[dict] = []
        self.manifests: dict[Path, str] = {}
        self.changed = False
        self.replace_text: str | None = None

    def row(self, domain: str) -> Row | None:
        return self.registry.row(domain)

    def set_status(
        self,
        row: Row,
        status: str,
        *,
        expect: str | tuple[str, ...] | None = None,
        owner: str | None = None,
        note: str | None = None,
        attempts: int | None = None,
        **event_fields,
    ) -> bool:
        """Compare-and-set one row. Returns False (and changes nothing) when ``expect`` does not hold."""
        before = row.status
        if expect is not None and before not in ((expect,) if isinstance(expect, str) else expect):
            return False
        row.set("status", status)
        if owner is not None:
            row.set("owner", owner)
        if note is not None:
            row.set("note", note)
        if attempts is not None:
            row.set("attempts", str(attempts))
        row.set("updated", utc_now())
        self.changed = True
        event = {"event": "status", "domain": row.domain, "batch": row.batch, "from": before, "to": status,
                 "actor": self.actor}
        if note:
            event["note"] = note
        if attempts is not None:
            event["attempts"] = attempts
        event.update(event_fields)
        self.events.append(event)
        return True

    def add(self, domain: str, batch: str) -> Row:
        row = self.registry.add(domain, batch)
        self.changed = True
        self.events.append({"event": "add", "domain": domain, "batch": batch, "to": "-", "actor": self.actor})
        return row

    def write_manifest(self, path: Path, text: str) -> None:
        """Batch manifests change under the same lock as the registry."""
        self.manifests[path] = text

    def replace_document(self, text: str, event: dict) -> None:
        """Doctor's repair: write a whole new document (it was parsed and checked by the caller)."""
        self.replace_text = text
        self.changed = True
        self.events.append(event)

    def note_event(self, event: dict) -> None:
        self.events.append({"actor": self.actor, **event})


class Store:
    def __init__(self, workspace: Workspace, lock_timeout: float = 30.0) -> None:
        self.workspace = workspace
        self.path = workspace.registry
        self.lock_timeout = lock_timeout
        # The last registry this Store read or wrote, keyed on the file's identity. A long-lived
        # process (the runner: one transaction per loop turn) skips re-parsing a file nobody else
        # changed; any other writer's os.replace makes a new inode, so the key no longer matches.
        self._cache: tuple[tuple[int, int, int], str, Registry] | None = None

    def read_text(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UsageError(f"no registry at {self.workspace.rel(self.path)} (create it with: smb init)") from None
        except UnicodeDecodeError as exc:
            raise UsageError(f"{self.workspace.rel(self.path)} is not UTF-8 text (byte {exc.start})") from None

    def read(self) -> Registry:
        """Read without the lock: os.replace makes every read see a whole file."""
        return parse(self.read_text())

    @contextmanager
    def locked(self) -> Iterator[None]:
        from filelock import FileLock, Timeout  # here, not at import: `smb list-sites` never locks

        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(self.workspace.lock_file, timeout=self.lock_timeout, on_acquired=_record_holder)
        try:
            lock.acquire()
        except Timeout:
            holder = lock_holder(self.workspace.lock_file)
            who = f"pid {holder}" if holder else "another process"
            raise LockTimeout(
                f"registry lock not obtained in {self.lock_timeout:g}s: held by {who} "
                f"({self.workspace.rel(self.workspace.lock_file)}); try again, or raise SMB_LOCK_TIMEOUT"
            ) from None
        try:
            yield
        finally:
            lock.release()

    def _identity(self) -> tuple[int, int, int] | None:
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (info.st_ino, info.st_mtime_ns, info.st_size)

    def _load(self) -> tuple[str, Registry]:
        key = self._identity()
        if self._cache is not None and key is not None and self._cache[0] == key:
            return self._cache[1], self._cache[2]
        text = self.read_text()
        registry = parse(text)
        if key is not None and key == self._identity():
            self._remember(text, registry, key)
        return text, registry

    def _remember(self, text: str, registry: Registry, key: tuple[int, int, int] | None = None) -> None:
        key = key or self._identity()
        self._cache = (key, text, registry) if key is not None and not registry.problems else None

    @contextmanager
    def transaction(self, actor: str = "smb", *, strict: bool = True) -> Iterator[Transaction]:
        """Lock, read afresh, yield; write the changes only if the block succeeds."""
        with self.locked():
            text, registry = self._load()
            if strict and registry.problems:
                raise RegistryInvalid(self.workspace.rel(self.path), registry.problems)
            txn = Transaction(self, registry, actor)
            self._cache = None  # the block mutates `registry`: trust it again only once written
            yield txn
            if not txn.changed:
                self._remember(text, registry)
                return
            new_text = txn.replace_text if txn.replace_text is not None else serialize(registry)
            if new_text != text:
                atomic_write(self.path, new_text)
            if txn.replace_text is None:
                self._remember(new_text, registry)
            for path, manifest_text in txn.manifests.items():
                path.parent.mkdir(parents=True, exist_ok=True)
                atomic_write(path, manifest_text)
            event_log.append(self.workspace.events, txn.events)
