"""Issue 8, the registry and its store: data damage and workspace files of the wrong kind.

Each test builds the exact situation with real files: a note holding line breaks, a registry with
mixed line endings, a symlinked REGISTRY.md, two `status` columns, a folder where a file belongs,
and, when the tests run as root, a real full disk and a real read-only workspace (tiny tmpfs
mounts, unmounted after the test). The CLI runs as a real process (`python -m smbatcher`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.cli import assert_one_line_error, smb_env
from support.registry import statuses, write_registry

from smbatcher import events as event_log
from smbatcher.errors import CannotRun, DiskFull, RegistryInvalid, WrongKind
from smbatcher.manifest import parse_manifest
from smbatcher.registry import LINE_BREAKS, parse
from smbatcher.store import Store
from smbatcher.workspace import Workspace, create_workspace
from support.disks import fill, tmpfs_mounts

# -- fixtures: real mounts ----------------------------------------------------------------


def _run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=30)


@pytest.fixture
def tmpfs():
    """Mount a tiny tmpfs: ``tmpfs(folder, size="256k")`` -> the folder. Needs root; skipped otherwise."""
    with tmpfs_mounts() as mount:
        yield mount


def remount_read_only(folder: Path) -> None:
    proc = _run("mount", "-o", "remount,ro", str(folder))
    if proc.returncode != 0:
        pytest.skip(f"cannot remount read-only: {proc.stderr.strip()}")


def workspace_at(root: Path, sites: int = 3) -> tuple[Workspace, list[str]]:
    ws, _ = create_workspace(root)
    names = write_registry(ws, [f"site-{n}.dev" for n in range(sites)], status="D")
    ws.manifest("001").write_text("# Batch 001\n\n## Domains\n\n" + "".join(f"- {d}\n" for d in names))
    return ws, names


def one_warning(proc: subprocess.CompletedProcess) -> str:
    detail = f"exit={proc.returncode}\nstdout={proc.stdout!r}\nstderr={proc.stderr!r}"
    assert proc.returncode == 0, detail
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("smb: warning: "), detail
    return lines[0]


# -- line breaks in free text ----------------------------------------------------------------


def test_a_note_with_every_line_break_stays_in_its_row(workspace: Workspace, smb):
    names = write_registry(workspace, 4, status="D")
    lines_before = workspace.registry.read_bytes().count(b"\n")
    note = "one" + "".join(f"{ch}{n}" for n, ch in enumerate(LINE_BREAKS)) + "\r\nend \\ C:\\new |"
    proc = smb("set-status", names[1], "--status", "Q", "--note", note)
    assert proc.returncode == 0, proc.stderr
    data = workspace.registry.read_bytes()
    assert data.count(b"\n") == lines_before, data
    text = data.decode()
    assert text.splitlines() == text.split("\n")[:-1], "a line break other than LF was written raw"
    listed = smb("list-sites", "--format", "json")
    assert listed.returncode == 0 and listed.stderr == "", listed.stderr
    rows = json.loads(listed.stdout)
    assert [r["domain"] for r in rows] == names
    assert rows[1]["note"] == note and rows[1]["status"] == "Q"
    # The next writes still go through: the registry parses cleanly.
    again = smb("set-status", names[3], "--status", "I")
    assert again.returncode == 0, again.stderr
    assert statuses(workspace) == {names[0]: "D", names[1]: "Q", names[2]: "D", names[3]: "I"}
    assert parse(workspace.registry.read_text()).row(names[1]).get("note") == note


def test_a_note_with_terminal_escapes_is_never_stored_raw(workspace: Workspace, smb):
    """Issue 22: ESC, OSC, CSI (C0 and C1 forms), DEL and friends in a note must not reach REGISTRY.md raw,
    or `cat REGISTRY.md` runs them in the operator's terminal; the note still reads back as given."""
    names = write_registry(workspace, 3, status="D")
    note = "t\x1b]0;owned\x07 c\x1b[2J x\x9b31m y\x7f z\x01\tend"
    proc = smb("set-status", names[1], "--status", "Q", "--note", note)
    assert proc.returncode == 0, proc.stderr
    data = workspace.registry.read_bytes()
    raw = [b for b in data.decode() if (ord(b) < 0x20 and b not in "\t\n") or 0x7f <= ord(b) < 0xa0]
    assert raw == [], data
    assert parse(data.decode()).row(names[1]).get("note") == note
    assert smb("set-status", names[2], "--status", "I").returncode == 0  # still parses cleanly


