"""Why an attempt ended (issue 10): every output shape recorded from the real Claude Code CLI,
the JSON-result protocol of other agents, opaque agents, reset times and live activity."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from smbatcher.agents.outcome import (
    AUTH, NO_OUTPUT, OK, OUTAGE, RATE_LIMITED, SITE, USAGE_LIMIT, AgentStream, classify, latest_action, parse_reset,
)
from smbatcher.agents.presets import agent_env, resolve_agent

AGENTS = Path(__file__).resolve().parent / "agents"
sys.path.insert(0, str(AGENTS))
import claude_shapes  # noqa: E402  (tests/agents is not a package)

UTC = dt.timezone.utc


def utc(*args) -> float:
    return dt.datetime(*args, tzinfo=UTC).timestamp()


def shape(name: str, **kwargs) -> str:
    """The shape's stdout plus its stderr, as the runner's per-site log holds them (after its header)."""
    text = claude_shapes.shape_text(name, "/ws/.smbatcher/tmp/r/a.dev-implement-1",
                                    "/ws/.smbatcher/tmp/r/a.dev-implement-1/site", **kwargs)
    stderr = claude_shapes.SHAPES_DIR / (name + ".stderr")
    header = "=== smb implement a.dev attempt 1 run r 2026-12-01T22:43:50Z\n"
    return header + text + (stderr.read_text(encoding="utf-8") if stderr.exists() else "")


def run_shape(name: str, output_ok: bool | None = None):
    _, code, writes = claude_shapes.SHAPES[name]
    return classify(code, shape(name), False, writes if output_ok is None else output_ok)


# --- every recorded shape ------------------------------------------------------------------------
def test_success_reports_cost_turns_tokens_and_session():
    report = run_shape("success")
    assert report.cls == OK and bool(report)
    assert report.message == "done"
    assert report.cost_usd == pytest.approx(0.018705)
    assert (report.turns, report.tokens_in, report.tokens_out, report.duration_ms) == (2, 3541, 40, 200)
    assert report.session_id == "341f43b9-3bf3-415a-b3cc-502790febbd0"
    assert report.permission_denials == 0 and not report.counted
    assert report.reset_at is None and report.quota_utilization is None


def test_success_that_left_no_output_is_no_output():
    report = run_shape("success", output_ok=False)
    assert report.cls == NO_OUTPUT and report.counted
    assert "expected output is missing" in report.message and "done" in report.message


def test_permission_denied_write_exits_0_but_is_no_output_with_the_denied_file():
    report = run_shape("permission-denied")
    assert report.cls == NO_OUTPUT and report.counted
    assert report.permission_denials == 1
    assert report.message.startswith("permission denied: Write index.html")


@pytest.mark.parametrize("name, message", [
    ("rate-limit", "API Error: Request rejected (429) · This request would exceed the rate limit"),
    # a subscriber's 429 comes with a rejected rate_limit_event, but the CLI says it is not the usage limit
    ("rate-limit-subscriber", "API Error: Server is temporarily limiting requests (not your usage limit)"),
    # with an API key the usage-limit headers are ignored: an ordinary 429
    ("usage-limit-apikey", "API Error: Request rejected (429) · This request would exceed your account's"),
])
def test_429_is_rate_limited_not_counted(name, message):
    report = run_shape(name)
    assert report.cls == RATE_LIMITED and not report.counted
    assert report.message.startswith(message)
    assert report.api_error_status == 429


def test_429_then_success_is_ok():
    assert run_shape("rate-limit-then-success").cls == OK


@pytest.mark.parametrize("name, message", [
    ("auth", "Invalid API key · Fix external API key"),
    ("auth-subscriber", "Not logged in · Please run /login"),
    ("root-refused", "--dangerously-skip-permissions cannot be used with root/sudo privileges for security reasons"),
])
def test_auth_and_refused_configuration_stop_the_run(name, message):
    report = run_shape(name)
    assert report.cls == AUTH and not report.counted
    assert report.message == message


@pytest.mark.parametrize("name, limit, reset_at, words", [
    ("usage-limit", "session", 1796165036, "You've hit your session limit · resets 10:43pm (UTC)"),
    ("usage-limit-weekly", "weekly", 1796365180, "You've hit your weekly limit · resets Dec 4, 6:19am (UTC)"),
    ("usage-limit-opus", "opus", 1796172380, "You've hit your Opus limit · resets 12:46am (UTC)"),
    ("usage-limit-sonnet", "weekly", 1796172380, "You've hit your Sonnet limit · resets 12:46am (UTC)"),
])
def test_usage_limit_takes_the_exact_reset_from_the_rate_limit_event(name, limit, reset_at, words):
    report = run_shape(name)
    assert report.cls == USAGE_LIMIT and not report.counted
    assert (report.limit, report.reset_at, report.message) == (limit, reset_at, words)


def test_usage_limit_in_json_mode_parses_the_reset_from_the_message():
    # --output-format json has no rate_limit_event: "resets 10:44pm (UTC)", recorded at 22:43:58
    report = classify(1, shape("usage-limit-json"), False, False, now=utc(2026, 12, 1, 22, 43, 58))
    assert report.cls == USAGE_LIMIT and report.limit == "session"
    assert report.reset_at == utc(2026, 12, 1, 22, 44)


def test_usage_limit_in_text_mode_is_recognised_from_an_opaque_agent():
    report = classify(1, shape("usage-limit-text"), False, False, now=utc(2026, 12, 1, 22, 43, 58))
    assert report.cls == USAGE_LIMIT and report.limit == "session"
    assert report.message == "You've hit your session limit · resets 10:44pm (UTC)"
    assert report.reset_at == utc(2026, 12, 1, 22, 44)


def test_legacy_usage_limit_line_carries_the_epoch():
    report = run_shape("usage-limit-legacy")
    assert report.cls == USAGE_LIMIT and report.limit == "unknown"
    assert report.reset_at == claude_shapes.LEGACY_RESET


def test_usage_limit_reset_a_few_seconds_ahead_as_the_fake_prints_it():
    now = time.time()
    stream = classify(1, shape("usage-limit", reset_in=5, now=now), False, False, now=now)
    assert stream.reset_at == int(now + 5)
    text = classify(1, shape("usage-limit-text", reset_in=5, now=now), False, False, now=now)
    assert now < text.reset_at <= now + 5 + 60  # minute precision, never before now


def test_quota_warning_on_a_success_reports_utilization_and_window():
    report = run_shape("quota-warning")
    assert report.cls == OK
    assert report.quota_utilization == pytest.approx(0.93)
    assert (report.limit, report.reset_at) == ("session", 1796168780)


@pytest.mark.parametrize("name, message", [
    ("outage", "API Error: 500 Internal server error."),
    ("overloaded", "API Error: Repeated 529 Overloaded errors."),
    ("timeout", "Request timed out"),
    ("connection-reset", "API Error: Unable to connect to API (ECONNRESET)"),
])
def test_server_errors_and_network_failures_are_outages(name, message):
    report = run_shape(name)
    assert report.cls == OUTAGE and not report.counted
    assert report.message.startswith(message)


def result_line(message: str, status: int | None = None, error: str = "") -> str:
    """A failed run's tail as the CLI writes it: the synthetic assistant message, then the result."""
    synthetic = {"type": "assistant", "error": error, "message": {
        "id": "x", "model": "<synthetic>", "role": "assistant", "content": [{"type": "text", "text": message}]}}
    result = {"type": "result", "subtype": "success", "is_error": True, "api_error_status": status,
              "num_turns": 1, "result": message, "total_cost_usd": 0}
    return json.dumps(synthetic) + "\n" + json.dumps(result) + "\n"


