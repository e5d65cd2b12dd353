"""logs/events.jsonl: one JSON object per event, append-only.

The registry is the source of truth; events are the history beside it
(``smb history``, throughput in ``smb status``, the doctor's timelines).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Iterator


def append(path: Path, events: list[dict]) -> None:
    """Append events, one line each, in one write so concurrent writers never interleave."""
    if not events:
        return
    now = time.time()
    lines = []
    for event in events:
        record = {"ts": round(event.pop("ts", now), 3), **event}
        lines.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
    data = "".join(lines).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def read(path: Path, domain: str | None = None) -> Iterator[dict]:
    """Events oldest first; a torn or foreign line is skipped, never fatal."""
    try:
        handle = path.open("r", encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return
    with handle:
        for line in handle:
            if domain is not None and domain not in line:
                continue
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if not isinstance(event, dict):
                continue
            if domain is None or event.get("domain") == domain:
                yield event


def read_since(path: Path, since: float) -> list[dict]:
    """Events at or after ``since`` (epoch seconds), reading only the file's tail when it is large."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return []
    chunk = 4 * 1024 * 1024
    with path.open("rb") as handle:
        while True:
            start = max(0, size - chunk)
            handle.seek(start)
            data = handle.read()
            lines = data.splitlines()
            if start > 0:
                lines = lines[1:]  # the first line may be cut
            events = []
            for line in lines:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if isinstance(event, dict) and isinstance(event.get("ts"), (int, float)):
                    events.append(event)
            if start == 0 or (events and events[0]["ts"] < since):
                return [e for e in events if e["ts"] >= since]
            chunk *= 4


def completions(events: list[dict], statuses: tuple[str, ...] = ("D", "I")) -> list[float]:
    """Timestamps of sites reaching a done status from its claim (a site finished a phase)."""
    return [e["ts"] for e in events if e.get("event") == "status" and e.get("to") in statuses and e.get("from") in ("d", "i")]
