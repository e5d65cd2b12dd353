"""``smb logs DOMAIN``: one agent attempt's log, found, made readable, and followed while the agent works.

``logs/sites/<domain>/<phase>-<attempt>.log`` (SPEC §1) holds the runner's ``=== smb`` header line, then
the agent's stdout and stderr (a relaunch of the same attempt appends another header and run). A
``claude`` agent writes stream-json there: one JSON object a line, unreadable as it stands. ``Readable``
turns each object into what a person wants from it: assistant text, tool calls with their file or
command, API retries, the final result with its cost. Anything else is shown as it is, control
characters escaped (what an agent says is data, STYLE habit 11).

Following ends when the attempt does: it is running while a live run (pid + create time, runs.py)
lists its agent, or holds the site's claim at that attempt number (the claim is written before the
agent starts and the run record after, so either one means "not over yet").
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .agents.stream import json_event
from .errors import UsageError
from .lifecycle import PHASES
from .store import Store
from .workspace import Workspace

LOG_NAME = re.compile(r"(design|implement)-(\d{1,6})\.log")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # all but tab; \n never reaches here
TEXT_MAX = 2000  # characters of one shown line: a tool's whole file content is not a log line


@dataclass(frozen=True)
class AttemptLog:
    path: Path
    domain: str
    phase: str
    attempt: int


def attempt_logs(workspace: Workspace, domain: str) -> list[AttemptLog]:
    """The site's attempt logs, oldest first (by modification time; design before implement on a tie)."""
    folder = workspace.logs / "sites" / domain
    found = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    for entry in entries:
        match = LOG_NAME.fullmatch(entry.name)
        if not match:
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            mtime = entry.stat(follow_symlinks=False).st_mtime_ns
        except OSError:
            continue
        phase, attempt = match.group(1), int(match.group(2))
        found.append((mtime, phase == "implement", attempt,
                      AttemptLog(Path(entry.path), domain, phase, attempt)))
    found.sort(key=lambda item: item[:3])
    return [item[3] for item in found]


def choose_log(workspace: Workspace, domain: str, phase: str | None, attempt: int | None) -> AttemptLog | None:
    """The newest log of the site, of ``phase`` and numbered ``attempt`` when given; None when there is none."""
    logs = [log for log in attempt_logs(workspace, domain)
            if (phase is None or log.phase == phase) and (attempt is None or log.attempt == attempt)]
    return logs[-1] if logs else None


def check_choice(phase: str | None, attempt: int | None) -> None:
    if phase is not None and phase not in PHASES:
        raise UsageError(f"--phase: want design or implement, got {phase!r}")
    if attempt is not None and attempt < 1:
        raise UsageError(f"--attempt: want a number from 1, got {attempt}")


def running_attempt(workspace: Workspace, store: Store, domain: str, phase: str | None = None) -> tuple[str, int] | None:
    """(phase, attempt) of the site's agent that a live run is working on now, or None."""
    from .runs import run_states

    states = run_states(workspace)
    for record in states.live.values():
        for agent in record.agents:
            agent_phase = agent.phase or record.phase  # a record without agent phases (older smb): the run's
            if agent.domain == domain and agent_phase in PHASES and (phase is None or agent_phase == phase):
                return agent_phase, agent.attempt
    row = store.read().row(domain)
    if row is not None and row.get("owner") in states.live:
        for name, step in PHASES.items():
            if row.status == step.claim and (phase is None or phase == name):
                return name, row.attempts
    return None


def is_running(workspace: Workspace, store: Store, log: AttemptLog) -> bool:
    return running_attempt(workspace, store, log.domain, log.phase) == (log.phase, log.attempt)


def log_to_follow(workspace: Workspace, store: Store, domain: str, phase: str | None, attempt: int | None,
                  *, waiting: Callable[[str, int], None] = lambda phase, attempt: None,
                  poll: float = 0.2) -> AttemptLog | None:
    """For ``-f``: the log of the attempt a live run is working on (waiting for the runner to create it:
    the claim comes first), else what ``choose_log`` picks. The newest log on disk may be an earlier
    phase's while the next agent starts. ``waiting(phase, attempt)`` is called once if it has to wait."""
    told = False
    while True:
        running = running_attempt(workspace, store, domain, phase)
        if running is None or (attempt is not None and running[1] != attempt):
            return choose_log(workspace, domain, phase, attempt)
        log = choose_log(workspace, domain, *running)
        if log is not None:
            return log
        if not told:
            waiting(*running)
            told = True
        time.sleep(poll)


# -- reading -----------------------------------------------------------------------------------------
def follow(path: Path, still_running: Callable[[], bool], *, poll: float = 0.2,
           check_every: float = 1.0) -> Iterator[bytes]:
    """The file's bytes, then what it gains, until ``still_running()`` says no and the rest is read.

    The check comes after a read that found nothing, and one more read follows a "no": bytes the agent
    wrote just before it ended are never lost. ``still_running`` (run records, the registry) is asked
    at most every ``check_every`` seconds; a growing log is read every ``poll`` seconds.
    """
    with open(path, "rb") as handle:
        next_check = 0.0
        while True:
            data = handle.read(1 << 16)
            if data:
                yield data
                continue
            now = time.monotonic()
            if now >= next_check:
                if not still_running():
                    rest = handle.read()
                    if rest:
                        yield rest
                    return
                next_check = now + check_every
            time.sleep(poll)