# Messages the CLI builds for failures the mock cannot produce (read from the CLI's source).
@pytest.mark.parametrize("message, status, error, cls", [
    ("Credit balance is too low", 400, "billing_error", AUTH),
    ("There's an issue with the selected model (claude-x). It may not exist or you may not have access to it.",
     404, "model_not_found", AUTH),
    ("OAuth token revoked · Please run /login", 403, "authentication_failed", AUTH),
    ("Your ANTHROPIC_API_KEY belongs to a disabled organization · Update or unset the environment variable",
     400, "invalid_request", AUTH),
    ("Opus is experiencing high load, please use /model to switch to Sonnet", None, "rate_limit", OUTAGE),
    ("API Error: Connection closed mid-response. The response above may be incomplete.", None, "server_error", OUTAGE),
    ("Prompt is too long", 400, "invalid_request", SITE),
    ("You're out of usage credits · resets Dec 3, 5pm (UTC)", 429, "rate_limit", USAGE_LIMIT),
    ("You've hit your org's monthly spend limit · raise it at claude.ai/settings/usage", 429, "rate_limit", USAGE_LIMIT),
    ("Claude AI usage limit reached|1764794400", None, "", USAGE_LIMIT),
])
def test_failures_known_from_the_clis_source(message, status, error, cls):
    report = classify(1, result_line(message, status, error), False, False, now=NOW)
    assert (report.cls, report.message) == (cls, message)
    if message.startswith("You're out"):
        assert report.reset_at == utc(2026, 12, 3, 17, 0) and report.limit == "unknown"
    if message.startswith("Claude AI"):
        assert report.reset_at == 1764794400


