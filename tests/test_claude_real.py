"""The real Claude Code CLI, driven through smb's ``claude`` preset, against the mock API (issue 10).

The CLI is installed from npm on first use (tests/support/claude.py); these tests are
skipped, with the reason, only when npm cannot install it. Every run is offline: the
mock listens on loopback inside a private network namespace (as root). Each test's
bounds come from overriding the preset's own CLAUDE_CODE_MAX_RETRIES/API_TIMEOUT_MS
through the environment, which is also how an operator tunes them.
"""

from __future__ import annotations

import time

import pytest

from support.claude import claude_env, run_agent
from smbatcher.agents.outcome import AUTH, NO_OUTPUT, OK, OUTAGE, RATE_LIMITED, USAGE_LIMIT, latest_action
from smbatcher.agents.presets import resolve_agent

FAST = {"CLAUDE_CODE_MAX_RETRIES": "1", "API_TIMEOUT_MS": "3000"}


@pytest.fixture
def preset():
    return resolve_agent("claude", "implement")


def test_success_builds_the_site_with_cost_and_a_private_config_dir(claude_cli, claude_mock, preset, tmp_path):
    mock = claude_mock("ok")
    env = claude_env(mock, claude_cli, tmp_path / "home")
    run = run_agent(preset, mock, env, tmp_path / "lotus.dev-implement-1")
    assert run.report.cls == OK, (run.report, run.log[-2000:])
    assert "Hello from the mock model" in (run.output / "index.html").read_text()
    assert run.report.cost_usd > 0 and run.report.turns == 2 and run.report.tokens_out > 0
    assert run.report.session_id and run.report.message == "done"
    assert len(mock.requests()) == 2
    # The CLI wrote its config inside the agent's own folder, not in HOME (no shared ~/.claude.json).
    assert (run.staging / ".claude-home" / ".claude.json").is_file()
    assert not (tmp_path / "home" / ".claude.json").exists()
    # Live activity: the Write tool call shows up while the stream is read line by line.
    lines = run.log.splitlines()
    actions = [latest_action(lines[:n])[0] for n in range(1, len(lines) + 1)]
    assert "Write index.html" in actions and actions[-1] == "finished"


def test_design_phase_writes_the_design_file(claude_cli, claude_mock, tmp_path):
    mock = claude_mock("ok")
    spec = resolve_agent("claude", "design")
    run = run_agent(spec, mock, claude_env(mock, claude_cli, tmp_path / "home"), tmp_path / "lotus.dev-design-1",
                    phase="design")
    assert run.report.cls == OK, (run.report, run.log[-2000:])
    assert run.output.read_text().startswith("# Mock design")


def test_usage_limit_reports_the_reset_and_the_probe_after_it_succeeds(claude_cli, claude_mock, preset, tmp_path):
    # Subscriber mode is the only one in which the CLI reads the usage-limit headers.
    mock = claude_mock("usage-limit", "--reset-in", "4", "--fail-first", "1")
    env = claude_env(mock, claude_cli, tmp_path / "home", auth="oauth", extra=FAST)
    before = time.time()
    held = run_agent(preset, mock, env, tmp_path / "lotus.dev-implement-1")
    assert held.report.cls == USAGE_LIMIT, (held.report, held.log[-2000:])
    assert held.report.limit == "session"
    assert held.report.message.startswith("You've hit your session limit · resets ")
    assert before + 3 <= held.report.reset_at <= time.time() + 5
    assert len(mock.requests()) == 1  # the CLI does not retry a usage limit
    assert not held.output_ok and not held.report.counted
    # After the reset one probe goes through.
    while time.time() < held.report.reset_at:
        time.sleep(0.1)
    probe = run_agent(preset, mock, env, tmp_path / "lotus.dev-implement-2")
    assert probe.report.cls == OK, (probe.report, probe.log[-2000:])


def test_a_transient_429_then_success_is_ok(claude_cli, claude_mock, preset, tmp_path):
    mock = claude_mock("429", "--retry-after", "1", "--fail-first", "1")
    run = run_agent(preset, mock, claude_env(mock, claude_cli, tmp_path / "home", extra=FAST),
                    tmp_path / "lotus.dev-implement-1")
    assert run.report.cls == OK, (run.report, run.log[-2000:])
    assert len(mock.requests()) == 3


def test_a_persistent_429_is_rate_limited(claude_cli, claude_mock, preset, tmp_path):
    mock = claude_mock("429", "--retry-after", "1")
    run = run_agent(preset, mock, claude_env(mock, claude_cli, tmp_path / "home", extra=FAST),
                    tmp_path / "lotus.dev-implement-1")
    assert run.report.cls == RATE_LIMITED, (run.report, run.log[-2000:])
    assert "(429)" in run.report.message and not run.report.counted


def test_a_401_is_auth_and_quick(claude_cli, claude_mock, preset, tmp_path):
    mock = claude_mock("401")
    run = run_agent(preset, mock, claude_env(mock, claude_cli, tmp_path / "home", extra=FAST),
                    tmp_path / "lotus.dev-implement-1")
    assert run.report.cls == AUTH, (run.report, run.log[-2000:])
    assert run.report.message == "Invalid API key · Fix external API key"
    assert run.seconds < 15 and not run.timed_out


