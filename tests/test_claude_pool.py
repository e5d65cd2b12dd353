"""Whole `smb implement --agent claude` runs with the real Claude Code CLI against the mock API (issue 10).

test_pool_classes.py drives the pool with fakes that print recorded output shapes; these run the
real CLI (installed from npm on first use, skipped with the reason only when npm cannot install
it) and let smb launch, follow, classify and account for it end to end. smb runs inside the mock's
network namespace (tests/support/claude.py), so it and every agent it starts see loopback only.
Each case is a few sites and a few seconds: the preset's CLAUDE_CODE_MAX_RETRIES/API_TIMEOUT_MS
are shortened through smb's environment, which is also how an operator tunes them.
"""

from __future__ import annotations

import json
import time

import pytest

from smbatcher import holds
from support.claude import run_smb_in, smb_claude_env
from support.cli import explain
from support.registry import rows
from support.workspaces import attempt_results, events, make_sites, run_files

IMPLEMENT = ("implement", "--batch", "001", "--agent", "claude")





def test_a_run_builds_its_sites_with_the_real_cli_and_records_the_cost(claude_cli, claude_mock, workspace,
                                                                       tmp_path):
    names = make_sites(workspace, 2, implement="claude", max_agents=2)
    mock = claude_mock("ok")
    result = run_smb_in(mock, workspace, *IMPLEMENT, env=smb_claude_env(mock, claude_cli, tmp_path))
    assert result.returncode == 0, explain(result)
    table = rows(workspace)
    for name in names:
        assert table[name].status == "I" and table[name].attempts == 0, explain(result)
        assert "Hello from the mock model" in (workspace.site_dir(name) / "index.html").read_text()
        assert f"OK {name} " in result.stdout and "$" in result.stdout, result.stdout
    done = [e for e in attempt_results(workspace) if e.get("to") == "I"]
    assert sorted(e["domain"] for e in done) == names
    assert all(e["class"] == "ok" and e["cost_usd"] > 0 and e["turns"] == 2 and e["session"]
               and e["message"] == "done" for e in done), done
    (record,) = run_files(workspace)
    assert record["cost_usd"] == pytest.approx(sum(e["cost_usd"] for e in done))
    assert len(mock.requests()) == 4  # two turns per site, nothing else (no title, no retries)


@pytest.mark.slow
def test_a_usage_limit_holds_the_run_counts_nothing_and_one_probe_resumes_it(claude_cli, claude_mock, workspace,
                                                                            tmp_path):
    names = make_sites(workspace, 2, implement="claude", max_agents=2)
    # The limit resets 8-9 s after the CLI's first request; after the reset the mock answers like ok.
    # Both agents start together, but both first attempts must meet it and their results be recorded
    # before the reset (asserted below): the window covers one CLI starting, refused and exiting
    # seconds after the other on a loaded 2-core CI machine, not only the idle case (a fraction of one).
    mock = claude_mock("usage-limit", "--reset-after", "8")
    # Subscriber mode: the only one in which the CLI reads the usage-limit headers (FINDINGS.md).
    result = run_smb_in(mock, workspace, *IMPLEMENT, env=smb_claude_env(mock, claude_cli, tmp_path, auth="oauth"))
    assert result.returncode == 0, explain(result)
    (reset,) = {r["reset"] for r in mock.requests() if "reset" in r}
    assert "usage limit: held until" in result.stdout and "(session limit)" in result.stdout, result.stdout
    assert "launching one probe" in result.stdout and "hold ended" in result.stdout, result.stdout
    table = rows(workspace)
    assert all(table[n].status == "I" and table[n].attempts == 0 for n in names), explain(result)
    assert all((workspace.site_dir(n) / "index.html").is_file() for n in names)
    log = events(workspace)
    holds_seen = [e for e in log if e.get("event") in ("hold", "hold-end")]
    assert holds_seen and holds_seen[0]["event"] == "hold" and holds_seen[-1]["event"] == "hold-end", holds_seen
    assert holds_seen[0]["until"] == reset and holds_seen[0]["limit"] == "session", holds_seen[0]
    limited = [e for e in log if e.get("class") == "usage-limit"]
    assert len(limited) == 2 and all(e["to"] == "D" and e["ts"] < reset for e in limited), limited
    # Nothing built before the reset; after it, one probe alone, then the other site.
    built = sorted(e["ts"] for e in log if e.get("event") == "status" and e.get("to") == "I")
    assert len(built) == 2 and built[0] >= reset, (built, reset)
    claims_after = sorted(e["ts"] for e in log if e.get("event") == "status" and e.get("to") == "i"
                          and e["ts"] >= reset)
    assert len(claims_after) == 2 and claims_after[1] >= built[0], (claims_after, built)
    assert holds.read(workspace) is None  # the hold file is gone once the probe got through
    # The CLI does not retry a usage limit: one refused request per first attempt, then 2 turns per site.
    answers = [r["answer"] for r in mock.requests()]
    assert answers.count("429 rate_limit_error") == 2 and len(answers) == 6, answers


