"""``smb resume DOMAIN``: a kept agent session continued by hand, or its output promoted (issue 21)."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.cli import assert_one_line_error, explain, read_terminal, smb_argv, smb_env
from support.processes import create_time, dead_process_identity
from support.registry import row_line, rows, statuses
from support.agents import SESSION_CLAUDE
from support.sessions import write_session
from support.workspaces import events, make_workspace, write_run

from smbatcher import sessions
from smbatcher.registry import new_registry_text

SITE, OTHER, NEW = "lotus.dev", "fern.dev", "moss.dev"


@pytest.fixture
def ws(workspace_root: Path):
    return make_workspace(workspace_root, {"001": [(SITE, "D"), (OTHER, "I"), (NEW, "-")]})



# -- continuing a session by hand -------------------------------------------------------------------


def test_without_a_terminal_it_prints_the_command_to_type(smb, ws):
    session = write_session(ws, SITE)
    folder = sessions.folder(ws, SITE, "implement")
    proc = smb("resume", SITE)
    assert proc.returncode == 0, explain(proc)
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, explain(proc)
    assert lines[0] == (f"cd {shlex.quote(str(folder))} && env "
                        + shlex.quote(f"CLAUDE_CONFIG_DIR={folder / '.claude-home'}")
                        + f" claude --resume {session.id}")
    assert shlex.split(lines[0])[-2:] == ["--resume", session.id]


def test_the_command_names_the_program_that_made_the_session_and_the_chosen_phase(smb, ws):
    write_session(ws, SITE, "implement")
    design = write_session(ws, SITE, "design", program="/opt/claude/bin/claude")
    proc = smb("resume", SITE, "--phase", "design")
    assert proc.returncode == 0, explain(proc)
    assert proc.stdout.strip().endswith(f"/opt/claude/bin/claude --resume {design.id}")
    assert str(sessions.folder(ws, SITE, "design")) in proc.stdout


def test_json_describes_the_takeover_and_runs_nothing(smb, ws):
    session = write_session(ws, SITE)
    data = json.loads(smb("resume", SITE, "--json").stdout)
    assert data["session"] == session.id and data["argv"] == ["claude", "--resume", session.id]
    assert data["env"]["SMB_DOMAIN"] == SITE and data["env"]["SMB_BATCH"] == "001"
    assert data["env"]["SMB_OUTPUT"] == str(sessions.folder(ws, SITE, "implement") / "site")


FAKE_CLAUDE = """#!{python}
import json, os, sys
record = {{"argv": sys.argv[1:], "cwd": os.getcwd(), "config": os.environ.get("CLAUDE_CONFIG_DIR"),
          "smb": {{k: v for k, v in os.environ.items() if k.startswith("SMB_")}},
          "retries": os.environ.get("CLAUDE_CODE_MAX_RETRIES"), "tty": sys.stdin.isatty() and sys.stdout.isatty(),
          "holder": json.load(open(os.environ["FAKE_SESSION_RECORD"]))["holder"]}}
with open(os.environ["FAKE_CLAUDE_RECORD"], "w") as handle:
    json.dump(record, handle)
