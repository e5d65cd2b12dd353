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


The classes themselves are in ``classes.py``; the stream parser in ``stream.py``;
the reset-time parser in ``resets.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

from .classes import AUTH, BUDGET, COUNTED, NO_OUTPUT, OK, OUTAGE, RATE_LIMITED, SITE, USAGE_LIMIT
from .resets import LIMIT_TYPES, limit_from, parse_reset
from .stream import AgentStream, _int, _one_line, _tool_action

# Usage limits: the subscription wall. "not your usage limit" is the CLI saying a 429 is NOT one.
_USAGE_LIMIT = re.compile(
    r"You've hit your|You've reached your|Claude AI usage limit reached|You're out of usage credits"
    r"|out of usage|usage limit reached", re.I)
_NOT_USAGE_LIMIT = re.compile(r"not your usage limit", re.I)
# Configuration that fails every site the same way: stop, do not burn attempts.
_AUTH = re.compile(
    r"Invalid API key|Not logged in|Please run /login|OAuth token (?:has expired|revoked)|"
    r"authentication_error|invalid x-api-key|disabled organization|"
    r"has disabled API key authentication|Credit balance is too low|"
    r"issue with the selected model|may not exist or you may not have access|"
    r"not available with the Claude \w+ plan|cannot be used with root/sudo privileges|"
    r"\b(?:401|403)\b.*(?:unauthori[sz]ed|forbidden|permission)", re.I)
OVERLOAD_WORDS = re.compile(r"Overloaded|\b529\b|is experiencing high load|at capacity", re.I)
RATE_WORDS = re.compile(r"\(429\)|\b429\b|rate limit|temporarily limiting requests|too many requests", re.I)
OUTAGE_WORDS = re.compile(
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


# --- classification ---------------------------------------------------------------------------
def _error_class(message: str, status: int | None, synthetic: str, rate_limit: dict | None) -> str:
    """The class of a failure the agent reported (structured fields first, then its words)."""
    rejected = bool(rate_limit and rate_limit.get("status") == "rejected"
                    and (rate_limit.get("rateLimitType") or rate_limit.get("resetsAt")))
    if not _NOT_USAGE_LIMIT.search(message) and (rejected or _USAGE_LIMIT.search(message)):
        return USAGE_LIMIT
    if status in (401, 403) or _SYNTHETIC_ERRORS.get(synthetic) == AUTH or _AUTH.search(message):
        return AUTH
    if status == 529 or OVERLOAD_WORDS.search(message):
        return OUTAGE
    if status == 429 or _SYNTHETIC_ERRORS.get(synthetic) == RATE_LIMITED or RATE_WORDS.search(message):
        return RATE_LIMITED
    if (status is not None and status >= 500) or _SYNTHETIC_ERRORS.get(synthetic) == OUTAGE \
            or OUTAGE_WORDS.search(message):
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


# Result subtypes of a run the CLI ended at one of its caps (measured with 2.1.197 against the mock).
_CAP_SUBTYPES = {"error_max_budget_usd": "the agent's budget ran out (--max-budget-usd)",
                 "error_max_turns": "the agent's turns ran out (--max-turns)"}


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

    if result is not None and result.get("subtype") in _CAP_SUBTYPES:
        # The CLI stopped at a cap smb gave it (issue 20): not an API failure, not the breaker's.
        errors = result.get("errors")
        words = " ".join(e for e in errors if isinstance(e, str)) if isinstance(errors, list) else ""
        report.cls, report.message = BUDGET, _one_line(words or said or _CAP_SUBTYPES[result["subtype"]])
    elif result is not None and result.get("is_error"):
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
        report.limit = limit_from(said, stream.rate_limit)
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
