"""Why an agent attempt ended: classification of its exit, output and log (issue 10).

Claude Code exits 1 for every API failure, so the exit code alone cannot tell a
site that failed from a usage limit, an outage or a revoked key. Its
``--output-format stream-json`` log (one JSON object a line) and the final
``{"type": "result", ...}`` object can; so can its plain-text last line. The
shapes parsed here were recorded from the real CLI (2.1.197) against
tests/claude_mock/ (tests/agents/shapes/, FINDINGS.md there).

The JSON-result protocol, for any agent: print, as the last line on stdout, one
object ``{"type": "result", "is_error": bool, "result": "<one-line message>",
"total_cost_usd": float, "num_turns": int, "duration_ms": int, "session_id": str,
"usage": {"input_tokens": int, "output_tokens": int}, "api_error_status": int|null}``
(every field but ``type`` optional). ``is_error`` with a message is classified like
Claude Code's; exit 0 with the expected output is success whatever it says.

Classes (``AgentReport.cls``) and what the pool does with them:

- ``ok``            exit 0 and the expected output exists.
- ``site``          the agent failed on this site: counted against its attempts.
- ``usage-limit``   a subscription limit (session / weekly / Opus): hold until ``reset_at``.
- ``rate-limited``  a transient 429: back off, not counted.
- ``outage``        5xx, 529, network, timeouts, no answer: the breaker's business.
- ``auth``          the agent cannot work at all as configured (bad or missing key, not
                    logged in, no credit, no access to the model, refused flags): stop
                    launching, no attempt burned.
- ``no-output``     exit 0 but the expected output is missing (e.g. permission denials): counted.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Iterable

from ..numbers import checked_cost, checked_count, result_warnings
from ..text import clean_text

OK = "ok"
SITE = "site"
USAGE_LIMIT = "usage-limit"
RATE_LIMITED = "rate-limited"
OUTAGE = "outage"
AUTH = "auth"
NO_OUTPUT = "no-output"
CLASSES = (OK, SITE, USAGE_LIMIT, RATE_LIMITED, OUTAGE, AUTH, NO_OUTPUT)
COUNTED = frozenset({SITE, NO_OUTPUT})  # classes that burn one of the site's attempts

MESSAGE_MAX = 200
ACTION_MAX = 80
LOG_HEADER = "=== smb "  # the runner's first line of every per-site log, not the agent's words
_MAX_LINE = 8 * 1024 * 1024  # a longer line (a runaway agent) is skipped, not buffered forever

# rate_limit_event rateLimitType -> the hold's limit name (CONTRACTS.md). Sonnet and the
# included-overage windows are seven-day windows like the weekly one.
LIMIT_TYPES = {
    "five_hour": "session",
    "seven_day": "weekly",
    "seven_day_sonnet": "weekly",
    "seven_day_overage_included": "weekly",
    "seven_day_opus": "opus",
}
# The same, from the words of "You've hit your <name> · resets <when>" (the CLI's own table).
_LIMIT_WORDS = {"session limit": "session", "weekly limit": "weekly", "sonnet limit": "weekly",
                "fable 5 limit": "weekly", "opus limit": "opus"}

# --- message patterns, checked in this order (first match wins) -------------------------------
# Usage limits: the subscription wall. "not your usage limit" is the CLI saying a 429 is NOT one.
_USAGE_LIMIT = re.compile(
    r"You've hit your|You've reached your|Claude AI usage limit reached|You're out of usage credits"
    r"|out of usage|usage limit reached", re.I)
_NOT_USAGE_LIMIT = re.compile(r"not your usage limit", re.I)
_LEGACY_LIMIT = re.compile(r"Claude AI usage limit reached\|(\d{9,12})")
# Configuration that fails every site the same way: stop, do not burn attempts.
_AUTH = re.compile(
    r"Invalid API key|Not logged in|Please run /login|OAuth token (?:has expired|revoked)|"
    r"authentication_error|invalid x-api-key|disabled organization|"
    r"has disabled API key authentication|Credit balance is too low|"
    r"issue with the selected model|may not exist or you may not have access|"
    r"not available with the Claude \w+ plan|cannot be used with root/sudo privileges|"
    r"\b(?:401|403)\b.*(?:unauthori[sz]ed|forbidden|permission)", re.I)
_OVERLOAD = re.compile(r"Overloaded|\b529\b|is experiencing high load|at capacity", re.I)
_RATE = re.compile(r"\(429\)|\b429\b|rate limit|temporarily limiting requests|too many requests", re.I)
_OUTAGE = re.compile(
    r"API Error: 5\d\d|server-side issue|Request timed out|timed out|Unable to connect|"
    r"Connection (?:closed|error|refused|reset)|Response stalled|ECONNRESET|ECONNREFUSED|ETIMEDOUT|"
    r"EAI_AGAIN|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|socket hang up|fetch failed|network", re.I)
# For opaque agents only Claude Code's own formats count: another agent's free text saying
# "network" or "429" somewhere is not evidence enough to spare the site an attempt.
_CLAUDE_TEXT = re.compile(
    r"^(?:API Error\b|Request timed out$|Invalid API key · |Not logged in · |OAuth token |"
    r"Credit balance is too low|Claude AI usage limit reached|You've hit your |You've reached your |"
    r"You're out of usage credits|--dangerously-skip-permissions cannot be used)")

_SYNTHETIC_ERRORS = {  # the "error" field of the CLI's synthetic assistant message
    "authentication_failed": AUTH, "billing_error": AUTH, "model_not_found": AUTH,
    "rate_limit": RATE_LIMITED, "server_error": OUTAGE,
}

_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
# "resets 5pm", "resets 5:39pm (UTC)", "resets Dec 3, 5pm (Europe/Berlin)", "resets Jan 3, 2027, 5:39pm"
_RESETS = re.compile(
    r"resets\s+(?:(?P<mon>[A-Za-z]{3})[a-z]*\.?\s+(?P<day>\d{1,2}),?\s+(?:(?P<year>\d{4}),?\s+)?)?"
    r"(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?\s*(?P<ampm>[ap]\.?m\.?)"
    r"(?:\s*\((?P<tz>[^)]+)\))?", re.I)


@dataclass
class AgentReport:
    """One attempt's outcome: its class, the agent's own message and what it reported.

    ``limit`` is session|weekly|opus|unknown for a usage limit (and whenever the agent
    named its quota window), "" when nothing is known. ``reset_at`` (epoch seconds) is
    when that window resets. ``tokens_in`` counts every prompt token the API processed
    (fresh, cache writes and cache reads). Numbers the agent did not report are 0.
    """

    cls: str
    message: str = ""
    reset_at: float | None = None
    limit: str = ""
    cost_usd: float = 0.0
    turns: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    duration_ms: int = 0
    session_id: str = ""
    permission_denials: int = 0
    quota_utilization: float | None = None
    api_error_status: int | None = None
    warnings: tuple[str, ...] = ()  # numbers the agent reported that were ignored (not in events)

    def __bool__(self) -> bool:
        return self.cls == OK

    @property
    def counted(self) -> bool:
        """Whether this attempt counts against the site's ``max_attempts``."""
        return self.cls in COUNTED

    def as_event(self) -> dict:
        """The fields CONTRACTS.md adds to an attempt's "status" event."""
        data = {name: getattr(self, name) for name in _REPORT_FIELDS}  # scalars: no deep copy (asdict)
        data["class"] = data.pop("cls")
        return data


