"""``smb doctor`` (issue 5): every runbook scenario made real (real processes, real files), not mocked."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support.cli import explain, invoke, run_smb, smb_env
from support.net import closed_port
from support.processes import (create_time, dead_process_identity, kill_orphan, orphan_sleeper, start_sleeper,
                               stop)
from support.registry import domains, row_dicts, row_line, statuses
from support.waiting import wait_for
from support.workspaces import build_site, make_workspace, write_run

from smbatcher.doctor import SCENARIOS
from smbatcher.registry import new_registry_text, parse
from smbatcher.runs import process_alive
from smbatcher.units import utc_stamp as utc_now

LABELS = ("ISSUE", "IMPACT", "SEVERITY", "TIME SINCE OCCURRENCE", "ATTEMPTED FIXES", "CURRENT STATE",
          "SYSTEM HEALTH", "ATTACHMENT")
CHECK_KEYS = {"scenario", "status", "summary", "findings", "fix", "fixed", "duration_ms"}


def doctor(root: Path, *args: str, env: dict | None = None, codes=(0, 1)) -> tuple[int, dict]:
    result = invoke(root, "doctor", *args, "--json", env=env)
    assert result.exit_code in codes, explain(result)
    return result.exit_code, json.loads(result.stdout)


def check_of(data: dict, scenario: str) -> dict:
    return next(c for c in data["checks"] if c["scenario"] == scenario)


@pytest.fixture
def processes():
    """Every process a test starts is stopped at its end, by its own handle (never by name)."""
    started: list[subprocess.Popen] = []
    yield started
    for proc in started:
        stop(proc)


# -- wave-failure -------------------------------------------------------------------------------------


def test_wave_failure_returns_a_dead_runs_claims_and_never_touches_a_live_run(tmp_path, processes):
    ws = make_workspace(tmp_path / "ws", {"001": [(d, "D") for d in domains(7)]},
                        config='[agents]\ngrace = "2s"\n')
    names = domains(7)
    dead_pid, dead_ctime = dead_process_identity()  # started, killed, reaped: really gone
    survivor_pid, survivor_ctime = orphan_sleeper()
    live = start_sleeper(60)
    live_agent = start_sleeper(60)
    processes += [live, live_agent]
    now = time.time()
    write_run(ws, "implement-001-dead", dead_pid, dead_ctime, wave=1,
              agents=[{"domain": names[0], "pid": survivor_pid, "create_time": survivor_ctime, "attempt": 1,
                       "started": now}])
    write_run(ws, "implement-001-live", live.pid, create_time(live.pid),
              agents=[{"domain": names[3], "pid": live_agent.pid, "create_time": create_time(live_agent.pid),
                       "attempt": 1, "started": now}])
    owners = {names[0]: "implement-001-dead", names[1]: "implement-001-dead", names[2]: "implement-001-dead",
              names[3]: "implement-001-live", names[4]: "implement-001-live"}
    stamp = utc_now()
    ws.registry.write_text(new_registry_text() + "".join(
        row_line(d, "001", "i" if d in owners else "D", owners.get(d, ""), 1 if d in owners else 0, updated=stamp)
        for d in names))

    code, data = doctor(ws.root, "--scenario", "wave-failure")
    wave = check_of(data, "wave-failure")
    assert code == 1 and wave["status"] == "fail", wave
    assert "1 dead runs, 3 stale claims" in wave["summary"]
    text = "\n".join(wave["findings"])
    assert "dead run implement-001-dead" in text and "1 of its agents still alive" in text
    assert "live run implement-001-live" in text and "agents alive 1 of 1" in text
    assert wave["fix"] == "smb doctor --scenario wave-failure --fix"
    assert "then redeploy: smb implement --batch 001 --wave 1" in text
    assert process_alive(survivor_pid, survivor_ctime)  # diagnosing changes nothing

    code, data = doctor(ws.root, "--scenario", "wave-failure", "--fix")
    wave = check_of(data, "wave-failure")
    assert code == 0 and wave["status"] in ("ok", "warn"), wave
    fixed = "\n".join(wave["fixed"])
    assert "stopped 1 surviving agents of dead run implement-001-dead" in fixed
    assert "returned 3 stale claims" in fixed and "marked dead run implement-001-dead ended" in fixed
    rows = row_dicts(ws)
    for d in names[:3]:
        assert rows[d]["status"] == "D" and rows[d]["owner"] == "", rows[d]
    for d in names[3:5]:  # the live run's claims: untouched
        assert rows[d]["status"] == "i" and rows[d]["owner"] == "implement-001-live", rows[d]
    dead_record = json.loads((ws.runs / "implement-001-dead.json").read_text())
    assert dead_record["ended"] is not None
    assert json.loads((ws.runs / "implement-001-live.json").read_text())["ended"] is None
    wait_for(lambda: not process_alive(survivor_pid, survivor_ctime), 10, what="the survivor to go")
    assert live.poll() is None and live_agent.poll() is None  # the live run and its agent live on
    assert backups(ws), "a fix is preceded by a registry backup"
    # Idempotent: a second --fix has nothing left to do.
    code, data = doctor(ws.root, "--scenario", "wave-failure", "--fix")
    assert check_of(data, "wave-failure")["fixed"] == [] and code == 0


def test_wave_failure_stops_wedged_survivors_together_within_one_grace(tmp_path):
    """Agents that ignore SIGTERM are stopped in parallel: one grace period, not one per agent."""
    grace, count = 2, 6
    names = domains(count)
    ws = make_workspace(tmp_path / "ws", {"001": [(d, "D") for d in names]},
                        config=f'[agents]\ngrace = "{grace}s"\n')
    wedged = [orphan_sleeper(ignore_term=True) for _ in range(count)]
    try:
        pid, ctime = dead_process_identity()
        write_run(ws, "implement-001-dead", pid, ctime, agents=[
            {"domain": d, "pid": p, "create_time": c, "attempt": 1, "started": time.time()}
            for d, (p, c) in zip(names, wedged)])
        code, data = doctor(ws.root, "--scenario", "wave-failure", "--fix")
        wave = check_of(data, "wave-failure")
        assert f"stopped {count} surviving agents" in "\n".join(wave["fixed"]), wave
        # What this guards: one shared grace for all survivors, not one each. Stopped one after the
        # other, the fix cannot take less than count x grace (12 s, under the check's 20 s limit, so it
        # would be measured); shared, it takes one grace (2 s) plus overhead. The bound sits a whole
        # grace below the serial floor, which leaves a loaded 2-core CI machine about 8 s of overhead.
        assert wave["duration_ms"] < (count - 1) * grace * 1000, wave
        for p, c in wedged:
            wait_for(lambda: not process_alive(p, c), 10, what="a wedged agent to go")
    finally:
        for p, c in wedged:
            kill_orphan(p, c)


def backups(ws) -> list[Path]:
    return sorted(ws.backups.glob("*"))


# -- registry-duplicates ------------------------------------------------------------------------------


def test_registry_duplicates_are_found_by_line_and_merged_to_the_furthest_status(tmp_path):
    names = ["alpha.dev", "beta.dev", "gamma.dev", "delta.dev", "eps.dev"]
    ws = make_workspace(tmp_path / "ws", {"001": [(d, "D") for d in names]})
    build_site(ws, "alpha.dev")
    lines = [
        row_line("alpha.dev", "001", "D"),    # line 5: first position of alpha
        row_line("beta.dev", "001", "-"),     # line 6
        "| gamma.dev | 001 | D |\n",         # line 7: malformed (3 cells)
        row_line("alpha.dev", "001", "Q"),    # line 8: duplicate, further on
        row_line("delta.dev", "001", "Z"),    # line 9: unknown status
        row_line("beta.dev", "001", "D"),     # line 10: duplicate, further on
        row_line("eps.dev", "001", "I"),      # line 11
        row_line("eps.dev", "001", "D"),      # line 12: duplicate, behind: I is kept
    ]
    damaged = new_registry_text() + "".join(lines)
    ws.registry.write_text(damaged)
    build_site(ws, "eps.dev")

    refused = invoke(ws.root, "set-status", "beta.dev", "--status", "D")
    assert refused.exit_code == 2, explain(refused)  # writers refuse a damaged registry

    code, data = doctor(ws.root, "--scenario", "registry-duplicates")
    dup = check_of(data, "registry-duplicates")
    assert code == 1 and dup["status"] == "fail", dup
    text = "\n".join(dup["findings"])
    assert "line 8: duplicate domain alpha.dev (first at line 5)" in text
    assert "line 10: duplicate domain beta.dev (first at line 6)" in text
    assert "line 7: 3 cells where the header has 7" in text
    assert "line 9: unknown status 'Z' for delta.dev" in text
    assert dup["fix"] == "smb doctor --scenario registry-duplicates --fix"

    code, data = doctor(ws.root, "--scenario", "registry-duplicates", "--fix")
    assert code == 0, data
    copies = backups(ws)
    assert len(copies) == 1 and copies[0].read_text() == damaged and data.get("backup")
    registry = parse(ws.registry.read_text())
    assert not registry.problems
    assert [r.domain for r in registry.rows] == names[:3] + ["delta.dev", "eps.dev"]
    got = {r.domain: r.status for r in registry.rows}
    assert got["alpha.dev"] == "Q" and got["beta.dev"] == "D" and got["eps.dev"] == "I"
    assert got["gamma.dev"] == "D"
    assert got["delta.dev"] == "D"  # inferred from the files on disk: a design, no site

    code, data = doctor(ws.root, "--scenario", "registry-duplicates")
    assert code == 0 and check_of(data, "registry-duplicates")["status"] == "ok", data
    assert len(backups(ws)) == 1  # a doctor without --fix writes nothing, not even a backup
    again = invoke(ws.root, "set-status", "beta.dev", "--status", "-")
    assert again.exit_code == 0, explain(again)


# -- disk-space ------------------------------------------------------------------------------------------


def _disk_config(warn: int, alert: int, critical: int) -> str:
    return f"[doctor]\ndisk_warn = {warn}\ndisk_alert = {alert}\ndisk_critical = {critical}\n"


def test_disk_space_thresholds_give_ok_warn_fail(tmp_path):
    ws = make_workspace(tmp_path / "ws", {"001": [("a.dev", "Q")]})
    free = shutil.disk_usage(ws.root).free
    cases = [
        (_disk_config(1000, 1000, 1000), "ok"),
        (_disk_config(free * 2, 1000, 1000), "warn"),
        (_disk_config(free * 4, free * 2, 1000), "fail"),
        (_disk_config(free * 4, free * 4, free * 2), "fail"),
    ]
    for config, expected in cases:
        ws.config_file.write_text(config)
        code, data = doctor(ws.root, "--scenario", "disk-space")
        disk = check_of(data, "disk-space")
        assert disk["status"] == expected, (config, disk)
        assert code == (1 if expected == "fail" else 0)
        assert any(line.startswith("free ") for line in disk["findings"])
        assert any(line.startswith("sizes: sites/") for line in disk["findings"])
    assert disk["summary"].startswith("critical:") and "disk_critical" in disk["summary"]
    ws.config_file.write_text(_disk_config(free * 2, 1000, 1000))
    assert invoke(ws.root, "doctor", "--scenario", "disk-space", "--strict").exit_code == 1


def test_disk_space_fix_clears_tmp_and_cache_but_keeps_live_staging_and_sites(tmp_path, processes):
    names = domains(3)
    ws = make_workspace(tmp_path / "ws", {"001": [(d, "Q") for d in names]})
    free = shutil.disk_usage(ws.root).free
    ws.config_file.write_text(_disk_config(free * 2, 1000, 1000))
    live = start_sleeper(60)
    processes.append(live)
    write_run(ws, "implement-001-live", live.pid, create_time(live.pid))
    dead_pid, dead_ctime = dead_process_identity()
    write_run(ws, "implement-001-gone", dead_pid, dead_ctime)
    (ws.tmp / "implement-001-live" / names[0]).mkdir(parents=True)
    (ws.tmp / "implement-001-live" / names[0] / "index.html").write_text("in progress")
    (ws.tmp / "implement-001-gone" / "x").mkdir(parents=True)
    (ws.tmp / "implement-001-gone" / "x" / "junk.bin").write_bytes(bytes(200_000))
    (ws.tmp / "stray.txt").write_text("left behind")
    (ws.design_cache / "cached.json").write_text("{}")
    (ws.design_cache / "sub").mkdir()
    (ws.design_cache / "sub" / "more.json").write_text("{}")
    site_files = sorted(p.relative_to(ws.root) for p in ws.sites.rglob("*"))
    design_files = sorted(ws.designs.iterdir())

    code, data = doctor(ws.root, "--scenario", "disk-space", "--fix")
    disk = check_of(data, "disk-space")
    assert disk["fixed"] and "removed 4 entries" in disk["fixed"][0], disk
    assert [p.name for p in ws.tmp.iterdir()] == ["implement-001-live"]
    assert (ws.tmp / "implement-001-live" / names[0] / "index.html").read_text() == "in progress"
    assert list(ws.design_cache.iterdir()) == []
    assert sorted(p.relative_to(ws.root) for p in ws.sites.rglob("*")) == site_files
    assert sorted(ws.designs.iterdir()) == design_files and ws.manifest("001").exists()


# -- site-stuck -------------------------------------------------------------------------------------------


@pytest.fixture
def stuck(tmp_path):
    ws = make_workspace(tmp_path / "ws", {"001": [("built.dev", "D"), ("nodesign.dev", "D"), ("parked.dev", "X"),
                                                  ("fine.dev", "Q")]})
    build_site(ws, "built.dev")  # the agent finished; the registry never heard of it
    ws.design_file("nodesign.dev").unlink()
    log = ws.logs / "sites" / "parked.dev" / "implement-3.log"
    log.parent.mkdir(parents=True)
    log.write_text("=== smb implement parked.dev attempt 3\nreading the design\n"
                   "Error: API overloaded (529), giving up\n")
    text = ws.registry.read_text().replace("| parked.dev | 001 | X |  | 0 |", "| parked.dev | 001 | X |  | 3 |")
    ws.registry.write_text(text)
    return ws


def test_site_stuck_finds_and_fixes_what_is_safe_and_explains_a_parked_site(stuck):
    code, data = doctor(stuck.root, "--scenario", "site-stuck")
    site = check_of(data, "site-stuck")
    assert code == 1 and site["status"] == "fail", site
    text = "\n".join(site["findings"])
    assert "built.dev: status D but sites/built.dev-v1/index.html exists" in text
    assert "nodesign.dev: status D but its design file is missing" in text
    parked = next(line for line in site["findings"] if line.startswith("parked.dev"))
    assert "after 3 attempts" in parked and "Error: API overloaded (529)" in parked

    code, data = doctor(stuck.root, "--scenario", "site-stuck", "--fix")
    site = check_of(data, "site-stuck")
    assert code == 0 and site["status"] == "warn", site  # only the parked site is left: it needs a person
    assert "implement-3.log" in "\n".join(site["findings"]) and "API overloaded" in "\n".join(site["findings"])
    assert "smb set-status parked.dev --status D --expect X" in site["fix"]
    assert "smb implement --batch 001 --sites parked.dev" in site["fix"]
    now = statuses(stuck)
    assert now == {"built.dev": "I", "nodesign.dev": "-", "parked.dev": "X", "fine.dev": "Q"}
    assert invoke(stuck.root, "doctor", "--scenario", "site-stuck", "--strict").exit_code == 1


def test_site_stuck_describes_one_site(stuck):
    code, data = doctor(stuck.root, "--scenario", "site-stuck", "--site", "built.dev")
    text = "\n".join(check_of(data, "site-stuck")["findings"])
    assert "built.dev: status D, attempts 0, batch 001" in text
    assert "design: present (.smbatcher/designs/built.dev-DESIGN.md)" in text
    assert "output: sites/built.dev-v1/ complete (passes finish's checks)" in text
    assert "nodesign.dev" not in text  # one site only
    code, data = doctor(stuck.root, "--scenario", "site-stuck", "--site", "parked.dev")
    text = "\n".join(check_of(data, "site-stuck")["findings"])
    assert "last error: logs/sites/parked.dev/implement-3.log: Error: API overloaded (529), giving up" in text
    code, data = doctor(stuck.root, "--scenario", "site-stuck", "--site", "nowhere.dev")
    assert code == 1 and "has no row" in check_of(data, "site-stuck")["summary"]


# -- finalization ------------------------------------------------------------------------------------------


def test_finalization_rebuilds_lost_rows_from_disk_then_finish_works(tmp_path):
    order = ["a.dev", "lost-built.dev", "b.dev", "lost-design.dev", "c.dev", "lost-nothing.dev"]
    ws = make_workspace(tmp_path / "ws", {"001": [(d, "Q") for d in order]})
    shutil.rmtree(ws.site_dir("lost-design.dev"))
    shutil.rmtree(ws.site_dir("lost-nothing.dev"))
    ws.design_file("lost-nothing.dev").unlink()
    lost = {"lost-built.dev", "lost-design.dev", "lost-nothing.dev"}
    ws.registry.write_text("".join(line for line in ws.registry.read_text().splitlines(keepends=True)
                                   if not any(f"| {d} |" in line for d in lost)))
    assert invoke(ws.root, "finish", "--batch", "1").exit_code == 1  # conservation refuses

    code, data = doctor(ws.root, "--scenario", "finalization")
    fin = check_of(data, "finalization")
    assert code == 1 and fin["status"] == "fail" and fin["summary"].startswith("3 rows lost"), fin
    text = "\n".join(fin["findings"])
    assert all(d in text for d in lost)

    code, data = doctor(ws.root, "--scenario", "finalization", "--fix")
    fin = check_of(data, "finalization")
    # After the fix the batch is split between I (the rebuilt built site) and Q: finish is what is left.
    assert code == 0 and fin["status"] == "warn" and len(fin["fixed"]) == 3, fin
    assert fin["fix"] == "smb finish --batch 001"
    registry = parse(ws.registry.read_text())
    assert not registry.problems
    assert [r.domain for r in registry.rows] == order  # at their manifest positions
    got = {r.domain: r.status for r in registry.rows}
    assert got["lost-built.dev"] == "I" and got["lost-design.dev"] == "D" and got["lost-nothing.dev"] == "-"

    result = invoke(ws.root, "finish", "--batch", "1", "--json")
    assert result.exit_code == 0, explain(result)
    assert json.loads(result.stdout)["passed"] == ["lost-built.dev"]
    assert statuses(ws)["lost-built.dev"] == "Q"


# -- network -------------------------------------------------------------------------------------------------


def test_network_closed_port_fails_within_the_timeout_and_open_port_is_ok(tmp_path):
    ws = make_workspace(tmp_path / "ws", {"001": [("a.dev", "Q")]})
    ws.config_file.write_text(f'[doctor]\nnetwork_endpoints = ["127.0.0.1:{closed_port()}"]\n')
    code, data = doctor(ws.root, "--scenario", "network")
    net = check_of(data, "network")
    assert code == 1 and net["status"] == "fail", net
    assert net["duration_ms"] < 4000
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        port = server.getsockname()[1]
        ws.config_file.write_text(f'[doctor]\nnetwork_endpoints = ["127.0.0.1:{port}"]\n')
        code, data = doctor(ws.root, "--scenario", "network")
    net = check_of(data, "network")
    assert code == 0 and net["status"] == "ok" and "reachable" in net["findings"][0], net


# -- environment and resources -------------------------------------------------------------------------------


def test_agent_not_on_path_fails_environment(tmp_path):
    ws = make_workspace(tmp_path / "ws", {"001": [("a.dev", "Q")]},
                        config='[agents]\nimplement = "no-such-agent-xyz -p"\n')
    code, data = doctor(ws.root, "--scenario", "environment", "--scenario", "resources")
    env = check_of(data, "environment")
    assert code == 1 and env["status"] == "fail" and "no-such-agent-xyz" in env["summary"], env
    assert check_of(data, "resources")["status"] in ("ok", "warn")


def test_environment_and_resources_are_ok_on_a_normal_machine(tmp_path):
    ws = make_workspace(tmp_path / "ws", {"001": [("a.dev", "Q")]})
    code, data = doctor(ws.root, "--scenario", "environment", "--scenario", "resources")
    env = check_of(data, "environment")
    assert env["status"] == ("ok" if shutil.which("tmux") else "warn"), env
    res = check_of(data, "resources")
    assert res["status"] in ("ok", "warn"), res  # a loaded CI machine may legitimately warn
    assert any("cores" in line for line in res["findings"])


def test_bad_config_is_reported_not_refused(tmp_path):
    ws = make_workspace(tmp_path / "ws", {"001": [("a.dev", "Q")]}, config="[agents]\nmax_agnets = 3\n")
    code, data = doctor(ws.root, "--scenario", "environment")
    env = check_of(data, "environment")
    assert code == 1 and "bad config" in env["summary"] and "max_agnets" in env["summary"], env


# -- the whole doctor ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def healthy(tmp_path_factory):
    """568 sites, built, all Q, manifests consistent."""
    root = tmp_path_factory.mktemp("healthy") / "ws"
    names = domains(568)
    return make_workspace(root, {"001": [(d, "Q") for d in names[:300]], "002": [(d, "Q") for d in names[300:]]})


def test_whole_doctor_on_a_healthy_568_site_workspace(healthy):
    before = healthy.registry.read_bytes()
    result = run_smb(healthy.root, "doctor", env=smb_env(NO_COLOR="1"))
    assert result.returncode == 0, explain(result)
    assert "\x1b" not in result.stdout + result.stderr
    assert result.stdout.rstrip().splitlines()[-1].startswith(f"{len(SCENARIOS)} checks: ")
    result = run_smb(healthy.root, "doctor", "--json")
    assert result.returncode == 0, explain(result)
    data = json.loads(result.stdout)  # JSON only on stdout
    assert set(data) >= {"status", "checks"} and data["status"] in ("ok", "warn")
    assert [c["scenario"] for c in data["checks"]] and {c["scenario"] for c in data["checks"]} == set(SCENARIOS)
    for item in data["checks"]:
        assert set(item) == CHECK_KEYS, item
        assert item["status"] in ("ok", "warn") and isinstance(item["duration_ms"], int)
    assert healthy.registry.read_bytes() == before  # doctor reads; it changes nothing


def test_verbose_shows_every_check_and_plain_output_has_the_marks(healthy):
    result = invoke(healthy.root, "doctor", "-v")
    assert result.exit_code == 0, explain(result)
    assert "[✓] registry-duplicates" in result.stdout and "[✓] finalization" in result.stdout
    # Every check has its own marked line, even when ok (a loaded machine may warn).
    lines = result.stdout.splitlines()
    for scenario in SCENARIOS:
        marked = [line for line in lines if line[:1] == "[" and line[2:].startswith(f"] {scenario}: ")]
        assert len(marked) == 1, (scenario, result.stdout)


def test_fix_says_what_it_did_even_when_the_check_is_now_ok(tmp_path):
    ws = make_workspace(tmp_path / "ws", {"001": [("a.dev", "Q"), ("b.dev", "D")]})
    ws.registry.write_text(ws.registry.read_text() + row_line("a.dev", "001", "I"))
    result = invoke(ws.root, "doctor", "--scenario", "registry-duplicates", "--fix")
    assert result.exit_code == 0, explain(result)
    assert "[✓] registry-duplicates" in result.stdout
    assert "fixed: a.dev: merged a duplicate row (kept status Q)" in result.stdout
    assert "registry backed up to .smbatcher/backups/REGISTRY-" in result.stdout
    assert result.stdout.splitlines()[-2] == "1 checks: 1 ok, 0 warn, 0 fail"


def test_list_names_every_scenario(tmp_path):
    result = invoke(tmp_path, "doctor", "--list")
    assert result.exit_code == 0, explain(result)
    listed = [line.split()[0] for line in result.stdout.splitlines() if line.strip()]
    assert sorted(listed) == sorted(SCENARIOS) and len(listed) == 9  # SPEC §6's eight and cluster


def test_report_prints_the_escalation_block(tmp_path):
    ws = make_workspace(tmp_path / "ws", {"001": [("a.dev", "Q"), ("b.dev", "D")]})
    ws.registry.write_text(ws.registry.read_text() + row_line("a.dev", "001", "I"))
    result = invoke(ws.root, "doctor", "--report")
    assert result.exit_code == 1, explain(result)
    lines = result.stdout.splitlines()
    for label in LABELS:
        assert any(line.startswith(label + ": ") for line in lines), (label, result.stdout)
    issue = next(line for line in lines if line.startswith("ISSUE: "))
    assert "registry-duplicates" in issue
    assert "SEVERITY: High" in lines
    assert any(line.startswith("ATTACHMENT: ") and "logs/events.jsonl" in line for line in lines)


def test_strict_turns_a_warning_into_exit_1(tmp_path):
    ws = make_workspace(tmp_path / "ws", {"001": [("a.dev", "Q")]})
    free = shutil.disk_usage(ws.root).free
    ws.config_file.write_text(_disk_config(free * 2, 1000, 1000))
    assert invoke(ws.root, "doctor", "--scenario", "disk-space").exit_code == 0
    assert invoke(ws.root, "doctor", "--scenario", "disk-space", "--strict").exit_code == 1


def test_unknown_scenario_is_exit_2(tmp_path):
    ws = make_workspace(tmp_path / "ws", {"001": [("a.dev", "Q")]})
    result = invoke(ws.root, "doctor", "--scenario", "no-such-scenario")
    assert result.exit_code == 2, explain(result)
    assert "unknown 'no-such-scenario'" in result.stderr


def test_a_fix_that_cannot_get_the_lock_is_exit_3_never_0(stuck, processes):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from filelock import FileLock\n"
         "lock = FileLock(sys.argv[1]); lock.acquire(); print('locked', flush=True); time.sleep(60)",
         str(stuck.lock_file)], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
        start_new_session=True)
    processes.append(holder)
    assert holder.stdout.readline().strip() == "locked"
    before = stuck.registry.read_bytes()
    started = time.monotonic()
    code, data = doctor(stuck.root, "--scenario", "site-stuck", "--fix", env={"SMB_LOCK_TIMEOUT": "0.5"}, codes=(3,))
    assert time.monotonic() - started < 10
    site = check_of(data, "site-stuck")
    assert site["status"] == "error" and "lock not obtained" in site["summary"], site
    assert data["status"] == "error"
    assert stuck.registry.read_bytes() == before
    text = invoke(stuck.root, "doctor", "--scenario", "site-stuck", "--fix", env={"SMB_LOCK_TIMEOUT": "0.5"})
    assert text.exit_code == 3 and "[☠] site-stuck" in text.stdout, explain(text)


def test_a_crashed_check_is_exit_3(tmp_path, monkeypatch):
    from smbatcher.doctor.network import Network

    def crash(self, ctx):
        raise RuntimeError("boom")

    monkeypatch.setattr(Network, "diagnose", crash)
    ws = make_workspace(tmp_path / "ws", {"001": [("a.dev", "Q")]})
    code, data = doctor(ws.root, "--scenario", "network", codes=(3,))
    assert "RuntimeError: boom" in check_of(data, "network")["summary"]


# -- the runner reads the same thresholds ----------------------------------------------------------------------


def test_runner_refuses_to_launch_under_critical_disk(tmp_path, processes):
    names = domains(2)
    ws = make_workspace(tmp_path / "ws", {"001": [(d, "D") for d in names]},
                        config='[doctor]\ndisk_warn = "100TB"\ndisk_alert = "100TB"\ndisk_critical = "100TB"\n'
                               '[agents]\ngrace = "2s"\n')
    run = subprocess.Popen([sys.executable, "-m", "smbatcher", "implement", "--batch", "001", "--timeout", "30s",
                            "--root", str(ws.root)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, env=smb_env(), start_new_session=True)
    processes.append(run)
    log = ws.logs / "implement-001.log"
    wait_for(lambda: log.exists() and "not launching: free disk" in log.read_text(), 30,
               what="the runner to refuse to launch")
    assert "disk_critical" in log.read_text()
    assert set(statuses(ws).values()) == {"D"}
    wait_for(lambda: any(ws.runs.glob("*.json")), 10, what="the run record")
    # `smb stop` from another process (run in this one, psutil's wait would reap our child's exit status),
    # while this test reaps the run, as its shell would (`smb stop` waits until the run is gone).
    stopper = subprocess.Popen([sys.executable, "-m", "smbatcher", "stop", "--all", "--root", str(ws.root)],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               env=smb_env(), text=True)
    processes.append(stopper)
    assert run.wait(timeout=30) == 143
    out, _ = stopper.communicate(timeout=30)
    assert stopper.returncode == 0 and "stopped implement-001-" in out, out
    assert set(statuses(ws).values()) == {"D"} and not list(ws.sites.iterdir())


def test_disk_space_fix_removes_stale_write_temporaries_but_not_a_fresh_one(tmp_path):
    """A kill -9 mid-write leaves .REGISTRY.md.*.tmp behind; a write in progress has one too."""
    ws = make_workspace(tmp_path / "ws", {"001": [("a.dev", "Q")]})
    free = shutil.disk_usage(ws.root).free
    ws.config_file.write_text(_disk_config(free * 2, 1000, 1000))
    registry_bytes = ws.registry.read_bytes()
    stale = ws.smb_dir / ".REGISTRY.md.abc123.tmp"
    stale.write_bytes(bytes(50_000))
    old = time.time() - 3600
    os.utime(stale, (old, old))
    fresh = ws.smb_dir / ".REGISTRY.md.def456.tmp"
    fresh.write_bytes(b"being written")
    code, data = doctor(ws.root, "--scenario", "disk-space", "--fix")
    assert not stale.exists()
    assert fresh.exists()
    assert ws.registry.read_bytes() == registry_bytes
    assert "stray write temporaries" in check_of(data, "disk-space")["fixed"][0]


@pytest.mark.parametrize("site", ["../x", "a/b.com", ""])
def test_a_bad_site_is_bad_usage_not_a_crashed_check(tmp_path, site):
    ws = make_workspace(tmp_path / "ws", {"001": [("a.dev", "Q")]})
    before = ws.registry.read_bytes()
    result = subprocess.run([sys.executable, "-m", "smbatcher", "doctor", "--site", site, "--root", str(ws.root)],
                            capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and "--site" in result.stderr and "Traceback" not in result.stderr
    assert ws.registry.read_bytes() == before