def test_a_bad_request_is_the_sites_failure():
    report = run_shape("bad-request")
    assert report.cls == SITE and report.counted
    assert report.message == "API Error: 400 messages: mock invalid request"


# --- killed before the result line ---------------------------------------------------------------
def lines_until(name: str, predicate) -> str:
    out = []
    for line in shape(name).splitlines(keepends=True):
        out.append(line)
        if predicate(line):
            break
    return "".join(out)


def test_killed_while_waiting_for_a_first_answer_is_an_outage():
    text = lines_until("success", lambda line: '"subtype":"init"' in line)
    report = classify(None, text, True, False)
    assert report.cls == OUTAGE and "before the API answered" in report.message
    assert report.session_id == "341f43b9-3bf3-415a-b3cc-502790febbd0"


def test_killed_mid_work_is_the_sites_timeout_with_its_last_action():
    text = lines_until("success", lambda line: '"name":"Write"' in line)
    report = classify(-15, text, True, False)
    assert report.cls == SITE and report.counted
    assert report.message == "timed out after 1 turns (last: Write index.html)"
    assert report.tokens_in == 1683  # summed from the answers seen: no result line to read


@pytest.mark.parametrize("name, cls", [("rate-limit", RATE_LIMITED), ("auth", AUTH), ("outage", OUTAGE),
                                       ("timeout", OUTAGE)])
def test_killed_during_retries_takes_the_class_of_what_was_retried(name, cls):
    text = lines_until(name, lambda line: '"subtype":"api_retry"' in line)
    report = classify(None, text, True, False)
    assert report.cls == cls
    assert report.message.startswith("killed while the agent was retrying the API")


def test_exit_0_with_no_result_and_no_output_is_no_output():
    text = lines_until("success", lambda line: '"name":"Write"' in line)
    assert classify(0, text, False, False).cls == NO_OUTPUT
    assert classify(0, text, False, True).cls == OK


# --- the JSON-result protocol of other agents ---------------------------------------------------
def test_another_agent_reports_cost_and_errors_with_a_result_line():
    line = json.dumps({"type": "result", "is_error": False, "result": "built 3 pages", "total_cost_usd": 0.5,
                       "num_turns": 3, "duration_ms": 1200, "usage": {"input_tokens": 10, "output_tokens": 5}})
    report = classify(0, "working...\n" + line + "\n", False, True)
    assert (report.cls, report.message, report.cost_usd, report.turns) == (OK, "built 3 pages", 0.5, 3)
    assert (report.tokens_in, report.tokens_out, report.duration_ms) == (10, 5, 1200)
    failed = classify(1, json.dumps({"type": "result", "is_error": True, "result": "Request timed out"}), False, False)
    assert failed.cls == OUTAGE and failed.message == "Request timed out"


def test_wrong_typed_fields_never_crash_and_count_as_unknown():
    junk = "\n".join([
        '{"type": 5}', "{not json", '{"type":"assistant","message":"x"}', '{"type":"assistant","message":{"content":7}}',
        '{"type":"rate_limit_event","rate_limit_info":{"utilization":"high","resetsAt":"soon"}}',
        '{"type":"system","subtype":"api_retry","attempt":"2"}',
        '{"type":"result","is_error":true,"result":["x"],"usage":"x","num_turns":"7","total_cost_usd":true,'
        '"permission_denials":3,"api_error_status":"429"}',
    ])
    report = classify(1, junk, False, False)
    assert report.cls == SITE
    assert (report.cost_usd, report.turns, report.tokens_in, report.permission_denials) == (0.0, 0, 0, 0)
    assert report.quota_utilization is None and report.reset_at is None and report.api_error_status is None


