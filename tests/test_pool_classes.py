"""Real agents, unattended (issue 10): failure classes, the usage-limit hold, rate limits, auth stops,
cost and live activity, through `smb implement` with fake agents that print the real CLI's output
shapes (tests/agents/shapes/, recorded from Claude Code against tests/claude_mock/)."""

from __future__ import annotations

import json
import os
import sys
import time

import pytest

from smbatcher import holds
from support.agents import AGENTS, agent_cmd
from support.cli import collect, explain, run_smb, smb_env, start_smb
from support.registry import rows, statuses
from support.waiting import wait_for
from support.workspaces import events, make_sites, run_files

CLAUDE_BIN = str(AGENTS / "bin")


def claude_env(**extra) -> dict[str, str]:
    """`claude` on PATH is the recorded-shape fake; its python is the test's own."""
    env = smb_env(FAKE_PYTHON=sys.executable, **extra)
    env["PATH"] = CLAUDE_BIN + os.pathsep + env["PATH"]
    return env



def test_the_claude_preset_builds_sites_and_records_cost_turns_and_class(workspace):
    names = make_sites(workspace, 3, implement="claude")
    result = run_smb(workspace, "implement", "--batch", "001", env=claude_env(FAKE_SHAPE="success"))
    assert result.returncode == 0, explain(result)
    assert set(statuses(workspace).values()) == {"I"}
    for name in names:
        assert (workspace.site_dir(name) / "index.html").is_file()
    done = [e for e in events(workspace) if e.get("event") == "status" and e.get("to") == "I"]
    assert len(done) == 3
    assert all(e["class"] == "ok" and e["cost_usd"] > 0 and e["turns"] >= 1 and e["session"] for e in done), done
    (record,) = run_files(workspace)
    assert record["cost_usd"] == pytest.approx(sum(e["cost_usd"] for e in done))
    # The OK line shows what the site cost; status shows the batch's cost.
    assert all(f"OK {name} " in result.stdout and "$" in result.stdout for name in names), result.stdout
    status = run_smb(workspace, "status")
    assert "cost: batch 001 $" in status.stdout, explain(status)


def test_a_usage_limit_holds_the_pool_counts_no_attempt_and_resumes_after_the_reset(workspace):
    make_sites(workspace, 6, implement=agent_cmd("phases"), max_agents=3)
    reset = time.time() + 4
    result = run_smb(workspace, "implement", "--batch", "001",
                     env=claude_env(FAKE_PHASES=f"usage-limit@{reset},success"), timeout=90)
    assert result.returncode == 0, explain(result)
    assert "usage limit: held until" in result.stdout and "(session limit)" in result.stdout, result.stdout
    assert "launching one probe" in result.stdout and "hold ended" in result.stdout, result.stdout
    table = rows(workspace)
    assert {row.status for row in table.values()} == {"I"}, result.stdout
    assert all(row.attempts == 0 for row in table.values())
    # Nothing built before the reset; the first launch after it was a single probe.
    built = [e["ts"] for e in events(workspace) if e.get("event") == "status" and e.get("to") == "I"]
    assert min(built) >= reset, (min(built), reset)
    kinds = [e["event"] for e in events(workspace) if e.get("event") in ("hold", "hold-end")]
    assert kinds[0] == "hold" and kinds[-1] == "hold-end"
    assert holds.read(workspace) is None  # the hold file is gone once the probe got through
    limited = [e for e in events(workspace) if e.get("class") == "usage-limit"]
    assert limited and all(e["to"] == "D" for e in limited)


def test_a_hold_written_by_one_run_is_respected_by_the_next_and_released_by_hand(workspace):
    make_sites(workspace, 2)
    holds.write(workspace, holds.Hold(until=time.time() + 3600, limit="weekly", message="You've hit your weekly limit",
                                      source="test", since=time.time()))
    runner = start_smb(workspace, "implement", "--batch", "001")
    log = workspace.root / "logs/implement-001.log"
    wait_for(lambda: log.exists() and "held until" in log.read_text(), 30, "the run to report the hold")
    status = run_smb(workspace, "status")
    assert "held until" in status.stdout and "(weekly limit)" in status.stdout, explain(status)
    assert set(statuses(workspace).values()) == {"D"}  # nothing claimed while held
    released = run_smb(workspace, "hold", "--release")
    assert released.returncode == 0 and "released" in released.stdout, explain(released)
    result = collect(runner, timeout=60)
    assert result.returncode == 0, explain(result)
    assert set(statuses(workspace).values()) == {"I"}
    assert "hold released" in result.stdout, result.stdout


def test_a_hold_that_keeps_coming_back_stops_at_max_hold_with_exit_1(workspace):
    make_sites(workspace, 2, implement="claude", max_hold="2s")
    result = run_smb(workspace, "implement", "--batch", "001",
                     env=claude_env(FAKE_SHAPE="usage-limit", FAKE_RESET_IN="1"), timeout=60)
    assert result.returncode == 1, explain(result)
    assert "max_hold" in result.stdout, result.stdout
    assert all(row.attempts == 0 and row.status == "D" for row in rows(workspace).values())


