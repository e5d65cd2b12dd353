"""Agents that never hold a slot for nothing (issue 20): reaped at their result, stopped when silent.

Real processes through `smb implement`; deadlines, not sleeps (support.waiting).
"""

from __future__ import annotations

import time

from support.agents import agent_cmd, tagged
from support.cli import explain, run_smb, smb_env
from support.registry import rows, statuses
from support.workspaces import make_sites


def test_an_agent_that_prints_its_result_and_hangs_is_reaped_within_seconds_and_its_site_built(workspace, tag):
    (name,) = make_sites(workspace, 1, implement=agent_cmd("result_then_hang"), timeout="5m")
    started = time.monotonic()
    result = run_smb(workspace, "implement", "--batch", "1", env=smb_env(FAKE_TAG=tag))
    took = time.monotonic() - started
    assert result.returncode == 0, explain(result)
    assert took < 60, f"a hung agent held its slot {took:.0f}s; reaping should take seconds\n{explain(result)}"
    assert statuses(workspace) == {name: "I"}
    assert rows(workspace)[name].attempts == 0  # a success: nothing counted
    assert f"reaped {name}: it printed its result and did not exit" in result.stdout, explain(result)
    assert f"OK {name} " in result.stdout and "$0.25" in result.stdout
    log = (workspace.root / f"logs/sites/{name}/implement-1.log").read_text()
    assert "[smb] reaped: the agent printed its result" in log
    assert log.rstrip().splitlines()[-1].startswith(f"=== smb end {name} attempt 1: ok")
    assert "<h1>" in (workspace.site_dir(name) / "index.html").read_text()
    assert tagged(tag) == [], [p.cmdline() for p in tagged(tag)]  # the agent and the child it started


def test_a_silent_agent_is_stopped_after_stall_timeout_uncounted_and_the_next_launch_builds_the_site(workspace, tag):
    (name,) = make_sites(workspace, 1, implement=agent_cmd("stall_once"), timeout="5m", stall_timeout="2s")
    result = run_smb(workspace, "implement", "--batch", "1", env=smb_env(FAKE_TAG=tag))
    assert result.returncode == 0, explain(result)
    assert f"stalled {name}: no output for 2s: stopping its group" in result.stdout, explain(result)
    fail = next(line for line in result.stdout.splitlines() if line.startswith(f"FAIL {name}"))
    assert "stalled: no output for 2s" in fail and "(first stall: not counted)" in fail, fail
    assert statuses(workspace) == {name: "I"}
    assert (workspace.root / f"stalled-{name}").exists()  # the first launch did stall
    assert tagged(tag) == []


def test_a_site_that_stalls_twice_has_the_second_stall_counted(workspace, tag):
    (name,) = make_sites(workspace, 1, implement=agent_cmd("hang"), timeout="5m", stall_timeout="1s",
                         max_attempts=1)
    result = run_smb(workspace, "implement", "--batch", "1", env=smb_env(FAKE_TAG=tag))
    assert result.returncode == 1, explain(result)
    fails = [line for line in result.stdout.splitlines() if line.startswith(f"FAIL {name}")]
    assert len(fails) == 2, explain(result)
    assert "(first stall: not counted)" in fails[0]
    assert fails[1].endswith("parked as X") or " parked as X" in fails[1], fails[1]
    assert statuses(workspace) == {name: "X"}
    assert "stalled: no output for 1s" in rows(workspace)[name].get("note")
    assert tagged(tag) == []


def test_the_stall_flag_overrides_the_config_and_zero_turns_the_watchdog_off(workspace, tag):
    (name,) = make_sites(workspace, 1, implement=agent_cmd("hang"), timeout="3s", stall_timeout="1s",
                         max_attempts=1)
    result = run_smb(workspace, "implement", "--batch", "1", "--stall-timeout", "0", env=smb_env(FAKE_TAG=tag))
    assert result.returncode == 1, explain(result)
    assert "stalled" not in result.stdout and f"timeout {name} after 3s" in result.stdout, explain(result)
