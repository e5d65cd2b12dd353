"""``doctor --fix`` backs up the registry first, verified, or fixes nothing (issue 8), on a real full disk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support.cli import explain, invoke, run_smb
from support.disks import fill, tmpfs_mounts
from support.registry import row_line
from support.workspaces import build_site, make_workspace

NEEDS_FIX = ("registry-duplicates", "site-stuck")


@pytest.fixture
def tiny_disk():
    """mount(path, size) puts a small tmpfs at ``path``; every mount is undone at the end of the test."""
    with tmpfs_mounts() as mount:
        yield mount


def damaged_workspace(root: Path):
    """A registry with a duplicate row (registry-duplicates) and a built site still D (site-stuck)."""
    ws = make_workspace(root, {"001": [("alpha.dev", "Q"), ("built.dev", "D"), ("gamma.dev", "D")]})
    build_site(ws, "built.dev")
    ws.registry.write_text(ws.registry.read_text() + row_line("alpha.dev", "001", "I"))
    return ws


def snapshot(ws) -> dict[str, bytes]:
    """The files a fix could change: the registry and the batch manifests."""
    files = [ws.registry, *sorted(ws.batches.glob("*.md"))]
    return {str(p): p.read_bytes() for p in files}


def assert_nothing_fixed(ws, before: dict[str, bytes], result) -> dict:
    assert result.returncode == 3, explain(result)
    assert "Traceback" not in result.stderr, result.stderr
    assert snapshot(ws) == before, "no fix may run without a verified backup"
    data = json.loads(result.stdout)
    assert data["status"] == "error" and "backup" not in data, data
    for scenario in NEEDS_FIX:
        check = next(c for c in data["checks"] if c["scenario"] == scenario)
        assert check["status"] == "error" and check["fixed"] == [], check
        assert check["summary"].startswith("the fix could not run: backup failed: no space left"), check
        assert check["findings"], "the diagnosis is still shown"
    return data


def test_full_backups_folder_leaves_no_backup_and_fixes_nothing(tmp_path, tiny_disk):
    ws = damaged_workspace(tmp_path / "ws")
    tiny_disk(ws.backups, "64k")
    filler = fill(ws.backups)
    before = snapshot(ws)

    result = run_smb(ws.root, "doctor", "--fix", "--json")

    assert_nothing_fixed(ws, before, result)
    # Nothing that looks like the latest good backup, and no temporary left behind either.
    assert [p.name for p in ws.backups.iterdir()] == [filler.name]

    # Room again: the same command backs up (a byte-for-byte copy) and fixes.
    filler.unlink()
    result = run_smb(ws.root, "doctor", "--fix", "--json")
    assert result.returncode in (0, 1), explain(result)
    data = json.loads(result.stdout)
    copies = list(ws.backups.glob("REGISTRY-*.md"))
    assert len(copies) == 1 and copies[0].read_bytes() == before[str(ws.registry)], copies
    assert data["backup"] == f".smbatcher/backups/{copies[0].name}"
    assert ws.registry.read_bytes() != before[str(ws.registry)]


def test_full_workspace_disk_fixes_nothing_not_even_disk_space(tmp_path, tiny_disk):
    root = tiny_disk(tmp_path / "disk", "4m") / "ws"
    ws = damaged_workspace(root)
    (ws.tmp / "leftover").mkdir(parents=True, exist_ok=True)
    (ws.tmp / "leftover" / "junk.bin").write_bytes(bytes(8192))
    fill(root)
    before = snapshot(ws)

    result = run_smb(ws.root, "doctor", "--fix", "--json")

    data = assert_nothing_fixed(ws, before, result)
    disk = next(c for c in data["checks"] if c["scenario"] == "disk-space")
    assert disk["status"] == "error" and "backup failed" in disk["summary"], disk
    assert (ws.tmp / "leftover" / "junk.bin").exists()  # "no fix runs" includes this one
    assert [p.name for p in ws.backups.iterdir()] == []


def test_a_backup_that_does_not_read_back_is_removed_and_nothing_is_fixed(tmp_path, monkeypatch):
    """A disk that loses writes: the copy is compared with the registry before any fix."""
    from smbatcher.doctor import backup

    real_write = backup.atomic_write
    monkeypatch.setattr(backup, "atomic_write", lambda path, data, **kw: real_write(path, data[: len(data) // 2], **kw))
    ws = damaged_workspace(tmp_path / "ws")
    before = snapshot(ws)

    result = invoke(ws.root, "doctor", "--fix", "--json")

    assert result.exit_code == 3, explain(result)
    assert snapshot(ws) == before
    assert list(ws.backups.iterdir()) == []
    check = next(c for c in json.loads(result.stdout)["checks"] if c["scenario"] == "registry-duplicates")
    assert check["status"] == "error" and "does not read back as a copy" in check["summary"], check