def test_no_credentials_at_all_is_auth(claude_cli, claude_mock, preset, tmp_path):
    mock = claude_mock("ok")
    run = run_agent(preset, mock, claude_env(mock, claude_cli, tmp_path / "home", auth="none", extra=FAST),
                    tmp_path / "lotus.dev-implement-1")
    assert run.report.cls == AUTH, (run.report, run.log[-2000:])
    assert "/login" in run.report.message


def test_a_hanging_api_is_bounded_by_the_presets_timeouts(claude_cli, claude_mock, preset, tmp_path):
    mock = claude_mock("hang")
    env = claude_env(mock, claude_cli, tmp_path / "home", extra={"CLAUDE_CODE_MAX_RETRIES": "1",
                                                                  "API_TIMEOUT_MS": "1500"})
    run = run_agent(preset, mock, env, tmp_path / "lotus.dev-implement-1", timeout=60)
    assert not run.timed_out, "the CLI should give up by itself"
    assert run.report.cls == OUTAGE, (run.report, run.log[-2000:])
    assert run.report.message == "Request timed out"
    assert run.seconds < 15 and len(mock.requests()) == 2


def test_an_agent_killed_while_the_api_hangs_is_an_outage(claude_cli, claude_mock, preset, tmp_path):
    from support.claude import finish_agent, launch_agent
    from support.waiting import wait_for

    mock = claude_mock("hang")
    agent = launch_agent(preset, mock, claude_env(mock, claude_cli, tmp_path / "home"),
                         tmp_path / "lotus.dev-implement-1")
    # Killed once it is really waiting on the API: its init line written and its request at the mock
    # (a fixed 3 s could end a CLI still starting on a loaded machine, before any JSON: no outage).
    wait_for(lambda: mock.requests() and '"subtype":"init"' in agent.log_path.read_text(errors="replace"), 60,
             "the CLI's init line and its request, left hanging by the mock")
    run = finish_agent(agent, timeout=0)  # at once: the group gets SIGTERM, as at a timeout
    assert run.timed_out
    assert run.report.cls == OUTAGE, (run.report, run.log[-2000:])


@pytest.mark.parametrize("scenario", ["500", "529"])
def test_server_errors_are_outages(claude_cli, claude_mock, preset, tmp_path, scenario):
    mock = claude_mock(scenario)
    run = run_agent(preset, mock, claude_env(mock, claude_cli, tmp_path / "home", extra=FAST),
                    tmp_path / "lotus.dev-implement-1")
    assert run.report.cls == OUTAGE, (run.report, run.log[-2000:])
    assert run.report.message.startswith("API Error: ")


def test_without_a_permission_mode_the_write_is_denied_and_it_is_no_output(claude_cli, claude_mock, preset, tmp_path):
    mock = claude_mock("ok")
    bare = type(preset)(name="", argv=tuple(a for a in preset.argv if a not in ("--permission-mode", "acceptEdits")),
                        env=preset.env, protocol=preset.protocol, config_dir=True)
    run = run_agent(bare, mock, claude_env(mock, claude_cli, tmp_path / "home"), tmp_path / "lotus.dev-implement-1")
    assert run.returncode == 0  # the CLI calls it a success...
    assert run.report.cls == NO_OUTPUT, (run.report, run.log[-2000:])  # ...smb does not
    assert run.report.permission_denials == 1
    assert run.report.message.startswith("permission denied: Write index.html")


def test_quota_utilization_is_reported_on_a_success(claude_cli, claude_mock, preset, tmp_path):
    mock = claude_mock("ok", "--utilization", "0.93", "--reset-in", "3600")
    run = run_agent(preset, mock, claude_env(mock, claude_cli, tmp_path / "home", auth="oauth"),
                    tmp_path / "lotus.dev-implement-1")
    assert run.report.cls == OK, (run.report, run.log[-2000:])
    assert run.report.quota_utilization == pytest.approx(0.93)
    assert run.report.limit == "session" and run.report.reset_at > time.time() + 3000


def test_the_cli_runs_where_only_loopback_exists(claude_mock):
    mock = claude_mock("ok")
    if not mock.isolated:
        pytest.skip("no network namespace here (not root): the mock still listens on 127.0.0.1 only")
    import subprocess

    links = subprocess.run(mock.wrap(["ip", "-o", "link"]), capture_output=True, text=True, timeout=10).stdout
    assert [line.split(":")[1].strip() for line in links.splitlines()] == ["lo"]


def test_live_activity_is_read_from_the_log_while_the_agent_works(claude_cli, claude_mock, preset, tmp_path):
    from support.claude import finish_agent, launch_agent
    from smbatcher.agents.outcome import AgentStream

    mock = claude_mock("ok", "--stream-delay", "0.15")  # a slow model: ~2 s per answer
    agent = launch_agent(preset, mock, claude_env(mock, claude_cli, tmp_path / "home"),
                         tmp_path / "lotus.dev-implement-1")
    stream, seen = AgentStream(), []
    deadline = time.monotonic() + 60
    while agent.proc.poll() is None and time.monotonic() < deadline:
        stream.read_new(agent.log_path)
        if not seen or seen[-1] != stream.snapshot():
            seen.append(stream.snapshot())
        time.sleep(0.05)
    run = finish_agent(agent)
    assert run.report.cls == OK, (run.report, run.log[-2000:])
    assert ("Write index.html", 1, 0.0) in seen, seen  # seen while the agent was still running
    stream.read_new(agent.log_path)
    assert stream.snapshot() == ("finished", 2, pytest.approx(run.report.cost_usd))
