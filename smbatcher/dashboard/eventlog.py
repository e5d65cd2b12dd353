"""``logs/events.jsonl`` folded into what the pages need, read once and then only its new lines.

At 100,000 sites the log holds about 500,000 lines (75 MB): it is decoded a
chunk at a time and folded in one tight loop, and every later read starts at
the offset the last one reached. A replaced (rotated) or truncated file is
read again from its start; a line still being appended waits for its end.
"""

from __future__ import annotations

import json
from array import array
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path

from ..lifecycle import batch_key
from .values import Identity, identity, text

# Events that mean a site finished a step, by chart series (the status event's from -> to).
SERIES = ("design", "implement", "finish")
FAILURE_KEEP = 500  # failure events kept for "recent failures"
NOTICE_KEEP = 50  # hold / breaker / halt events kept


@dataclass
class EventDigest:
    """What the pages need from the event log, folded in as lines arrive."""

    completions: dict[str, array] = field(default_factory=dict)  # batch -> timestamps (a phase step done)
    minutes: dict[str, Counter] = field(default_factory=lambda: {s: Counter() for s in SERIES})
    cost_by_batch: Counter = field(default_factory=Counter)
    failures: deque = field(default_factory=lambda: deque(maxlen=FAILURE_KEEP))
    notices: deque = field(default_factory=lambda: deque(maxlen=NOTICE_KEEP))
    lines: int = 0
    first_ts: float | None = None
    loading: bool = False  # a placeholder while another thread reads the whole log
    by_domain: dict[str, array] = field(default_factory=dict)  # domain -> file offsets of its events' lines

    def fold(self, events: list, offsets: list[int]) -> None:
        """Fold parsed events (and the file offsets of their lines) in, oldest first. One tight loop:
        500,000 events at 100k sites (issue 11's bench), so the common case touches few names."""
        series_of = {("d", "D"): "design", ("i", "I"): "implement", ("I", "Q"): "finish"}
        minutes = self.minutes
        completions = self.completions
        costs = self.cost_by_batch
        failures = self.failures
        notices = self.notices
        by_domain = self.by_domain
        keys: dict = {}  # raw batch cell -> batch key, computed once per batch
        counted = 0
        for event, offset in zip(events, offsets):
            if type(event) is not dict:
                continue
            ts = event.get("ts")
            if type(ts) is not float and type(ts) is not int:  # bool, str, None: not an event
                continue
            counted += 1
            domain = event.get("domain")
            if type(domain) is str:
                lines = by_domain.get(domain)
                if lines is None:
                    lines = by_domain[domain] = array("q")
                lines.append(offset)
            kind = event.get("event")
            if kind != "status":
                if kind in NOTICES:
                    notices.append(event)
                continue
            raw_batch = event.get("batch")
            batch = keys.get(raw_batch)
            if batch is None:
                batch = keys[raw_batch] = batch_key(text(raw_batch)) if type(raw_batch) is str else ""
            step = (event.get("from"), event.get("to"))
            series = series_of.get(step)
            if series is not None:
                minutes[series][int(ts // 60)] += 1
                if series != "finish":  # the steps `smb status` counts (events.completions)
                    stamps = completions.get(batch)
                    if stamps is None:
                        stamps = completions[batch] = array("d")
                    stamps.append(ts)
            cost = event.get("cost_usd")
            if cost and (type(cost) is float or type(cost) is int) and cost > 0:
                costs[batch] += cost
            if (series is None or "class" in event) and is_failure(event):
                failures.append(event)
        if counted and self.first_ts is None:
            self.first_ts = next(e["ts"] for e in events if type(e) is dict and type(e.get("ts")) in (int, float))
        self.lines += counted


NOTICES = ("hold", "hold-end", "breaker", "halt")


def is_failure(event: dict) -> bool:
    """A failed agent attempt or a failed finish check, from its status event."""
    klass = event.get("class")
    if isinstance(klass, str) and klass:
        return klass not in ("ok", "stopped")
    before, after = event.get("from"), event.get("to")
    if before in ("d", "i") and after in ("-", "D", "X"):
        return bool(event.get("note")) or "exit" in event  # a stop or a reclaim carries a reason, no note
    return event.get("actor") == "finish" and before == "I" and after in ("I", "D") and bool(event.get("note"))


def parse_lines(data: bytes, base: int = 0, chunk: int = 20_000) -> tuple[list, list[int]]:
    """JSON lines -> (objects, the file offset of each one's line); a torn or foreign line is skipped,
    as events.read does. ``base`` is the file offset of ``data``.

    Lines are decoded a chunk at a time as one JSON array (``[l1,l2,...]``): a third of the cost of
    one ``json.loads`` a line. A chunk that does not parse (a torn line in it) is decoded line by line.
    """
    # split on b"\n" only: smb writes one JSON object a line, and JSON escapes every other control byte.
    lines, offsets = [], []
    offset = base
    for line in data.split(b"\n"):
        if line[:1] == b"{" and line.rstrip()[-1:] == b"}":
            lines.append(line)
            offsets.append(offset)
        offset += len(line) + 1
    out: list = []
    kept: list[int] = []
    for start in range(0, len(lines), chunk):
        part = lines[start:start + chunk]
        try:
            out.extend(json.loads(b"[" + b",".join(part) + b"]"))
            kept.extend(offsets[start:start + chunk])
        except ValueError:
            for line, at in zip(part, offsets[start:start + chunk]):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    continue
                kept.append(at)
    return out, kept


class EventReader:
    """Reads ``events.jsonl`` from where it stopped last time; starts over when the file is replaced."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.inode: int | None = None
        self.offset = 0
        self.digest = EventDigest()
        self.key: Identity | None = None
        self.loaded = False  # the log was read to its end once

    def refresh(self) -> EventDigest:
        key = identity(self.path)
        if key == self.key:
            return self.digest
        if key is None or key[0] != self.inode or key[2] < self.offset:
            self.digest, self.offset, self.inode = EventDigest(), 0, key[0] if key else None
        if key is not None:
            try:
                with open(self.path, "rb") as handle:
                    handle.seek(self.offset)
                    data = handle.read()
            except OSError:
                data = b""
            end = data.rfind(b"\n") + 1  # a line still being appended is read next time, whole
            self.digest.fold(*parse_lines(data[:end], self.offset))
            self.offset += end
            key = (key[0], key[1], self.offset) if end != len(data) else key
        self.key = key
        self.loaded = True
        return self.digest
