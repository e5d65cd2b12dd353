"""Signals to a real runner: SIGTERM/SIGINT/SIGHUP stop it cleanly, SIGKILL is recovered by the next run,
nohup survives a hang-up, cron (no terminal, no stdin, a bare environment) works."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest
from support.agents import BIN, agent_cmd, marker_lines, tagged
from support.cli import collect, explain, run_smb, smb_argv, smb_env, start_smb
from support.registry import rows, statuses
from support.waiting import wait_for
from support.workspaces import make_sites, run_files

GRACE = 1.0
SURVIVOR_GRACE = 5.0  # test_sigkill_...: long enough that "one grace each" cannot pass for "one grace"


def _claims_returned(ws, names) -> None:
    table = rows(ws)
    got = {n: (table[n].status, table[n].attempts, table[n].get("owner")) for n in names}
    assert got == {n: ("D", 0, "") for n in names}  # back where they were, no attempt counted


def _started(path, count: int, event: str = "start"):
    return lambda: len([line for line in marker_lines(path) if line[0] == event]) >= count


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130), (signal.SIGHUP, 143)],
                         ids=["SIGTERM", "SIGINT", "SIGHUP"])
def test_signal_stops_the_run_returns_claims_and_leaves_no_orphan(workspace, tag, runners, sig, code):
    # The stubborn agent ignores SIGTERM, and so do its grandchildren (one in its group, two escaped):
    # only the SIGKILL after the grace ends them.
    names = make_sites(workspace, 3, implement=agent_cmd("grandchildren"), grace=f"{GRACE}s", max_agents=3)
    pids = workspace.root / "pids.txt"
    runner = start_smb(workspace, "implement", "--batch", "001", env=smb_env(FAKE_TAG=tag, FAKE_PIDS=str(pids)))
    runners.append(runner)

    def families_ready():
        lines = pids.read_text().splitlines() if pids.exists() else []
        return len(lines) == 3 * 4

    wait_for(families_ready, 30, "three agents and their descendants")
    wait_for(lambda: len(run_files(workspace)[0]["agents"]) == 3, 10, "the run file to list the agents")
    assert len(tagged(tag)) == 12
    runner.send_signal(sig)
    sent = time.monotonic()
    # SIGTERM, the grace, then SIGKILL: the agents (which ignore SIGTERM and would live forever) are gone
    # a little after GRACE. The margin over GRACE is wide because a loaded 2-core CI machine may take
    # seconds to schedule the runner's kill sweep; it still fails a runner that never sends SIGKILL.
    wait_for(lambda: tagged(tag) == [], GRACE + 5, f"no process of the agents within grace + 5 s of {sig.name}")
    result = collect(runner, timeout=30)
    out = result.stdout
    assert result.returncode == code, explain(result)
    # Once its agents are gone the runner exits; wide for the same loaded machine (collect's 30 s ends it anyway).
    assert time.monotonic() - sent < GRACE + 20
    _claims_returned(workspace, names)
    assert out.count("STOPPED ") == 3, out
    name = "SIGTERM" if sig == signal.SIGHUP else sig.name
    assert f"{name} received: stopping 3 agents" in out
    assert out.strip().splitlines()[-1].endswith(f"exit {code}"), out
    (record,) = run_files(workspace)
    assert record["exit_code"] == code and record["ended"] and record["agents"] == []


def test_a_second_sigint_kills_at_once(workspace, tag, runners):
    names = make_sites(workspace, 2, implement=agent_cmd("grandchildren"), grace="60s")
    pids = workspace.root / "pids.txt"
    runner = start_smb(workspace, "implement", "--batch", "001", env=smb_env(FAKE_TAG=tag, FAKE_PIDS=str(pids)))
    runners.append(runner)
    wait_for(lambda: pids.exists() and len(pids.read_text().splitlines()) == 8, 30, "the agents' families")
    runner.send_signal(signal.SIGINT)
    log = workspace.root / "logs/implement-001.log"
    wait_for(lambda: "SIGINT received" in log.read_text(), 10, "the first SIGINT to be handled")
    runner.send_signal(signal.SIGINT)
    result = collect(runner, timeout=30)  # far less than the 60 s grace
    assert result.returncode == 130, explain(result)
    wait_for(lambda: tagged(tag) == [], 5, "no agent left")
    _claims_returned(workspace, names)


def test_sigkill_to_the_runner_then_the_next_run_reclaims_and_finishes(workspace, tag, runners):
    names = make_sites(workspace, 8, max_agents=4, grace=f"{SURVIVOR_GRACE}s")
    marker = workspace.root / "marker.txt"
    # The first run's agents are slow (they are still working when it dies); the second run's are quick.
    first = start_smb(workspace, "implement", "--batch", "001",
                      env=smb_env(FAKE_TAG=tag, FAKE_MARKER=str(marker), FAKE_SLEEP="30"))
    runners.append(first)
    wait_for(_started(marker, 4), 30, "four agents to start")
    wait_for(lambda: len(run_files(workspace)[0]["agents"]) == 4, 10, "the run file to list the agents")
    first.kill()
    first.wait()
    dead_agents = {line[2] for line in marker_lines(marker)}
    assert len(tagged(tag)) == 4  # orphaned, still working on their sites
    assert sum(1 for s in statuses(workspace).values() if s == "i") == 4

    began = time.monotonic()
    second = run_smb(workspace, "implement", "--batch", "001",
                     env=smb_env(FAKE_TAG=tag, FAKE_MARKER=str(marker), FAKE_SLEEP="0.1"))
    # The four survivors are stopped together within one grace, not one grace each. The grace is long
    # (5 s) so the two differ by 15 s: the whole second run (start-up, reclaim, eight quick agents) takes
    # a few seconds even on a loaded 2-core CI machine, and stopping in series would take 20 s or more.
    assert time.monotonic() - began < 4 * SURVIVOR_GRACE, second.stdout
    assert second.returncode == 0, explain(second)
    assert "reclaimed 4 stale claims" in second.stdout
    assert len(re.findall(r"^stopped agent pid (\d+) of dead run", second.stdout, re.M)) == 4, second.stdout
    assert set(statuses(workspace).values()) == {"I"}
    assert all(rows(workspace)[n].attempts == 0 for n in names)
    assert tagged(tag) == []
    # Never two agents on one site at once: each dead agent ended (SIGTERM) before its site ran again.
    spans: dict[str, list[tuple[float, float, int]]] = {}
    opened: dict[int, tuple[str, float]] = {}
    for event, domain, pid, when in marker_lines(marker):
        if event == "start":
            opened[pid] = (domain, when)
        else:
            domain, began = opened.pop(pid)
            spans.setdefault(domain, []).append((began, when, pid))
    assert not opened, f"agents with no end: {opened}"
    assert {pid for spans_ in spans.values() for _, _, pid in spans_ if pid in dead_agents} == dead_agents
    for domain, intervals in spans.items():
        intervals.sort()
        for (_, end, _), (start, _, _) in zip(intervals, intervals[1:]):
            assert end <= start, f"{domain} had two agents at once: {intervals}"


@pytest.mark.parametrize("stdin", ["devnull", "closed"])
def test_cron_bare_environment_no_terminal_no_stdin(workspace, tmp_path, stdin):
    names = make_sites(workspace, 4, max_agents=2)
    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(home)}  # what cron gives: no TERM, no LANG, no SMB_*
    result = subprocess.run(["/usr/bin/env", "-i", *[f"{k}={v}" for k, v in env.items()],
                             *smb_argv(workspace, "implement", "--batch", "001")],
                            cwd="/", stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=90,
                            start_new_session=True,  # no controlling terminal
                            preexec_fn=(lambda: os.close(0)) if stdin == "closed" else None)
    assert result.returncode == 0, explain(result)
    assert "\x1b[" not in result.stdout and result.stderr == ""
    lines = result.stdout.splitlines()
    assert sorted(re.findall(r"^OK (\S+) \d+\.\d+s$", result.stdout, re.M)) == names, result.stdout
    assert lines[-1].startswith("implement batch 001: 4 ok, 0 failed, 0 parked")
    assert set(statuses(workspace).values()) == {"I"}


def test_nohup_run_survives_sighup_and_finishes(workspace, runners):
    names = make_sites(workspace, 8, max_agents=2)
    marker = workspace.root / "marker.txt"
    gate = workspace.root / "gate"
    # The first agents wait for the gate, opened only after the hang-up: the sites left (8 sites, 2 at a
    # time) are launched after it whatever the machine's speed (a sleep per agent could let a loaded
    # machine's runner launch them all before this test got to send the SIGHUP).
    runner = start_smb(workspace, "implement", "--batch", "001", prefix=["nohup"],
                       env=smb_env(FAKE_MARKER=str(marker), FAKE_SLEEP="0.3", FAKE_GATE=str(gate)))
    runners.append(runner)
    wait_for(_started(marker, 1), 30, "the first agent")
    hung_up = time.time()
    os.kill(runner.pid, signal.SIGHUP)  # nohup exec'd the runner: same pid
    gate.touch()
    result = collect(runner, timeout=60)
    out = result.stdout
    assert result.returncode == 0, explain(result)
    assert set(statuses(workspace).values()) == {"I"}
    assert sorted(re.findall(r"^OK (\S+)", out, re.M)) == names
    assert any(event == "start" and when > hung_up for event, _, _, when in marker_lines(marker)), \
        "the run should have kept launching after the hang-up"


def test_sigterm_during_a_run_with_quick_agents_loses_no_row(workspace, runners):
    """Stopped between launches and results: every site ends built or back at D, none left claimed."""
    names = make_sites(workspace, 40, max_agents=8)
    marker = workspace.root / "marker.txt"
    runner = start_smb(workspace, "implement", "--batch", "001", env=smb_env(FAKE_MARKER=str(marker),
                                                                             FAKE_SLEEP="0.05"))
    runners.append(runner)
    wait_for(_started(marker, 12), 30, "a dozen agents")
    runner.send_signal(signal.SIGTERM)
    result = collect(runner, timeout=30)
    out = result.stdout
    assert result.returncode == 143, explain(result)
    table = rows(workspace)
    assert len(table) == 40 and {r.status for r in table.values()} <= {"D", "I"}
    built = {n for n in names if table[n].status == "I"}
    assert built == set(re.findall(r"^OK (\S+)", out, re.M))
    assert all((workspace.site_dir(n) / "index.html").is_file() for n in built)
    assert all(table[n].attempts == 0 and table[n].get("owner") == "" for n in names)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