def test_message_is_one_line_of_at_most_200_characters():
    long = "API Error: 400 " + "x" * 500 + "\nsecond line"
    report = classify(1, json.dumps({"type": "result", "is_error": True, "result": long}), False, False)
    assert "\n" not in report.message and len(report.message) == 200 and report.message.endswith("…")


def test_event_fields_follow_the_contract():
    event = run_shape("success").as_event()
    assert event["class"] == OK and "cls" not in event
    for key in ("message", "cost_usd", "turns", "tokens_in", "tokens_out", "duration_ms", "session_id"):
        assert key in event
    json.dumps(event)


# --- opaque agents --------------------------------------------------------------------------------
HEADER = "=== smb implement a.dev attempt 2 run r 2026-12-01T22:43:50Z\n"


def test_opaque_failure_is_the_sites_with_its_last_meaningful_line():
    log = HEADER + "Traceback (most recent call last):\n  File \"a.py\", line 1\nValueError: boom\n\n---\n"
    report = classify(1, log, False, False)
    assert (report.cls, report.message) == (SITE, "ValueError: boom")


def test_opaque_agent_with_no_output_at_all():
    assert classify(3, HEADER, False, False).message == "exit 3 with no output"
    assert classify(0, HEADER, False, False).cls == NO_OUTPUT
    assert classify(0, HEADER + "built it\n", False, True).cls == OK
    timed_out = classify(None, HEADER + "step 4 of 9\n", True, False)
    assert (timed_out.cls, timed_out.message) == (SITE, "timed out; last output: step 4 of 9")


def test_opaque_free_text_about_networks_is_not_evidence_of_an_outage():
    assert classify(1, HEADER + "error: network unreachable, 429 retries left\n", False, False).cls == SITE


@pytest.mark.parametrize("line, cls", [
    ("API Error: 500 Internal server error. This is a server-side issue", OUTAGE),
    ("API Error: Request rejected (429) · This request would exceed the rate limit", RATE_LIMITED),
    ("Invalid API key · Fix external API key", AUTH),
    ("Request timed out", OUTAGE),
    ("API Error: 400 messages: prompt is too long", SITE),
])
def test_claude_code_in_text_mode_is_classified_by_its_own_words(line, cls):
    assert classify(1, HEADER + line + "\n", False, False).cls == cls


# --- reset times ---------------------------------------------------------------------------------
NOW = utc(2026, 12, 1, 12, 0, 0)


@pytest.mark.parametrize("text, expected", [
    ("You've hit your session limit · resets 5:39pm (UTC)", utc(2026, 12, 1, 17, 39)),
    ("resets 5pm (UTC)", utc(2026, 12, 1, 17, 0)),
    ("resets 11:15am (UTC)", utc(2026, 12, 2, 11, 15)),  # past today: tomorrow
    ("resets 12am (UTC)", utc(2026, 12, 2, 0, 0)),
    ("resets 12pm (UTC)", utc(2026, 12, 1, 12, 1)),  # the current minute: its end
    ("resets Dec 3, 5pm (UTC)", utc(2026, 12, 3, 17, 0)),
    ("resets Dec 4, 6:19am (UTC)", utc(2026, 12, 4, 6, 19)),
    ("resets Jan 3, 5pm (UTC)", utc(2027, 1, 3, 17, 0)),  # no year, already past this year: next year
    ("resets Jan 3, 2028, 5:39pm (UTC)", utc(2028, 1, 3, 17, 39)),
    ("resets 5:39pm (GMT+2)", utc(2026, 12, 1, 15, 39)),
    ("resets 5:39 PM (UTC)", utc(2026, 12, 1, 17, 39)),
    ("Claude AI usage limit reached|1764794400", 1764794400),
    ("resets soon", None), ("resets 13pm (UTC)", None), ("resets Foo 3, 5pm (UTC)", None),
    ("resets Feb 30, 5pm (UTC)", None), ("You've hit your monthly limit — it resets next month.", None),
])
def test_parse_reset(text, expected):
    assert parse_reset(text, now=NOW) == expected


def needs_tz_database() -> None:
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo("America/New_York")
    except Exception:
        pytest.skip("no time zone database here (Debian: tzdata; PyPI: tzdata)")