def test_a_runner_note_with_nul_and_lone_surrogates_is_stored_clean(workspace: Workspace, smb):
    """Issue 22: an agent's message holding NUL (grep: "binary file matches") or a lone surrogate (it
    cannot be encoded at all) is the runner's note: NUL is escaped and reads back, the surrogate
    becomes U+FFFD, and the registry stays text every command reads."""
    names = write_registry(workspace, 2, status="D")
    with Store(workspace).transaction(actor="runner") as txn:
        txn.set_status(txn.row(names[0]), "X", note="agent: \x00 end \ud800 \udfff bye")
    data = workspace.registry.read_bytes()
    assert b"\x00" not in data and "\ufffd".encode() in data, data
    assert parse(data.decode("utf-8")).row(names[0]).get("note") == "agent: \x00 end \ufffd \ufffd bye"
    proc = smb("list-sites", "--status", "X", "--format", "table")
    assert proc.returncode == 0 and names[0] in proc.stdout, proc.stderr


def test_a_registry_damaged_by_a_raw_break_reads_whole_and_heals(workspace: Workspace, smb):
    """Older smb wrote CR, U+2028... raw into a note: every row must still be there, and writable."""
    names = write_registry(workspace, 4, status="D")
    text = workspace.registry.read_text()
    damaged = text.replace(f"| {names[1]} | 001 | D |  | 0 | 2026-11-21T10:02:11Z |  |",
                           f"| {names[1]} | 001 | D |  | 0 | 2026-11-21T10:02:11Z | a\rb\u2028c\x85d\x0ce |")
    assert damaged != text
    workspace.registry.write_bytes(damaged.encode())
    listed = smb("list-sites")
    assert listed.returncode == 0 and listed.stderr == "", listed.stderr
    assert listed.stdout.split() == names
    proc = smb("set-status", names[1], names[3], "--status", "I")
    assert proc.returncode == 0, proc.stderr
    healed = workspace.registry.read_bytes().decode()
    assert healed.splitlines() == healed.split("\n")[:-1], "the rewritten row still holds a raw break"
    assert parse(healed).row(names[1]).get("note") == "a\rb\u2028c\x85d\x0ce"
    assert statuses(workspace) == {names[0]: "D", names[1]: "I", names[2]: "D", names[3]: "I"}


