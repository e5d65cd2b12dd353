"""Reading an agent's output as it grows: Claude Code's stream-json lines, or plain text (issue 10).

The shapes parsed here were recorded from the real CLI (2.1.197) against
tests/claude_mock/ (tests/agents/shapes/, FINDINGS.md there).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Iterable

from ..numbers import checked_cost, checked_count, result_warnings
from ..text import clean_text

MESSAGE_MAX = 200
ACTION_MAX = 80
LOG_HEADER = "=== smb "  # the runner's first line of every per-site log, not the agent's words
_MAX_LINE = 8 * 1024 * 1024  # a longer line (a runaway agent) is skipped, not buffered forever


def _one_line(text: object, limit: int = MESSAGE_MAX) -> str:
    line = " ".join(str(text or "").split())
    return clean_text(line if len(line) <= limit else line[: limit - 1] + "…")  # issue 22: agent text is data


def _int(value: object) -> int:
    return checked_count(value)  # issue 22: a negative or absurd count is not reported


def _float(value: object) -> float:
    return checked_cost(value)  # issue 22: NaN, inf, negative or absurd costs are not reported


def _tool_action(name: str, args: object) -> str:
    args = args if isinstance(args, dict) else {}
    for key in ("file_path", "notebook_path", "path"):
        if isinstance(args.get(key), str) and args[key]:
            return f"{name} {os.path.basename(args[key].rstrip('/')) or args[key]}"
    for key in ("command", "pattern", "url", "query", "description", "prompt"):
        if isinstance(args.get(key), str) and args[key].strip():
            return f"{name} {args[key].strip().splitlines()[0]}"
    return name


def json_event(text: str) -> dict | None:
    """A stripped log line as a stream-json event (an object with a string ``type``), else None."""
    if not text.startswith("{"):
        return None
    try:
        obj = json.loads(text)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) and isinstance(obj.get("type"), str) else None


class AgentStream:
    """Incremental reader of an agent's stream-json log: feed it byte chunks as the log grows.

    Keeps what the dashboard and the classifier need: the latest action ("Write index.html"),
    the turn (API answers so far), the cost (known once the result line arrives), tokens, the
    final result object, the latest quota report and API retry, and the last plain-text lines
    (stderr, text-mode output). Lines that are not JSON objects are kept as text; a partial
    last line waits for its newline.
    """

    def __init__(self, offset: int = 0) -> None:
        """``offset``: where ``read_new`` starts in the log (an attempt's own lines, not earlier runs')."""
        self._pending: list[bytes] = []  # the start of a line whose newline has not arrived
        self._pending_size = 0
        self._skipping = False  # inside an over-long line: drop bytes up to its newline
        self._offset = offset
        self.text_lines: list[str] = []  # the last plain-text lines, oldest first
        self._new_run()

    def _new_run(self) -> None:
        """Forget the previous run's facts: a log appended to by a relaunch of the same attempt
        holds two runs, and a first run's usage limit must not colour the second's verdict."""
        self._messages: dict[str, tuple[int, int]] = {}  # assistant message id -> (tokens in, out)
        self.action = ""
        self.turn = 0
        self.cost_usd = 0.0
        self.session_id = ""
        self.model = ""
        self.saw_json = False
        self.saw_init = False
        self.result: dict | None = None
        self.rate_limit: dict | None = None  # latest rate_limit_info
        self.quota_utilization: float | None = None
        self.last_retry: dict | None = None
        self.synthetic_error = ""  # "error" of the CLI's synthetic assistant message
        self.synthetic_text = ""
        self.number_warnings: list[str] = []

    # -- feeding -------------------------------------------------------------------------------
    def feed(self, chunk: bytes | str) -> None:
        if isinstance(chunk, str):
            chunk = chunk.encode("utf-8", "replace")
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            if end < 0:
                break
            piece = chunk[start:end]
            start = end + 1
            if self._pending:
                piece = b"".join(self._pending) + piece
                self._pending, self._pending_size = [], 0
            if self._skipping:
                self._skipping = False
            else:
                self._line(piece)
        rest = chunk[start:]
        if rest and not self._skipping:
            # Pieces are joined once, at the newline: a big line fed in small chunks stays linear.
            self._pending.append(rest)
            self._pending_size += len(rest)
            if self._pending_size > _MAX_LINE:
                self._pending, self._pending_size = [], 0
                self._skipping = True

    def close(self) -> None:
        """The log is complete: a last line without a newline counts too."""
        if self._pending and not self._skipping:
            self._line(b"".join(self._pending))
        self._pending, self._pending_size = [], 0
        self._skipping = False

    def read_new(self, path: Path) -> bool:
        """Feed what ``path`` gained since the last call; False when it cannot be read."""
        try:
            with open(path, "rb") as handle:
                handle.seek(self._offset)
                data = handle.read()
        except OSError:
            return False
        self._offset += len(data)
        if data:
            self.feed(data)
        return True

    def snapshot(self) -> tuple[str, int, float]:
        """(action, turn, cost_usd) for the run record."""
        return self.action, self.turn, self.cost_usd

    # -- one line ------------------------------------------------------------------------------
    def _line(self, raw: bytes) -> None:
        text = raw.decode("utf-8", "replace").strip()
        if not text:
            return
        obj = json_event(text)
        if obj is not None:
            self.saw_json = True
            self._object(obj)
            return
        if text.startswith(LOG_HEADER):
            self._new_run()
            self.text_lines.clear()
            return
        self.text_lines.append(text)
        del self.text_lines[:-20]

    def _object(self, obj: dict) -> None:
        kind = obj["type"]
        if isinstance(obj.get("session_id"), str) and obj["session_id"]:
            self.session_id = clean_text(obj["session_id"][:200])
        if kind == "system":
            subtype = obj.get("subtype")
            if subtype == "init":
                if self.saw_init:
                    self._new_run()
                    self.saw_json = self.saw_init = True
                self.saw_init = True
                self.model = str(obj.get("model") or "")
                self.action = self.action or "starting"
            elif subtype == "api_retry":
                self.last_retry = obj
                status = obj.get("error_status") or obj.get("error") or "error"
                self.action = _one_line(f"API retry {_int(obj.get('attempt'))}/{_int(obj.get('max_retries'))} ({status})")
        elif kind == "assistant":
            self._assistant(obj)
        elif kind == "rate_limit_event":
            info = obj.get("rate_limit_info")
            if isinstance(info, dict):
                self.rate_limit = info
                utilization = info.get("utilization")
                if isinstance(utilization, (int, float)) and not isinstance(utilization, bool) \
                        and 0 <= utilization <= 100:  # issue 22: NaN would make the event log not JSON
                    self.quota_utilization = float(utilization)
                if info.get("status") == "rejected":
                    self.action = "rate limit reached"
        elif kind == "result":
            self.result = obj
            self.number_warnings = result_warnings(obj)
            self.cost_usd = _float(obj.get("total_cost_usd")) or self.cost_usd
            self.turn = max(self.turn, _int(obj.get("num_turns")))
            message = _one_line(obj.get("result"), 60)
            self.action = f"failed: {message}" if obj.get("is_error") else "finished"

    def _assistant(self, obj: dict) -> None:
        message = obj.get("message")
        if not isinstance(message, dict):
            return
        content = message.get("content")
        if not isinstance(content, list):
            return
        if message.get("model") == "<synthetic>":  # the CLI's error report, not an API answer
            self.synthetic_error = str(obj.get("error") or "")
            texts = [b.get("text") for b in content if isinstance(b, dict) and b.get("type") == "text"]
            self.synthetic_text = _one_line(" ".join(t for t in texts if isinstance(t, str)))
            return
        msg_id = str(message.get("id") or len(self._messages))
        if msg_id not in self._messages:
            usage = message.get("usage") if isinstance(message.get("usage"), dict) else {}
            tokens_in = sum(_int(usage.get(k)) for k in
                            ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"))
            self._messages[msg_id] = (tokens_in, _int(usage.get("output_tokens")))
            self.turn = len(self._messages)
        for block in content:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "tool_use" and isinstance(block.get("name"), str):
                self.action = _one_line(_tool_action(block["name"], block.get("input")), ACTION_MAX)
            elif block.get("type") == "text" and isinstance(block.get("text"), str) and block["text"].strip():
                self.action = _one_line(block["text"].strip().splitlines()[0], ACTION_MAX)

    # -- totals --------------------------------------------------------------------------------
    @property
    def tokens(self) -> tuple[int, int]:
        """(in, out) from the result's usage, else summed from the answers seen (approximate)."""
        usage = self.result.get("usage") if self.result and isinstance(self.result.get("usage"), dict) else None
        if usage is not None:
            tokens_in = sum(_int(usage.get(k)) for k in
                            ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"))
            return tokens_in, _int(usage.get("output_tokens"))
        return (sum(t[0] for t in self._messages.values()), sum(t[1] for t in self._messages.values()))

    def last_text_line(self) -> str:
        """The last meaningful plain-text line: the agent's own last words."""
        for line in reversed(self.text_lines):
            if re.search(r"[A-Za-z0-9]", line) and not line.startswith("Traceback (most recent call last)"):
                return _one_line(line)
        return ""


def latest_action(lines: Iterable[str | bytes]) -> tuple[str, int, float]:
    """(action, turn, cost_usd) after the given stream-json lines; ("", 0, 0.0) when none parse."""
    stream = AgentStream()
    for line in lines:
        stream.feed(line if isinstance(line, (bytes, str)) else str(line))
        stream.feed(b"\n")
    return stream.snapshot()
