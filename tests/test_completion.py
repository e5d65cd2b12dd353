"""Shell completion (issue 23): Typer's --show-completion / --install-completion, and completions drawn from
the registry, driven through the environment variables the shell script sets."""

from __future__ import annotations

from pathlib import Path

import pytest

from smbatcher.workspace import Workspace
from support.registry import registry_text


@pytest.fixture
def sites(workspace: Workspace) -> Workspace:
    rows = [("lotus.dev", "001", "-"), ("lime.dev", "001", "D"), ("oak.dev", "002", "X")]
    workspace.registry.write_text(registry_text(rows))
    return workspace


def complete(smb, *words: str, cwd: Path | None = None) -> list[str]:
    """What bash is offered after typing ``smb WORDS`` (the last word is the one being completed)."""
    line = ["smb", *words]
    proc = smb(env={"_SMB_COMPLETE": "complete_bash", "COMP_WORDS": " ".join(line),
                    "COMP_CWORD": str(len(line) - 1)}, cwd=cwd)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    return proc.stdout.split()


def test_show_completion_prints_the_bash_script(smb, workspace):
    proc = smb("--show-completion", "bash")
    assert proc.returncode == 0, proc.stderr
    assert "_SMB_COMPLETE=complete_bash" in proc.stdout
    assert proc.stdout.rstrip().endswith("complete -o default -F _smb_completion smb")
    assert "--install-completion" in smb("--help").stdout


def test_a_domain_completes_from_the_registry(smb, sites):
    assert complete(smb, "history", "l") == ["lotus.dev", "lime.dev"]
    assert complete(smb, "set-status", "o") == ["oak.dev"]
    assert complete(smb, "run", "--sites", "lotus.dev,l") == ["lotus.dev,lotus.dev", "lotus.dev,lime.dev"]


def test_commands_options_statuses_and_batches_complete(smb, sites):
    assert complete(smb, "hi") == ["history"]
    assert "--status" in complete(smb, "list-sites", "--st")
    assert complete(smb, "list-sites", "--status", "D,") == [f"D,{s}" for s in "-dDiIQX"]
    assert complete(smb, "status", "--batch", "") == ["001", "002"]


def test_completion_outside_a_workspace_offers_nothing_and_says_nothing(smb, tmp_path):
    assert complete(smb, "history", "l", cwd=tmp_path) == []