_REPORT_FIELDS = tuple(f.name for f in fields(AgentReport) if f.name != "warnings")


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


class AgentStream:
    """Incremental reader of an agent's stream-json log: feed it byte chunks as the log grows.

    Keeps what the dashboard and the classifier need: the latest action ("Write index.html"),
    the turn (API answers so far), the cost (known once the result line arrives), tokens, the
    final result object, the latest quota report and API retry, and the last plain-text lines
    (stderr, text-mode output). Lines that are not JSON objects are kept as text; a partial
    last line waits for its newline.
    """

    def __init__(self) -> None:
        self._pending: list[bytes] = []  # the start of a line whose newline has not arrived
        self._pending_size = 0
        self._skipping = False  # inside an over-long line: drop bytes up to its newline
        self._offset = 0
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
        if text.startswith("{"):
            try:
                obj = json.loads(text)
            except ValueError:
                obj = None
            if isinstance(obj, dict) and isinstance(obj.get("type"), str):
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


# --- reset times ------------------------------------------------------------------------------
def _zone(name: str | None) -> _dt.tzinfo | None:
    """The time zone the CLI named (IANA, e.g. "Europe/Berlin"); None means smb's local time,
    which is the CLI's too when it runs on this machine."""
    if not name:
        return None
    name = name.strip()
    if name.upper() in ("UTC", "GMT", "Z", "ETC/UTC"):
        return _dt.timezone.utc
    offset = re.fullmatch(r"(?:UTC|GMT)([+-])(\d{1,2})(?::?(\d{2}))?", name, re.I)
    if offset:
        sign = 1 if offset.group(1) == "+" else -1
        return _dt.timezone(sign * _dt.timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3) or 0)))
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except Exception:  # unknown name or no tz database: fall back to local time
        return None