def test_a_rate_limit_backs_off_without_counting_then_succeeds(workspace):
    names = make_sites(workspace, 2, implement=agent_cmd("phases"), max_agents=2, breaker_cooldown="1s")
    # The rate limit lasts until `until`, measured from before smb starts: the first agents must see it,
    # so the window covers smb's start-up and the agents' on a loaded 2-core CI machine (a few tenths of
    # a second when idle), not just an idle one's. Relaunches after each 1 s backoff meet it again.
    until = time.time() + 5
    result = run_smb(workspace, "implement", "--batch", "001",
                     env=claude_env(FAKE_PHASES=f"rate-limit@{until},success"), timeout=60)
    assert result.returncode == 0, explain(result)
    assert "rate limited" in result.stdout and "backing off" in result.stdout, result.stdout
    assert "(rate limited: not counted)" in result.stdout, result.stdout
    assert all(rows(workspace)[n].status == "I" and rows(workspace)[n].attempts == 0 for n in names)


def test_an_auth_failure_stops_the_run_at_once_and_parks_nothing(workspace):
    make_sites(workspace, 30, implement="claude", max_agents=3)
    started = time.monotonic()
    result = run_smb(workspace, "implement", "--batch", "001", env=claude_env(FAKE_SHAPE="auth"))
    took = time.monotonic() - started
    assert result.returncode == 1, explain(result)
    assert "cannot authenticate" in result.stdout and "Invalid API key" in result.stdout, result.stdout
    table = rows(workspace)
    assert all(row.status == "D" and row.attempts == 0 for row in table.values()), result.stdout
    launched = sum(1 for line in result.stdout.splitlines() if line.startswith(("FAIL", "STOPPED")))
    assert launched <= 3, result.stdout  # the first wave only: nothing launched after the verdict
    assert took < 60  # generous bound for a loaded CI machine; the point is "not one cooldown per site"
    assert any(e.get("event") == "auth" for e in events(workspace))


def test_permission_denials_are_no_output_counted_with_the_denied_write_in_the_note(workspace):
    (name,) = make_sites(workspace, 1, implement="claude", max_attempts=1)
    result = run_smb(workspace, "implement", "--batch", "001", env=claude_env(FAKE_SHAPE="permission-denied"))
    assert result.returncode == 1, explain(result)
    row = rows(workspace)[name]
    assert row.status == "X", result.stdout
    assert "permission denied" in row.get("note"), row.get("note")


def test_live_activity_reaches_the_run_record_while_the_agent_works(workspace):
    (name,) = make_sites(workspace, 1, implement="claude")
    runner = start_smb(workspace, "implement", "--batch", "001",
                       env=claude_env(FAKE_SHAPE="success", FAKE_LINE_DELAY="0.4"))

    def action():
        for record in run_files(workspace):
            for agent in record.get("agents", []):
                if agent.get("action"):
                    return agent
        return None

    agent = wait_for(action, 30, "a reported action in the run record")
    assert agent["domain"] == name and agent["turn"] >= 1
    result = collect(runner)
    assert result.returncode == 0, explain(result)


def test_notify_gets_one_json_event_on_stdin_when_the_breaker_opens(workspace, tmp_path):
    out = tmp_path / "notified.jsonl"
    notifier = tmp_path / "notify.py"
    notifier.write_text(f"import sys\nopen({str(out)!r}, 'a').write(sys.stdin.read())\n")
    make_sites(workspace, 4, implement=agent_cmd("fail"), breaker_failures=2, breaker_cooldown="30s")
    with workspace.config_file.open("a") as handle:
        handle.write(f'\n[notify]\ncommand = "{sys.executable} {notifier}"\n')
    runner = start_smb(workspace, "implement", "--batch", "001")
    wait_for(lambda: out.exists() and "breaker-open" in out.read_text(), 30, "the breaker-open notification")
    runner.terminate()
    collect(runner)
    event = json.loads(out.read_text().splitlines()[0])
    assert event["event"] == "breaker-open" and "consecutive failures" in event["reason"]


def test_max_cost_total_stops_launching_once_reached(workspace):
    make_sites(workspace, 10, implement="claude", max_agents=1, max_cost_total=0.01)
    result = run_smb(workspace, "implement", "--batch", "001", env=claude_env(FAKE_SHAPE="success"))
    assert result.returncode == 1, explain(result)
    assert "max_cost_total" in result.stdout, result.stdout
    built = sum(1 for s in statuses(workspace).values() if s == "I")
    assert 1 <= built < 10


