"""``smb doctor``'s disk-space scenario and agent sessions (issue 21): it names the sessions no site can
continue and their bytes, and ``--fix`` removes exactly those; a session a site may continue, or one a
live run holds, stays; the registry is never written."""

from __future__ import annotations

import json
import os
from pathlib import Path

from support.cli import explain, invoke
from support.processes import create_time
from support.registry import domains, registry_text
from support.sessions import write_session
from support.workspaces import make_workspace, write_run

from smbatcher import sessions
from smbatcher.fs import tree_size
from smbatcher.units import format_size

NO_DISK_LIMITS = "[doctor]\ndisk_warn = 0\ndisk_alert = 0\ndisk_critical = 0\n"
LIVE_RUN = "implement-001-live"


def disk_space(root: Path, *args: str, code: int = 0) -> dict:
    result = invoke(root, "doctor", "--scenario", "disk-space", *args, "--json")
    assert result.exit_code == code, explain(result)
    return json.loads(result.stdout)["checks"][0]


def on_disk(ws) -> list[str]:
    """The names under .smbatcher/sessions/ (folders and records), sorted."""
    return sorted(p.name for p in sessions.sessions_dir(ws).iterdir())


def session_bytes(ws, domain: str, phase: str) -> int:
    record = sessions.record_path(ws, domain, phase)
    return tree_size(sessions.folder(ws, domain, phase))[0] + (record.stat().st_size if record.exists() else 0)


def test_fix_removes_the_sessions_no_site_can_continue_and_keeps_the_rest(tmp_path):
    names = domains(7)
    ws = make_workspace(tmp_path / "ws", {"001": [(names[0], "D"), (names[1], "I"), (names[2], "D"),
                                                  (names[3], "i"), (names[4], "D"), (names[5], "D"),
                                                  (names[6], "D")]}, config=NO_DISK_LIMITS)
    # names[3] is claimed by a live run: this test process, with a run record naming it.
    ws.registry.write_text(registry_text([(names[0], "001", "D"), (names[1], "001", "I"), (names[2], "001", "D"),
                                          (names[3], "001", "i", LIVE_RUN, 1), (names[4], "001", "D"),
                                          (names[5], "001", "D"), (names[6], "001", "D")]))
    write_run(ws, LIVE_RUN, os.getpid(), create_time(os.getpid()))
    write_session(ws, names[0])  # D with its transcript: the next run continues it
    write_session(ws, names[1])  # the site is at I: its implement session is over
    write_session(ws, names[2], folder=False)  # a record alone
    write_session(ws, names[3], run=LIVE_RUN, transcript=False)  # the live run's agent is just starting
    write_session(ws, names[3], "design")  # past its phase, but the site is the live run's: untouched
    write_session(ws, names[4], "design")  # a design session of a site at D
    write_session(ws, names[5], transcript=False)  # nothing left for the CLI to continue
    write_session(ws, names[6], record=False)  # a folder alone
    write_session(ws, "gone.dev")  # its site is not in the registry
    stale = {(names[1], "implement"): "site at I", (names[2], "implement"): "folder missing",
             (names[4], "design"): "site at D", (names[5], "implement"): "transcript gone",
             (names[6], "implement"): "record missing", ("gone.dev", "implement"): "site not in the registry"}
    kept = [(names[0], "implement"), (names[3], "implement"), (names[3], "design")]
    stale_bytes = sum(session_bytes(ws, *key) for key in stale)
    kept_bytes = sum(session_bytes(ws, *key) for key in kept)
    registry = ws.registry.read_bytes()
    before = on_disk(ws)

    disk = disk_space(ws.root)
    assert disk["status"] == "warn", disk
    assert disk["summary"] == f"6 agent sessions no site can continue ({format_size(stale_bytes)})", disk
    assert (f"agent sessions: 3 kept ({format_size(kept_bytes)}, their sites may continue them), "
            f"6 stale ({format_size(stale_bytes)}, no site can continue them)") in disk["findings"], disk
    listed = next(line for line in disk["findings"] if line.startswith("stale sessions: "))
    for (domain, phase), reason in stale.items():
        assert f"{domain} {phase} ({reason}, " in listed, listed
    for domain, phase in kept:
        assert f"{domain} {phase}" not in listed, listed
    assert "stale agent sessions" in disk["fix"] and disk["fix"].startswith("smb doctor --scenario disk-space --fix")
    assert on_disk(ws) == before, "a diagnosis changes nothing"

    text = invoke(ws.root, "doctor", "--scenario", "disk-space")
    assert text.exit_code == 0, explain(text)
    assert "6 agent sessions no site can continue" in text.stdout and "gone.dev implement (site not in" in text.stdout

    fixed = disk_space(ws.root, "--fix")
    assert fixed["status"] == "ok", fixed
    removed = ", ".join(f"{domain} {phase}" for domain, phase in sorted(stale))
    assert fixed["fixed"] == [(f"removed 6 stale agent sessions ({removed}), "
                               f"freed {format_size(stale_bytes)}; kept 3 a site may continue")], fixed
    assert on_disk(ws) == sorted([f"{names[0]}-implement", f"{names[0]}-implement.json",
                                  f"{names[3]}-design", f"{names[3]}-design.json",
                                  f"{names[3]}-implement", f"{names[3]}-implement.json"])
    assert (sessions.folder(ws, names[0], "implement") / "site" / "index.html").is_file()
    assert sessions.load(ws, names[3], "implement").run == LIVE_RUN
    assert ws.registry.read_bytes() == registry, "doctor never writes the registry for sessions"
    assert f"agent sessions: 3 kept ({format_size(kept_bytes)}, their sites may continue them), 0 stale (0 B, " \
           "no site can continue them)" in fixed["findings"], fixed

    again = disk_space(ws.root, "--fix")
    assert again["status"] == "ok" and again["fixed"] == [], again
    assert ws.registry.read_bytes() == registry


