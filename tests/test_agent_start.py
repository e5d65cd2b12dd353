"""An agent that cannot be started is the run's problem, not the sites' (issue 20)."""

from __future__ import annotations

import os

import pytest

from smbatcher import jail
from support.cli import assert_one_line_error, explain, run_smb, smb_env
from support.registry import rows, statuses
from support.workspaces import make_sites

BUILD = '#!/bin/sh\necho "<h1>$SMB_DOMAIN</h1>" > "$SMB_OUTPUT/index.html"\n'


def script(workspace, name: str, text: str, mode: int = 0o755):
    path = workspace.root / name
    path.write_text(text)
    path.chmod(mode)
    return path


def test_a_relative_agent_path_runs_from_the_folder_smb_was_started_in(workspace):
    names = make_sites(workspace, 3)
    script(workspace, "x.sh", BUILD)
    result = run_smb(workspace, "implement", "--batch", "1", "--agent", "./x.sh")  # run from the workspace
    assert result.returncode == 0, explain(result)
    assert set(statuses(workspace).values()) == {"I"}
    assert all(f"<h1>{name}</h1>" in (workspace.site_dir(name) / "index.html").read_text() for name in names)


def test_an_agent_file_without_its_run_bit_ends_the_run_at_once_with_one_line(workspace):
    make_sites(workspace, 3)
    script(workspace, "x.sh", BUILD, mode=0o644)
    before = workspace.registry.read_bytes()
    result = run_smb(workspace, "implement", "--batch", "1", "--agent", "./x.sh")
    line = assert_one_line_error(result, 2)
    assert "x.sh" in line and "not executable" in line
    assert workspace.registry.read_bytes() == before


JAIL = pytest.param("on", marks=pytest.mark.skipif(jail.probe() is None, reason="bwrap cannot start a sandbox here"))


@pytest.mark.parametrize("sandbox", ["off", JAIL])
def test_an_agent_that_exec_refuses_stops_the_run_before_anything_ran_exit_2_every_site_back(workspace, sandbox):
    """Jailed, bwrap's execvp would fail inside the jail with exit 1: the attempt checks the program first."""
    names = make_sites(workspace, 4)
    script(workspace, "x.sh", "#!/nonexistent/interpreter\n")  # runnable, but execve says ENOENT
    result = run_smb(workspace, "implement", "--batch", "1", "--agent", "./x.sh", env=smb_env(SMB_SANDBOX=sandbox))
    line = assert_one_line_error(result, 2)
    assert f"cannot start the agent {workspace.root / 'x.sh'}" in line and "(ENOENT)" in line, line
    assert statuses(workspace) == {name: "D" for name in names}
    assert all(row.attempts == 0 and row.get("owner") == "" for row in rows(workspace).values())
    # At once: one launch tried, no breaker, no retries.
    assert result.stdout.count("FAIL ") == 1 and "breaker" not in result.stdout, explain(result)


def test_exec_failing_after_agents_ran_stops_the_run_with_exit_1(workspace):
    make_sites(workspace, 3, max_agents=1)
    # The first agent builds its site and takes its own run bit away: every later exec says EACCES.
    agent = script(workspace, "x.sh", BUILD.replace("\n", '\nchmod -x "$0"\n', 1))
    result = run_smb(workspace, "implement", "--batch", "1", "--agent", "./x.sh")
    assert result.returncode == 1, explain(result)
    assert "(EACCES)" in result.stdout and "nothing counted" in result.stdout, explain(result)
    assert sorted(statuses(workspace).values()) == ["D", "D", "I"]
    assert all(row.attempts == 0 for row in rows(workspace).values())
    assert not os.access(agent, os.X_OK)
