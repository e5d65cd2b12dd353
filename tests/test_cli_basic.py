"""The read/write commands end to end: init, add, list-sites, status, set-status, history; bad input; --help."""

from __future__ import annotations

import json
import re
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from support.cli import assert_one_line_error
from support.dashboard import add_events, completion_event, failure_event
from support.registry import assert_clean, registry_text, statuses, write_registry
from support.workspaces import write_design

from smbatcher.cli import app
from smbatcher.registry import parse
from smbatcher.workspace import Workspace

SMB_SCRIPT = Path(sys.executable).parent / "smb"
SMB_CMD = str(SMB_SCRIPT) if SMB_SCRIPT.exists() else f"{sys.executable} -m smbatcher"


def snapshot(ws: Workspace) -> dict[str, bytes]:
    """Every file the writing commands may touch, byte for byte."""
    files = {}
    for path in [ws.registry, ws.config_file, ws.events, *ws.batches.glob("*")]:
        if path.is_file():
            files[str(path)] = path.read_bytes()
    return files


# -- init -------------------------------------------------------------------------------


def test_init_creates_the_skeleton_and_never_overwrites(smb, workspace_root: Path):
    proc = smb("init", "fresh")
    assert proc.returncode == 0, proc.stderr
    ws = Workspace(workspace_root / "fresh")
    for folder in (ws.batches, ws.designs, ws.runs, ws.backups, ws.tmp, ws.design_cache, ws.sites, ws.logs):
        assert folder.is_dir(), folder
    assert_clean(ws.registry.read_text())
    ws.registry.write_text(registry_text(["keep.dev"]))
    before = snapshot(ws)
    again = smb("init", "fresh")
    assert again.returncode == 0, again.stderr
    assert "nothing changed" in again.stdout
    assert snapshot(ws) == before


def test_init_in_process(cli, workspace_root: Path):
    result = cli("init", str(workspace_root / "w2"))
    assert result.exit_code == 0, result.output
    assert (workspace_root / "w2" / ".smbatcher" / "REGISTRY.md").is_file()


# -- add --------------------------------------------------------------------------------


def test_add_writes_registry_manifest_and_events(smb, workspace: Workspace):
    proc = smb("add", "lotus.dev", "Atlas.IO", "--batch", "1")
    assert proc.returncode == 0, proc.stderr
    reg = parse(workspace.registry.read_text())
    assert not reg.problems
    assert [(r.domain, r.batch, r.status, r.get("attempts")) for r in reg.rows] == [
        ("lotus.dev", "001", "-", "0"), ("atlas.io", "001", "-", "0")]
    manifest = workspace.manifest("001").read_text()
    assert "## Domains" in manifest and "- lotus.dev\n" in manifest and "- atlas.io\n" in manifest
    events = [json.loads(line) for line in workspace.events.read_text().splitlines()]
    assert [(e["event"], e["domain"]) for e in events] == [("add", "lotus.dev"), ("add", "atlas.io")]


def test_add_is_all_or_nothing(smb, workspace: Workspace):
    write_registry(workspace, 2)
    before = snapshot(workspace)
    proc = smb("add", "good.dev", "also-good.dev", "bad_one.dev", "fine.dev", "--batch", "1")
    line = assert_one_line_error(proc, 2)
    assert "bad_one.dev" in line
    assert snapshot(workspace) == before
    assert not workspace.manifest("001").exists()


def test_add_duplicate_refused_unless_skip_existing(smb, workspace: Workspace):
    assert smb("add", "a.dev", "--batch", "1").returncode == 0
    before = snapshot(workspace)
    line = assert_one_line_error(smb("add", "b.dev", "a.dev", "--batch", "2"), 2)
    assert "a.dev" in line and "--skip-existing" in line
    assert snapshot(workspace) == before
    proc = smb("add", "b.dev", "A.DEV", "b.dev", "--batch", "2", "--skip-existing", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"batch": "002", "added": ["b.dev"], "skipped": ["a.dev", "b.dev"]}
    assert [r.domain for r in parse(workspace.registry.read_text()).rows] == ["a.dev", "b.dev"]
    assert "- b.dev" in workspace.manifest("002").read_text()


