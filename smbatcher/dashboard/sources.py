"""What the dashboard reads, each source cached on its file's identity (inode, mtime_ns, size).

The page an operator keeps open all night is asked for again and again while
almost nothing changes: so every file here is read once per version. A
writer's ``os.replace`` makes a new inode, an append grows the size, so a stale
entry can never match. The registry and the event log have modules of their
own (snapshot.py, eventlog.py); run records, finish reports and the hold are
small JSON files read here.

Read-only: nothing here writes a file. Every field a newer smb adds (CONTRACTS:
cost, breaker, hold, live agent activity) is optional and type-checked, so an
older or a newer record never crashes a page.
"""

from __future__ import annotations

import json
import os
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .. import events as event_log
from .. import holds, jsonfiles
from ..errors import WrongKind
from ..fs import read_text
from ..runs import RunRecord
from ..workspace import Workspace
from .eventlog import EventDigest, EventReader
from .snapshot import RegistrySnapshot, snapshot_of
from ..lifecycle import batch_key
from .values import Identity, identity

SYNC_LOAD_BYTES = 4_000_000  # a larger event log is read in the background the first time (~25,000 lines)


@dataclass
class RunView(RunRecord):
    """A run record as ``smb status`` reads it (``runs.RunRecord.from_dict``: one reader of the
    format), its batch as the registry keys it, and whether it is alive."""

    alive: bool = False

    def as_json(self) -> dict:
        data = dict(self.__dict__)
        data["agents"] = [a.__dict__ for a in self.agents]
        return data


def run_view(data: dict) -> RunView | None:
    """The view of one record; None for a record of the wrong shape (``smb status`` ignores it too)."""
    try:
        record = RunRecord.from_dict(data)
    except (TypeError, ValueError):
        return None
    view = RunView(**record.__dict__)
    view.batch = batch_key(view.batch)
    return view


def run_alive(view: RunView) -> bool:
    """The same test as ``smb status``: pid *and* create time, not a zombie (``RunRecord.alive``;
    the view's own ``alive`` is the cached answer)."""
    return RunRecord.alive(view)


# -- the whole workspace ---------------------------------------------------------------------------