def test_a_workspace_without_sessions_reads_as_before(tmp_path):
    ws = make_workspace(tmp_path / "ws", {"001": [("a.dev", "D")]}, config=NO_DISK_LIMITS)
    disk = disk_space(ws.root)
    assert disk["status"] == "ok" and disk["fix"] is None, disk
    assert [line.split(" ")[0] for line in disk["findings"]] == ["free", "sizes:", "growth:"], disk
    assert not any("session" in line for line in disk["findings"]), disk
    fixed = disk_space(ws.root, "--fix")
    assert fixed["findings"][1:] == disk["findings"][1:] and fixed["fixed"] == [], fixed
    assert not sessions.sessions_dir(ws).exists()

    ws.config_file.write_text(f"[doctor]\ndisk_warn = {10**18}\ndisk_alert = 0\ndisk_critical = 0\n")
    low = disk_space(ws.root)
    assert low["fix"] == ("smb doctor --scenario disk-space --fix  (frees about 0 B from tmp/ and design-cache/; "
                          "archive finished batches for more)"), low


def test_nothing_is_called_stale_while_the_registry_has_problems(tmp_path):
    """A row the parser could not read would make its site's session look orphaned."""
    names = domains(2)
    ws = make_workspace(tmp_path / "ws", {"001": [(names[0], "I"), (names[1], "D")]}, config=NO_DISK_LIMITS)
    write_session(ws, names[0])
    write_session(ws, names[1])
    text = ws.registry.read_text()
    ws.registry.write_text(text.replace(f"| {names[1]} | 001 | D |", f"| {names[1]} | 001 | Z |"))
    before = on_disk(ws)
    disk = disk_space(ws.root, "--fix")
    assert disk["status"] == "ok", disk
    assert any(line.startswith("agent sessions: 2 (") and "not sorted" in line for line in disk["findings"]), disk
    assert on_disk(ws) == before


def test_a_session_open_in_smb_resume_is_never_removed(tmp_path):
    """Past its phase (the site was set to I by hand), but a person has it open on a terminal."""
    from smbatcher.proc import own_create_time

    ws = make_workspace(tmp_path / "ws", {"001": [("a.dev", "I")]}, config=NO_DISK_LIMITS)
    held = write_session(ws, "a.dev")
    held.holder = [os.getpid(), own_create_time()]  # this test process plays that `smb resume`
    sessions.save(ws, held)
    fixed = disk_space(ws.root, "--fix")
    assert any("1 kept" in line and "0 stale" in line for line in fixed["findings"]), fixed
    assert sessions.folder(ws, "a.dev", "implement").is_dir() and sessions.load(ws, "a.dev", "implement")