def test_a_transient_429_backs_off_without_counting_then_builds(claude_cli, claude_mock, workspace, tmp_path):
    names = make_sites(workspace, 2, implement="claude", max_agents=2, breaker_cooldown="1s")
    # With CLAUDE_CODE_MAX_RETRIES=1 each first attempt sends 2 requests, both refused: the CLI gives
    # up with a 429 (rate-limited), smb backs off (at most breaker_cooldown) and relaunches.
    mock = claude_mock("429", "--retry-after", "1", "--fail-first", "4")
    result = run_smb_in(mock, workspace, *IMPLEMENT, env=smb_claude_env(mock, claude_cli, tmp_path))
    assert result.returncode == 0, explain(result)
    assert "backing off" in result.stdout and "(rate limited: not counted)" in result.stdout, result.stdout
    table = rows(workspace)
    assert all(table[n].status == "I" and table[n].attempts == 0 for n in names), explain(result)
    limited = [e for e in attempt_results(workspace) if e["class"] == "rate-limited"]
    assert limited and all(e["to"] == "D" and "(429)" in e["message"] for e in limited), limited
    assert sum(r["answer"] == "429 rate_limit_error" for r in mock.requests()) == 4


def test_a_401_stops_the_run_at_once_with_exit_1_and_parks_nothing(claude_cli, claude_mock, workspace, tmp_path):
    names = make_sites(workspace, 6, implement="claude", max_agents=2)
    mock = claude_mock("401")
    started = time.monotonic()
    result = run_smb_in(mock, workspace, *IMPLEMENT, env=smb_claude_env(mock, claude_cli, tmp_path), timeout=60)
    took = time.monotonic() - started
    assert result.returncode == 1, explain(result)
    assert "cannot authenticate" in result.stdout and "Invalid API key" in result.stdout, result.stdout
    table = rows(workspace)
    assert all(table[n].status == "D" and table[n].attempts == 0 for n in names), explain(result)
    assert not list(workspace.root.glob("sites/*/index.html"))
    launched = [line for line in result.stdout.splitlines() if line.startswith(("FAIL", "STOPPED"))]
    assert 1 <= len(launched) <= 2, result.stdout  # the first wave only: nothing launched after the verdict
    assert any(e.get("event") == "auth" for e in events(workspace))
    assert took < 30, (took, result.stdout)  # seconds, not one retry budget per site
    # The stop line quotes the agent's own words, as the FAIL line does, not smb's "exit=1: ..." wrapper
    # (loop.py tests `if outcome.report`, and an AgentReport is falsy unless its class is ok).
    assert "cannot authenticate: Invalid API key" in result.stdout, result.stdout


def test_a_hanging_api_is_bounded_by_the_presets_timeouts_not_by_smb(claude_cli, claude_mock, workspace, tmp_path):
    names = make_sites(workspace, 2, implement="claude", max_agents=2)
    # The first attempts' requests (each agent's first and its one retry) are never answered; then
    # the API is back. Each attempt must end by the CLI's own API_TIMEOUT_MS x (retries + 1), with
    # its "Request timed out", long before smb's --timeout would kill it without a word.
    mock = claude_mock("hang", "--fail-first", "4")
    env = smb_claude_env(mock, claude_cli, tmp_path, API_TIMEOUT_MS="1500", CLAUDE_CODE_MAX_RETRIES="1")
    result = run_smb_in(mock, workspace, *IMPLEMENT, "--timeout", "90s", env=env)
    assert result.returncode == 0, explain(result)
    fails = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert len(fails) == 2 and all("(outage: Request timed out)" in line and " timeout " not in line
                                   for line in fails), result.stdout
    outages = [e for e in attempt_results(workspace) if e["class"] == "outage"]
    assert len(outages) == 2 and all(e["message"] == "Request timed out" and e["seconds"] < 30 and e["to"] == "D"
                                     for e in outages), outages
    table = rows(workspace)
    assert all(table[n].status == "I" and table[n].attempts == 0 for n in names), explain(result)
    hung = [r for r in mock.requests() if r["answer"].startswith("hang")]
    assert len(hung) == 4  # per agent: its request and its one retry, each abandoned by the CLI at 1.5 s


