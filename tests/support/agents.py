"""The fake agents in tests/agents/: their command lines, the files they write, the processes they leave."""

from __future__ import annotations

import os
import shlex
import signal
import sys
from pathlib import Path

import psutil

AGENTS = Path(__file__).resolve().parents[1] / "agents"
# The fake agents start with `#!/usr/bin/env python3`: with this folder first on PATH (support.cli.smb_env)
# that is the test's own python, whatever python3 the machine has.
BIN = str(Path(sys.executable).parent)
# A `claude` that keeps sessions as the real CLI does (issue 21): --session-id / --resume, a transcript.
SESSION_CLAUDE = AGENTS / "sessions" / "claude"


def agent_cmd(name: str, *args: str) -> str:
    """An ``[agents]`` command line for tests/agents/<name>.py (smb splits it shlex-style, no shell)."""
    return shlex.join([str(AGENTS / f"{name}.py"), *args])


def marker_lines(path: Path) -> list[tuple[str, str, int, float]]:
    """The ``FAKE_MARKER`` file: (event, domain, pid, time) per ``start``/``end``/``term`` line."""
    if not path.exists():
        return []
    result = []
    for line in path.read_text().splitlines():
        event, domain, pid, when = line.split()
        result.append((event, domain, int(pid), float(when)))
    return result


def tagged(tag: str) -> list[psutil.Process]:
    """Live (non-zombie) agents of one test and all they started: ``FAKE_TAG=tag`` and an ``SMB_DOMAIN``
    (which the runner itself, started with FAKE_TAG too, does not have)."""
    found = []
    for process in psutil.process_iter():
        try:
            env = process.environ()
            if env.get("FAKE_TAG") == tag and "SMB_DOMAIN" in env and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def kill_tagged(tag: str) -> None:
    """Clean-up: SIGKILL whatever still carries ``tag`` (only processes this test's agents started)."""
    for process in tagged(tag):
        try:
            if os.getpgid(process.pid) == process.pid:
                os.killpg(process.pid, signal.SIGKILL)
            process.kill()
        except (psutil.NoSuchProcess, ProcessLookupError, PermissionError):
            pass
