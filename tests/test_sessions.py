"""Agent sessions with the real Claude Code CLI against the mock API (issue 21): an attempt that is
held, stopped or timed out is continued (``--resume``) instead of started again, and a site that
finish would refuse is sent back to the same session before it is promoted.

The mock's ``--steps 4`` agent writes part-1.css, part-2.css, part-3.css and index.html, one file a
turn, and goes on where a resumed conversation stopped; ``--fixed-html`` answers a repair request
(a "broken link" in a new user message) by rewriting index.html.
"""

from __future__ import annotations

import json
import os
import signal

import pytest

from smbatcher import jail, sessions
from support.agents import SESSION_CLAUDE
from support.claude import run_smb_in, smb_claude_env
from support.cli import collect, explain, run_smb, smb_env, start_smb
from support.registry import rows
from support.sessions import write_session
from support.waiting import wait_for
from support.workspaces import attempt_results, make_sites

IMPLEMENT = ("implement", "--batch", "001", "--agent", "claude")
BROKEN = ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Harbor</title></head><body>"
          "<h1>Harbor Bakery</h1><p>Fresh bread every morning since 1990.</p>"
          "<a href=\"pricing.html\">Pricing</a></body></html>\n")
FIXED = BROKEN.replace("<a href=\"pricing.html\">Pricing</a>", "<p>Open daily from seven until noon.</p>")




def session_folder(ws, name: str):
    return sessions.folder(ws, name, "implement")


@pytest.mark.parametrize("sandbox", ["off", "on"])
def test_a_usage_limit_mid_work_is_continued_not_restarted(claude_cli, claude_mock, workspace, tmp_path, sandbox):
    if sandbox == "on" and jail.probe() is None:
        pytest.skip("bubblewrap (bwrap) cannot start a sandbox here")
    # Jailed too: the session folder is the one writable folder, inside the hidden .smbatcher/sessions/.
    (name,) = make_sites(workspace, 1, implement="claude", max_agents=1)
    # Two files written, the third request refused by a session limit that resets 3 s later.
    mock = claude_mock("usage-limit", "--ok-first", "2", "--fail-first", "1", "--steps", "4", "--reset-in", "3")
    result = run_smb_in(mock, workspace, *IMPLEMENT,
                        env=smb_claude_env(mock, claude_cli, tmp_path, auth="oauth", SMB_SANDBOX=sandbox))
    assert result.returncode == 0, explain(result)
    assert "usage limit: held until" in result.stdout, result.stdout
    row = rows(workspace)[name]
    assert row.status == "I" and row.attempts == 0, explain(result)  # no attempt counted
    site = workspace.site_dir(name)
    assert {"part-1.css", "part-2.css", "part-3.css", "index.html"} <= {p.name for p in site.iterdir()}
    requests = mock.requests()
    assert len(requests) <= 7, [r["answer"] for r in requests]
    refused = next(i for i, r in enumerate(requests) if r["answer"].startswith("429"))
    after = requests[refused + 1]
    # The first request after the hold continues the conversation: the two files' turns are in it.
    assert after["n_messages"] > 5, after
    assert after["headers"]["x-claude-code-session-id"] == requests[0]["headers"]["x-claude-code-session-id"]
    limited, done = attempt_results(workspace)
    assert limited["class"] == "usage-limit" and done["class"] == "ok", (limited, done)
    assert done["session"] == limited["session"] == requests[0]["headers"]["x-claude-code-session-id"]
    assert done.get("resumed") is True and not limited.get("resumed")
    assert "continued (resume 1 of at most 3)" in (workspace.logs / "sites" / name / "implement-1.log").read_text()
    # Promoted: nothing of the session is left.
    assert not session_folder(workspace, name).exists()
    assert sessions.load(workspace, name, "implement") is None


def _stop_mid_work(claude_cli, claude_mock, workspace, tmp_path):
    """A run SIGTERM'd while its agent has written part-2.css of four files: its session is kept.
    The mock answers two requests, then holds the third unanswered (API_TIMEOUT_MS is 5 s): the agent
    is mid-work, waiting, when the signal comes, however slow the machine. (Once part-2.css is there,
    the first file's turn is in the transcript: the CLI saves a tool's result before its next request.)"""
    (name,) = make_sites(workspace, 1, implement="claude", max_agents=1)
    slow = claude_mock("hang", "--ok-first", "2", "--steps", "4")
    env = smb_claude_env(slow, claude_cli, tmp_path)
    runner = start_smb(workspace, *IMPLEMENT, env=env, prefix=slow.wrap([]))
    written = session_folder(workspace, name) / "site" / "part-2.css"
    try:
        wait_for(written.exists, 60, "the agent's second file")
        # The run record names the running agent's session (smb status --json shows it).
        status = json.loads(run_smb(workspace, "status", "--json", env=env).stdout)
        (live,) = [run for run in status["runs"] if run["alive"]]
        assert [a.get("session") for a in live["activity"]] == [sessions.load(workspace, name, "implement").id]
    finally:
        runner.send_signal(signal.SIGTERM)
    result = collect(runner, timeout=60)
    assert result.returncode == 143, explain(result)
    kept = sessions.load(workspace, name, "implement")
    assert kept is not None and kept.state == "kept" and kept.reason == "stopped", kept
    assert written.exists() and sessions.transcript(session_folder(workspace, name), kept.id) is not None
    return name, kept, env