def test_a_note_that_is_not_utf8_is_refused(workspace: Workspace, smb):
    names = write_registry(workspace, 2)
    before = workspace.registry.read_bytes()
    # An argument that is not UTF-8 (a Latin-1 terminal) reaches Python as a lone surrogate.
    proc = subprocess.run(
        [sys.executable, "-m", "smbatcher", "set-status", names[0], "--status", "Q", "--note", b"caf\xe9"],
        cwd=workspace.root, env=smb_env(), capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    line = assert_one_line_error(proc, 2)
    assert "--note" in line and "UTF-8" in line, line
    assert workspace.registry.read_bytes() == before


# -- CRLF and mixed line endings ---------------------------------------------------------------


def test_a_write_keeps_every_line_ending(workspace: Workspace, smb):
    """A CRLF registry edited by a tool that wrote some rows with LF: each line keeps its own ending."""
    lines = [
        b"# Registry\r\n", b"\r\n", b"kept as is\n",
        b"| domain | batch | status | owner | attempts | updated | note |\r\n",
        b"|---|---|---|---|---|---|---|\r\n",
        b"| a.dev | 001 | D |  | 0 |  |  |\r\n",
        b"| b.dev | 001 | D |  | 0 |  |  |\n",
        b"| c.dev | 001 | D |  | 0 |  |  |\r\n",
        b"| d.dev | 001 | D |  | 0 |  |  |\n",
        b"\r\n", b"The end.\r\n",
    ]
    workspace.registry.write_bytes(b"".join(lines))
    proc = smb("set-status", "b.dev", "c.dev", "--status", "Q")
    assert proc.returncode == 0, proc.stderr
    proc = smb("add", "e.dev", "--batch", "1")
    assert proc.returncode == 0, proc.stderr
    after = workspace.registry.read_bytes().split(b"\n")
    after = [line + b"\n" for line in after[:-1]] + ([after[-1]] if after[-1] else [])
    assert len(after) == len(lines) + 1, after
    for index in (0, 1, 2, 3, 4, 5, 8, 9, 10):
        old = lines[index]
        new = after[index] if index < 9 else after[index + 1]
        assert new == old, (index, old, new)
    assert after[6].startswith(b"| b.dev | 001 | Q |") and after[6].endswith(b" |\n"), after[6]
    assert after[7].startswith(b"| c.dev | 001 | Q |") and after[7].endswith(b" |\r\n"), after[7]
    assert after[9].startswith(b"| e.dev | 001 | - |") and after[9].endswith(b" |\r\n"), after[9]


def test_adding_to_a_crlf_manifest_keeps_its_line_endings(workspace: Workspace, smb):
    """A batch manifest saved by a Windows editor: `smb add` appends its domain with CRLF and leaves
    every other byte as it was (no silent conversion of the operator's file to LF)."""
    original = (b"# Batch 007\r\n\r\nBrief: bakeries in Lyon.\r\n\r\n## Domains\r\n\r\n"
                b"- a.dev\r\n- b.dev\r\n\r\n## Notes\r\nkeep me\r\n")
    manifest = workspace.manifest("007")
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_bytes(original)
    proc = smb("add", "c.dev", "--batch", "7")
    assert proc.returncode == 0, proc.stderr
    after = manifest.read_bytes()
    assert after == original.replace(b"- b.dev\r\n", b"- b.dev\r\n- c.dev\r\n"), after
    assert parse_manifest(after.decode()).domains == ("a.dev", "b.dev", "c.dev")


# -- order of effects -------------------------------------------------------------------------


def test_events_log_is_a_folder_the_change_stands_with_a_warning(workspace: Workspace, smb):
    names = write_registry(workspace, 3, status="D")
    workspace.events.mkdir(parents=True)
    proc = smb("set-status", names[0], "--status", "Q")
    line = one_warning(proc)
    assert "registry changed; event not logged" in line and "logs/events.jsonl is a folder" in line, line
    assert statuses(workspace)[names[0]] == "Q"
    proc = smb("add", "new.dev", "--batch", "1")
    one_warning(proc)
    assert statuses(workspace)["new.dev"] == "-"
    assert "new.dev" in parse_manifest(workspace.manifest("001").read_text()).domains


def test_a_failed_event_append_never_raises_out_of_a_transaction(workspace: Workspace):
    names = write_registry(workspace, 3, status="D")
    workspace.events.mkdir(parents=True)
    heard: list[str] = []
    store = Store(workspace, warn=heard.append)
    for n in range(3):  # a runner: one transaction per loop turn, the same failure every time
        with store.transaction(actor="runner") as txn:
            txn.set_status(txn.row(names[n]), "i", expect="D", owner="run-1", attempts=1)
        assert len(txn.warnings) == 1 and store.last_warnings == txn.warnings
        assert "event not logged" in txn.warnings[0]
    assert set(statuses(workspace).values()) == {"i"}
    assert len(store.warnings) == 3
    assert heard == store.warnings[:1], "the same warning is passed on once, not once a transaction"


def test_a_torn_event_line_does_not_swallow_the_next_event(workspace: Workspace):
    """A disk that filled up mid-append leaves half a line; the next event must still be readable."""
    names = write_registry(workspace, 2, status="D")
    workspace.events.parent.mkdir(parents=True, exist_ok=True)
    workspace.events.write_text('{"ts":1.0,"event":"status","domain":"x.dev","fr')
    with Store(workspace).transaction() as txn:
        txn.set_status(txn.row(names[0]), "Q")
    found = list(event_log.read(workspace.events, names[0]))
    assert [e["to"] for e in found] == ["Q"]


def test_the_run_claims_and_finishes_when_the_event_log_is_a_folder(workspace: Workspace, smb):
    write_registry(workspace, ["a.dev", "b.dev", "c.dev"], status="-")
    workspace.events.mkdir(parents=True)
    proc = smb("design", "--batch", "1", timeout=120)
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert statuses(workspace) == {"a.dev": "D", "b.dev": "D", "c.dev": "D"}, "claims were left behind"
    warnings = [line for line in proc.stderr.splitlines() if "event not logged" in line]
    assert len(warnings) == 1, proc.stderr


def test_a_failed_registry_write_puts_the_new_manifest_back(workspace: Workspace, smb, tmpfs, tmp_path: Path):
    """The manifest is written before the registry; when the registry then cannot be written the
    manifest goes back to what it was, so nothing was written (exit 3 for a read-only target)."""
    names = write_registry(workspace, 2, status="D")
    workspace.manifest("001").write_text("# Batch 001\n\n## Domains\n\n" + "".join(f"- {d}\n" for d in names))
    target_dir = tmpfs(tmp_path / "ro")
    shutil.copy(workspace.registry, target_dir / "REGISTRY.md")
    workspace.registry.unlink()
    workspace.registry.symlink_to(target_dir / "REGISTRY.md")
    remount_read_only(target_dir)
    registry_before = (target_dir / "REGISTRY.md").read_bytes()
    manifest_before = workspace.manifest("001").read_bytes()
    for batch in ("1", "2"):
        proc = smb("add", "new.dev", "--batch", batch)
        line = assert_one_line_error(proc, 3)
        assert "read-only file system" in line and "REGISTRY.md" in line, line
    assert (target_dir / "REGISTRY.md").read_bytes() == registry_before
    assert workspace.manifest("001").read_bytes() == manifest_before
    assert not workspace.manifest("002").exists()
    assert not list(workspace.batches.glob(".*.tmp"))


# -- a symlinked registry ---------------------------------------------------------------------


def test_a_symlinked_registry_is_followed_and_stays_a_link(workspace: Workspace, smb, tmp_path: Path):
    elsewhere = tmp_path / "synced"
    elsewhere.mkdir()
    names = write_registry(workspace, 3, status="D")
    target = elsewhere / "REGISTRY.md"
    shutil.move(workspace.registry, target)
    workspace.registry.symlink_to(target)
    proc = smb("set-status", names[1], "--status", "Q")
    assert proc.returncode == 0, proc.stderr
    assert workspace.registry.is_symlink(), "the link was replaced by a plain file"
    assert os.readlink(workspace.registry) == str(target)
    assert statuses(workspace)[names[1]] == "Q"
    assert parse(target.read_text()).row(names[1]).status == "Q"
    assert sorted(p.name for p in elsewhere.iterdir()) == ["REGISTRY.md"], "temporary files left behind"
    assert workspace.lock_file.exists() and not (elsewhere / "REGISTRY.md.lock").exists()


def test_a_symlinked_registry_on_another_file_system(workspace: Workspace, smb, tmpfs, tmp_path: Path):
    """The temporary file goes next to the target: os.replace across file systems would fail."""
    other = tmpfs(tmp_path / "other", size="1m")
    names = write_registry(workspace, 3, status="D")
    shutil.move(workspace.registry, other / "REGISTRY.md")
    workspace.registry.symlink_to(other / "REGISTRY.md")
    proc = smb("set-status", names[0], names[2], "--status", "I")
    assert proc.returncode == 0, proc.stderr
    assert workspace.registry.is_symlink()
    assert statuses(workspace) == {names[0]: "I", names[1]: "D", names[2]: "I"}


def test_a_dangling_registry_link_is_one_line(workspace: Workspace, smb, tmp_path: Path):
    workspace.registry.unlink()
    workspace.registry.symlink_to(tmp_path / "gone" / "REGISTRY.md")
    for args in (("list-sites",), ("set-status", "a.dev", "--status", "Q")):
        line = assert_one_line_error(smb(*args), 2)
        assert "symlink" in line and "does not exist" in line, line
    assert workspace.registry.is_symlink()


# -- two columns with the same name ------------------------------------------------------------


def test_two_status_columns_make_the_registry_malformed(workspace: Workspace, smb):
    text = ("# R\n\n| domain | batch | status | note | status |\n|---|---|---|---|---|\n"
            "| a.dev | 001 | D |  | Q |\n| b.dev | 001 | D |  | D |\n")
    workspace.registry.write_text(text)
    listed = smb("list-sites", "--status", "D")
    assert listed.returncode == 0, listed.stderr
    warning = listed.stderr.strip()
    assert len(listed.stderr.splitlines()) == 1 and warning.startswith("smb: warning:"), listed.stderr
    assert "line 3" in warning and "column 'status' appears 2 times" in warning, warning
    line = assert_one_line_error(smb("set-status", "a.dev", "--status", "I"), 2)
    assert "line 3" in line and "column 'status'" in line, line
    # Only a person can say which column was meant: the error sends them to the header, not to a
    # doctor fix that cannot choose, and doctor --fix says the same and changes nothing.
    assert "by hand" in line and "doctor" not in line, line
    assert_one_line_error(smb("add", "c.dev", "--batch", "1"), 2)
    doctor = smb("doctor", "--scenario", "registry-duplicates", "--fix")
    assert doctor.returncode == 1, doctor.stdout + doctor.stderr  # found, not fixed; not "could not run"
    assert "fixed by hand" in doctor.stdout and "Traceback" not in doctor.stderr, doctor.stdout
    assert workspace.registry.read_text() == text


# -- workspace files of the wrong kind ---------------------------------------------------------

COMMANDS = {
    "add": ("add", "new.dev", "--batch", "1"),
    "set-status": ("set-status", "site-0.dev", "--status", "Q"),
    "list-sites": ("list-sites",),
    "status": ("status",),
    "history": ("history", "site-0.dev"),
    "init": ("init", "."),
}
WRITERS = ("add", "set-status")


def _outcome(proc: subprocess.CompletedProcess, code: int, *fragments: str) -> str | None:
    """None when ``proc`` answered as expected: exit ``code`` and, when not 0, one error line holding
    every fragment; otherwise what it did instead."""
    got = f"exit {proc.returncode}, stderr {proc.stderr!r}"
    if "Traceback" in proc.stderr or proc.returncode != code:
        return got
    if code == 0:
        return None
    lines = proc.stderr.splitlines()
    if len(lines) != 1 or not lines[0].startswith("smb: error: ") or not all(f in lines[0] for f in fragments):
        return got
    return None


def _every_command(roots: dict[str, Path], smb, expect) -> None:
    """Run each command in its own workspace; ``expect(command)`` -> (exit code, fragments...)."""
    wrong = {}
    for command, root in roots.items():
        code, *fragments = expect(command)
        registry = root / ".smbatcher" / "REGISTRY.md"
        before = registry.read_bytes() if registry.is_file() else None
        problem = _outcome(smb(*COMMANDS[command], cwd=root), code, *fragments)
        after = registry.read_bytes() if registry.is_file() else None
        if problem is None and code != 0 and after != before:
            problem = "the registry changed although the command failed"
        if problem:
            wrong[command] = problem
    assert not wrong, "\n".join(f"smb {' '.join(COMMANDS[c])}: {p}" for c, p in wrong.items())


def _workspaces(parent: Path) -> dict[str, Path]:
    roots = {}
    for command in COMMANDS:
        roots[command] = parent / command
        roots[command].mkdir()
        ws, _ = workspace_at(roots[command])
        with Store(ws).transaction() as txn:  # a lock file and an event log exist, as in real use
            txn.set_status(txn.row("site-1.dev"), "I")
    return roots


def test_registry_is_a_folder_for_every_command(tmp_path: Path, smb):
    roots = _workspaces(tmp_path)
    for root in roots.values():
        registry = root / ".smbatcher" / "REGISTRY.md"
        registry.unlink()
        registry.mkdir()
        (registry / "keep.txt").write_text("x")
    # init refuses to make a workspace around it; the others say how to move it away.
    _every_command(roots, smb, lambda c: (2, ".smbatcher/REGISTRY.md is a folder") + (() if c == "init" else ("mv ",)))
    assert all((root / ".smbatcher" / "REGISTRY.md" / "keep.txt").read_text() == "x" for root in roots.values())


def test_lock_file_is_a_folder_for_every_command(tmp_path: Path, smb):
    roots = _workspaces(tmp_path)
    for root in roots.values():
        lock = root / ".smbatcher" / "REGISTRY.md.lock"
        lock.unlink()
        lock.mkdir()
    # Readers never take the lock: they just work.
    _every_command(roots, smb,
                   lambda c: (2, ".smbatcher/REGISTRY.md.lock is a folder", "mv ") if c in WRITERS else (0,))


def test_event_log_is_a_folder_for_every_command(tmp_path: Path, smb):
    roots = _workspaces(tmp_path)
    for root in roots.values():
        events = root / "logs" / "events.jsonl"
        events.unlink()
        events.mkdir()
    readers_of_the_log = ("status", "history")
    # Writers commit and warn (tested above); status and history read the log: one line, what to do.
    _every_command({c: r for c, r in roots.items() if c not in WRITERS}, smb,
                   lambda c: (2, "logs/events.jsonl is a folder", "mv ") if c in readers_of_the_log else (0,))
    for command in WRITERS:
        assert "event not logged" in one_warning(smb(*COMMANDS[command], cwd=roots[command]))


def test_read_only_workspace_for_every_command(tmp_path: Path, smb, tmpfs):
    parent = tmpfs(tmp_path / "ro", size="2m")
    roots = _workspaces(parent)
    remount_read_only(parent)
    # Reading works, init finds everything in place; a write cannot run here (exit 3).
    _every_command(roots, smb, lambda c: (3, "read-only file system", ".smbatcher/REGISTRY.md") if c in WRITERS
                   else (0,))


def test_full_disk_for_every_command(tmp_path: Path, smb, tmpfs):
    parent = tmpfs(tmp_path / "full", size="1m")
    roots = _workspaces(parent)
    for root in roots.values():  # never locked yet: the lock file is created on the full disk
        (root / ".smbatcher" / "REGISTRY.md.lock").unlink()
    manifests = {c: (r / ".smbatcher" / "batches" / "Batch_001.md").read_bytes() for c, r in roots.items()}
    fill(parent)
    _every_command(roots, smb, lambda c: (2, "no space left", ".smbatcher/") if c in WRITERS else (0,))
    for command, root in roots.items():
        assert (root / ".smbatcher" / "batches" / "Batch_001.md").read_bytes() == manifests[command]
        assert not list((root / ".smbatcher").rglob("*.tmp")), "a temporary file was left on the full disk"


def test_full_disk_only_for_the_event_log(workspace: Workspace, smb, tmpfs):
    """logs/ on its own full file system: the registry change stands, the event is not logged."""
    names = write_registry(workspace, 3, status="D")
    logs = tmpfs(workspace.logs, size="64k")
    workspace.events.write_text("")
    fill(logs)
    line = one_warning(smb("set-status", names[2], "--status", "X", "--note", "parked by hand"))
    assert "event not logged" in line and "no space left" in line, line
    assert statuses(workspace)[names[2]] == "X"


def test_read_only_event_log(workspace: Workspace, smb, tmpfs):
    names = write_registry(workspace, 2, status="D")
    logs = tmpfs(workspace.logs, size="64k")
    remount_read_only(logs)
    line = one_warning(smb("set-status", names[0], "--status", "Q"))
    assert "event not logged" in line and "read-only file system" in line, line
    assert statuses(workspace)[names[0]] == "Q"


def test_init_on_a_read_only_file_system(tmp_path: Path, smb, tmpfs):
    root = tmpfs(tmp_path / "ro", size="64k")
    remount_read_only(root)
    proc = smb("init", str(root / "new"), cwd=tmp_path)
    assert _outcome(proc, 3, "read-only file system") is None, (proc.stdout, proc.stderr)


def test_init_on_a_full_disk_leaves_no_empty_file(tmp_path: Path, smb, tmpfs):
    """An empty REGISTRY.md reads as "no registry table" forever after; an init that ran out of
    space must leave nothing, so the next init (with space) makes a whole workspace."""
    parent = tmpfs(tmp_path / "full", size="64k")
    fill(parent)
    proc = smb("init", str(parent / "new"), cwd=tmp_path)
    assert _outcome(proc, 2, "no space left") is None, (proc.stdout, proc.stderr)
    smb_dir = parent / "new" / ".smbatcher"
    for name in ("config.toml", "REGISTRY.md"):
        assert not (smb_dir / name).exists(), f"{name} left behind, {(smb_dir / name).stat().st_size} bytes"


# -- the store's own errors, in-process ------------------------------------------------------


def test_store_maps_wrong_kinds_to_errors(workspace: Workspace):
    names = write_registry(workspace, 2)
    store = Store(workspace)
    workspace.lock_file.unlink(missing_ok=True)
    workspace.lock_file.mkdir()
    with pytest.raises(WrongKind) as info:
        with store.transaction() as txn:
            txn.set_status(txn.row(names[0]), "Q")
    assert info.value.exit_code == 2 and "REGISTRY.md.lock is a folder" in info.value.message
    workspace.lock_file.rmdir()
    text = workspace.registry.read_text()
    workspace.registry.unlink()
    workspace.registry.mkdir()
    with pytest.raises(WrongKind):
        store.read()
    workspace.registry.rmdir()
    workspace.registry.write_text(text)
    assert store.read().row(names[0]).status == "D"


def test_store_read_only_is_cannot_run(workspace: Workspace, tmpfs, tmp_path: Path):
    target_dir = tmpfs(tmp_path / "ro", size="64k")
    names = write_registry(workspace, 2)
    shutil.move(workspace.registry, target_dir / "REGISTRY.md")
    workspace.registry.symlink_to(target_dir / "REGISTRY.md")
    remount_read_only(target_dir)
    with pytest.raises(CannotRun) as info:
        with Store(workspace).transaction() as txn:
            txn.set_status(txn.row(names[0]), "Q")
    assert info.value.exit_code == 3


def test_full_disk_in_process_is_diskfull(tmp_path: Path, tmpfs):
    root = tmpfs(tmp_path / "ws", size="256k")
    ws, names = workspace_at(root)
    before = ws.registry.read_bytes()
    fill(root)
    with pytest.raises(DiskFull) as info:
        with Store(ws).transaction() as txn:
            txn.set_status(txn.row(names[0]), "Q")
    assert info.value.exit_code == 2 and ".smbatcher/REGISTRY.md" in info.value.message
    assert ws.registry.read_bytes() == before


def test_a_transaction_refuses_two_status_columns(workspace: Workspace):
    workspace.registry.write_text("| domain | batch | status | status |\n|---|---|---|---|\n| a.dev | 001 | D | D |\n")
    with pytest.raises(RegistryInvalid):
        with Store(workspace).transaction():
            pass
