"""The only writer of the registry: lock, read afresh, check, change, replace atomically.

Every change is a transaction (SPEC §2): take ``REGISTRY.md.lock`` with a
timeout, re-read the file (another process may have changed it since we last
looked), refuse a registry that does not parse cleanly, apply compare-and-set
changes, write the batch manifests, then the registry (a temporary file in the
same folder, fsync, ``os.replace``, fsync the folder), append the events,
release. A ``kill -9`` at any instant leaves the old file or the new one, never
a mix.

The registry's ``os.replace`` is the commit point (issue 8, order of effects).
Everything before it that fails fails the transaction with nothing changed: a
manifest written ahead of a registry write that then failed is put back (and a
manifest listing a site with no row is harmless; a row its manifest lacks makes
``finish`` refuse the batch). Everything after it that fails (the event log,
syncing the folder) is a warning, ``registry changed; event not logged: ...``,
never an exception: the change happened and the caller must not report it as
failed, nor the runner leave claims behind it does not know it made.

Reading a large registry goes through its derived index (``registry_index``)
when one was made for the very bytes read, and leaves one when it had to parse;
a write leaves the index of what it wrote. The file is always read whole: the
index only spares the parse, and it is never the source of truth (issue 13).
"""

from __future__ import annotations

import errno
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from . import events as event_log
from . import registry_index
from .errors import DiskFull, LockTimeout, RegistryInvalid, SmbError, UsageError, WrongKind
from .errors import os_error
from .fs import NotDurable, atomic_write, not_utf8, read_bytes, read_bytes_and_stat
from .registry import Registry, Row, bulk_layout, cell_text, from_layout, parse, serialize
from .units import utc_stamp as utc_now
from .workspace import Workspace


def _record_holder(fd: int) -> None:
    # Written by whoever holds the lock, so a process that times out can name the holder.
    # Best effort: on a full disk the pid cannot be written, and the lock is still ours.
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    except OSError:
        pass