def test_add_from_file(smb, workspace: Workspace, tmp_path: Path):
    listing = tmp_path / "domains.txt"
    listing.write_text("# new sites\none.dev\n\n  Two.dev   # trailing comment\nthree.dev\n")
    proc = smb("add", "--from", str(listing), "--batch", "07", "zero.dev")
    assert proc.returncode == 0, proc.stderr
    reg = parse(workspace.registry.read_text())
    assert [r.domain for r in reg.rows] == ["zero.dev", "one.dev", "two.dev", "three.dev"]
    assert {r.batch for r in reg.rows} == {"007"}
    manifest = workspace.manifest("007").read_text()
    assert [line for line in manifest.splitlines() if line.startswith("- ")] == [
        "- zero.dev", "- one.dev", "- two.dev", "- three.dev"]


def test_add_from_stdin(smb, workspace: Workspace):
    proc = smb("add", "--from", "-", "--batch", "1", input="x.dev\ny.dev\n")
    assert proc.returncode == 0, proc.stderr
    assert [r.domain for r in parse(workspace.registry.read_text()).rows] == ["x.dev", "y.dev"]


def test_add_keeps_an_existing_manifest_brief(smb, workspace: Workspace):
    workspace.manifest("001").write_text("# Batch 001\n\nBakeries in Lyon.\n\n## Domains\n\n- old.dev\n\n## Notes\n\nkeep me\n")
    write_registry(workspace, ["old.dev"], status="-")
    assert smb("add", "new.dev", "--batch", "1").returncode == 0
    text = workspace.manifest("001").read_text()
    assert text == "# Batch 001\n\nBakeries in Lyon.\n\n## Domains\n\n- old.dev\n- new.dev\n\n## Notes\n\nkeep me\n"


# -- list-sites -------------------------------------------------------------------------


@pytest.fixture
def mixed(workspace: Workspace) -> Workspace:
    """8 sites in batch 001 and 4 in batch 002 with several statuses."""
    text = registry_text([])
    rows = [("a.dev", "001", "-"), ("b.dev", "001", "D"), ("c.dev", "001", "D"), ("d.dev", "001", "i"),
            ("e.dev", "001", "I"), ("f.dev", "001", "Q"), ("g.dev", "001", "X"), ("h.dev", "001", "d"),
            ("k.dev", "002", "D"), ("l.dev", "002", "-"), ("m.dev", "002", "Q"), ("n.dev", "002", "D")]
    text += "".join(f"| {d} | {b} | {s} |  | 0 | 2026-11-21T10:02:11Z | note \\| {d} |\n" for d, b, s in rows)
    workspace.registry.write_text(text)
    return workspace


def test_list_sites_plain_when_piped(smb, mixed: Workspace):
    proc = smb("list-sites")
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout.split() == [r.domain for r in parse(mixed.registry.read_text()).rows]
    assert smb("list-sites", "--status", "D").stdout == "b.dev\nc.dev\nk.dev\nn.dev\n"
    assert smb("list-sites", "--status", "D,Q", "--batch", "2").stdout == "k.dev\nm.dev\nn.dev\n"
    assert smb("list-sites", "--status", "d,i").stdout == "d.dev\nh.dev\n"
    assert smb("list-sites", "-s", "X", "-b", "001").stdout == "g.dev\n"


def test_list_sites_count(smb, mixed: Workspace):
    assert smb("list-sites", "--count").stdout == "12\n"
    assert smb("list-sites", "--count", "--status", "D").stdout == "4\n"
    assert smb("list-sites", "--count", "--batch", "001", "--status", "I").stdout == "1\n"
    assert smb("list-sites", "--count", "--status", "I", "--batch", "2").stdout == "0\n"


def test_list_sites_json_and_csv(smb, mixed: Workspace):
    data = json.loads(smb("list-sites", "--format", "json", "--batch", "002").stdout)
    assert [d["domain"] for d in data] == ["k.dev", "l.dev", "m.dev", "n.dev"]
    assert data[0] == {"domain": "k.dev", "batch": "002", "status": "D", "owner": "", "attempts": "0",
                       "updated": "2026-11-21T10:02:11Z", "note": "note | k.dev"}
    assert json.loads(smb("list-sites", "--json", "--batch", "002").stdout) == data
    import csv
    import io

    rows = list(csv.reader(io.StringIO(smb("list-sites", "--format", "csv", "--status", "Q").stdout)))
    assert rows[0] == ["domain", "batch", "status", "owner", "attempts", "updated", "note"]
    assert [r[0] for r in rows[1:]] == ["f.dev", "m.dev"]
    assert rows[1][6] == "note | f.dev"


