"""The runner with real processes: fake agents from tests/agents/, the real CLI in a subprocess.

Every agent here is a real process in its own session; the tests read the
process table with psutil and never sleep-and-hope: they poll a condition up to
a deadline (``wait_for``). The harness is in tests/support/ (agents, cli, workspaces).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import signal
import sys
import time
from pathlib import Path

import psutil
from support.agents import agent_cmd, marker_lines, tagged
from support.cli import collect, explain, run_smb, smb_env, start_smb
from support.registry import domains, rows, statuses
from support.waiting import wait_for
from support.workspaces import make_sites, run_files, write_config

from smbatcher.sites import add_sites
from smbatcher.store import Store


def tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        if path.is_file():
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


# The SPEC's FAIL line, then (issue 10) the failure class and the agent's own words in parentheses.
FAIL_LINE = re.compile(r"^FAIL (?P<domain>\S+) exit=(?P<code>-?\d+) attempt (?P<n>\d+)/(?P<m>\d+) "
                       r"log=(?P<log>\S+)(?P<tail>( parked as X)?)(?P<said>( \(.*\))?)$")


# -- success and output -------------------------------------------------------------------


def test_success_builds_every_site_with_plain_ok_lines(workspace):
    names = make_sites(workspace, 6)
    result = run_smb(workspace, "implement", "--batch", "1")
    assert result.returncode == 0, explain(result)
    assert set(statuses(workspace).values()) == {"I"}
    for name in names:
        assert "attempt 1" in (workspace.site_dir(name) / "index.html").read_text()
        assert (workspace.root / f"logs/sites/{name}/implement-1.log").is_file()
        assert re.search(rf"^OK {re.escape(name)} \d+\.\d+s$", result.stdout, re.M), result.stdout
    assert result.stdout.strip().splitlines()[-1].startswith("implement batch 001: 6 ok, 0 failed, 0 parked")
    # The run log has the same lines, timestamped; staging is cleaned; the run file says it ended well.
    log = (workspace.root / "logs/implement-001.log").read_text()
    assert all(f"OK {name} " in log for name in names)
    assert not any(workspace.tmp.iterdir()) if workspace.tmp.exists() else True
    (record,) = run_files(workspace)
    assert record["ended"] and record["exit_code"] == 0 and record["agents"] == []
    assert all(row.get("owner") == "" and row.attempts == 0 for row in rows(workspace).values())


def test_agent_gets_the_protocol_variables_and_the_prompt(workspace):
    (name,) = make_sites(workspace, 1, implement=agent_cmd("fake_claude", "-p"))
    dump = workspace.root / "env.json"
    script = ("import json, os, sys; prompt = sys.stdin.read(); "
              f"json.dump({{'env': {{k: v for k, v in os.environ.items() if k.startswith('SMB_')}}, "
              f"'cwd': os.getcwd(), 'prompt': prompt, 'argv': sys.argv}}, open({str(dump)!r}, 'w')); "
              "open(os.path.join(os.environ['SMB_OUTPUT'], 'index.html'), 'w').write('ok')")
    result = run_smb(workspace, "implement", "--batch", "001", "--agent", shlex.join([sys.executable, "-c", script]))
    assert result.returncode == 0, explain(result)
    seen = json.loads(dump.read_text())
    env = seen["env"]
    assert env["SMB_PHASE"] == "implement" and env["SMB_DOMAIN"] == name and env["SMB_BATCH"] == "001"
    assert env["SMB_ATTEMPT"] == "1" and env["SMB_ROOT"] == str(workspace.root)
    assert env["SMB_DESIGN"] == str(workspace.design_file(name))
    assert env["SMB_BRIEF"] == str(workspace.manifest("001"))
    # It works in its staging folder under .smbatcher/tmp/, output inside it, and gets the design in the prompt.
    assert Path(seen["cwd"]).is_relative_to(workspace.tmp)
    assert Path(env["SMB_OUTPUT"]).is_relative_to(Path(seen["cwd"]))
    assert "A design." in seen["prompt"] and name in seen["prompt"]
    assert not any(name in arg for arg in seen["argv"])  # nothing from a domain on the command line


def test_every_agent_starts_in_an_empty_staging_folder_named_for_its_site(workspace):
    # Staging folders of ended agents are reused (issue 13): one that an agent left a scratch file in
    # must never reach the next agent, and each agent's folder carries its own site's name.
    names = make_sites(workspace, 12)
    seen = workspace.root / "seen.txt"
    # An extended attribute marks each folder with the site that used it: it moves with a rename.
    script = ("import os, sys; sys.stdin.read(); d = os.environ['SMB_DOMAIN']; "
              "entries = sorted(os.listdir('.')); "
              "exec('try: before = os.getxattr(\".\", \"user.smb-test\").decode()\\nexcept OSError: before = \"-\"'); "
              "exec('try: os.setxattr(\".\", \"user.smb-test\", d.encode())\\nexcept OSError: before = \"?\"'); "
              f"open({str(seen)!r}, 'a').write(f'{{d}} {{before}} {{os.path.basename(os.getcwd())}} "
              "{entries}\\n'); "
              "open('scratch.txt', 'w').write('x') if d.endswith(('0.dev', '2.dev', '4.dev')) else None; "
              "open(os.path.join(os.environ['SMB_OUTPUT'], 'index.html'), 'w').write(d)")
    result = run_smb(workspace, "implement", "--batch", "001", "--max-agents", "3",
                     "--agent", shlex.join([sys.executable, "-c", script]))
    assert result.returncode == 0, explain(result)
    lines = [line.split(" ", 3) for line in seen.read_text().splitlines()]
    assert sorted(domain for domain, _, _, _ in lines) == sorted(names)
    for domain, _, folder, entries in lines:
        assert folder == f"{domain}-implement-1" and entries == "['site']", (domain, folder, entries)
    # And they are reused: after the first three, an agent's folder is an earlier agent's (unless the
    # filesystem keeps no extended attributes: "?").
    before = [b for _, b, _, _ in lines]
    if "?" not in before:
        assert sum(b != "-" for b in before) >= len(names) - 3 - 3, lines  # 3 first, 3 scratch folders removed
        assert all(b != domain for domain, b, _, _ in lines)
    for name in names:
        site = workspace.site_dir(name)
        assert sorted(p.name for p in site.iterdir()) == ["index.html"] and (site / "index.html").read_text() == name
    assert not workspace.tmp.exists() or not any(workspace.tmp.iterdir())


# -- failures -----------------------------------------------------------------------------


def test_failing_agent_parks_the_site_as_x_after_max_attempts(workspace):
    names = make_sites(workspace, 2, implement=agent_cmd("fail"), max_attempts=3)
    result = run_smb(workspace, "implement", "--batch", "001")
    assert result.returncode == 1, explain(result)
    fails = [FAIL_LINE.match(line) for line in result.stdout.splitlines() if line.startswith("FAIL ")]
    assert all(fails), result.stdout
    assert len(fails) == 6, result.stdout  # 2 sites x 3 attempts
    for match in fails:
        domain, n = match["domain"], int(match["n"])
        assert match["code"] == "1" and match["m"] == "3"
        assert match["log"] == f"logs/sites/{domain}/implement-{n}.log"
        assert (workspace.root / match["log"]).is_file()
        assert match["tail"] == (" parked as X" if n == 3 else ""), match.string
        assert match["said"] == " (site: error: simulated API failure (503 Service Unavailable))", match.string
    for name in names:
        attempts = sorted(int(m["n"]) for m in fails if m["domain"] == name)
        assert attempts == [1, 2, 3]
        row = rows(workspace)[name]
        assert (row.status, row.attempts, row.get("owner")) == ("X", 3, "")
        assert "simulated API failure (503 Service Unavailable)" in row.get("note")
        assert not workspace.site_dir(name).exists()
    assert "0 ok, 0 failed, 2 parked" in result.stdout.splitlines()[-1]


def test_parked_site_is_left_alone_and_redo_runs_it_again(workspace):
    (name,) = make_sites(workspace, 1, implement=agent_cmd("fail"), max_attempts=1)
    assert run_smb(workspace, "implement", "--batch", "001").returncode == 1
    assert rows(workspace)[name].status == "X"
    write_config(workspace)  # a working agent now
    again = run_smb(workspace, "implement", "--batch", "001")
    assert again.returncode == 0 and statuses(workspace)[name] == "X", again.stdout  # parked: not eligible
    redo = run_smb(workspace, "implement", "--batch", "001", "--sites", name, "--redo")
    assert redo.returncode == 0, explain(redo)
    row = rows(workspace)[name]
    assert (row.status, row.attempts, row.get("note")) == ("I", 0, "")


def test_some_domains_fail_the_others_are_built_and_retries_zero_returns_them(workspace):
    names = make_sites(workspace, 6, implement=agent_cmd("fail_some"))
    bad = {names[1], names[4]}
    env = smb_env(FAIL_DOMAINS=",".join(sorted(bad)))
    result = run_smb(workspace, "implement", "--batch", "001", "--retries", "0", env=env)
    assert result.returncode == 1, explain(result)
    table = rows(workspace)
    for name in names:
        if name in bad:
            # One attempt, counted, back to D for a later run, the error in the note.
            assert (table[name].status, table[name].attempts) == ("D", 1)
            assert "model refused" in table[name].get("note")
            assert f"FAIL {name} exit=1 attempt 1/3 log=logs/sites/{name}/implement-1.log" in result.stdout
        else:
            assert table[name].status == "I"
    # The next run picks up only the failed ones (attempt 2), with the agent fixed.
    fixed = run_smb(workspace, "implement", "--batch", "001")
    assert fixed.returncode == 0, explain(fixed)
    assert sorted(re.findall(r"^OK (\S+)", fixed.stdout, re.M)) == sorted(bad)
    assert set(statuses(workspace).values()) == {"I"}


def test_exit_zero_without_index_html_is_a_failure(workspace):
    (name,) = make_sites(workspace, 1, max_attempts=1)
    result = run_smb(workspace, "implement", "--batch", "001", "--agent", "true")
    assert result.returncode == 1
    assert f"FAIL {name} exit 0 but no index.html in the output folder attempt 1/1" in result.stdout
    assert rows(workspace)[name].status == "X" and not workspace.site_dir(name).exists()


def test_timeout_leaves_no_process_of_the_agent_nor_its_escaped_descendants(workspace, tag):
    (name,) = make_sites(workspace, 1, implement=agent_cmd("grandchildren"), grace="0.5s")
    pids = workspace.root / "pids.txt"
    env = smb_env(FAKE_TAG=tag, FAKE_PIDS=str(pids))
    started = time.monotonic()
    result = run_smb(workspace, "implement", "--batch", "001", "--timeout", "2s", "--retries", "0", env=env)
    elapsed = time.monotonic() - started
    assert result.returncode == 1, explain(result)
    # The agent really made its stubborn family before the timeout (else the test proves nothing).
    roles = {line.split()[0] for line in pids.read_text().splitlines()}
    assert roles == {"agent", "group-child", "setsid-child", "daemon"}, roles
    assert f"FAIL {name} timeout attempt 1/3 log=logs/sites/{name}/implement-1.log" in result.stdout
    assert f"timeout {name} after 2s" in result.stdout
    # Everything went, without waiting: SIGTERM, then SIGKILL after the grace.
    assert tagged(tag) == [], [p.cmdline() for p in tagged(tag)]
    # The bound tells "killed at timeout + grace" (about 2.5 s) from "waited for the escaped
    # descendants", which never exit (run_smb's own 120 s timeout would end the test). Wide on
    # purpose: python start-up and the kill sweep on a loaded 2-core CI machine take seconds.
    assert elapsed < 2 + 0.5 + 30, elapsed
    row = rows(workspace)[name]
    assert (row.status, row.attempts, row.get("owner")) == ("D", 1, "")
    assert "timeout after 2s" in row.get("note")


def test_crashed_half_site_leaves_the_good_site_byte_for_byte(workspace):
    (name,) = make_sites(workspace, 1, status="I", implement=agent_cmd("half_site"))
    good = workspace.site_dir(name)
    (good / "img").mkdir(parents=True)
    (good / "index.html").write_text("<!doctype html><title>good</title><p>the good site</p>\n")
    (good / "styles.css").write_text("body { color: #111; }\n")
    (good / "img" / "logo.svg").write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    before = tree_digest(good)
    result = run_smb(workspace, "implement", "--batch", "001", "--sites", name, "--redo", "--retries", "0")
    assert result.returncode == 1, explain(result)
    assert re.search(rf"^FAIL {re.escape(name)} exit=-6 attempt 1/3 ", result.stdout, re.M), result.stdout
    assert tree_digest(good) == before
    assert sorted(p.name for p in workspace.sites.iterdir()) == [good.name]  # no half copy beside it
    assert list(workspace.tmp.glob("**/index.html")) == []  # the staging copy was removed
    row = rows(workspace)[name]
    assert row.status == "I" and "Segmentation fault (simulated)" in row.get("note")
    # A later good build replaces it whole, leaving nothing behind.
    write_config(workspace)
    redo = run_smb(workspace, "implement", "--batch", "001", "--sites", name, "--redo")
    assert redo.returncode == 0, explain(redo)
    assert sorted(p.name for p in good.iterdir()) == ["index.html", "styles.css"]
    assert sorted(p.name for p in workspace.sites.iterdir()) == [good.name]


# -- sharing the work ---------------------------------------------------------------------


def test_two_concurrent_runs_share_the_batch_and_never_run_a_site_twice(workspace, runners):
    names = make_sites(workspace, 30, max_agents=6)
    marker = workspace.root / "marker.txt"
    gate = workspace.root / "gate"
    env = smb_env(FAKE_MARKER=str(marker), FAKE_SLEEP="0.2", FAKE_GATE=str(gate))
    runners += [start_smb(workspace, "implement", "--batch", "001", env=env) for _ in range(2)]
    # The agents wait for the gate until both runs have a full pool (6 + 6 agents started): on a loaded
    # machine the first run to start could otherwise build the whole batch before the other one claims.
    wait_for(lambda: sum(1 for line in marker_lines(marker) if line[0] == "start") >= 12
             or any(process.poll() is not None for process in runners), 60, "both runs to start six agents")
    gate.touch()
    results = [collect(process) for process in runners]
    for result in results:
        assert result.returncode == 0, explain(result)
    starts = [domain for event, domain, _, _ in marker_lines(marker) if event == "start"]
    assert sorted(starts) == sorted(names)  # every site's agent ran exactly once
    assert set(statuses(workspace).values()) == {"I"}
    ok = [re.findall(r"^OK (\S+)", result.stdout, re.M) for result in results]
    assert sorted(ok[0] + ok[1]) == sorted(names)
    assert ok[0] and ok[1], "both runs should have taken a share of the work"


# -- the circuit breaker ------------------------------------------------------------------


def test_breaker_stops_an_outage_from_burning_every_sites_attempts(workspace, runners):
    make_sites(workspace, 40, implement=agent_cmd("fail"), max_agents=25, breaker_failures=3,
               breaker_cooldown="1s", max_attempts=3)
    marker = workspace.root / "marker.txt"
    runner = start_smb(workspace, "implement", "--batch", "001", env=smb_env(FAKE_MARKER=str(marker)))
    runners.append(runner)
    log = workspace.root / "logs/implement-001.log"
    wait_for(lambda: log.exists() and "breaker open" in log.read_text(), 30, "the breaker to open")
    opened = time.monotonic()
    # Three cooldowns: each lets exactly one probe out (waited on, not slept: the log says when).
    probe = "breaker half-open: launching one probe"
    wait_for(lambda: runner.poll() is not None or log.read_text().count(probe) >= 3, 15, "three probes")
    runner.send_signal(signal.SIGTERM)
    elapsed = time.monotonic() - opened
    result = collect(runner)
    out = result.stdout
    assert result.returncode == 143, explain(result)
    table = rows(workspace)
    counted = sum(row.attempts for row in table.values())
    probes_possible = int(elapsed / 1.0) + 1
    assert 3 <= counted <= 3 + probes_possible, (counted, elapsed, out)
    assert counted < 40 * 3
    assert "breaker half-open: launching one probe" in out
    assert not any(row.status in ("X", "i") for row in table.values()), out
    launches = len(marker_lines(marker))
    assert launches <= 25 + probes_possible, (launches, out)  # the first full pool, then probes only


# -- background runs ----------------------------------------------------------------------


def _ended(process: psutil.Process) -> bool:
    """Exited (a zombie counts); also when it is reaped between the two questions (NoSuchProcess)."""
    try:
        return not process.is_running() or process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_bg_returns_at_once_and_the_run_finishes_in_the_background(workspace, tag):
    names = make_sites(workspace, 4, max_agents=2)
    gate = workspace.root / "gate"
    # The agents wait for the gate, which opens only once --bg has returned: so --bg returning at all
    # (within run_smb's deadline) proves it did not wait for them, on any machine, with no clock.
    env = smb_env(FAKE_GATE=str(gate), FAKE_TAG=tag)
    result = run_smb(workspace, "implement", "--batch", "001", "--bg", env=env, timeout=60)
    assert result.returncode == 0, explain(result)
    assert "I" not in statuses(workspace).values()  # it did not wait for even the first agent
    match = re.search(r"run (\S+), pid (\d+), log (\S+)$", result.stdout.strip())
    assert match, result.stdout
    run_id, pid, log = match[1], int(match[2]), match[3]
    assert log == "logs/implement-001.log"
    # The printed pid is the run itself, still working: in its own session, stdin from /dev/null.
    process = psutil.Process(pid)
    assert process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    assert os.getsid(pid) == pid  # its own session: closing the terminal does not reach it
    assert os.readlink(f"/proc/{pid}/fd/0") == "/dev/null"
    gate.touch()
    wait_for(lambda: set(statuses(workspace).values()) == {"I"}, 60, "the background run to build every site")
    wait_for(lambda: _ended(process), 30, "the run to exit")
    text = (workspace.root / log).read_text()
    assert all(re.search(rf"OK {re.escape(name)} \d", text) for name in names), text
    (record,) = run_files(workspace)
    assert record["run_id"] == run_id and record["pid"] == pid
    wait_for(lambda: run_files(workspace)[0]["ended"], 30, "the run file to say it ended")
    assert run_files(workspace)[0]["exit_code"] == 0


def test_stop_ends_a_bg_run_and_returns_its_claims(workspace, tag):
    names = make_sites(workspace, 3, implement=agent_cmd("hang"), grace="1s")
    marker = workspace.root / "marker.txt"
    result = run_smb(workspace, "implement", "--batch", "001", "--bg", env=smb_env(FAKE_TAG=tag, FAKE_MARKER=str(marker)))
    assert result.returncode == 0, explain(result)
    run_id = re.search(r"run (\S+), pid", result.stdout)[1]
    wait_for(lambda: len(marker_lines(marker)) == 3, 30, "three agents to start")
    # The run records its agents in its run file after launching them, in its own time: an agent's
    # marker line can come first, so `status` is asked once the file lists them.
    wait_for(lambda: len(run_files(workspace)[0]["agents"]) == 3, 10, "the run file to list the agents")
    status = run_smb(workspace, "status", "--json")
    assert status.returncode == 0, status.stderr
    live = [r for r in json.loads(status.stdout)["runs"] if r["alive"]]
    assert [(r["run_id"], r["agents"], r["phase"]) for r in live] == [(run_id, 3, "implement")]
    assert json.loads(status.stdout)["batches"]["001"]["i"] == 3
    stop = run_smb(workspace, "stop", run_id)
    assert stop.returncode == 0, explain(stop)
    assert f"stopped {run_id}" in stop.stdout
    table = rows(workspace)
    assert all((table[n].status, table[n].attempts, table[n].get("owner")) == ("D", 0, "") for n in names)
    # `smb stop` returns once the run is gone, and the run ends its agents first: this only allows
    # for the reaping of the last ones (a deadline, not a measurement).
    wait_for(lambda: tagged(tag) == [], 10, "no agent left")
    record = run_files(workspace)[0]
    assert record["exit_code"] == 143 and record["ended"]
    text = (workspace.root / "logs/implement-001.log").read_text()
    assert "SIGTERM received" in text and text.count("STOPPED ") == 3


# -- real agents --------------------------------------------------------------------------


def test_a_real_agent_cli_configured_with_flags_works_end_to_end(workspace):
    names = make_sites(workspace, 3, status="-", designs=False)
    claude = agent_cmd("fake_claude", "-p", "--model", "opus")
    write_config(workspace, design=claude, implement=claude)
    calls = workspace.root / "calls.jsonl"
    env = smb_env(FAKE_ARGV_LOG=str(calls))
    for phase in ("design", "implement"):
        result = run_smb(workspace, phase, "--batch", "001", env=env)
        assert result.returncode == 0, explain(result)
    seen = [json.loads(line) for line in calls.read_text().splitlines()]
    assert len(seen) == 6
    assert all(call["argv"] == ["-p", "--model", "opus"] and call["prompt_chars"] > 100 for call in seen)
    for name in names:
        assert "Tagline" in workspace.design_file(name).read_text()
        site = workspace.site_dir(name)
        assert sorted(p.name for p in site.iterdir()) == ["index.html", "styles.css"]
        assert f"<h1>{name}</h1>" in (site / "index.html").read_text()
    assert set(statuses(workspace).values()) == {"I"}


def test_builtin_agent_runs_a_batch_end_to_end(workspace):
    names = domains(6, "demo")
    add_sites(Store(workspace), names, "001")
    write_config(workspace, design="builtin", implement="builtin", max_agents=3)
    result = run_smb(workspace, "run", "--batch", "001", timeout=180)
    # Design, implement and finish: the builtin agent's sites pass finish, so every site ends at Q.
    assert result.returncode == 0, explain(result)
    final = statuses(workspace)
    assert final == {name: "Q" for name in names}, explain(result)
    for name in names:
        assert workspace.design_file(name).stat().st_size > 0
        assert "<html" in (workspace.site_dir(name) / "index.html").read_text()