def read_all(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        while data := handle.read(1 << 16):
            yield data


class Lines:
    """Bytes in, whole lines out (a last line without its newline waits, or comes out with ``end``)."""

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, chunk: bytes) -> list[str]:
        data = self._pending + chunk
        *lines, self._pending = data.split(b"\n")
        return [line.decode("utf-8", "replace") for line in lines]

    def end(self) -> list[str]:
        rest, self._pending = self._pending, b""
        return [rest.decode("utf-8", "replace")] if rest else []


# -- making stream-json readable ---------------------------------------------------------------------
def printable(text: str, limit: int = TEXT_MAX) -> str:
    """One line of agent text safe for a terminal: control characters shown as \\xNN, cut at ``limit``."""
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text.rstrip("\r"))
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Readable:
    """A log's lines as lines for a person: stream-json objects rendered, anything else as it is.

    Keeps the session's working folder (from its ``init`` object) so a tool call on
    ``/…/.smbatcher/tmp/<run>/<site>/site/index.html`` shows as ``Write site/index.html``.
    """

    def __init__(self) -> None:
        self.cwd = ""

    def lines(self, line: str) -> list[str]:
        stripped = line.strip()
        obj = json_event(stripped)
        if obj is not None:
            return [printable(text) for text in self._event(obj)]
        return [printable(line)] if stripped else []

    def _event(self, obj: dict) -> list[str]:
        kind = obj["type"]
        if kind == "system":
            subtype = obj.get("subtype")
            if subtype == "init":
                self.cwd = _str(obj.get("cwd")).rstrip("/")
                return [f"[start] model {_str(obj.get('model')) or '?'}, session {_str(obj.get('session_id')) or '?'}"]
            if subtype == "api_retry":
                status = obj.get("error_status") or obj.get("error") or "error"
                return [f"[api retry {_num(obj.get('attempt'))}/{_num(obj.get('max_retries'))}] {status}"]
            return []
        if kind == "assistant":
            return _assistant(obj, self.cwd)
        if kind == "user":
            return _tool_errors(obj)
        if kind == "rate_limit_event":
            info = obj.get("rate_limit_info") if isinstance(obj.get("rate_limit_info"), dict) else {}
            return ["[rate limit] reached"] if info.get("status") == "rejected" else []
        if kind == "result":
            return [_result(obj)]
        return []


def _assistant(obj: dict, cwd: str) -> list[str]:
    message = obj.get("message") if isinstance(obj.get("message"), dict) else {}
    content = message.get("content") if isinstance(message.get("content"), list) else []
    lines = []
    for block in content:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text" and isinstance(block.get("text"), str):
            lines += [text for text in block["text"].splitlines() if text.strip()]
        elif block.get("type") == "tool_use" and isinstance(block.get("name"), str):
            lines.append(f"> {_tool_call(block['name'], block.get('input'), cwd)}")
    if message.get("model") == "<synthetic>" and obj.get("error"):
        lines = [f"[error] {_str(obj.get('error'))}: {' '.join(lines)}"]
    return lines


def _tool_call(name: str, args: object, cwd: str) -> str:
    """``Write site/index.html``, ``Bash npm run build``: the tool and the one argument that says what it did."""
    args = args if isinstance(args, dict) else {}
    for key in ("file_path", "notebook_path", "path"):
        if isinstance(args.get(key), str) and args[key]:
            path = args[key]
            return f"{name} {path[len(cwd) + 1:] if cwd and path.startswith(cwd + '/') else path}"
    for key in ("command", "pattern", "url", "query", "description", "prompt"):
        if isinstance(args.get(key), str) and args[key].strip():
            return f"{name} {args[key].strip().splitlines()[0]}"
    return name


def _tool_errors(obj: dict) -> list[str]:
    """A tool result is the tool's output (long, already acted on): shown only when it failed."""
    message = obj.get("message") if isinstance(obj.get("message"), dict) else {}
    content = message.get("content") if isinstance(message.get("content"), list) else []
    lines = []
    for block in content:
        if isinstance(block, dict) and block.get("type") == "tool_result" and block.get("is_error"):
            text = block.get("content")
            if isinstance(text, list):
                text = " ".join(b.get("text", "") for b in text if isinstance(b, dict))
            lines.append(f"[tool error] {' '.join(_str(text).split())}")
    return lines


def _result(obj: dict) -> str:
    verdict = "failed" if obj.get("is_error") else "done"
    facts = []
    cost = obj.get("total_cost_usd")
    if isinstance(cost, (int, float)) and not isinstance(cost, bool):
        facts.append(f"${cost:.4f}")
    if isinstance(obj.get("num_turns"), int):
        facts.append(f"{obj['num_turns']} turn" + ("s" if obj["num_turns"] != 1 else ""))
    duration = obj.get("duration_ms")
    if isinstance(duration, (int, float)) and not isinstance(duration, bool):
        facts.append(f"{duration / 1000:.1f}s")
    text = " ".join(_str(obj.get("result")).split())
    return f"[result] {verdict}" + (f" ({', '.join(facts)})" if facts else "") + (f": {text}" if text else "")


def _str(value: object) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _num(value: object) -> str:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else "?"
