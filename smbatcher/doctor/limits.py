"""Time limits: a hung check cannot hang doctor, and a repair whose time ran out lets go of the registry.

Each diagnosis and each repair runs in a daemon thread that doctor waits for
until the check's ``time_limit``, then leaves behind. A diagnosis only reads, so
leaving it is harmless. A repair may be inside ``ctx.store.transaction()``:
left as it was, its thread would keep ``REGISTRY.md.lock`` until it ended
(every runner's next transaction waits, then exits 3) and might still write a
change doctor had already reported as not made. So doctor's store is a
``GuardedStore``:

- the file lock of each transaction is held by a keeper thread of its own,
  which doctor can tell to let go (filelock releases only in the thread that
  acquired it);
- every commit passes a gate; a repair doctor abandoned never passes it
  again, so its transaction ends without writing anything, and
  ``ctx.checkpoint()`` lets a repair stop before its other changes.

Doctor abandons a repair under the gate: a commit already in progress (a
write of milliseconds) finishes first, and only then is the lock let go.
"""

from __future__ import annotations

import threading
import traceback
from contextlib import contextmanager
from typing import Iterator

from ..errors import SmbError
from ..store import Store, Transaction

# How long doctor waits for a commit in progress, or a keeper to let go, when it abandons a repair.
LET_GO_WAIT = 5.0


class Abandoned(SmbError):
    """Raised in a repair's thread once doctor gave up on it (and reported it): it must change nothing more."""


class _Keeper:
    """Holds one ``Store.locked()`` in a thread of its own, so doctor can let go of it for another thread."""

    def __init__(self, locked) -> None:
        self._locked = locked
        self._done_waiting = threading.Event()  # set once the lock is held, or taking it failed
        self._holding = False
        self._let_go = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._hold, name="smb-doctor-registry-lock", daemon=True)

    def _hold(self) -> None:
        try:
            with self._locked():
                self._holding = True
                self._done_waiting.set()
                self._let_go.wait()
        except BaseException as exc:  # LockTimeout, a folder at the lock's path...: the caller's to raise
            self._error = exc
        finally:
            self._holding = False
            self._done_waiting.set()

    def acquire(self) -> None:
        self._thread.start()
        self._done_waiting.wait()
        if self._error is not None:
            raise self._error

    def release(self, wait: float = LET_GO_WAIT) -> bool:
        """Let go (idempotent); True once the lock is not held by this keeper."""
        self._let_go.set()
        if self._holding:
            self._thread.join(wait)
        # A keeper still waiting for the lock lets go the moment it gets it: it never holds it for long.
        return not self._holding


class GuardedStore(Store):
    """A Store whose transactions doctor can abandon: the lock let go, the commit refused."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._gate = threading.Lock()  # held from the start of a commit to its end
        self._mutex = threading.Lock()  # guards the two collections below
        self._abandoned: set[threading.Thread] = set()
        self._keepers: dict[threading.Thread, list[_Keeper]] = {}

    @classmethod
    def like(cls, store: Store) -> "GuardedStore":
        return cls(store.workspace, store.lock_timeout, store.warn)

    def checkpoint(self) -> None:
        if threading.current_thread() in self._abandoned:
            raise Abandoned("its time ran out; it changed nothing more")

    @contextmanager
    def locked(self) -> Iterator[None]:
        self.checkpoint()
        owner = threading.current_thread()
        keeper = _Keeper(super().locked)
        # Registered before it takes the lock: an abandon that comes while it waits still reaches it.
        with self._mutex:
            self._keepers.setdefault(owner, []).append(keeper)
        try:
            keeper.acquire()
            self.checkpoint()
            yield
        finally:
            keeper.release()
            with self._mutex:
                self._keepers[owner].remove(keeper)
                if not self._keepers[owner]:
                    del self._keepers[owner]

    @contextmanager
    def transaction(self, actor: str = "smb", *, strict: bool = True) -> Iterator[Transaction]:
        committing = False
        try:
            with super().transaction(actor, strict=strict) as txn:
                yield txn
                # The block ended well; Store writes when its `with` ends. Only through the gate.
                self._gate.acquire()
                committing = True
                self.checkpoint()
        finally:
            if committing:
                self._gate.release()

    def abandon(self, thread: threading.Thread, wait: float = LET_GO_WAIT) -> bool:
        """Refuse ``thread`` every later change and let go of any lock it holds.

        False when the lock could not be let go in ``wait`` seconds (a commit stuck in a write):
        then it stays with that thread, since letting go mid-write would let another writer in.
        """
        if not self._gate.acquire(timeout=wait):
            self._abandoned.add(thread)
            return False
        try:
            with self._mutex:
                self._abandoned.add(thread)
                keepers = list(self._keepers.get(thread, ()))
        finally:
            self._gate.release()
        return all([keeper.release(wait) for keeper in keepers])


def run_limited(func, limit: float, *args, store: Store | None = None) -> tuple[object, str | None]:
    """``func(*args)`` in a daemon thread, waited for ``limit`` seconds: (result, error text or None).

    Pass the GuardedStore for a call that may write (a repair): if it overruns it is abandoned,
    writes nothing more, and its registry lock is let go before this returns.
    """
    box: dict = {}

    def target():
        try:
            box["result"] = func(*args)
        except Abandoned:
            pass  # doctor has already reported this call as timed out
        except SmbError as exc:
            box["error"] = exc.message
        except Exception as exc:  # a crashed check is reported as such, never as ok
            box["error"] = f"{type(exc).__name__}: {exc}"
            box["trace"] = traceback.format_exc()

    thread = threading.Thread(target=target, name="smb-doctor-check", daemon=True)
    thread.start()
    thread.join(limit)
    if not thread.is_alive():
        return box.get("result"), box.get("error")
    error = f"timed out after {limit:g}s"
    if isinstance(store, GuardedStore):
        if store.abandon(thread):
            error += "; what it had not yet written was dropped and the registry lock is free"
        else:
            error += "; it is still writing the registry and holds its lock"
    return None, error
