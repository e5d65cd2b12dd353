"""The dashboard's tests and bench: event-log history to show, and the server in a real process."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from smbatcher.workspace import Workspace

from .cli import smb_env


def add_events(ws: Workspace, events: list[dict]) -> None:
    """Append events to logs/events.jsonl as smb writes them (one JSON object a line)."""
    ws.logs.mkdir(parents=True, exist_ok=True)
    with ws.events.open("a", encoding="utf-8") as handle:
        handle.write("".join(json.dumps(event) + "\n" for event in events))


def failure_event(domain: str, ts: float, note: str, *, attempt: int = 1, batch: str = "001", **extra) -> dict:
    """The status event of a failed implement attempt, as the pool writes it (the site goes back to D)."""
    return {"ts": ts, "event": "status", "domain": domain, "batch": batch, "from": "i", "to": "D",
            "actor": "implement", "note": note, "exit": 1, "log": f"logs/sites/{domain}/implement-{attempt}.log",
            "run": "implement-001-x", **extra}


def completion_event(domain: str, ts: float, *, batch: str = "001", to: str = "I", **extra) -> dict:
    """A site finishing a step: design (d -> D), implement (i -> I) or finish (I -> Q)."""
    before = {"D": "d", "I": "i", "Q": "I"}[to]
    return {"ts": ts, "event": "status", "domain": domain, "batch": batch, "from": before, "to": to,
            "actor": "implement", **extra}


def write_log(ws: Workspace, domain: str, name: str, text: str) -> Path:
    """A per-attempt log, logs/sites/<domain>/<name>."""
    path = ws.logs / "sites" / domain / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


class Server:
    """``python -m smbatcher.dashboard`` in a real process (any free port by default); ``url`` is what it printed."""

    def __init__(self, root: Path, *args: str, port: int = 0, env: dict | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "smbatcher.dashboard", "--root", str(root), "--port", str(port), *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=env or smb_env(), cwd=root, start_new_session=True)
        line = self.process.stdout.readline()  # "dashboard: http://127.0.0.1:PORT/ (read-only); ..."
        match = re.search(r"(http://\S+/)", line)
        if not match:
            self.stop(signal.SIGKILL)
            raise AssertionError(f"the dashboard did not start: {line!r} {self.process.stderr.read()!r}")
        self.url = match.group(1)
        self.port = int(self.url.rsplit(":", 1)[1].strip("/"))

    def stop(self, sig: int = signal.SIGINT) -> int:
        """Ctrl-C, as an operator stops it; SIGKILL the group if it has not exited in 10 s."""
        if self.process.poll() is None:
            os.kill(self.process.pid, sig)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream and not stream.closed:
                stream.close()
        return self.process.returncode

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
