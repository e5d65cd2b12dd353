"""Issue 22, files of the wrong kind, round two: workspace files that are not UTF-8, a FIFO, socket or
device where smb reads a regular file, and ``smb init`` inside an existing workspace.

Each case is built with real files (``mkfifo``, a bound Unix socket, a link to ``/dev/zero``) and the
real CLI in a subprocess: a blocking read would hang it, which the subprocess timeout turns into a
failure instead of a stuck suite. Every refusal is exit 2 with one line naming the file, and the
registry is byte-identical afterwards.
"""

from __future__ import annotations

import os
import socket
from contextlib import ExitStack
from pathlib import Path

import pytest
from support.cli import assert_one_line_error, explain
from support.registry import write_registry

from smbatcher.workspace import Workspace

# A read that would block is a bug here; a test must fail, not wait, when one comes back.
NO_HANG = 30

COMMANDS = {
    "status": ("status",),
    "list-sites": ("list-sites",),
    "add": ("add", "new.dev", "--batch", "1"),
    "set-status": ("set-status", "a.dev", "--status", "Q"),
    "design": ("design", "--batch", "1"),
}


@pytest.fixture
def sites(workspace: Workspace) -> Workspace:
    """Three new sites in batch 001, its manifest listing them, the builtin agent: a design run would work."""
    names = write_registry(workspace, ["a.dev", "b.dev", "c.dev"], status="-")
    workspace.manifest("001").write_text("# Batch 001\n\n## Domains\n\n" + "".join(f"- {d}\n" for d in names))
    return workspace


def _snapshot(ws: Workspace) -> bytes | None:
    return ws.registry.read_bytes() if ws.registry.is_file() else None


def _refused(smb, ws: Workspace, args: tuple[str, ...], *fragments: str) -> str:
    """``smb args`` is exit 2 with one line holding every fragment, and the registry did not change."""
    before = _snapshot(ws)
    proc = smb(*args, timeout=NO_HANG)
    line = assert_one_line_error(proc, 2)
    assert all(f in line for f in fragments), explain(proc)
    assert _snapshot(ws) == before, f"the registry changed: {explain(proc)}"
    return line


# -- not UTF-8 ---------------------------------------------------------------------------------


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_config_that_is_not_utf8_names_the_file(sites: Workspace, smb, command: str):
    # Was "unexpected UnicodeDecodeError", exit 1, no file named.
    sites.config_file.write_bytes(b'[agents]\nmax_agents = 3  # caf\xe9 in Latin-1\n')
    _refused(smb, sites, COMMANDS[command], "config.toml", "not UTF-8", "byte 30")


@pytest.mark.parametrize("command", ["add", "design"])
def test_a_manifest_that_is_not_utf8_names_the_file(sites: Workspace, smb, command: str):
    path = sites.manifest("001")
    path.write_bytes(path.read_bytes().replace(b"# Batch 001", b"# Batch 001 \xff"))
    _refused(smb, sites, COMMANDS[command], ".smbatcher/batches/Batch_001.md", "not UTF-8")


def test_a_registry_that_is_not_utf8_names_the_file(sites: Workspace, smb):
    sites.registry.write_bytes(sites.registry.read_bytes() + b"\n\xfe trailing text\n")
    for command in COMMANDS:
        _refused(smb, sites, COMMANDS[command], ".smbatcher/REGISTRY.md", "not UTF-8")


def test_a_template_that_is_not_utf8_names_the_file(sites: Workspace, smb):
    sites.prompts.mkdir(exist_ok=True)
    (sites.prompts / "design.md").write_bytes(b"Design $domain \x80\n")
    _refused(smb, sites, COMMANDS["design"], ".smbatcher/prompts/design.md", "not UTF-8")
    assert smb("list-sites", "--status", "-", timeout=NO_HANG).stdout.split() == ["a.dev", "b.dev", "c.dev"]


# -- a FIFO, a socket or a device where a regular file belongs ----------------------------------


def _make_fifo(path: Path, stack: ExitStack) -> str:
    os.mkfifo(path)
    return "FIFO"