def test_parse_reset_in_a_named_zone():
    needs_tz_database()
    assert parse_reset("resets 3:46pm (America/Los_Angeles)", now=NOW) == utc(2026, 12, 1, 23, 46)


def test_parse_reset_tomorrow_across_a_dst_change():
    needs_tz_database()
    # New York leaves DST on 2026-11-01: tomorrow's 7pm is 5 h after UTC, today's was 4 h
    now = utc(2026, 11, 1, 0, 0)  # 2026-10-31 20:00 EDT
    assert parse_reset("resets 7pm (America/New_York)", now=now) == utc(2026, 11, 2, 0, 0)


def test_parse_reset_without_a_zone_uses_local_time(monkeypatch):
    needs_tz_database()
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        assert parse_reset("resets 5pm", now=NOW) == utc(2026, 12, 2, 8, 0)  # 17:00 JST
        assert parse_reset("resets 5pm (Mars/Olympus)", now=NOW) == utc(2026, 12, 2, 8, 0)
        monkeypatch.setenv("TZ", "America/New_York")
        time.tzset()
        assert parse_reset("resets 7pm", now=utc(2026, 11, 1, 0, 0)) == utc(2026, 11, 2, 0, 0)  # across DST
    finally:
        monkeypatch.undo()  # TZ as it was, then the C library re-reads it
        time.tzset()


@pytest.mark.parametrize("ahead", [5, 61, 3600, 23 * 3600, 2 * 86400, 40 * 86400, 330 * 86400])
def test_parse_reset_reads_back_what_the_cli_prints(ahead):
    now = time.time()
    printed = claude_shapes.format_reset(now + ahead, now)
    parsed = parse_reset("You've hit your session limit · resets " + printed, now=now)
    assert now + ahead - 60 <= parsed <= now + ahead + 60, printed


# --- live activity ---------------------------------------------------------------------------------
def test_latest_action_follows_the_stream():
    lines = shape("success").splitlines()
    seen = [latest_action(lines[:n]) for n in range(1, len(lines) + 1)]
    actions = [action for action, _, _ in seen]
    assert actions[1] == "starting"
    assert "I'll create index.html." in actions
    assert ("Write index.html", 1, 0.0) in seen
    assert seen[-1] == ("finished", 2, pytest.approx(0.018705))
    assert latest_action([]) == ("", 0, 0.0)


def test_latest_action_shows_retries_and_failures():
    lines = shape("rate-limit").splitlines()
    retrying = [line for line in lines if "api_retry" in line][:1]
    assert latest_action(lines[:2] + retrying)[0] == "API retry 1/2 (429)"
    assert latest_action(lines)[0].startswith("failed: API Error: Request rejected (429)")


def test_stream_fed_in_small_chunks_matches_the_whole():
    data = shape("rate-limit-then-success").encode()
    whole, pieces = AgentStream(), AgentStream()
    whole.feed(data)
    for start in range(0, len(data), 7):
        pieces.feed(data[start:start + 7])
    assert pieces.snapshot() == whole.snapshot() == ("finished", 2, pytest.approx(0.018735))
    assert pieces.result == whole.result


def test_stream_skips_an_overlong_line_and_goes_on(monkeypatch):
    import smbatcher.agents.stream as outcome

    monkeypatch.setattr(outcome, "_MAX_LINE", 1000)
    stream = AgentStream()
    stream.feed(b'{"type":"assistant","message":{"id":"m1","content":[{"type":"tool_use","name":"Write","input":'
                b'{"file_path":"/x/a.html","content":"' + b"x" * 3000)
    stream.feed(b"y" * 3000 + b'"}}]}}\n')
    stream.feed(b'{"type":"assistant","message":{"id":"m2","content":[{"type":"tool_use","name":"Edit",'
                b'"input":{"file_path":"/x/b.css"}}]}}\n')
    assert stream.snapshot() == ("Edit b.css", 1, 0.0)


def test_a_log_holding_two_launches_is_judged_by_the_last():
    # a relaunch of the same attempt appends to its log: the first run's usage limit is history
    log = shape("usage-limit") + shape("outage")
    report = classify(1, log, False, False)
    assert report.cls == OUTAGE and report.reset_at is None and report.limit == ""
    assert classify(1, shape("usage-limit") + shape("outage").split("\n", 1)[1], False, False).cls == OUTAGE


