"""`smb status` and `smb set-status` without Typer (smbatcher/lean.py, issue 13): the same output, errors
and effects as the Typer commands, and anything the lean parser does not take goes to Typer."""

from __future__ import annotations

import subprocess
import sys

import pytest
from support.registry import registry_text

from smbatcher.workspace import Workspace


@pytest.fixture
def mixed(workspace: Workspace) -> Workspace:
    rows = [("a.dev", "001", "-"), ("b.dev", "001", "D"), ("c.dev", "001", "i"), ("d.dev", "001", "Q"),
            ("k.dev", "002", "D"), ("l.dev", "002", "d"), ("m.dev", "002", "X")]
    text = registry_text([]) + "".join(f"| {d} | {b} | {s} | {'run-gone' if s in 'di' else ''} | 0 | "
                                       f"2026-11-21T10:02:11Z | note \\| {d} |\n" for d, b, s in rows)
    workspace.registry.write_text(text)
    return workspace


def _same(smb, cli, *args: str) -> None:
    lean = smb(*args)
    typer_result = cli(*args)
    assert (lean.returncode, lean.stdout, lean.stderr) == (typer_result.exit_code, typer_result.stdout,
                                                          typer_result.stderr), (args, lean.stderr)


@pytest.mark.parametrize("args", [
    [], ["--json"], ["--batch", "2"], ["-b", "001", "--json"], ["--batch", "9"], ["--batch", "x"], ["-q"],
    ["--batch=002"],
])
def test_status_says_what_the_typer_command_says(smb, cli, mixed: Workspace, args):
    _same(smb, cli, "status", *args)


@pytest.mark.parametrize("args", [
    ["b.dev", "--status", "Q"], ["b.dev", "k.dev", "-s", "I", "--json"], ["--status", "Q", "b.dev", "--expect", "I"],
    ["nope.dev", "--status", "Q"], ["b.dev", "--status", "i"], ["b.dev", "--status", "Z"], ["B..dev", "--status", "Q"],
    ["a.dev", "--status", "-"], ["m.dev", "--status", "D", "--note", "again", "--json"], ["c.dev", "--status", "D"],
])
def test_set_status_does_what_the_typer_command_does(smb, cli, mixed: Workspace, args):
    before = mixed.registry.read_bytes()
    lean = smb("set-status", *args)
    after_lean = mixed.registry.read_bytes()
    mixed.registry.write_bytes(before)
    typer_result = cli("set-status", *args)
    after_typer = mixed.registry.read_bytes()
    assert (lean.returncode, lean.stdout, lean.stderr) == (typer_result.exit_code, typer_result.stdout,
                                                          typer_result.stderr), args
    # The same change (the `updated` stamps may differ by a second).
    strip = [line.rsplit("| 20", 1)[0] for line in after_lean.decode().splitlines()]
    assert strip == [line.rsplit("| 20", 1)[0] for line in after_typer.decode().splitlines()]


@pytest.mark.parametrize("args", [["status", "--watch"], ["set-status", "b.dev"], ["status", "--bogus"],
                                  ["set-status", "--status", "Q"], ["status", "--help"], ["set-status", "--", "b.dev"],
                                  ["set-status", "b.dev", "--status"], ["status", "--batch"]])
def test_what_the_lean_parser_does_not_take_goes_to_typer(smb, mixed: Workspace, args):
    lean = smb(*args)
    # What `smb` gave before it had a lean path: the Typer app behind the one error boundary.
    typer_main = subprocess.run([sys.executable, "-c", "import sys; from smbatcher.cli import main; "
                                 "sys.exit(main(sys.argv[1:]))", *args], cwd=mixed.root, capture_output=True,
                                text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert (lean.returncode, lean.stdout, lean.stderr) == (typer_main.returncode, typer_main.stdout,
                                                          typer_main.stderr)


def test_lean_commands_import_no_typer(mixed: Workspace):
    for args in (["status"], ["set-status", "b.dev", "--status", "Q"]):
        proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "smbatcher", *args], cwd=mixed.root,
                              capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
        assert proc.returncode == 0, proc.stderr
        imported = {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines()
                    if line.startswith("import time:")}
        assert "smbatcher.lean" in imported
        assert not {name for name in imported if name.split(".")[0] in {"typer", "click", "rich", "pydantic"}}
