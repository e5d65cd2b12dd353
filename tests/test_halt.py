"""A run whose agents all fail the same way ends soon and says why (issue 15): the halt policy.

Each case is a real `smb implement` on 40 sites with an agent that is misconfigured the same way on
every site; the run must end within seconds (not breaker cooldowns), exit 1, count no attempt and
leave no claim. A site that fails on its own among good ones must never halt the run.
"""

from __future__ import annotations

import json
import shlex
import sys
import time

import pytest

from support.agents import agent_cmd
from support.cli import explain, run_smb, smb_env
from support.registry import rows
from support.workspaces import make_sites, run_files

WRITES_IN_CWD = shlex.join(["sh", "-c", "echo '<html></html>' > index.html"])  # not into $SMB_OUTPUT
SAME_ERROR = shlex.join(["sh", "-c", "echo 'fatal: model config not found' >&2; exit 1"])
PARTIAL = shlex.join(["sh", "-c", 'echo "body {}" > "$SMB_OUTPUT/styles.css"'])  # a site without index.html


def halt_events(ws) -> list[dict]:
    lines = ws.events.read_text().splitlines() if ws.events.exists() else []
    return [e for e in map(json.loads, lines) if e.get("event") == "halt"]


@pytest.mark.parametrize("agent, reason", [
    (WRITES_IN_CWD, "no index.html"),
    (SAME_ERROR, "fatal: model config not found"),
    (PARTIAL, "no index.html"),
    ("true", "no index.html"),
])
def test_a_misconfigured_agent_halts_the_run_within_seconds_and_counts_nothing(workspace, agent, reason):
    make_sites(workspace, 40, implement=agent, max_agents=8, breaker_failures=5, breaker_cooldown="2m")
    started = time.monotonic()
    result = run_smb(workspace, "implement", "--batch", "001", timeout=120)
    took = time.monotonic() - started
    assert result.returncode == 1, explain(result)
    halt_line = next(line for line in result.stdout.splitlines() if line.startswith("halt: "))
    assert "5 of 5" in halt_line and reason in halt_line, halt_line
    assert took < 60, took  # a cooldown is 2 minutes: ending before one is the point (wide for CI load)
    table = rows(workspace)
    assert all(row.status == "D" and row.attempts == 0 and not row.get("owner") for row in table.values()), \
        result.stdout
    (record,) = run_files(workspace)
    assert record["halted"]["reason"] and record["halted"]["fix"] and record["ended"]
    (event,) = halt_events(workspace)
    assert reason in event["reason"]


def test_the_halt_line_names_the_likely_fix_for_an_agent_that_writes_nowhere(workspace):
    make_sites(workspace, 10, implement="true", max_agents=5)
    result = run_smb(workspace, "implement", "--batch", "001")
    assert result.returncode == 1, explain(result)
    assert "$SMB_OUTPUT" in result.stdout, result.stdout


def test_one_site_that_always_fails_among_good_ones_never_halts(workspace):
    names = make_sites(workspace, 30, implement=agent_cmd("fail_some"), max_agents=5, max_attempts=3)
    bad = names[0]
    result = run_smb(workspace, "implement", "--batch", "001", env=smb_env(FAIL_DOMAINS=bad), timeout=120)
    assert result.returncode == 1, explain(result)
    assert "halt:" not in result.stdout, result.stdout
    table = rows(workspace)
    assert table[bad].status == "X" and table[bad].attempts == 3, result.stdout
    assert sum(1 for row in table.values() if row.status == "I") == 29


def test_fail_percent_halts_after_that_share_of_the_sites_failed(workspace):
    make_sites(workspace, 20, implement=agent_cmd("fail_some"), max_agents=2, max_attempts=1)
    # Every site fails; a policy of fail=N% alone (no same=K) stops after that share.
    env = smb_env(FAIL_PATTERN="*")
    result = run_smb(workspace, "implement", "--batch", "001", "--halt", "soon,fail=25%", env=env, timeout=120)
    assert result.returncode == 1, explain(result)
    assert "halt: " in result.stdout and "fail=25%" in result.stdout, result.stdout
    parked = sum(1 for row in rows(workspace).values() if row.status == "X")
    assert 5 <= parked < 20, result.stdout


def test_halt_never_turns_the_policy_off(workspace):
    make_sites(workspace, 6, implement="true", max_agents=6, max_attempts=1)
    result = run_smb(workspace, "implement", "--batch", "001", "--halt", "never")
    assert result.returncode == 1, explain(result)
    assert "halt:" not in result.stdout
    assert all(row.status == "X" for row in rows(workspace).values())


def test_halt_now_stops_the_running_agents(workspace):
    # Five fail at once; the other agents sleep 60 s: "now" must not wait for them.
    agent = shlex.join([sys.executable, "-c",
                        "import os,sys,time\n"
                        "n=int(os.environ['SMB_DOMAIN'].split('-')[1].split('.')[0])\n"
                        "sys.exit(1) if n < 5 else time.sleep(60)"])
    make_sites(workspace, 8, implement=agent, max_agents=8, grace="1s")
    started = time.monotonic()
    result = run_smb(workspace, "implement", "--batch", "001", "--halt", "now,same=5", timeout=120)
    assert result.returncode == 1, explain(result)
    assert time.monotonic() - started < 40  # not the sleepers' 60 s
    assert "STOPPED" in result.stdout, result.stdout
    assert all(row.status == "D" and row.attempts == 0 for row in rows(workspace).values())


def test_a_bad_halt_policy_is_bad_usage_and_claims_nothing(workspace):
    make_sites(workspace, 3)
    before = workspace.registry.read_bytes()
    result = run_smb(workspace, "implement", "--batch", "001", "--halt", "sometimes")
    assert result.returncode == 2, explain(result)
    assert result.stderr.count("\n") == 1 and "--halt" in result.stderr
    assert workspace.registry.read_bytes() == before


def test_doctor_wave_failure_shows_the_halted_run_and_its_reason(workspace):
    make_sites(workspace, 10, implement="true", max_agents=5)
    run_smb(workspace, "implement", "--batch", "001")
    result = run_smb(workspace, "doctor", "--scenario", "wave-failure", "-v")
    assert "halted" in result.stdout and "no index.html" in result.stdout, explain(result)
