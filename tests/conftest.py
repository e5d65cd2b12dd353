"""Every test gets its own workspace folder, a plain-text terminal and no SMB_* leaking in (STYLE habit 10)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from smbatcher.workspace import Workspace, create_workspace


@pytest.fixture(autouse=True)
def workspace_root(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty folder per test, made the current folder; colour off, fixed width, no SMB_* overrides."""
    root = tmp_path_factory.mktemp("ws")
    monkeypatch.chdir(root)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.delenv("SMB_ROOT", raising=False)
    monkeypatch.delenv("SMB_LOCK_TIMEOUT", raising=False)
    return root


@pytest.fixture
def workspace(workspace_root: Path) -> Workspace:
    ws, _ = create_workspace(workspace_root)
    return ws


@pytest.fixture
def smb(workspace_root: Path):
    """Run the real CLI in a subprocess (``python -m smbatcher``) from the workspace root."""

    def run(*args: str, env: dict | None = None, cwd: Path | None = None, timeout: float = 60,
            input: str | None = None) -> subprocess.CompletedProcess:
        full_env = dict(os.environ)
        if env:
            for key, value in env.items():
                if value is None:
                    full_env.pop(key, None)
                else:
                    full_env[key] = value
        return subprocess.run(
            [sys.executable, "-m", "smbatcher", *args],
            cwd=cwd or workspace_root,
            env=full_env,
            stdin=subprocess.DEVNULL if input is None else None,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run


@pytest.fixture
def cli(workspace_root: Path):
    """Run the Typer app in-process; returns the CliRunner result (``.exit_code``, ``.stdout``, ``.stderr``)."""
    from typer.testing import CliRunner

    from smbatcher.cli import app

    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(app, list(args), input=input)

    return invoke