def test_report_groups_the_nights_failures_by_class_and_message(workspace):
    make_sites(workspace, 3, implement="claude", max_agents=3, halt="never", breaker_failures=2, max_attempts=1)
    run_smb(workspace, "implement", "--batch", "001", env=claude_env(FAKE_SHAPE="outage"))
    report = run_smb(workspace, "report", "--since", "1h")
    assert report.returncode == 0, explain(report)
    assert "outage" in report.stdout and "API Error: 500" in report.stdout, report.stdout
    data = json.loads(run_smb(workspace, "report", "--since", "1h", "--json").stdout)
    assert data["failures"][0]["class"] == "outage" and data["failures"][0]["count"] >= 3


def test_agents_prints_what_the_claude_preset_expands_to(workspace):
    result = run_smb(workspace, "agents")
    assert result.returncode == 0, explain(result)
    assert "claude -p --output-format stream-json --verbose --permission-mode acceptEdits" in result.stdout
    assert "CLAUDE_CODE_MAX_RETRIES" in result.stdout and "API_TIMEOUT_MS" in result.stdout


def test_a_night_in_fast_time_builds_everything_or_says_why(workspace):
    """200 sites: a usage limit that resets, an outage, then good service; every site ends I or carries
    a classified reason, attempts burned stay under the breaker threshold plus probes, nothing parked
    because of a limit."""
    names = make_sites(workspace, 200, implement=agent_cmd("phases"), max_agents=25, breaker_failures=5,
                       breaker_cooldown="1s", max_attempts=3)
    now = time.time()
    phases = f"success@{now + 1},usage-limit@{now + 4},outage@{now + 6},success"
    result = run_smb(workspace, "implement", "--batch", "001",
                     env=claude_env(FAKE_PHASES=phases, FAKE_LINE_DELAY="0.02"), timeout=300)
    table = rows(workspace)
    assert result.returncode in (0, 1), explain(result)
    assert all(row.status == "I" or row.get("note") for row in table.values())
    parked = [row for row in table.values() if row.status == "X"]
    assert not parked, [row.get("note") for row in parked]
    burned = sum(row.attempts for row in table.values())
    probes = result.stdout.count("launching one probe")
    assert burned <= 5 + probes + 25, (burned, probes)  # breaker threshold + probes (+ the wave in flight)
    assert sum(1 for row in table.values() if row.status == "I") == len(names), result.stdout[-3000:]


def test_a_breaker_reset_requested_from_the_dashboard_closes_it_in_the_running_pool(workspace):
    from smbatcher.runs import request_breaker_reset

    make_sites(workspace, 6, implement=agent_cmd("fail"), breaker_failures=2, breaker_cooldown="10m", max_agents=2)
    runner = start_smb(workspace, "implement", "--batch", "001")
    log = workspace.root / "logs/implement-001.log"
    wait_for(lambda: log.exists() and "breaker open" in log.read_text(), 30, "the breaker to open")
    (record,) = run_files(workspace)
    request_breaker_reset(workspace, record["run_id"])
    wait_for(lambda: "breaker closed by hand" in log.read_text(), 30, "the run to take the reset")
    runner.terminate()
    collect(runner)


def test_notify_says_when_a_batch_completes(workspace, tmp_path):
    out = tmp_path / "notified.jsonl"
    notifier = tmp_path / "notify.py"
    notifier.write_text(f"import sys\nopen({str(out)!r}, 'a').write(sys.stdin.read())\n")
    make_sites(workspace, 3)
    with workspace.config_file.open("a") as handle:
        handle.write(f'\n[notify]\ncommand = "{sys.executable} {notifier}"\n')
    result = run_smb(workspace, "implement", "--batch", "001")
    assert result.returncode == 0, explain(result)
    wait_for(lambda: out.exists() and "batch-complete" in out.read_text(), 30, "the batch-complete notification")
    event = json.loads(out.read_text().splitlines()[-1])
    assert event["batch"] == "001" and event["phase"] == "implement" and event["ok"] == 3


def test_quota_budget_holds_before_the_wall_when_the_agent_reports_its_utilization(workspace):
    # The recorded shape reports 93% of the five-hour quota used, on a success.
    make_sites(workspace, 4, implement="claude", max_agents=1, quota_budget=0.9)
    runner = start_smb(workspace, "implement", "--batch", "001",
                       env=claude_env(FAKE_SHAPE="quota-warning", FAKE_RESET_IN="3600"))
    log = workspace.root / "logs/implement-001.log"
    wait_for(lambda: log.exists() and "(quota budget)" in log.read_text(), 30, "a hold on the quota budget")
    hold = holds.read(workspace)
    assert hold is not None and hold.limit == "quota" and hold.until > time.time() + 3000
    # The attempt that reported the utilization was a success and counts as one (its row is
    # written in the same loop turn as the hold, just after the hold's log line).
    wait_for(lambda: any(s == "I" for s in statuses(workspace).values()), 10, "the reporting attempt recorded as I")
    runner.terminate()
    collect(runner)
    assert sum(1 for s in statuses(workspace).values() if s == "I") < 4  # nothing launched after the hold