class Sources:
    """Every file the dashboard reads, cached; safe to call from several threads at once."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._registry_lock = threading.Lock()
        self._registry: tuple[Identity | None, RegistrySnapshot] | None = None
        self._events_lock = threading.Lock()
        self._events = EventReader(workspace.events)
        self._loader_lock = threading.Lock()
        self._loader: threading.Thread | None = None
        self._files_lock = threading.Lock()
        self._json_cache: dict[Path, tuple[Identity, object]] = {}
        self._alive_lock = threading.Lock()
        self._alive: dict[str, tuple[float, bool]] = {}

    @property
    def hold_path(self) -> Path:
        return holds.path(self.workspace)

    # registry
    def registry(self) -> RegistrySnapshot:
        path = self.workspace.registry
        key = identity(path)
        cached = self._registry
        if cached is not None and key is not None and cached[0] == key:
            return cached[1]
        with self._registry_lock:
            key = identity(path)
            cached = self._registry
            if cached is not None and key is not None and cached[0] == key:
                return cached[1]  # another thread parsed it while this one waited
            try:
                raw = read_text(path, self.workspace.rel(path))  # a FIFO is refused, never waited on
            except FileNotFoundError:
                snapshot = RegistrySnapshot(error=f"no registry at {self.workspace.rel(path)}")
            except (OSError, UnicodeDecodeError, WrongKind) as exc:
                snapshot = RegistrySnapshot(error=f"cannot read {self.workspace.rel(path)}: {exc}")
            else:
                snapshot = snapshot_of(raw, cached[1] if cached is not None else None)
            # Keep it only if the file did not change while it was read: else the next call reads again.
            if key is not None and key == identity(path):
                self._registry = (key, snapshot)
            return snapshot

    # events
    @contextmanager
    def events(self) -> Iterator[EventDigest]:
        """The event digest, brought up to date, held still while the caller reads it.

        The first read of a large log takes seconds (500,000 lines at 100k sites): it happens in a
        thread of its own, and until it is done callers get an empty digest marked ``loading``, so the
        page comes up at once and the stream fills it in. A small log is simply read.
        """
        reader = self._events
        if not reader.loaded:
            key = identity(reader.path)
            if key is not None and key[2] > SYNC_LOAD_BYTES:
                self._load_events_in_background()
                if not reader.loaded:
                    yield EventDigest(loading=True)
                    return
        with self._events_lock:
            yield reader.refresh()

    def _load_events_in_background(self) -> None:
        with self._loader_lock:
            if self._loader is not None:
                return
            self._loader = threading.Thread(target=self._load_events, name="dashboard-events", daemon=True)
            self._loader.start()

    def _load_events(self) -> None:
        with self._events_lock:
            self._events.refresh()

    def history(self, domain: str, limit: int = 200) -> list[dict]:
        """A site's last ``limit`` events, oldest first: its lines read by offset (a site page of a
        100,000-site workspace must not scan a 75 MB log on every change)."""
        with self.events() as digest:
            if digest.loading:
                offsets = None
            else:
                offsets = list(digest.by_domain.get(domain, ()))[-limit:]
        if offsets is None:  # the first read of the log is not done: scan it, as smb history does
            return list(event_log.read(self.workspace.events, domain))[-limit:]
        found = []
        try:
            fd = os.open(self.workspace.events, os.O_RDONLY)
        except OSError:
            return []
        try:
            for offset in offsets:
                line = os.pread(fd, 65536, offset).split(b"\n", 1)[0]
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if isinstance(event, dict) and event.get("domain") == domain:
                    found.append(event)
        finally:
            os.close(fd)
        return found

    @property
    def events_loaded(self) -> bool:
        return self._events.loaded

    # small JSON files: run records, finish reports, the hold
    def _json(self, path: Path) -> object | None:
        key = identity(path)
        if key is None:
            return None
        with self._files_lock:
            cached = self._json_cache.get(path)
            if cached is not None and cached[0] == key:
                return cached[1]
        try:
            data = jsonfiles.loads(path.read_bytes())  # lone surrogates -> U+FFFD (issue 22: a 500 before)
        except (OSError, ValueError):
            return None  # torn, foreign or gone: not this time
        with self._files_lock:
            self._json_cache[path] = (key, data)
        return data

    def runs(self) -> list[RunView]:
        views = []
        for path in _listing(self.workspace.runs, ".json"):
            data = self._json(path)
            view = run_view(data) if isinstance(data, dict) else None
            if view is not None:
                view.alive = self._is_alive(view)
                views.append(view)
        views.sort(key=lambda v: v.started)
        return views

    def _is_alive(self, view: RunView) -> bool:
        if view.ended is not None:
            return False
        now = time.monotonic()
        with self._alive_lock:
            seen = self._alive.get(view.run_id)
        if seen is not None and now - seen[0] < 1.0:
            return seen[1]  # asked by every open page each tick: one process lookup a second is plenty
        alive = run_alive(view)
        with self._alive_lock:
            self._alive[view.run_id] = (now, alive)
        return alive

    def hold(self) -> dict | None:
        data = self._json(self.hold_path)
        return data if isinstance(data, dict) else None

    def finish_report(self, batch: str) -> dict | None:
        data = self._json(self.workspace.logs / f"finish-{batch}.json")
        return data if isinstance(data, dict) else None

    def fingerprint(self) -> tuple:
        """Cheap: changes whenever anything a page shows may have changed (stats only, no reads)."""
        ws = self.workspace
        parts: list = [identity(ws.registry), identity(ws.events), identity(self.hold_path)]
        parts.append(tuple((p.name, identity(p)) for p in _listing(ws.runs, ".json")))
        parts.append(tuple((p.name, identity(p)) for p in _listing(ws.logs, ".json")))
        parts.append(tuple(v.run_id for v in self.runs() if v.alive))  # a kill -9 changes no file
        parts.append(self.events_loaded)
        return tuple(parts)


def _listing(folder: Path, suffix: str) -> list[Path]:
    try:
        with os.scandir(folder) as entries:
            return sorted(Path(e.path) for e in entries if e.name.endswith(suffix) and not e.name.startswith("."))
    except OSError:
        return []