def lock_holder(lock_file: Path) -> int | None:
    """The pid written by the current holder, when it is still alive."""
    try:
        text = read_bytes(lock_file).decode("ascii", "replace").strip()
    except (OSError, WrongKind):  # no lock file, or not one smb wrote: no holder to name
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
        self.warnings: list[str] = []  # what went wrong after the commit point; the change stands

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
            row.set("owner", cell_text(owner))
        if note is not None:
            note = cell_text(note)
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
    def __init__(self, workspace: Workspace, lock_timeout: float = 30.0,
                 warn: Callable[[str], None] | None = None) -> None:
        self.workspace = workspace
        self.path = workspace.registry
        self.lock_timeout = lock_timeout
        # Where warnings go (a caller may pass its ui.warn); None: the normal channel, one
        # `smb: warning: ...` line on stderr. A repeated warning (a runner's every transaction) is
        # passed on once.
        self.warn = warn
        self.warnings: list[str] = []  # this Store's recent warnings, oldest first (the last 100)
        self.last_warnings: list[str] = []  # those of the last transaction
        self._last_warned: str | None = None
        # The last registry this Store read or wrote, keyed on the file's identity. A long-lived
        # process (the runner: one transaction per loop turn) skips re-parsing a file nobody else
        # changed; any other writer's os.replace makes a new inode, so the key no longer matches.
        self._cache: tuple[tuple[int, int, int], str, Registry] | None = None

    def read_text(self) -> str:
        return self._read_file()[0]

    def _read_file(self) -> tuple[str, bytes, os.stat_result]:
        """The registry's text, its bytes and the identity of the file they came from."""
        shown = self.workspace.rel(self.path)
        try:
            # Bytes, then decode: text mode would turn CR LF into LF and every write would drop them.
            data, info = read_bytes_and_stat(self.path, shown)
            return data.decode("utf-8"), data, info
        except FileNotFoundError:
            if self.path.is_symlink():
                raise UsageError(f"{shown} is a symlink to {os.readlink(self.path)}, which does not exist; "
                                 "restore its target or remove the link") from None
            raise UsageError(f"no registry at {shown} (create it with: smb init)") from None
        except UnicodeDecodeError as exc:
            raise not_utf8(exc, shown, "restore it from .smbatcher/backups/ or convert it to UTF-8") from None
        except IsADirectoryError:
            raise WrongKind(f"{shown} is a folder, not a file; move it away (mv {shown} {shown}.bak), then restore "
                            "the registry from .smbatcher/backups/ or start a new one with smb init") from None
        except OSError as exc:
            raise os_error(exc, shown, "read") from None

    def read(self) -> Registry:
        """Read without the lock: os.replace makes every read see a whole file."""
        return self._read()[1]

    def _read(self, save_index: bool = True) -> tuple[str, Registry, tuple[int, int, int]]:
        """Read and parse, from the derived index when it was made for these very bytes (issue 13);
        ``save_index``: write the index of what was parsed (a transaction writes its own instead)."""
        text, data, info = self._read_file()
        identity = (info.st_ino, info.st_mtime_ns, info.st_size)
        if len(data) < registry_index.MIN_BYTES:
            return text, parse(text), identity
        key = registry_index.key_of(info, data)
        index_file = registry_index.index_path(self.workspace.smb_dir)
        layout = registry_index.load(index_file, key)
        registry = from_layout(text, layout) if layout is not None else None
        if registry is None:
            registry = parse(text)
            layout = bulk_layout(registry) if save_index else None
            if layout is not None:
                registry_index.save(index_file, key, layout)
        return text, registry, identity

    @contextmanager
    def locked(self) -> Iterator[None]:
        from filelock import FileLock, Timeout  # here, not at import: `smb list-sites` never locks

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise os_error(exc, self.workspace.rel(self.path.parent), "create") from None
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
        except OSError as exc:  # (Timeout is one too) a folder at the lock's path, a read-only workspace
            raise os_error(exc, self.workspace.rel(self.workspace.lock_file), "take the registry lock") from None
        try:
            yield
        finally:
            lock.release()

    def _identity(self) -> tuple[int, int, int] | None:
        try:
            info = os.stat(self.path)
        except OSError:
            return None
        return (info.st_ino, info.st_mtime_ns, info.st_size)

    def _load(self) -> tuple[str, Registry]:
        key = self._identity()
        if self._cache is not None and key is not None and self._cache[0] == key:
            return self._cache[1], self._cache[2]
        text, registry, identity = self._read(save_index=False)
        self._remember(text, registry, identity)
        return text, registry

    def _remember(self, text: str, registry: Registry, key: tuple[int, int, int] | None = None) -> None:
        key = key or self._identity()
        self._cache = (key, text, registry) if key is not None and not registry.problems else None

    @contextmanager
    def transaction(self, actor: str = "smb", *, strict: bool = True) -> Iterator[Transaction]:
        """Lock, read afresh, yield; write the changes only if the block succeeds.

        Raises (an SmbError naming the file, for file trouble) only while nothing has changed; once
        the registry is replaced, whatever fails after is a warning in ``txn.warnings``.
        """
        with self.locked():
            text, registry = self._load()
            if strict and registry.problems:
                raise RegistryInvalid(self.workspace.rel(self.path), registry.problems)
            txn = Transaction(self, registry, actor)
            self.last_warnings = txn.warnings
            self._cache = None  # the block mutates `registry`: trust it again only once written
            yield txn
            if not txn.changed:
                self._remember(text, registry)
                return
            new_text = txn.replace_text if txn.replace_text is not None else serialize(registry)
            previous = self._write_manifests(txn)
            if new_text != text:
                data = new_text.encode()
                try:
                    self._write(self.path, data)
                except NotDurable as exc:
                    self._warn(txn, f"registry changed, but its folder could not be synced ({exc.strerror}); "
                               "a power cut could undo the change")
                except BaseException:
                    self._restore_manifests(previous)
                    raise
                if txn.replace_text is None:
                    self._save_index(data, registry)
            if txn.replace_text is None:
                self._remember(new_text, registry)
            # Past the commit point: nothing below may raise.
            try:
                event_log.append(self.workspace.events, txn.events)
            except OSError as exc:
                self._warn(txn, "registry changed; event not logged: "
                           + os_error(exc, self.workspace.rel(self.workspace.events), "append to").message)
            except Exception as exc:  # noqa: BLE001  an event that cannot be encoded must not undo a commit
                self._warn(txn, f"registry changed; event not logged: {type(exc).__name__}: {exc}")

    def _save_index(self, data: bytes, registry: Registry) -> None:
        """The derived index for the text just written (under the lock: no smb writer can have
        replaced it since), so the next one-shot command need not parse it. Best effort."""
        if len(data) < registry_index.MIN_BYTES:
            return
        try:  # past the commit point: nothing may raise (a reader without an index parses)
            layout = bulk_layout(registry)
            if layout is not None:
                registry_index.save(registry_index.index_path(self.workspace.smb_dir),
                                    registry_index.key_of(os.stat(self.path), data), layout)
        except Exception:  # noqa: BLE001
            pass

    def _write(self, path: Path, text: str | bytes) -> None:
        try:
            atomic_write(path, text)
        except NotDurable:
            raise
        except DiskFull:  # named as the operator sees it, with what to do
            raise os_error(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), self.workspace.rel(path)) from None
        except OSError as exc:
            raise os_error(exc, self.workspace.rel(path)) from None

    def _write_manifests(self, txn: Transaction) -> dict[Path, bytes | None]:
        """Write the batch manifests before the registry; return what they held, to put back on failure."""
        previous: dict[Path, bytes | None] = {}
        try:
            for path, manifest_text in txn.manifests.items():
                try:
                    previous[path] = path.read_bytes()
                except FileNotFoundError:
                    previous[path] = None
                except OSError as exc:
                    raise os_error(exc, self.workspace.rel(path), "read") from None
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise os_error(exc, self.workspace.rel(path.parent), "create") from None
                try:
                    self._write(path, manifest_text)
                except NotDurable:
                    pass  # in place; only a power cut could bring back the old list
        except BaseException:
            self._restore_manifests(previous)
            raise
        return previous

    def _restore_manifests(self, previous: dict[Path, bytes | None]) -> None:
        # Best effort: a manifest that lists sites without rows is harmless (doctor finalization names them).
        for path, data in previous.items():
            try:
                if data is None:
                    path.unlink(missing_ok=True)
                else:
                    atomic_write(path, data)
            except (OSError, SmbError):
                pass

    def _warn(self, txn: Transaction, message: str) -> None:
        txn.warnings.append(message)
        self.warnings.append(message)
        del self.warnings[:-100]  # a runner whose log stays unwritable for hours must not grow without end
        if message == self._last_warned:
            return
        self._last_warned = message
        try:
            if self.warn is not None:
                self.warn(message)
            else:
                from .ui import UI

                UI().warn(message)
        except Exception:  # noqa: BLE001  (a closed stderr) the change stands; txn.warnings has it
            pass
