"""``[notify] command``: tell a person when something happened that they would want to know.

The command is split like a shell would split it and run without a shell, with
one JSON event on stdin: a batch completed, a hold started or ended, the
breaker opened, a run stopped on an auth failure or a halt. It is never waited
for (a slow notifier must not slow the pool) and never fatal: a notifier that
cannot start is one warning line.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import time

from .proc import SPARED
from .text import escape_lines

_children: list[subprocess.Popen] = []


def notify(command: str, event: dict, warn=None) -> None:
    if not command:
        return
    _reap()
    # Agent text (a hold's message) in the event: C1, bidi and lone surrogates escaped too (issue 22),
    # so a notifier that prints it cannot be steered and the payload is always strict UTF-8 JSON.
    payload = escape_lines(json.dumps({"ts": round(time.time(), 3), **event}, ensure_ascii=False)).encode() + b"\n"
    try:
        child = subprocess.Popen(shlex.split(command), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True)
    except (OSError, ValueError) as exc:
        if warn is not None:
            warn(f"notify command {command!r} could not start: {getattr(exc, 'strerror', None) or exc}")
        return
    try:
        os.set_blocking(child.stdin.fileno(), False)
        child.stdin.write(payload)
        child.stdin.close()
    except (OSError, ValueError):
        pass
    _children.append(child)
    SPARED.add(child.pid)  # the pool reaps children it did not start as agents: not this one


def _reap() -> None:
    for child in _children:
        if child.poll() is not None:
            SPARED.discard(child.pid)
    _children[:] = [c for c in _children if c.returncode is None]


def wait(timeout: float = 5.0) -> None:
    """Give notifiers started by this process a moment to finish before it exits."""
    deadline = time.monotonic() + timeout
    for child in list(_children):
        try:
            child.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    _reap()