def parse_reset(text: str, now: float | None = None) -> float | None:
    """Epoch seconds of the reset a limit message names ("resets 5:39pm (UTC)",
    "resets Dec 3, 5pm (Europe/Berlin)"), or None when it names none.

    A clock time without a date is its next occurrence. The CLI prints the minute of the
    reset, cut down, so a time inside the current minute means the end of that minute.
    """
    legacy = _LEGACY_LIMIT.search(text)
    if legacy:
        return float(legacy.group(1))
    match = _RESETS.search(text)
    if not match:
        return None
    now = time.time() if now is None else now
    hour, minute = int(match.group("hour")), int(match.group("minute") or 0)
    if not (1 <= hour <= 12 and minute < 60):
        return None
    hour = hour % 12 + (12 if match.group("ampm").lower().startswith("p") else 0)
    zone = _zone(match.group("tz"))  # None: local time, where a naive datetime's timestamp() is local too
    current = _dt.datetime.fromtimestamp(now, zone)

    def at(day: _dt.date) -> float:
        return _dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone).timestamp()

    if match.group("mon"):
        month = _MONTHS.get(match.group("mon").lower())
        if month is None:
            return None
        day_of_month = int(match.group("day"))
        years = [int(match.group("year"))] if match.group("year") else [current.year, current.year + 1]
        candidate = None
        for year in years:
            try:
                candidate = at(_dt.date(year, month, day_of_month))
            except ValueError:
                return None
            if match.group("year") or candidate + 60 > now:
                break
    else:
        candidate = at(current.date())
        if candidate + 60 <= now:  # already past today: tomorrow (re-localised across DST)
            candidate = at(current.date() + _dt.timedelta(days=1))
    if candidate <= now < candidate + 60:
        candidate += 60
    return candidate


def _limit_from(message: str, rate_limit: dict | None) -> str:
    if rate_limit and rate_limit.get("rateLimitType") in LIMIT_TYPES:
        return LIMIT_TYPES[rate_limit["rateLimitType"]]
    lowered = message.lower()
    for words, limit in _LIMIT_WORDS.items():
        if words in lowered:
            return limit
    return "unknown"


# --- classification ---------------------------------------------------------------------------
def _error_class(message: str, status: int | None, synthetic: str, rate_limit: dict | None) -> str:
    """The class of a failure the agent reported (structured fields first, then its words)."""
    rejected = bool(rate_limit and rate_limit.get("status") == "rejected"
                    and (rate_limit.get("rateLimitType") or rate_limit.get("resetsAt")))
    if not _NOT_USAGE_LIMIT.search(message) and (rejected or _USAGE_LIMIT.search(message)):
        return USAGE_LIMIT
    if status in (401, 403) or _SYNTHETIC_ERRORS.get(synthetic) == AUTH or _AUTH.search(message):
        return AUTH
    if status == 529 or _OVERLOAD.search(message):
        return OUTAGE
    if status == 429 or _SYNTHETIC_ERRORS.get(synthetic) == RATE_LIMITED or _RATE.search(message):
        return RATE_LIMITED
    if (status is not None and status >= 500) or _SYNTHETIC_ERRORS.get(synthetic) == OUTAGE \
            or _OUTAGE.search(message):
        return OUTAGE
    return SITE


_RETRY_ERRORS = {"rate_limit": RATE_LIMITED, "authentication_failed": AUTH, "billing_error": AUTH}


def _retry_class(retry: dict) -> str:
    """What the CLI was retrying when it was killed. It retries only what it judges transient
    (408, 409, 429, 5xx, connection errors; 401 with an API key), so the default is outage."""
    status = retry.get("error_status")
    if retry.get("error") in _RETRY_ERRORS:
        return _RETRY_ERRORS[retry["error"]]
    if status in (401, 403):
        return AUTH
    if status == 429:
        return RATE_LIMITED
    return OUTAGE


