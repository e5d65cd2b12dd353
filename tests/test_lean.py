"""`smb status` and `smb set-status` without Typer (smbatcher/lean.py, issue 13): the same output, errors
and effects as the Typer commands, and anything the lean parser does not take goes to Typer."""

from __future__ import annotations

import re
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


# -- design, implement, run: the lean parser reads their options as the Typer command does ----------------


@pytest.mark.parametrize("args", [
    ["implement", "--batch", "1", "--dry-run"], ["design", "-b", "001", "--dry-run", "--json"],
    ["run", "--batch=1", "--dry-run"], ["implement", "--dry-run"], ["implement", "--batch", "9", "--dry-run"],
    ["implement", "-b", "1", "--wave", "0", "--dry-run"], ["implement", "-b", "1", "-n", "0", "--dry-run"],
    ["implement", "-b", "1", "-n5", "-w", "1", "--dry-run"], ["implement", "-b", "1", "--timeout", "soon", "--dry-run"],
    ["implement", "-b", "1", "--sites", "B..dev", "--dry-run"], ["implement", "-b", "1", "--sites", "b.dev", "--redo",
                                                                  "--dry-run", "-q"],
    ["implement", "-b", "1", "--halt", "weird", "--dry-run"], ["implement", "-b", "1", "--executor", "nope", "--dry-run"],
    ["implement", "-b", "1", "--agent", "", "--dry-run"], ["implement", "-b", "1", "--retries", "-1", "--dry-run"],
    ["design", "-b", "x"],
])
def test_run_commands_say_what_the_typer_commands_say(smb, cli, mixed: Workspace, args):
    before = mixed.registry.read_bytes()
    run_id = re.compile(r"\b(design|implement|run)-\d{3}-\d{8}T\d{6}-[0-9a-f]+\b")  # the time and the pid differ
    lean, typer_result = smb(*args), cli(*args)
    assert (lean.returncode, run_id.sub("RUN", lean.stdout), lean.stderr) == (
        typer_result.exit_code, run_id.sub("RUN", typer_result.stdout), typer_result.stderr), args
    assert mixed.registry.read_bytes() == before  # a dry run or a refused flag writes nothing


@pytest.mark.parametrize("args", [["implement", "--batch"], ["implement", "-b", "1", "--bogus"], ["run", "--help"],
                                  ["design", "-b", "1", "extra"], ["implement", "-b", "1", "--max-agents", "many"],
                                  ["implement", "-b", "1", "--no-redo"], ["run", "-h"]])
def test_what_the_lean_parser_does_not_take_of_a_run_command_goes_to_typer(smb, mixed: Workspace, args):
    test_what_the_lean_parser_does_not_take_goes_to_typer(smb, mixed, args)


def test_a_run_command_starts_its_agents_without_importing_typer(mixed: Workspace):
    # The fifth of a second Typer and Pydantic took came before the first agent of every run (issue 13).
    mixed.design_file("b.dev").parent.mkdir(parents=True, exist_ok=True)
    mixed.design_file("b.dev").write_text("# b.dev\n")
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "smbatcher", "implement", "--batch", "1",
                           "--agent", f"{sys.executable} -c \"import os; open(os.environ['SMB_OUTPUT'] + "
                           "'/index.html', 'w').write('ok')\""],
                          cwd=mixed.root, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert "OK b.dev " in proc.stdout, proc.stdout
    assert (mixed.root / "sites/b.dev-v1/index.html").read_text() == "ok"
    imported = {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "smbatcher.lean" in imported and "smbatcher.pool.loop" in imported
    assert not {name for name in imported if name.split(".")[0] in {"typer", "click", "pydantic"}}