def test_list_sites_table_when_not_a_terminal_is_tab_separated(smb, mixed: Workspace):
    proc = smb("list-sites", "--format", "table", "--status", "Q")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split("\t")[:3] == ["domain", "batch", "status"]
    assert [line.split("\t")[0] for line in lines[1:]] == ["f.dev", "m.dev"]


@pytest.mark.parametrize("args", [
    [], ["--status", "D,I"], ["--format", "json"], ["--format", "csv"], ["--count"], ["--batch", "2"],
    ["--json", "--status", "Q"], ["--format", "table"], ["--format", "plain", "--batch", "001", "--status", "-"],
])
def test_console_script_and_in_process_app_agree(smb, cli, mixed: Workspace, args):
    fast = smb("list-sites", *args)
    typer_result = cli("list-sites", *args)
    assert fast.returncode == 0 == typer_result.exit_code, (fast.stderr, typer_result.output)
    assert fast.stdout == typer_result.stdout
    with_root = smb("--root", str(mixed.root), "list-sites", *args, cwd=Path("/"))
    assert with_root.stdout == fast.stdout


@pytest.mark.parametrize("args", [["--status", "Z"], ["--format", "bogus"], ["--batch", "9"], ["--batch", "x"]])
def test_console_script_and_in_process_app_agree_on_errors(smb, cli, mixed: Workspace, args):
    fast = smb("list-sites", *args)
    typer_result = cli("list-sites", *args)
    assert fast.returncode == 2 == typer_result.exit_code
    assert fast.stderr == typer_result.stderr


