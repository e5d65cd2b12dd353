"""The derived registry index (smbatcher/registry_index.py, issue 13): used only for the very bytes it
was made from, never the source of truth; stale, torn, foreign or unwritable means a parse, as without it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from support.registry import registry_text

import smbatcher.store
from smbatcher import registry_index
from smbatcher.registry import parse, serialize
from smbatcher.store import Store
from smbatcher.workspace import Workspace

ROWS = 5000  # about 370 kB: above registry_index.MIN_BYTES


def _write_big(ws: Workspace, rows: int = ROWS) -> None:
    lines = [(f"site-{n:05d}.dev", f"{n // 500 + 1:03d}", "-DdiIQX"[n % 7]) for n in range(rows)]
    ws.registry.write_text(registry_text(lines))
    assert ws.registry.stat().st_size >= registry_index.MIN_BYTES


def _index(ws: Workspace):
    return registry_index.index_path(ws.smb_dir)


def _as_parsed(registry, text: str) -> None:
    """``registry`` (however it was made) is what parsing ``text`` gives."""
    parsed = parse(text)
    assert not parsed.problems
    for name in ("domain", "batch", "status", "owner", "note"):
        assert registry.column(name) == [row.get(name) for row in parsed.rows]
    assert registry.row_count == len(parsed.rows) and serialize(registry) == text
    assert registry.row("site-00042.dev").cells == parsed.row("site-00042.dev").cells


def _no_parse(monkeypatch) -> None:
    def refuse(text):
        raise AssertionError("parsed, though the index was made for these bytes")

    monkeypatch.setattr(smbatcher.store, "parse", refuse)


def test_a_read_writes_the_index_and_the_next_read_uses_it(workspace: Workspace, monkeypatch):
    _write_big(workspace)
    text = workspace.registry.read_text()
    _as_parsed(Store(workspace).read(), text)
    assert _index(workspace).is_file()
    _no_parse(monkeypatch)
    _as_parsed(Store(workspace).read(), text)


def test_a_write_leaves_the_index_of_what_it_wrote(workspace: Workspace, monkeypatch):
    _write_big(workspace)
    store = Store(workspace)  # long-lived, as the runner's: one transaction after the other
    changes = [("site-00007.dev", "Q", None), ("site-04999.dev", "X", "parked by hand"), ("site-00007.dev", "D", None),
               ("site-00100.dev", "I", None)]
    for domain, status, note in changes:
        with store.transaction() as txn:
            txn.set_status(txn.row(domain), status, note=note, owner="run-x" if status == "I" else "")
        text = workspace.registry.read_text()
        with monkeypatch.context() as patched:
            _no_parse(patched)
            registry = Store(workspace).read()
        _as_parsed(registry, text)
        assert registry.row(domain).status == status


def test_a_write_the_bulk_reader_cannot_take_leaves_no_index_for_it(workspace: Workspace):
    _write_big(workspace)
    Store(workspace).read()
    with Store(workspace).transaction() as txn:
        txn.set_status(txn.row("site-00007.dev"), "Q", note="a | pipe")  # an escape: line by line
    text = workspace.registry.read_text()
    _as_parsed(Store(workspace).read(), text)


@pytest.mark.parametrize("change", ["same size, same mtime", "torn index", "foreign index", "index of no file"])
def test_an_index_that_does_not_fit_is_ignored(workspace: Workspace, change):
    _write_big(workspace)
    Store(workspace).read()
    index = _index(workspace)
    if change == "same size, same mtime":
        # Written in place, same length, clock put back: the identity matches, the content does not.
        info = workspace.registry.stat()
        data = workspace.registry.read_bytes().replace(b"| site-00010.dev | 001 | i |", b"| site-00010.dev | 001 | Q |")
        with open(workspace.registry, "r+b") as handle:
            handle.write(data)
        os.utime(workspace.registry, ns=(info.st_atime_ns, info.st_mtime_ns))
        assert workspace.registry.stat().st_size == info.st_size
    elif change == "torn index":
        index.write_bytes(index.read_bytes()[: index.stat().st_size // 2])
    elif change == "foreign index":
        index.write_bytes(os.urandom(4096))
    else:
        index.unlink()
        index.mkdir()  # not even a file: it cannot be read or replaced
    text = workspace.registry.read_text()
    _as_parsed(Store(workspace).read(), text)
    assert Store(workspace).read().row("site-00010.dev").status == ("Q" if change.startswith("same") else "i")


def test_commands_work_when_the_cache_folder_is_a_file(workspace: Workspace, smb):
    _write_big(workspace)
    cache = workspace.smb_dir / "design-cache"
    if cache.exists():
        cache.rmdir()
    cache.write_text("not a folder")
    assert smb("list-sites", "--count").stdout == f"{ROWS}\n"
    assert smb("set-status", "site-00001.dev", "--status", "Q").returncode == 0
    assert smb("list-sites", "--status", "Q", "--count").stdout == f"{ROWS // 7 + 1}\n"


_WRITER = textwrap.dedent("""
    import sys
    from smbatcher.store import Store
    from smbatcher.workspace import Workspace
    store = Store(Workspace(__import__("pathlib").Path(sys.argv[1])))
    n = int(sys.argv[2])
    while True:
        n += 7919
        with store.transaction() as txn:
            row = txn.row(f"site-{n % 5000:05d}.dev")
            txn.set_status(row, "Q" if row.status != "Q" else "D")
""")


@pytest.mark.slow
def test_readers_never_see_a_stale_index_while_writers_are_killed(workspace: Workspace):
    """Writers change rows (and write indexes) and are killed -9 at random moments; every read, from an
    index or not, is what parsing the bytes read gives."""
    _write_big(workspace)
    store = Store(workspace)
    deadline = time.monotonic() + 6
    reads = 0
    writers = [subprocess.Popen([sys.executable, "-c", _WRITER, str(workspace.root), str(n)]) for n in range(2)]
    try:
        while time.monotonic() < deadline:
            text, registry, _ = store._read()
            parsed = parse(text)
            assert not parsed.problems
            assert registry.column("status") == [row.status for row in parsed.rows]
            reads += 1
            if reads % 5 == 0:
                victim = writers.pop(0)
                victim.send_signal(signal.SIGKILL)
                victim.wait()
                writers.append(subprocess.Popen([sys.executable, "-c", _WRITER, str(workspace.root), str(reads)]))
    finally:
        for writer in writers:
            writer.kill()
            writer.wait()
    assert reads >= 10
    _as_parsed(Store(workspace).read(), workspace.registry.read_text())