def _make_socket(path: Path, stack: ExitStack) -> str:
    server = stack.enter_context(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
    server.bind(str(path))
    server.listen(1)  # a live listener: opening it would be refused, connecting would succeed
    return "socket"


def _make_device(path: Path, stack: ExitStack) -> str:
    path.symlink_to("/dev/zero")  # a read of it never ends: only checking the kind first can refuse it
    return "character device"


KINDS = {"fifo": _make_fifo, "socket": _make_socket, "device": _make_device}

# Which file, and the commands that read it (a template only matters to a run).
FILES = {
    "config": (lambda ws: ws.config_file, ".smbatcher/config.toml", list(COMMANDS)),
    "registry": (lambda ws: ws.registry, ".smbatcher/REGISTRY.md", list(COMMANDS)),
    "manifest": (lambda ws: ws.manifest("001"), ".smbatcher/batches/Batch_001.md", ["add", "design"]),
    "template": (lambda ws: ws.prompts / "design.md", ".smbatcher/prompts/design.md", ["design"]),
}


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("which", list(FILES))
def test_a_special_file_is_refused_at_once(sites: Workspace, smb, which: str, kind: str):
    where, shown, commands = FILES[which]
    path = where(sites)
    before = _snapshot(sites)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() or path.is_symlink():
        path.unlink()
    with ExitStack() as stack:
        word = KINDS[kind](path, stack)
        for command in commands:
            line = _refused(smb, sites, COMMANDS[command], shown, word, "not a regular file")
            assert "rm " in line and f"{shown})" in line, line  # how to clear it, naming the file
    if which != "registry":
        assert _snapshot(sites) == before
    # Nothing was claimed by the refused runs: every site is still new.
    if which != "registry":
        path.unlink()
        assert smb("list-sites", "--status", "-", timeout=NO_HANG).stdout.split() == ["a.dev", "b.dev", "c.dev"]


def test_doctor_fix_refuses_a_fifo_registry_without_waiting(sites: Workspace, smb):
    sites.registry.unlink()
    os.mkfifo(sites.registry)
    proc = smb("doctor", "--fix", timeout=NO_HANG)
    assert proc.returncode == 3, explain(proc)  # the backup could not be made: nothing was fixed
    assert ".smbatcher/REGISTRY.md is a FIFO" in proc.stdout, explain(proc)
    assert not any(sites.backups.iterdir())


# -- smb init inside a workspace -----------------------------------------------------------------


def test_init_inside_a_workspace_refuses_and_names_its_root(sites: Workspace, smb):
    inner = sites.sites
    proc = smb("init", cwd=inner, timeout=NO_HANG)
    line = assert_one_line_error(proc, 2)
    assert f"inside the workspace {sites.root}" in line and "--force" in line, line
    assert not (inner / ".smbatcher").exists()
    line = assert_one_line_error(smb("init", str(sites.root / "logs" / "deeper"), timeout=NO_HANG), 2)
    assert not (sites.root / "logs" / "deeper").exists(), line
    # The commands run from sites/ still see the outer workspace's three sites.
    assert smb("list-sites", "--count", cwd=inner, timeout=NO_HANG).stdout.strip() == "3"


def test_init_force_makes_a_nested_workspace_and_init_again_is_fine(sites: Workspace, smb):
    before = _snapshot(sites)
    again = smb("init", timeout=NO_HANG)
    assert again.returncode == 0 and "already exists" in again.stderr + again.stdout, explain(again)
    forced = smb("init", "--force", cwd=sites.sites, timeout=NO_HANG)
    assert forced.returncode == 0, explain(forced)
    assert (sites.sites / ".smbatcher" / "REGISTRY.md").is_file()
    assert smb("list-sites", "--count", cwd=sites.sites, timeout=NO_HANG).stdout.strip() == "0"
    assert _snapshot(sites) == before


def test_an_event_log_that_is_a_fifo_never_makes_a_command_wait(sites: Workspace, smb):
    sites.events.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(sites.events)
    # A write: the registry change stands, the event is not logged (as with a folder there).
    proc = smb("set-status", "a.dev", "--status", "I", timeout=NO_HANG)  # I: D would also warn of no design
    assert proc.returncode == 0, explain(proc)
    [warning] = proc.stderr.splitlines()
    assert "event not logged" in warning and "not a regular file" in warning, explain(proc)
    assert "| a.dev | 001 | I |" in sites.registry.read_text()
    # Readers of the log name it, as they do a folder there.
    for args in (("history", "a.dev"), ("status",)):
        _refused(smb, sites, args, "logs/events.jsonl", "FIFO")
    assert smb("list-sites", "--status", "I", timeout=NO_HANG).stdout.split() == ["a.dev"]
