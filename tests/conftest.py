"""Every test gets its own workspace folder, a plain-text terminal and no SMB_* leaking in (STYLE habit 10).

The shared helpers are in tests/support/ (its docstring lists them); this file holds only fixtures.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import cli as smb_cli
from support.agents import kill_tagged

from smbatcher.workspace import Workspace, create_workspace


# The real Claude Code CLI and its mock API: the claude_cli and claude_mock fixtures.
pytest_plugins = ["support.claude"]

# pytest itself rewrites this one at every stage of every test.
NOT_A_LEAK = {"PYTEST_CURRENT_TEST"}


def environment_changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """What differs between two copies of os.environ, one phrase per variable, sorted by name."""
    changes = []
    for name in sorted((before.keys() | after.keys()) - NOT_A_LEAK):
        if name not in after:
            changes.append(f"{name} was removed (it was {before[name]!r})")
        elif name not in before:
            changes.append(f"{name} was set to {after[name]!r}")
        elif before[name] != after[name]:
            changes.append(f"{name} was changed from {before[name]!r} to {after[name]!r}")
    return changes


@pytest.fixture(autouse=True)
def workspace_root(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Path]:
    """A fresh, empty folder per test, made the current folder; colour off, fixed width, no SMB_* at all.

    After the test the process environment must be what it was: a variable a test sets and does not
    restore would leak into every later test and every smb it starts. ``monkeypatch`` restores its own
    changes before this check runs (this fixture is set up first, so it is torn down last); anything
    still different fails the test, naming the variable, and is put back so the next test starts clean.
    """
    root = tmp_path_factory.mktemp("ws")
    # A private MonkeyPatch: a test calling monkeypatch.undo() must not undo the isolation.
    with pytest.MonkeyPatch.context() as isolation:
        isolation.chdir(root)
        isolation.setenv("NO_COLOR", "1")
        isolation.setenv("COLUMNS", "120")
        for name in [name for name in os.environ if name.startswith("SMB_")]:
            isolation.delenv(name)  # every one: SMB_ROOT, SMB_LOCK_TIMEOUT, the agent protocol's, new ones
        before = dict(os.environ)
        yield root
        leaks = environment_changes(before, dict(os.environ))
        if leaks:
            for name in set(os.environ) - set(before) - NOT_A_LEAK:
                del os.environ[name]
            os.environ.update({k: v for k, v in before.items() if k not in NOT_A_LEAK})
    if leaks:
        pytest.fail(f"{request.node.nodeid} changed the process environment and did not restore it: "
                    + "; ".join(leaks) + " (use the monkeypatch fixture, or pass env= to the child)",
                    pytrace=False)


@pytest.fixture
def workspace(workspace_root: Path) -> Workspace:
    ws, _ = create_workspace(workspace_root)
    return ws


@pytest.fixture
def smb(workspace_root: Path):
    """Run the real CLI in a subprocess (``python -m smbatcher``) from the workspace root, no ``--root``.

    ``env`` adds to support.cli.smb_env() (a value of None removes a variable); ``cwd`` runs it elsewhere.
    """

    def run(*args: str, env: dict | None = None, cwd: Path | None = None, timeout: float = 60,
            input: str | None = None) -> subprocess.CompletedProcess:
        return smb_cli.run(*args, cwd=cwd or workspace_root, env=smb_cli.smb_env(**(env or {})), input=input,
                           timeout=timeout)

    return run


@pytest.fixture
def cli(workspace_root: Path):
    """Run the Typer app in-process from the workspace root; returns the CliRunner result
    (``.exit_code``, ``.stdout``, ``.stderr``)."""

    def invoke(*args: str, input: str | None = None):
        return smb_cli.invoke(None, *args, input=input)

    return invoke


@pytest.fixture
def tag() -> Iterator[str]:
    """A unique FAKE_TAG for this test's fake agents; whatever still carries it at the end is killed."""
    value = uuid.uuid4().hex
    yield value
    kill_tagged(value)


@pytest.fixture
def runners() -> Iterator[list[subprocess.Popen]]:
    """Runners a test started (support.cli.start_smb); any still alive at the end are killed."""
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()