sys.exit(7)
"""


@pytest.mark.parametrize("recorded", [False, True], ids=["claude-on-path", "recorded-program"])
def test_on_a_terminal_the_agent_runs_in_the_session_folder_and_its_exit_code_is_smbs(ws, tmp_path, recorded):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "claude"
    fake.write_text(FAKE_CLAUDE.format(python=sys.executable))
    fake.chmod(0o755)
    session = write_session(ws, SITE, program=str(fake) if recorded else "")
    record = tmp_path / "record.json"
    path = os.environ["PATH"] if recorded else str(bin_dir) + os.pathsep + os.environ["PATH"]
    master, slave = os.openpty()
    child = subprocess.Popen(smb_argv(ws, "resume", SITE), cwd=ws.root, stdin=slave, stdout=slave, stderr=slave,
                             env=smb_env(PATH=path, FAKE_CLAUDE_RECORD=str(record),
                                         FAKE_SESSION_RECORD=str(sessions.record_path(ws, SITE, "implement"))),
                             start_new_session=True)
    os.close(slave)
    try:
        shown = read_terminal(master, 60)
    finally:
        os.close(master)
    assert child.wait(timeout=60) == 7, shown
    folder = sessions.folder(ws, SITE, "implement")
    seen = json.loads(record.read_text())
    assert seen["argv"] == ["--resume", session.id]
    assert Path(seen["cwd"]) == folder and Path(seen["config"]) == folder / ".claude-home"
    assert seen["tty"] is True and seen["retries"] == "6"  # the claude preset's defaults
    assert seen["smb"]["SMB_DOMAIN"] == SITE and seen["smb"]["SMB_PHASE"] == "implement"
    assert seen["smb"]["SMB_OUTPUT"] == str(folder / "site") and seen["smb"]["SMB_ROOT"] == str(ws.root)
    assert seen["smb"]["SMB_DESIGN"] == str(ws.design_file(SITE)) and seen["smb"]["SMB_BATCH"] == "001"
    assert "SMB_RUN_ID" not in seen["smb"]
    assert session.id.encode() in shown  # smb said what it was opening before the agent took the terminal
    # While the agent ran, the session was marked open by this smb (a run leaves the site alone); not after.
    assert seen["holder"][0] == child.pid and sessions.load(ws, SITE, "implement").holder == []


# -- what cannot be resumed -----------------------------------------------------------------------


def test_a_site_without_a_session_is_one_line_and_exit_1(smb, ws):
    line = assert_one_line_error(smb("resume", SITE), 1)
    assert "no agent session for lotus.dev" in line
    write_session(ws, SITE, "implement")
    line = assert_one_line_error(smb("resume", SITE, "--phase", "design"), 1)
    assert "no design agent session for lotus.dev" in line


def test_bad_input_is_exit_2(smb, ws):
    assert "invalid domain" in assert_one_line_error(smb("resume", "../etc"), 2)
    assert "unknown domain nope.dev" in assert_one_line_error(smb("resume", "nope.dev"), 2)
    assert "unknown phase" in assert_one_line_error(smb("resume", SITE, "--phase", "finish"), 2)


def test_a_gone_transcript_or_folder_is_said_and_exit_1(smb, ws):
    write_session(ws, SITE, transcript=False)
    line = assert_one_line_error(smb("resume", SITE), 1)
    assert "has no transcript" in line and "--promote" in line
    write_session(ws, OTHER)
    shutil.rmtree(sessions.folder(ws, OTHER, "implement"))
    assert "is gone" in assert_one_line_error(smb("resume", OTHER), 1)


def claim_by_run(ws, domain: str, before: str, claim: str, *, live: bool = True) -> None:
    """``domain``, now ``before``, claimed (``claim``) by a run whose process is alive (this test's own),
    or by a dead one (a stale claim)."""
    run_id = "implement-001-live" if live else "implement-001-dead"
    pid, ctime = (os.getpid(), create_time(os.getpid())) if live else dead_process_identity()
    write_run(ws, run_id, pid, ctime)
    text = ws.registry.read_text(encoding="utf-8")
    assert row_line(domain, "001", before) in text
    ws.registry.write_text(text.replace(row_line(domain, "001", before),
                                        row_line(domain, "001", claim, owner=run_id)), encoding="utf-8")


def test_a_site_a_live_run_is_working_on_is_refused(smb, ws):
    write_session(ws, SITE, state="running", reason="")
    claim_by_run(ws, SITE, "D", "i")
    before = ws.registry.read_bytes()
    for args in (["resume", SITE], ["resume", SITE, "--promote"]):
        line = assert_one_line_error(smb(*args), 1)
        assert "claimed by live run implement-001-live" in line
    assert ws.registry.read_bytes() == before
    assert (sessions.folder(ws, SITE, "implement") / "site" / "index.html").is_file()
    assert not ws.site_dir(SITE).exists()


def test_a_claim_of_a_dead_run_does_not_stop_a_takeover(smb, ws):
    write_session(ws, SITE, state="running", reason="")
    claim_by_run(ws, SITE, "D", "i", live=False)
    assert smb("resume", SITE).returncode == 0
    proc = smb("resume", SITE, "--promote")
    assert proc.returncode == 0, explain(proc)
    assert "i -> I" in proc.stdout
    row = next(line for line in ws.registry.read_text().splitlines() if SITE in line)
    assert "implement-001-dead" not in row  # the claim is gone with the promotion


# -- promoting what a session left ------------------------------------------------------------------


def test_promote_moves_the_site_into_place_sets_I_and_gives_the_session_up(smb, ws):
    session = write_session(ws, SITE)
    proc = smb("resume", SITE, "--promote")
    assert proc.returncode == 0, explain(proc)
    assert proc.stdout.splitlines() == [(f"{SITE}: implement session {session.id} promoted to sites/{SITE}-v1; "
                                         "D -> I; session removed")]
    assert "from its session" in (ws.site_dir(SITE) / "index.html").read_text()
    assert statuses(ws)[SITE] == "I"
    assert sessions.load(ws, SITE, "implement") is None
    assert not sessions.folder(ws, SITE, "implement").exists()
    last = events(ws)[-1]
    assert (last["from"], last["to"], last["actor"], last["session"]) == ("D", "I", "resume", session.id)
    history = smb("history", SITE)
    assert f"session={session.id}" in history.stdout, explain(history)


def test_promote_replaces_a_site_already_built(smb, ws):
    write_session(ws, OTHER)
    proc = smb("resume", OTHER, "--promote")
    assert proc.returncode == 0, explain(proc)
    assert "from its session" in (ws.site_dir(OTHER) / "index.html").read_text()
    assert statuses(ws)[OTHER] == "I"


def test_promote_a_design_session_writes_the_design_and_sets_D(smb, ws):
    write_session(ws, NEW, "design")
    proc = smb("resume", NEW, "--promote")
    assert proc.returncode == 0, explain(proc)
    assert "- -> D" in proc.stdout
    assert ws.design_file(NEW).read_text() == f"# {NEW}\n\nA design from its session.\n"
    assert statuses(ws)[NEW] == "D"
    assert sessions.load(ws, NEW, "design") is None


def break_output(ws, how: str) -> None:
    site = sessions.folder(ws, SITE, "implement") / "site"
    if how == "symlink":
        (site / "secrets").symlink_to("/etc")
    elif how == "no-index":
        (site / "index.html").unlink()
        (site / "about.html").write_text("<p>about</p>")
    elif how == "output-is-a-link":
        os.rename(site, site.with_name("real-site"))
        site.symlink_to(site.with_name("real-site"))


@pytest.mark.parametrize("how, says", [("symlink", "secrets in the output is a symlink"),
                                       ("no-index", "no index.html"),
                                       ("output-is-a-link", "is a symlink, not a file or folder")])
def test_promote_refuses_an_output_that_fails_the_check_and_writes_nothing(smb, ws, how, says):
    write_session(ws, SITE)
    break_output(ws, how)
    before = ws.registry.read_bytes()
    events_before = ws.events.read_bytes() if ws.events.exists() else b""
    line = assert_one_line_error(smb("resume", SITE, "--promote"), 1)
    assert says in line and "was not taken" in line
    assert ws.registry.read_bytes() == before
    assert (ws.events.read_bytes() if ws.events.exists() else b"") == events_before
    assert not ws.site_dir(SITE).exists()
    assert sessions.load(ws, SITE, "implement") is not None  # kept: the operator may fix it and retry


def test_promote_without_a_session_or_past_the_phase_is_refused(smb, ws):
    before = ws.registry.read_bytes()
    assert "no agent session" in assert_one_line_error(smb("resume", SITE, "--promote"), 1)
    write_session(ws, OTHER, "design")  # OTHER is built (I): its design session's output is not wanted now
    assert "already past design" in assert_one_line_error(smb("resume", OTHER, "--promote"), 1)
    assert ws.registry.read_bytes() == before
    assert sessions.load(ws, OTHER, "design") is not None


def test_resume_is_in_the_help_and_completes_domains(smb, ws):
    assert "resume" in smb("--help").stdout
    help_text = smb("resume", "--help").stdout
    assert "--promote" in help_text and "--phase" in help_text
    proc = smb(env={"_SMB_COMPLETE": "complete_bash", "COMP_WORDS": "smb resume lo", "COMP_CWORD": "2"})
    assert SITE in proc.stdout.split(), explain(proc)


def test_an_unclean_registry_is_never_written_by_promote(smb, ws):
    write_session(ws, SITE)
    text = new_registry_text() + row_line(SITE) + row_line(SITE)  # a duplicate row
    ws.registry.write_text(text, encoding="utf-8")
    proc = smb("resume", SITE, "--promote")
    assert proc.returncode == 2, explain(proc)
    assert ws.registry.read_text(encoding="utf-8") == text
    assert not ws.site_dir(SITE).exists()


def test_a_run_leaves_a_site_alone_while_its_session_is_open_by_hand(ws):
    from smbatcher.proc import own_create_time
    from support.workspaces import write_config

    session = write_session(ws, SITE)
    held = sessions.load(ws, SITE, "implement")
    held.holder = [os.getpid(), own_create_time()]  # this test process plays the `smb resume` on a terminal
    sessions.save(ws, held)
    write_config(ws, implement=str(SESSION_CLAUDE))
    folder = sessions.folder(ws, SITE, "implement")
    before = {path: path.read_bytes() for path in (sessions.record_path(ws, SITE, "implement"),
                                                    sessions.transcript(folder, session.id), folder / "site" / "index.html")}
    result = subprocess.run(smb_argv(ws, "implement", "--batch", "001", "--sites", SITE), cwd=ws.root,
                            env=smb_env(), capture_output=True, text=True, timeout=60)
    assert f"SKIP {SITE}: its implement session is open in smb resume (pid {os.getpid()}); not launched" \
        in result.stdout, explain(result)
    row = rows(ws)[SITE]
    assert (row.status, row.attempts) == ("D", 0), explain(result)  # back where it was, nothing counted
    assert result.returncode == 0, explain(result)
    assert {path: path.read_bytes() for path in before} == before  # nothing of it was touched, its record included


def test_promote_refuses_a_session_open_in_smb_resume(smb, ws):
    from smbatcher.proc import own_create_time

    write_session(ws, SITE)
    held = sessions.load(ws, SITE, "implement")
    held.holder = [os.getpid(), own_create_time()]  # this test process plays the `smb resume` on a terminal
    sessions.save(ws, held)
    before = ws.registry.read_bytes()
    line = assert_one_line_error(smb("resume", SITE, "--promote"), 1)
    assert f"open in smb resume (pid {os.getpid()})" in line, line
    assert ws.registry.read_bytes() == before and not ws.site_dir(SITE).exists()