def test_an_outage_does_not_park_a_site_before_the_breaker_trips(claude_cli, claude_mock, workspace, tmp_path):
    """Outages are the breaker's business (pool/results.py: only site and no-output count against a
    site's attempts): a small batch, whose sites reach max_attempts before breaker_failures
    consecutive failures, must not be parked by an API that failed for a moment."""
    (name,) = make_sites(workspace, 1, implement="claude", max_attempts=1, breaker_failures=5,
                         breaker_cooldown="1s")
    mock = claude_mock("500", "--fail-first", "2")  # the first attempt's request and its retry fail, then ok
    result = run_smb_in(mock, workspace, *IMPLEMENT, env=smb_claude_env(mock, claude_cli, tmp_path))
    outages = [e for e in attempt_results(workspace) if e["class"] == "outage"]
    assert outages and outages[0]["message"].startswith("API Error: 500"), outages
    assert "parked as X" not in result.stdout, result.stdout
    row = rows(workspace)[name]
    assert row.status == "I" and row.attempts == 0, explain(result)
    assert result.returncode == 0, explain(result)


def test_the_lean_preset_keeps_every_request_under_16_kb_and_still_builds_the_sites(claude_cli, claude_mock,
                                                                                    workspace, tmp_path):
    """Issue 20: four tools instead of 24, and the per-agent sections out of the system prompt."""
    names = make_sites(workspace, 2, implement="claude", max_agents=2)
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    mock = claude_mock("ok", "--steps", "3", "--dump-dir", str(dumps))  # three turns that write a file each
    result = run_smb_in(mock, workspace, *IMPLEMENT, env=smb_claude_env(mock, claude_cli, tmp_path))
    assert result.returncode == 0, explain(result)
    assert all(rows(workspace)[name].status == "I" for name in names), explain(result)
    agent_requests = [r for r in mock.requests() if "Write" in (r.get("tools") or [])]
    assert len(agent_requests) == 8  # 2 sites x (3 writes + the final answer)
    assert sorted(agent_requests[0]["tools"]) == ["Edit", "Glob", "Read", "Write"]
    sizes = [r["body_bytes"] for r in agent_requests]
    assert max(sizes) <= 16 * 1024, sizes
    # One system prompt for every agent: no staging folder in it (it moved to the first message).
    systems = {json.dumps(json.loads(p.read_text()).get("system")) for p in sorted(dumps.glob("req_*.json"))
               if "Write" in p.read_text()}
    assert len(systems) == 1 and str(workspace.tmp) not in systems.pop()


@pytest.mark.parametrize("cap", [{"max_turns": 1}, {"max_cost_per_site": 0.005}])
def test_a_cap_the_cli_ran_out_of_parks_the_site_as_budget_without_opening_the_breaker(claude_cli, claude_mock,
                                                                                       workspace, tmp_path, cap):
    """Issue 20: [agents] max_turns -> --max-turns, max_cost_per_site -> --max-budget-usd (what is left)."""
    names = make_sites(workspace, 2, implement="claude", max_agents=2, breaker_failures=1, **cap)
    mock = claude_mock("ok", "--steps", "3")
    result = run_smb_in(mock, workspace, *IMPLEMENT, env=smb_claude_env(mock, claude_cli, tmp_path))
    assert result.returncode == 1, explain(result)
    table = rows(workspace)
    for name in names:
        assert table[name].status == "X", explain(result)
        assert table[name].get("note").startswith("implement: budget: Reached maximum"), table[name].get("note")
    assert "breaker" not in result.stdout and "halt" not in result.stdout, explain(result)
    assert [e["class"] for e in attempt_results(workspace)] == ["budget", "budget"]