def test_a_stopped_run_s_next_run_continues_its_session(claude_cli, claude_mock, workspace, tmp_path):
    name, kept, _ = _stop_mid_work(claude_cli, claude_mock, workspace, tmp_path)
    mock = claude_mock("ok", "--steps", "4")
    result = run_smb_in(mock, workspace, *IMPLEMENT, env=smb_claude_env(mock, claude_cli, tmp_path))
    assert result.returncode == 0, explain(result)
    requests = mock.requests()
    assert requests[0]["headers"]["x-claude-code-session-id"] == kept.id
    assert requests[0]["n_messages"] > 2, requests[0]  # the earlier turns, not a new conversation
    assert len(requests) < 5, [r["n_messages"] for r in requests]  # a fresh start takes 4 files and the answer
    assert rows(workspace)[name].status == "I"
    assert (workspace.site_dir(name) / "part-1.css").is_file()
    done = attempt_results(workspace)[-1]
    assert done["session"] == kept.id and done["resumed"] is True, done


def test_a_transcript_removed_by_hand_falls_back_to_a_fresh_start(claude_cli, claude_mock, workspace, tmp_path):
    name, kept, _ = _stop_mid_work(claude_cli, claude_mock, workspace, tmp_path)
    os.unlink(sessions.transcript(session_folder(workspace, name), kept.id))
    mock = claude_mock("ok", "--steps", "4")
    result = run_smb_in(mock, workspace, *IMPLEMENT, env=smb_claude_env(mock, claude_cli, tmp_path))
    assert result.returncode == 0, explain(result)
    log = (workspace.logs / "sites" / name / "implement-1.log").read_text()
    assert f"session {kept.id}: its transcript is not in" in log and "starting fresh" in log, log
    requests = mock.requests()
    fresh = requests[0]["headers"]["x-claude-code-session-id"]
    assert fresh != kept.id and requests[0]["n_messages"] <= 2 and len(requests) == 5
    assert rows(workspace)[name].status == "I"
    done = attempt_results(workspace)[-1]
    assert done["session"] == fresh and not done.get("resumed"), done


def test_a_broken_link_goes_back_to_the_session_and_the_site_finishes(claude_cli, claude_mock, workspace, tmp_path):
    (name,) = make_sites(workspace, 1, implement="claude", max_agents=1)
    mock = claude_mock("ok", "--html", BROKEN, "--fixed-html", FIXED)
    env = smb_claude_env(mock, claude_cli, tmp_path)
    result = run_smb_in(mock, workspace, *IMPLEMENT, env=env)
    assert result.returncode == 0, explain(result)
    assert f"repair {name}: finish's checks found 1 problem; turn 1 of 2" in result.stdout, result.stdout
    asked = [r for r in mock.requests() if "broken link" in r.get("last_user_text", "")]
    assert len(asked) == 1 and "index.html: broken link: pricing.html" in asked[0]["last_user_text"], asked
    assert asked[0]["n_messages"] > 2  # the same conversation, not a new one
    done = attempt_results(workspace)[-1]
    assert done["to"] == "I" and done["repaired"] is True and done["repair_turns"] == 1, done
    assert done["turns"] > 2  # the repair's turns are the attempt's
    assert "pricing.html" not in (workspace.site_dir(name) / "index.html").read_text()
    finished = run_smb_in(mock, workspace, "finish", "--batch", "001", env=env)
    assert finished.returncode == 0, explain(finished)
    assert rows(workspace)[name].status == "Q", explain(finished)


def test_without_repair_turns_the_broken_site_stays_at_i_after_finish(claude_cli, claude_mock, workspace, tmp_path):
    (name,) = make_sites(workspace, 1, implement="claude", max_agents=1, repair_turns=0)
    mock = claude_mock("ok", "--html", BROKEN, "--fixed-html", FIXED)
    env = smb_claude_env(mock, claude_cli, tmp_path)
    result = run_smb_in(mock, workspace, *IMPLEMENT, env=env)
    assert result.returncode == 0, explain(result)
    assert not [r for r in mock.requests() if "broken link" in r.get("last_user_text", "")]
    finished = run_smb_in(mock, workspace, "finish", "--batch", "001", env=env)
    assert finished.returncode != 0 and "broken link: pricing.html" in finished.stdout + finished.stderr
    assert rows(workspace)[name].status == "I"