def test_list_sites_imports_no_heavy_module(smb, mixed: Workspace):
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "smbatcher", "list-sites", "--status", "D"],
                          cwd=mixed.root, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert proc.returncode == 0
    assert proc.stdout == "b.dev\nc.dev\nk.dev\nn.dev\n"
    imported = {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "smbatcher.listing" in imported
    heavy = {"rich", "git", "psutil", "filelock", "pydantic", "starlette"}
    assert not {name for name in imported if name.split(".")[0] in heavy}
    # commands are loaded when they run: list-sites does not import the modules of the others
    assert not {"smbatcher.cli.runs", "smbatcher.cli.doctor", "smbatcher.cli.dashboard"} & imported


@pytest.mark.parametrize("args", [["set-status", "b.dev", "c.dev", "--status", "D"], ["add", "x.dev", "--batch", "9"]],
                         ids=["set-status DOMAINS...", "add DOMAINS..."])
def test_a_command_taking_a_list_of_values_reads_them_without_pydantic(mixed: Workspace, args):
    """Typer builds a Pydantic adapter per option; smb reads str/Path/int/bool options and lists of them itself."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "smbatcher", *args], cwd=mixed.root,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    imported = {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "smbatcher.cli.common" in imported and not {n for n in imported if n.split(".")[0] == "pydantic"}


def test_list_sites_help_goes_to_typer(smb, workspace: Workspace):
    proc = smb("list-sites", "--help")
    assert proc.returncode == 0
    assert "--status" in proc.stdout and "--count" in proc.stdout


# -- status -----------------------------------------------------------------------------


def test_status_counts(smb, mixed: Workspace):
    proc = smb("status", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["batches"]["001"] == {"-": 1, "d": 1, "D": 2, "i": 1, "I": 1, "Q": 1, "X": 1, "total": 8}
    assert data["batches"]["002"]["total"] == 4 and data["batches"]["002"]["D"] == 2
    plain = smb("status")
    assert plain.returncode == 0 and plain.stderr == ""
    assert "001" in plain.stdout and "002" in plain.stdout
    only = json.loads(smb("status", "--batch", "2", "--json").stdout)
    assert list(only["batches"]) == ["002"]


# -- set-status -------------------------------------------------------------------------


def test_set_status_changes_and_records(smb, workspace: Workspace):
    names = write_registry(workspace, 3, status="D")
    proc = smb("set-status", names[1], "--status", "Q", "--note", "checked | by hand", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"changed": [names[1]], "unchanged": []}
    reg = parse(workspace.registry.read_text())
    assert not reg.problems
    assert reg.row(names[1]).status == "Q"
    assert reg.row(names[1]).get("note") == "checked | by hand"
    assert "checked \\| by hand" in workspace.registry.read_text()
    assert [r.status for r in reg.rows] == ["D", "Q", "D"]


def test_set_status_expect_refusal_exits_1(smb, workspace: Workspace):
    names = write_registry(workspace, 3, status="D")
    assert smb("set-status", names[2], "--status", "Q").returncode == 0
    proc = smb("set-status", names[0], names[2], "--expect", "D", "--status", "I", "--json")
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout) == {"changed": [names[0]],
                                       "unchanged": [{"domain": names[2], "status": "Q"}]}
    assert statuses(workspace) == {names[0]: "I", names[1]: "D", names[2]: "Q"}
    plain = smb("set-status", names[1], "--expect", "Q", "--status", "I")
    assert plain.returncode == 1
    assert names[1] in plain.stdout and "expected Q" in plain.stdout


def test_set_status_from_parked_resets_attempts(smb, workspace: Workspace):
    workspace.registry.write_text(registry_text([]) + "| p.dev | 001 | X |  | 3 |  | failed |\n")
    write_design(workspace, "p.dev")  # D promises a design (issue 23)
    assert smb("set-status", "p.dev", "--status", "D").returncode == 0
    row = parse(workspace.registry.read_text()).row("p.dev")
    assert (row.status, row.get("attempts")) == ("D", "0")


def _live_run_claim(ws: Workspace, pid: int, create_time: float, run_id: str) -> None:
    from smbatcher.runs import RunRecord, save

    save(ws, RunRecord(run_id=run_id, pid=pid, create_time=create_time, host=socket.gethostname(),
                       phase="implement", batch="001"))
    ws.registry.write_text(registry_text(["free.dev"], status="D")
                           + f"| claimed.dev | 001 | i | {run_id} | 1 | 2026-11-21T10:02:11Z |  |\n")
    for domain in ("free.dev", "claimed.dev"):
        write_design(ws, domain)  # D promises a design (issue 23)


def test_set_status_needs_force_for_a_live_claim(smb, workspace: Workspace):
    import psutil

    run_id = "implement-001-20261121T100000-beef"
    _live_run_claim(workspace, os.getpid(), psutil.Process().create_time(), run_id)
    before = workspace.registry.read_bytes()
    proc = smb("set-status", "claimed.dev", "--status", "D", "--json")
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    assert data["changed"] == []
    assert data["unchanged"][0]["domain"] == "claimed.dev" and data["unchanged"][0]["status"] == "i"
    assert workspace.registry.read_bytes() == before
    forced = smb("set-status", "claimed.dev", "--status", "D", "--force", "--json")
    assert forced.returncode == 0, forced.stderr
    assert json.loads(forced.stdout)["changed"] == ["claimed.dev"]
    row = parse(workspace.registry.read_text()).row("claimed.dev")
    assert (row.status, row.get("owner")) == ("D", "")


def test_set_status_on_a_dead_runs_claim_needs_no_force(smb, workspace: Workspace):
    import psutil

    # Our own pid with a wrong create time: pid reuse is not life.
    _live_run_claim(workspace, os.getpid(), psutil.Process().create_time() - 1000, "implement-001-dead")
    proc = smb("set-status", "claimed.dev", "--status", "D")
    assert proc.returncode == 0, proc.stderr
    assert statuses(workspace)["claimed.dev"] == "D"


# -- history ----------------------------------------------------------------------------


def test_history_oldest_first(smb, workspace: Workspace):
    assert smb("add", "h.dev", "--batch", "1").returncode == 0
    write_design(workspace, "h.dev")  # D promises a design (issue 23)
    for status in ("D", "I", "Q"):
        assert smb("set-status", "h.dev", "--status", status).returncode == 0
    data = json.loads(smb("history", "h.dev", "--json").stdout)
    assert [(e["event"], e.get("from"), e["to"]) for e in data] == [
        ("add", None, "-"), ("status", "-", "D"), ("status", "D", "I"), ("status", "I", "Q")]
    assert [e["ts"] for e in data] == sorted(e["ts"] for e in data)
    plain = smb("history", "h.dev")
    assert plain.returncode == 0
    lines = plain.stdout.splitlines()
    assert len(lines) == 4
    assert "add" in lines[0] and "I -> Q" in lines[3]


def test_history_shows_the_agent_session_of_each_attempt(smb, workspace: Workspace):
    """Issue 21: the pool writes session, resumed, repair_turns and repaired into an attempt's status event."""
    write_registry(workspace, ["s.dev"])
    session = "0b9f3c1e-5d2a-4c7e-9f00-1234567890ab"
    add_events(workspace, [
        failure_event("s.dev", 100.0, "implement: stopped", session=session, resumed=False, repair_turns=0),
        completion_event("s.dev", 200.0, session=session, resumed=True, repair_turns=2, repaired=True),
        completion_event("s.dev", 300.0, to="Q", resumed="yes", repair_turns=True),  # foreign values: not shown
    ])
    lines = smb("history", "s.dev").stdout.splitlines()
    assert f"session={session}" in lines[0] and "resumed" not in lines[0] and "repair" not in lines[0]
    assert f"session={session} resumed repair_turns=2 repaired" in lines[1], lines
    assert "session=" not in lines[2] and "resumed" not in lines[2] and "repair" not in lines[2], lines
    data = json.loads(smb("history", "s.dev", "--json").stdout)
    assert [(e.get("session"), e.get("resumed"), e.get("repair_turns"), e.get("repaired")) for e in data] == [
        (session, False, 0, None), (session, True, 2, True), (None, "yes", True, None)]


# -- git autocommit ---------------------------------------------------------------------


@pytest.fixture
def git_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A machine with no git identity (a fresh box running cron): smb must still commit."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GIT_CONFIG_GLOBAL", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME",
                 "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(name, raising=False)
    return home


def _git(ws: Workspace, *args: str) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@t")
    return subprocess.run(["git", *args], cwd=ws.root, env=env, capture_output=True, text=True, check=True,
                          timeout=30).stdout


def test_autocommit_commits_only_registry_and_manifests(smb, workspace: Workspace, git_home: Path):
    _git(workspace, "init", "-q")
    _git(workspace, "commit", "-q", "--allow-empty", "-m", "start")
    workspace.config_file.write_text("[git]\nautocommit = true\n")
    (workspace.root / "other.txt").write_text("operator's work in progress\n")
    _git(workspace, "add", "other.txt")

    assert smb("add", "a.dev", "b.dev", "--batch", "1").returncode == 0
    assert _git(workspace, "show", "--name-only", "--format=", "HEAD").split() == [
        ".smbatcher/REGISTRY.md", ".smbatcher/batches/Batch_001.md"]
    assert "add" in _git(workspace, "log", "-1", "--format=%s")
    assert _git(workspace, "diff", "--cached", "--name-only").split() == ["other.txt"]

    write_design(workspace, "a.dev")  # D promises a design (issue 23)
    assert smb("set-status", "a.dev", "--status", "D").returncode == 0
    assert _git(workspace, "show", "--name-only", "--format=", "HEAD").split() == [".smbatcher/REGISTRY.md"]
    assert int(_git(workspace, "rev-list", "--count", "HEAD")) == 3
    assert _git(workspace, "diff", "--cached", "--name-only").split() == ["other.txt"]
    assert _git(workspace, "status", "--porcelain", "--", ".smbatcher/REGISTRY.md") == ""

    # A refused call commits nothing.
    assert smb("set-status", "a.dev", "--expect", "Q", "--status", "I").returncode == 1
    assert int(_git(workspace, "rev-list", "--count", "HEAD")) == 3

    history = json.loads(smb("history", "a.dev", "--json").stdout)
    commits = [e for e in history if e["event"] == "commit"]
    assert [e["to"] for e in commits] == ["-", "D"]


def test_autocommit_off_makes_no_commit(smb, workspace: Workspace, git_home: Path):
    _git(workspace, "init", "-q")
    _git(workspace, "commit", "-q", "--allow-empty", "-m", "start")
    assert smb("add", "a.dev", "--batch", "1").returncode == 0
    assert int(_git(workspace, "rev-list", "--count", "HEAD")) == 1


# -- the runbook's shell habits ---------------------------------------------------------


def test_awk_yields_the_domains(smb, workspace: Workspace):
    names = write_registry(workspace, 20, status="D")
    assert smb("add", "late.dev", "--batch", "2").returncode == 0
    assert smb("set-status", names[3], "--status", "I", "--note", "a | b").returncode == 0
    out = subprocess.run(["awk", "-F|", "{print $2}", ".smbatcher/REGISTRY.md"], cwd=workspace.root,
                         capture_output=True, text=True, check=True).stdout
    cells = [c.strip() for c in out.splitlines()]
    found = [c for c in cells if c and c != "domain" and set(c) - set("-:")]
    assert found == names + ["late.dev"]


def test_list_sites_pipes_into_wc(workspace: Workspace):
    write_registry(workspace, 37, status="D")
    with workspace.registry.open("a") as handle:
        handle.write("| other.dev | 001 | I |  | 0 |  |  |\n")
    for status, expected in (("D", 37), ("I", 1), ("D,I", 38), ("Q", 0)):
        # pipefail: a crashed smb must not pass as "0 lines" (the Q case expects 0).
        out = subprocess.run(["bash", "-o", "pipefail", "-c", f"{SMB_CMD} list-sites --status {status} | wc -l"],
                             cwd=workspace.root,
                             capture_output=True, text=True, check=True, timeout=60, stdin=subprocess.DEVNULL).stdout
        assert int(out.strip()) == expected, status


# -- read-only commands on a malformed registry -----------------------------------------

MALFORMED = (registry_text(["a.dev", "b.dev"]) + "| a.dev | 001 | I |  | 0 |  |  |\n"
             + "| c.dev | 001 | Z |  | 0 |  |  |\n| d.dev | 001 | D |\n| e.dev | 002 | D |  | 0 |  |  |\n")


def test_read_only_commands_warn_and_show_what_they_can(smb, workspace: Workspace):
    workspace.registry.write_text(MALFORMED)
    before = snapshot(workspace)
    listing = smb("list-sites")
    assert listing.returncode == 0
    assert "warning" in listing.stderr and "line 7" in listing.stderr and "Traceback" not in listing.stderr
    assert {"a.dev", "b.dev", "e.dev"} <= set(listing.stdout.split())
    assert smb("list-sites", "--status", "D", "--batch", "2").stdout == "e.dev\n"
    status = smb("status")
    assert status.returncode == 0
    assert "warning" in status.stderr and "Traceback" not in status.stderr
    assert "001" in status.stdout and "002" in status.stdout
    data = json.loads(smb("status", "--json").stdout)
    assert data["problems"] and data["batches"]["002"]["D"] == 1
    assert snapshot(workspace) == before


# -- bad input: one line, the documented code, nothing written --------------------------

BASE = registry_text(["a.dev", "b.dev", "c.dev"], status="D")
HEADER_NO_STATUS = "# R\n\n| domain | batch | note |\n|---|---|---|\n| a.dev | 001 |  |\n"
NO_ALIGN = "# R\n\n| domain | batch | status | owner | attempts | updated | note |\n| a.dev | 001 | D |  | 0 |  |  |\n"

# id: (registry text, config text or None, args, extra env, expected stderr fragment)
CATALOGUE = {
    "wrong-cell-count": (BASE + "| x.dev | 001 | D |\n", None, ["set-status", "a.dev", "--status", "Q"], {}, "line 8"),
    "too-many-cells": (BASE + "| x.dev | 001 | D |  | 0 |  |  | more |\n", None, ["add", "n.dev", "-b", "1"], {},
                       "line 8"),
    "missing-required-column": (HEADER_NO_STATUS, None, ["add", "n.dev", "--batch", "1"], {}, "status"),
    "missing-alignment-row": (NO_ALIGN, None, ["set-status", "a.dev", "--status", "Q"], {}, "alignment"),
    "duplicate-rows": (BASE + "| b.dev | 002 | I |  | 0 |  |  |\n", None, ["add", "n.dev", "--batch", "1"], {},
                       "duplicate domain b.dev"),
    "unknown-status-in-registry": (BASE.replace("| c.dev | 001 | D |", "| c.dev | 001 | W |"), None,
                                   ["set-status", "a.dev", "--status", "Q"], {}, "unknown status 'W'"),
    "dotdot-domain": (BASE, None, ["add", "../x", "--batch", "1"], {}, "'../x'"),
    "slash-domain": (BASE, None, ["add", "a/b.com", "--batch", "1"], {}, "'a/b.com'"),
    "empty-domain": (BASE, None, ["add", "", "--batch", "1"], {}, "empty domain"),
    "single-label-domain": (BASE, None, ["add", "localhost", "--batch", "1"], {}, "localhost"),
    "one-bad-among-good": (BASE, None, ["add", "x.dev", "y dev", "z.dev", "--batch", "1"], {}, "y dev"),
    "duplicate-domain": (BASE, None, ["add", "b.dev", "--batch", "1"], {}, "already"),
    "batch-abc": (BASE, None, ["add", "n.dev", "--batch", "abc"], {}, "abc"),
    "batch-missing": (BASE, None, ["add", "n.dev"], {}, "--batch"),
    "unknown-config-key": (BASE, "[agents]\ncolour = 'red'\n", ["status"], {}, "agents.colour"),
    "unknown-config-section": (BASE, "[agent]\nmax_agents = 3\n", ["list-sites"], {}, "[agent]"),
    "bad-duration": (BASE, "[agents]\ntimeout = 'forever'\n", ["set-status", "a.dev", "--status", "Q"], {},
                     "agents.timeout"),
    "bad-size": (BASE, "[doctor]\ndisk_warn = '1XB'\n", ["add", "n.dev", "--batch", "1"], {}, "doctor.disk_warn"),
    "invalid-toml": (BASE, "[agents\n", ["add", "n.dev", "--batch", "1"], {}, "TOML"),
    "bad-lock-timeout-env": (BASE, None, ["set-status", "a.dev", "--status", "Q"], {"SMB_LOCK_TIMEOUT": "soon"},
                             "SMB_LOCK_TIMEOUT"),
    "list-unknown-status": (BASE, None, ["list-sites", "--status", "D,W"], {}, "W"),
    "list-bad-format": (BASE, None, ["list-sites", "--format", "bogus"], {}, "bogus"),
    "list-empty-batch": (BASE, None, ["list-sites", "--batch", "7"], {}, "007"),
    "status-empty-batch": (BASE, None, ["status", "--batch", "7"], {}, "007"),
    "set-lower-case": (BASE, None, ["set-status", "a.dev", "--status", "i"], {}, "lower-case"),
    "set-unknown-status": (BASE, None, ["set-status", "a.dev", "--status", "W"], {}, "W"),
    "set-unknown-expect": (BASE, None, ["set-status", "a.dev", "--status", "Q", "--expect", "W"], {}, "--expect"),
    "set-unknown-domain": (BASE, None, ["set-status", "a.dev", "zz.dev", "--status", "Q"], {}, "zz.dev"),
    "set-invalid-domain": (BASE, None, ["set-status", "../x", "--status", "Q"], {}, "../x"),
    "history-invalid-domain": (BASE, None, ["history", "../x"], {}, "../x"),
    "history-unknown-domain": (BASE, None, ["history", "zz.dev"], {}, "zz.dev"),
    "bad-flag": (BASE, None, ["set-status", "a.dev", "--status", "Q", "--bogus"], {}, "--bogus"),
    "bad-flag-fast-path": (BASE, None, ["list-sites", "--bogus"], {}, "--bogus"),
    "missing-option": (BASE, None, ["set-status", "a.dev"], {}, "--status"),
    "unknown-command": (BASE, None, ["frobnicate"], {}, "frobnicate"),
    "add-from-missing-file": (BASE, None, ["add", "--from", "/nonexistent/list.txt", "--batch", "1"], {},
                              "/nonexistent"),
    "root-not-a-workspace": (BASE, None, ["--root", "/nonexistent", "status"], {}, "/nonexistent"),
    "smb-root-not-a-workspace": (BASE, None, ["list-sites"], {"SMB_ROOT": "/nonexistent"}, "/nonexistent"),
}


@pytest.mark.parametrize("case", list(CATALOGUE), ids=list(CATALOGUE))
def test_bad_input_catalogue(smb, workspace: Workspace, case):
    registry, config, args, env, fragment = CATALOGUE[case]
    workspace.registry.write_text(registry)
    if config is not None:
        workspace.config_file.write_text(config)
    before = snapshot(workspace)
    proc = smb(*args, env=env)
    line = assert_one_line_error(proc, 2)
    assert line.startswith("smb: error: "), line
    assert fragment in line, line
    assert proc.stdout == ""
    assert snapshot(workspace) == before


def test_bad_input_catalogue_is_large_enough():
    assert len(CATALOGUE) >= 20


def test_no_workspace_found(smb, tmp_path: Path):
    for args in (["status"], ["list-sites"], ["add", "a.dev", "--batch", "1"], ["set-status", "a.dev", "-s", "Q"]):
        line = assert_one_line_error(smb(*args, cwd=tmp_path), 2)
        assert "no smb workspace found" in line


def test_upper_case_domain_is_normalised(smb, workspace: Workspace):
    proc = smb("add", "UPPER.COM", "--batch", "1")
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    text = workspace.registry.read_text()
    assert "| upper.com |" in text and "UPPER" not in text
    assert "- upper.com" in workspace.manifest("001").read_text()
    write_design(workspace, "upper.com")  # D promises a design (issue 23)
    assert smb("set-status", "Upper.Com", "--status", "D").returncode == 0
    assert statuses(workspace) == {"upper.com": "D"}


def test_verbose_shows_a_traceback(smb, workspace: Workspace):
    proc = smb("set-status", "zz.dev", "--status", "Q", "-v")
    assert proc.returncode == 2
    assert "Traceback" in proc.stderr and proc.stderr.splitlines()[-1].startswith("smb: error: ")


def test_in_process_error_is_one_line(cli, workspace: Workspace):
    write_registry(workspace, 2)
    result = cli("set-status", "nope.dev", "--status", "Q")
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == ["smb: error: unknown domain nope.dev; nothing was written"]


# -- every command has --help -----------------------------------------------------------


def _command_names() -> list[str]:
    group = typer.main.get_command(app)
    return sorted(name for name in group.list_commands(None) if group.get_command(None, name) is not None)


def test_the_basic_commands_are_registered():
    assert {"init", "add", "list-sites", "status", "set-status", "history"} <= set(_command_names())


@pytest.mark.parametrize("name", _command_names())
def test_every_command_has_help(cli, name):
    result = cli(name, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage" in result.stdout and name in result.stdout
    assert "Traceback" not in result.output


def test_top_level_help(smb):
    proc = smb("--help")
    assert proc.returncode == 0, proc.stderr
    for name in _command_names():
        assert name in proc.stdout


@pytest.mark.parametrize("rich", [False, True], ids=["plain", "rich"])
def test_help_shows_no_typer_artefacts(smb, rich):
    """Issue 23: no `<bool>` after a flag, no `{domains}` in a usage line, plain or drawn by Rich."""
    env = {"FORCE_COLOR": "1", "COLUMNS": "100"} if rich else {"COLUMNS": "100"}
    plain = re.compile(r"\x1b\[[0-9;]*m")
    for args in (["--help"], ["set-status", "--help"], ["init", "--help"], ["run", "--help"]):
        proc = smb(*args, env=env)
        assert proc.returncode == 0, proc.stderr
        text = plain.sub("", proc.stdout)
        assert "<bool>" not in text and "{" not in text, text
    usage = plain.sub("", smb("set-status", "--help", env=env).stdout)
    assert "smb set-status [OPTIONS] DOMAINS..." in usage
    assert "smb init [OPTIONS] [DIRECTORY]" in plain.sub("", smb("init", "--help", env=env).stdout)