def classify(exit_code: int | None, log_text_or_stdout: str | bytes | AgentStream, timed_out: bool,
             output_ok: bool, *, now: float | None = None) -> AgentReport:
    """Classify one attempt from its exit code (None or negative: killed), its log (stdout and
    stderr as the runner saved them, or the CLI's stdout; or the AgentStream that followed the
    log live, so a long log is not parsed twice), whether smb timed it out, and whether the
    phase's expected output exists."""
    if isinstance(log_text_or_stdout, AgentStream):
        stream = log_text_or_stdout
    else:
        stream = AgentStream()
        stream.feed(log_text_or_stdout)
    stream.close()
    result = stream.result
    tokens_in, tokens_out = stream.tokens
    report = AgentReport(
        cls=SITE, cost_usd=stream.cost_usd, turns=stream.turn, tokens_in=tokens_in, tokens_out=tokens_out,
        session_id=stream.session_id, quota_utilization=stream.quota_utilization,
        warnings=tuple(stream.number_warnings))
    if result is not None:
        report.duration_ms = _int(result.get("duration_ms"))
        denials = result.get("permission_denials")
        report.permission_denials = len(denials) if isinstance(denials, list) else 0
        status = result.get("api_error_status")
        report.api_error_status = status if isinstance(status, int) and not isinstance(status, bool) else None
    if stream.rate_limit:
        resets = stream.rate_limit.get("resetsAt")
        if isinstance(resets, (int, float)) and not isinstance(resets, bool):
            report.reset_at = float(resets)
        if stream.rate_limit.get("rateLimitType") in LIMIT_TYPES:
            report.limit = LIMIT_TYPES[stream.rate_limit["rateLimitType"]]

    said = _one_line(result.get("result")) if result is not None else ""
    said = said or stream.synthetic_text or stream.last_text_line()

    if exit_code == 0 and output_ok and not timed_out:
        report.cls, report.message = OK, said
        return report

    if result is not None and result.get("is_error"):
        report.cls = _error_class(said, report.api_error_status, stream.synthetic_error, stream.rate_limit)
        report.message = said
    elif result is not None:  # it reported success, yet exit or output say otherwise
        if exit_code == 0 and not output_ok:
            report.cls, report.message = NO_OUTPUT, _missing_output_message(result, said)
        else:
            ended = "timed out" if timed_out else f"exit {exit_code}"
            report.cls, report.message = SITE, _one_line(f"{ended} after reporting success: {said}")
    elif stream.saw_json:
        report.cls, report.message = _unfinished_stream(stream, exit_code, timed_out, said)
    else:
        report.cls, report.message = _opaque(exit_code, timed_out, said)

    if report.cls == USAGE_LIMIT:
        if report.reset_at is None:
            report.reset_at = parse_reset(said, now)
        report.limit = _limit_from(said, stream.rate_limit)
    return report


def _missing_output_message(result: dict | None, said: str) -> str:
    denials = result.get("permission_denials") if result else None
    if isinstance(denials, list) and denials:
        first = denials[0] if isinstance(denials[0], dict) else {}
        tool = _tool_action(str(first.get("tool_name") or "tool"), first.get("tool_input"))
        more = f" (+{len(denials) - 1} more)" if len(denials) > 1 else ""
        return _one_line(f"permission denied: {tool}{more}; the agent said: {said or '(nothing)'}")
    return _one_line(f"exit 0 but the expected output is missing; the agent said: {said or '(nothing)'}")


def _unfinished_stream(stream: AgentStream, exit_code: int | None, timed_out: bool, said: str) -> tuple[str, str]:
    """A stream-json agent that ended without its result line: killed, crashed or refused to start."""
    if stream.synthetic_error or stream.synthetic_text:
        return _error_class(said, None, stream.synthetic_error, stream.rate_limit), said
    if timed_out or exit_code is None or exit_code < 0:
        if stream.last_retry is not None:
            retry = stream.last_retry
            cls = _retry_class(retry)
            what = retry.get("error_status") or retry.get("error") or "an error"
            return cls, _one_line(f"killed while the agent was retrying the API ({what}, "
                                  f"attempt {_int(retry.get('attempt'))}/{_int(retry.get('max_retries'))})")
        if stream.turn == 0:
            return OUTAGE, "killed before the API answered once (no response within the timeout)"
        return SITE, _one_line(f"timed out after {stream.turn} turns (last: {stream.action or 'unknown'})")
    if exit_code == 0:
        return NO_OUTPUT, _missing_output_message(None, said)
    if said and (_CLAUDE_TEXT.search(said) or _AUTH.search(said)):
        return _error_class(said, None, "", stream.rate_limit), said
    return SITE, said or f"exit {exit_code} without a result"


def _opaque(exit_code: int | None, timed_out: bool, said: str) -> tuple[str, str]:
    """An agent with no JSON: only its exit, its output and its last line to go on."""
    if said and _CLAUDE_TEXT.search(said):  # Claude Code in text mode, or an old CLI's limit line
        cls = _error_class(said, None, "", None)
        if cls != SITE:
            return cls, said
    if timed_out:
        return SITE, _one_line(f"timed out; last output: {said}" if said else "timed out with no output")
    if exit_code == 0:
        return NO_OUTPUT, _one_line(f"exit 0 but the expected output is missing; the agent said: {said}"
                                    if said else "exit 0 but the expected output is missing")
    if exit_code is None or exit_code < 0:
        return SITE, said or "killed"
    return SITE, said or f"exit {exit_code} with no output"
