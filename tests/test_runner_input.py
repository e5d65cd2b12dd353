"""Bad input to the runner commands: one line on stderr, exit 2, nothing written, nothing started."""

from __future__ import annotations

import pytest
from support.cli import run_smb
from support.workspaces import make_sites


@pytest.mark.parametrize("command", ["design", "implement", "run"])
def test_a_registry_that_does_not_parse_is_refused_before_anything_starts(workspace, command):
    names = make_sites(workspace, 3)
    with workspace.registry.open("a") as handle:
        handle.write(f"| {names[0]} | 001 | I |  | 0 |  |  |\n")  # a duplicate row
    before = workspace.registry.read_bytes()
    result = run_smb(workspace, command, "--batch", "001", timeout=30)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and "duplicate domain" in result.stderr
    assert workspace.registry.read_bytes() == before
    assert not list(workspace.runs.glob("*.json")), "a run was recorded although nothing may start"
    assert not list(workspace.sites.glob("*-v1"))