def test_a_session_the_cli_cannot_load_is_started_fresh_at_once_and_not_counted(claude_cli, claude_mock, workspace,
                                                                                tmp_path):
    name, kept, _ = _stop_mid_work(claude_cli, claude_mock, workspace, tmp_path)
    sessions.transcript(session_folder(workspace, name), kept.id).write_text("not a transcript\n")
    mock = claude_mock("ok", "--steps", "4")
    result = run_smb_in(mock, workspace, *IMPLEMENT, env=smb_claude_env(mock, claude_cli, tmp_path))
    assert result.returncode == 0, explain(result)
    refused, done = attempt_results(workspace)[-2:]
    assert refused["class"] == "resume-failed" and refused["to"] == "D", refused
    assert "No conversation found" in refused["note"], refused
    assert done["to"] == "I" and done["session"] != kept.id and not done.get("resumed"), done
    assert rows(workspace)[name].attempts == 0  # nothing counted: the retry came at once
    fresh = [r for r in mock.requests() if r["headers"]["x-claude-code-session-id"] == done["session"]]
    assert len(fresh) == 5 and fresh[0]["n_messages"] <= 2


def test_a_runner_killed_with_sigkill_leaves_a_session_the_next_run_continues(claude_cli, claude_mock, workspace,
                                                                            tmp_path):
    import psutil

    (name,) = make_sites(workspace, 1, implement="claude", max_agents=1)
    slow = claude_mock("hang", "--ok-first", "2", "--steps", "4")  # two files, then a request held unanswered
    runner = start_smb(workspace, *IMPLEMENT, env=smb_claude_env(slow, claude_cli, tmp_path), prefix=slow.wrap([]))
    written = session_folder(workspace, name) / "site" / "part-2.css"
    try:
        wait_for(written.exists, 60, "the agent's second file")
        agents = psutil.Process(runner.pid).children(recursive=True)
    finally:
        runner.kill()
    collect(runner, timeout=30)
    kept = sessions.load(workspace, name, "implement")
    assert kept is not None and kept.state == "running"  # the runner died before it could say anything
    mock = claude_mock("ok", "--steps", "4")
    result = run_smb_in(mock, workspace, *IMPLEMENT, env=smb_claude_env(mock, claude_cli, tmp_path))
    assert result.returncode == 0, explain(result)
    assert "reclaimed 1 stale claims" in result.stdout, result.stdout
    assert not [p for p in agents if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]  # no orphan left
    requests = mock.requests()
    assert requests[0]["headers"]["x-claude-code-session-id"] == kept.id and requests[0]["n_messages"] > 2
    done = attempt_results(workspace)[-1]
    assert done["to"] == "I" and done["session"] == kept.id and done["resumed"] is True, done




@pytest.mark.parametrize("resumes", [2, 3], ids=["under-max_resumes", "at-max_resumes"])
def test_max_resumes_decides_between_continuing_and_a_fresh_start(workspace, resumes):
    # A kept session already continued `resumes` times, with one file of three written.
    (name,) = make_sites(workspace, 1, implement=str(SESSION_CLAUDE), max_resumes=3)
    kept = write_session(workspace, name, resumes=resumes)
    (workspace.root / "calls.jsonl").touch()
    result = run_smb(workspace, "implement", "--batch", "001",
                     env=smb_env(FAKE_SESSION_LOG=str(workspace.root / "calls.jsonl")))
    assert result.returncode == 0, explain(result)
    (call,) = [json.loads(line) for line in (workspace.root / "calls.jsonl").read_text().splitlines()]
    log = (workspace.logs / "sites" / name / "implement-1.log").read_text()
    done = attempt_results(workspace)[-1]
    if resumes < 3:
        assert call["resumed"] and call["session"] == kept.id and call["done"] == 1, call
        assert f"continued (resume {resumes + 1} of at most 3)" in log, log
        assert call["prompt"].startswith("You were interrupted"), call  # the short prompt, not the task again
    else:
        assert not call["resumed"] and call["session"] != kept.id and call["done"] == 0, call
        assert f"session {kept.id}: continued 3 times (max_resumes 3): starting fresh" in log, log
        assert call["prompt"].startswith("You are building the website"), call
    assert done["to"] == "I" and done["session"] == call["session"] and bool(done.get("resumed")) == (resumes < 3)
    assert not session_folder(workspace, name).exists()  # promoted: the session is given up


def test_a_launch_that_cannot_start_leaves_the_kept_session_as_it_was(workspace, tmp_path):
    # A `claude` whose interpreter is missing: execve fails at the launch, after the session was chosen.
    broken = tmp_path / "bin" / "claude"
    broken.parent.mkdir()
    broken.write_text("#!/nonexistent/interpreter\n")
    broken.chmod(0o755)
    (name,) = make_sites(workspace, 1, implement=str(broken))
    kept = write_session(workspace, name, resumes=1)
    result = run_smb(workspace, "implement", "--batch", "001")
    assert result.returncode == 2 and "cannot start the agent" in result.stderr, explain(result)
    # The resume was not used up and the session is still the site's to continue, its record unchanged.
    again = sessions.load(workspace, name, "implement")
    assert (again.id, again.resumes, again.state) == (kept.id, 1, "kept"), again
    assert sessions.transcript(session_folder(workspace, name), kept.id) is not None
