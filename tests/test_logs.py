"""`smb logs DOMAIN` (issue 23): the latest or chosen attempt's log, a claude agent's stream-json as readable
lines, the bytes with --raw, and -f following a live agent until its attempt ends (real runner, real agent)."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from support.agents import AGENTS, agent_cmd
from support.cli import assert_one_line_error, collect, explain, run_smb, smb_env, start_smb
from support.processes import create_time
from support.registry import registry_text, statuses
from support.waiting import wait_for
from support.workspaces import make_sites, write_run

SHAPES = AGENTS / "shapes"
HEADER = "=== smb implement {domain} attempt {n} run implement-001-20261205T100000-ab12 2026-12-05T10:00:00Z"


def write_log(workspace, domain: str, phase: str, attempt: int, body: bytes, mtime: float) -> Path:
    path = workspace.site_log(domain, phase, attempt)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    os.utime(path, (mtime, mtime))
    return path


def test_follow_shows_the_agent_s_lines_while_it_runs_and_ends_when_its_attempt_does(workspace, tag, runners,
                                                                                     tmp_path):
    gate = tmp_path / "gate"
    (name,) = make_sites(workspace, 1, implement=agent_cmd("stream_gate"))
    runner = start_smb(workspace, "implement", "--batch", "001", env=smb_env(FAKE_GATE=str(gate), FAKE_TAG=tag))
    runners.append(runner)
    log = workspace.site_log(name, "implement", 1)
    wait_for(lambda: log.exists() and "tool_use" in log.read_text(), 60, "the agent's tool call in its log")

    follower = start_smb(workspace, "logs", name, "-f")
    runners.append(follower)
    shown = Path(follower.out_file.name)
    wait_for(lambda: "> Write site/index.html" in shown.read_text(), 60, "smb logs -f to show the tool call")
    # The agent waits at its gate: whatever was shown was shown live, and following goes on.
    assert follower.poll() is None, shown.read_text()
    assert "[result]" not in shown.read_text()

    gate.touch()
    result = collect(follower, timeout=60)  # ends by itself once the attempt is over
    assert result.returncode == 0, explain(result)
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"=== smb implement {name} attempt 1 run implement-001-"), explain(result)
    assert lines[1:-1] == ["[start] model fake-opus, session sess-1", f"Planning the page for {name}.",
                           "> Write site/index.html", "[result] done ($0.0421, 3 turns, 4.2s): Wrote index.html",
                           ], explain(result)
    assert lines[-1].startswith(f"=== smb end {name} attempt 1: ok"), explain(result)  # the runner's last word
    run = collect(runner)
    assert run.returncode == 0, explain(run)
    assert statuses(workspace)[name] == "I"


def test_follow_waits_for_the_running_attempt_s_log_not_an_older_phase_s(workspace, runners):
    """Between a claim and its agent's start the newest log is the design's: -f waits for the implement one."""
    (name,) = make_sites(workspace, 1)
    write_log(workspace, name, "design", 1, b"design one\n", 1_000_000)
    run_id = "implement-001-20261205T100000-ab12"
    run = write_run(workspace, run_id, os.getpid(), create_time(os.getpid()))  # a live run: this process
    workspace.registry.write_text(registry_text([(name, "001", "i", run_id, 1)]))

    follower = start_smb(workspace, "logs", name, "-f")
    runners.append(follower)
    said = Path(follower.err_file.name)
    wait_for(lambda: "waiting for" in said.read_text(), 60, "smb logs -f to wait for the agent")
    assert said.read_text() == f"smb: waiting for {name}'s implement agent (attempt 1) to start\n"
    write_log(workspace, name, "implement", 1, b"implement one\n", 1_000_100)
    wait_for(lambda: "implement one" in Path(follower.out_file.name).read_text(), 60, "the implement log shown")
    assert follower.poll() is None  # the run still holds the attempt
    run.write_text(run.read_text().replace('"ended": null', f'"ended": {time.time()}'))
    result = collect(follower, timeout=60)
    assert result.returncode == 0, explain(result)
    assert result.stdout == "implement one\n"


def test_a_claude_stream_json_log_reads_as_lines_and_raw_gives_its_bytes(workspace):
    (name,) = make_sites(workspace, 1)
    header = HEADER.format(domain=name, n=1)
    body = (header + "\n").encode() + (SHAPES / "success.jsonl").read_bytes()
    write_log(workspace, name, "implement", 1, body, 1_000_000)

    result = run_smb(workspace, "logs", name, timeout=30)
    assert result.returncode == 0, explain(result)
    lines = result.stdout.splitlines()
    assert lines[0] == header
    assert lines[1].startswith("[start] model claude-"), explain(result)
    assert lines[2:] == ["I'll create index.html.", "> Write site/index.html", "done",
                         "[result] done ($0.0187, 2 turns, 0.2s): done"], explain(result)
    assert '{"type"' not in result.stdout

    raw = run_smb(workspace, "logs", name, "--raw", timeout=30)
    assert raw.returncode == 0, explain(raw)
    assert raw.stdout == body.decode()


def test_an_api_failure_shows_its_retries_and_the_failed_result(workspace):
    (name,) = make_sites(workspace, 1)
    write_log(workspace, name, "implement", 1, (SHAPES / "auth-subscriber.jsonl").read_bytes(), 1_000_000)
    result = run_smb(workspace, "logs", name, timeout=30)
    assert result.returncode == 0, explain(result)
    assert result.stdout.splitlines()[1:] == [
        "[api retry 1/2] 401", "[api retry 2/2] 401", "[error] authentication_failed: Not logged in · Please run /login",
        "[result] failed ($0.0000, 1 turn, 2.1s): Not logged in · Please run /login"], explain(result)


def test_the_latest_attempt_is_shown_unless_phase_or_attempt_choose_another(workspace):
    (name,) = make_sites(workspace, 1)
    write_log(workspace, name, "design", 1, b"design one\n", 1_000_000)
    write_log(workspace, name, "implement", 1, b"implement one\n", 1_000_100)
    write_log(workspace, name, "implement", 2, b"implement two\n", 1_000_200)

    def shown(*args: str) -> str:
        result = run_smb(workspace, "logs", name, *args, timeout=30)
        assert result.returncode == 0, explain(result)
        return result.stdout

    assert shown() == "implement two\n"
    assert shown("--phase", "design") == "design one\n"
    assert shown("--attempt", "1") == "implement one\n"
    # No run is working on the site: following shows the log and returns at once (as from cron).
    assert shown("-f") == "implement two\n"

    line = assert_one_line_error(run_smb(workspace, "logs", name, "--phase", "design", "--attempt", "2"), 2)
    assert f"no agent log for {name} (phase design attempt 2)" in line
    line = assert_one_line_error(run_smb(workspace, "logs", name, "--phase", "build"), 2)
    assert "--phase" in line and "design or implement" in line
    line = assert_one_line_error(run_smb(workspace, "logs", "never-added.dev"), 2)
    assert "no agent log for never-added.dev" in line


def test_control_characters_in_an_agent_s_log_are_shown_escaped(workspace):
    (name,) = make_sites(workspace, 1)
    body = (b'plain \x1b[2J\x1b]0;title\x07 text\n'
            b'{"type":"assistant","message":{"content":[{"type":"text","text":"said \\u001b[31mred"}]}}\n')
    write_log(workspace, name, "implement", 1, body, 1_000_000)
    result = run_smb(workspace, "logs", name, timeout=30)
    assert result.returncode == 0, explain(result)
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert result.stdout.splitlines() == ["plain \\x1b[2J\\x1b]0;title\\x07 text", "said \\x1b[31mred"]


def test_the_real_claude_cli_s_log_reads_as_its_text_tool_calls_and_costed_result(claude_cli, claude_mock,
                                                                                  workspace, tmp_path):
    from support.claude import claude_env, run_smb_in

    (name,) = make_sites(workspace, 1, implement="claude")
    mock = claude_mock("ok")
    env = claude_env(mock, claude_cli, tmp_path / "home", auth="apikey", base=smb_env(),
                     extra={"CLAUDE_CODE_MAX_RETRIES": "1", "API_TIMEOUT_MS": "3000"})
    run = run_smb_in(mock, workspace, "implement", "--batch", "001", "--agent", "claude", env=env)
    assert run.returncode == 0, explain(run)

    result = run_smb(workspace, "logs", name, timeout=30)
    assert result.returncode == 0, explain(result)
    lines = result.stdout.splitlines()
    assert lines[1].startswith("[start] model "), explain(result)
    (final,) = [line for line in lines if line.startswith("[result] ")]
    assert re.fullmatch(r"\[result\] done \(\$0\.\d{4}, 2 turns, \d+\.\ds\): done", final), explain(result)
    assert '{"type"' not in result.stdout, explain(result)
    assert lines[2:-1] == ["I'll create index.html.", "> Write site/index.html", "done", final], explain(result)
