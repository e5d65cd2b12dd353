"""logs/events.jsonl: one JSON object per event, append-only.

The registry is the source of truth; events are the history beside it
(``smb history``, throughput in ``smb status``, the doctor's timelines).
"""

from __future__ import annotations

import errno
import json
import os
import stat
import time
from pathlib import Path
from typing import Iterator

from .errors import os_error
from .fs import open_regular


def append(path: Path, events: list[dict]) -> None:
    """Append events, one line each, in one write so concurrent writers never interleave.

    Called under the registry lock. Raises OSError when the log cannot be written (a full disk,
    a folder in its place); the store turns that into a warning, since the registry changed.
    """
    if not events:
        return
    now = time.time()
    lines = []
    for event in events:
        record = {"ts": round(event.pop("ts", now), 3), **event}
        lines.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
    # "replace": an undecodable byte in an error message must not cost the event.
    data = "".join(lines).encode("utf-8", "replace")
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_NONBLOCK: a FIFO in the log's place must not make a transaction wait for a reader.
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK, 0o644)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file (a FIFO, socket or device); remove it", str(path))
        size = info.st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            # The last append was cut short (the disk filled up mid-line): end that torn line, or
            # it would swallow this event's line too when read.
            data = b"\n" + data
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def _shown(path: Path) -> str:
    """The path as the operator would type it: relative to the current folder when under it."""
    try:
        return str(path.absolute().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def read(path: Path, domain: str | None = None) -> Iterator[dict]:
    """Events oldest first; a torn or foreign line is skipped, never fatal (one warning per log).

    Issue 22: a line that is not UTF-8 or not JSON is skipped; lone surrogates in a line's strings
    become U+FFFD (they made every command that prints history fail). A log that cannot be read at
    all (a folder in its place, no permission) is an SmbError naming it.
    """
    try:
        handle = open_regular(path, _shown(path))  # a FIFO in its place: refused, never waited on
    except FileNotFoundError:
        return
    except OSError as exc:
        raise os_error(exc, _shown(path), "read") from None
    needle = domain.encode() if domain is not None else None
    skipped = Skipped(path)
    with handle:
        for number, line in enumerate(handle, 1):
            if needle is not None and needle not in line:
                continue
            event = skipped.parse(line, number)
            if event is None:
                continue
            if domain is None or event.get("domain") == domain:
                yield event
    skipped.warn()


class Skipped:
    """The unreadable lines of one read of the log: counted, then named in one warning."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self.first = ""

    def parse(self, line: bytes, number: int | None = None) -> dict | None:
        """The event on ``line``; None for a blank, foreign or unreadable one (counted unless blank)."""
        from .jsonfiles import Unreadable, loads

        try:
            event = loads(line)
        except Unreadable as exc:
            if line.strip():
                self.count += 1
                self.first = self.first or (f"line {number}: {exc}" if number else str(exc))
            return None
        return event if isinstance(event, dict) else None

    def warn(self) -> None:
        if self.count:
            from .jsonfiles import warn_once

            lines = "1 unreadable line" if self.count == 1 else f"{self.count} unreadable lines"
            warn_once(f"events:{self.path}", f"ignoring {lines} of {_shown(self.path)} ({self.first[:200]})")


def read_since(path: Path, since: float) -> list[dict]:
    """Events at or after ``since`` (epoch seconds), reading only the file's tail when it is large."""
    try:
        handle = open_regular(path, _shown(path))
        size = os.fstat(handle.fileno()).st_size
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise os_error(exc, _shown(path), "read") from None
    chunk = 4 * 1024 * 1024
    with handle:
        while True:
            start = max(0, size - chunk)
            handle.seek(start)
            data = handle.read()
            lines = data.splitlines()
            if start > 0:
                lines = lines[1:]  # the first line may be cut
            events = []
            skipped = Skipped(path)
            for line in lines:
                event = skipped.parse(line)
                if event is not None and isinstance(event.get("ts"), (int, float)):
                    events.append(event)
            if start == 0 or (events and events[0]["ts"] < since):
                skipped.warn()
                return [e for e in events if e["ts"] >= since]
            chunk *= 4


def completions(events: list[dict], statuses: tuple[str, ...] = ("D", "I")) -> list[float]:
    """Timestamps of sites reaching a done status from its claim (a site finished a phase)."""
    return [e["ts"] for e in events if e.get("event") == "status" and e.get("to") in statuses and e.get("from") in ("d", "i")]