def test_read_new_follows_a_growing_log(tmp_path):
    log = tmp_path / "implement-1.log"
    lines = shape("success").splitlines(keepends=True)
    stream = AgentStream()
    log.write_text("".join(lines[:3]), encoding="utf-8")
    assert stream.read_new(log) and stream.action == "I'll create index.html."
    with log.open("a", encoding="utf-8") as handle:
        handle.write(lines[3][:50])  # half a line: not read as one yet
    assert stream.read_new(log) and stream.action == "I'll create index.html."
    with log.open("a", encoding="utf-8") as handle:
        handle.write(lines[3][50:] + "".join(lines[4:]))
    assert stream.read_new(log) and stream.snapshot() == ("finished", 2, pytest.approx(0.018705))
    assert not stream.read_new(tmp_path / "missing.log")
    # the stream that followed the log is classified without reading it again
    assert classify(0, stream, False, True) == classify(0, log.read_text(encoding="utf-8"), False, True)


# --- the fake agent as a real process, through the preset's argv -----------------------------------
EXPECTED = {
    "success": OK, "success-design": OK, "permission-denied": NO_OUTPUT, "rate-limit": RATE_LIMITED,
    "rate-limit-then-success": OK, "rate-limit-subscriber": RATE_LIMITED, "auth": AUTH, "auth-subscriber": AUTH,
    "usage-limit": USAGE_LIMIT, "usage-limit-weekly": USAGE_LIMIT, "usage-limit-opus": USAGE_LIMIT,
    "usage-limit-sonnet": USAGE_LIMIT, "usage-limit-apikey": RATE_LIMITED, "usage-limit-json": USAGE_LIMIT,
    "usage-limit-text": USAGE_LIMIT, "usage-limit-legacy": USAGE_LIMIT, "quota-warning": OK, "outage": OUTAGE,
    "overloaded": OUTAGE, "bad-request": SITE, "timeout": OUTAGE, "connection-reset": OUTAGE, "root-refused": AUTH,
}


def test_every_shape_has_an_expected_class():
    assert set(EXPECTED) | {"hang"} == set(claude_shapes.SHAPES)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fake_claude_through_the_preset_is_classified(name, tmp_path):
    phase = "design" if name == "success-design" else "implement"
    spec = resolve_agent("claude", phase)
    staging = tmp_path / "a.dev-implement-1"
    staging.mkdir()
    output = staging / ("a.dev-DESIGN.md" if phase == "design" else "site")
    if phase == "implement":
        output.mkdir()
    env = dict(os.environ, PATH=f"{AGENTS / 'bin'}{os.pathsep}{os.environ['PATH']}", FAKE_PYTHON=sys.executable,
               FAKE_SHAPE=name, FAKE_RESET_IN="30", SMB_PHASE=phase, SMB_OUTPUT=str(output), SMB_DOMAIN="a.dev")
    env.update(agent_env(spec, staging, env))
    log = tmp_path / "log"
    with log.open("wb") as handle:
        proc = subprocess.run(list(spec.argv), input=b"Build a site", stdout=handle, stderr=subprocess.STDOUT,
                              cwd=staging, env=env, timeout=30)
    output_ok = (output / "index.html").is_file() if phase == "implement" else output.is_file()
    report = classify(proc.returncode, log.read_text(encoding="utf-8"), False, output_ok)
    assert report.cls == EXPECTED[name], report
    assert output_ok == (report.cls == OK)
    if report.cls == USAGE_LIMIT and name != "usage-limit-legacy":
        assert time.time() < report.reset_at <= time.time() + 30 + 60


def test_fake_claude_hang_is_killed_and_classified_as_an_outage(tmp_path):
    env = dict(os.environ, FAKE_SHAPE="hang")
    proc = subprocess.Popen([sys.executable, str(AGENTS / "claude_shapes.py"), "-p"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, env=env, cwd=tmp_path)
    proc.stdin.close()
    first = proc.stdout.readline()  # the init line arrives, then nothing
    proc.kill()
    rest = proc.stdout.read()
    proc.wait()
    assert b'"subtype":"init"' in first
    report = classify(proc.returncode, first + rest, True, False)
    assert report.cls == OUTAGE
