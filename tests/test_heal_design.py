"""A D without its design heals itself (issue 23): set-status and the runs move it back to -, and
``smb run`` designs and builds it in the same run."""

from __future__ import annotations

import json

from support.cli import explain, run_smb
from support.registry import domains, statuses
from support.workspaces import write_config

from smbatcher.sites import add_sites
from smbatcher.store import Store


def _batch(workspace, count: int = 3) -> list[str]:
    names = domains(count, "heal")
    add_sites(Store(workspace), names, "001")
    write_config(workspace, design="builtin", implement="builtin", max_agents=3)
    return names


def test_a_site_parked_during_design_and_retried_as_the_tour_shows_is_built_by_the_next_run(workspace):
    names = _batch(workspace)
    parked = names[0]
    # Parked during design: X, and no design file was ever written.
    assert run_smb(workspace, "set-status", parked, "--status", "X", "--note", "design failed 3 times").returncode == 0
    assert not workspace.design_file(parked).exists()
    retry = run_smb(workspace, "set-status", parked, "--status", "D", "--expect", "X")
    assert retry.returncode == 0, explain(retry)
    assert f"{parked} -> - (not D: it has no design file" in retry.stderr + retry.stdout
    assert statuses(workspace)[parked] == "-"
    result = run_smb(workspace, "run", "--batch", "001", timeout=180)
    assert result.returncode == 0, explain(result)
    assert statuses(workspace) == {name: "Q" for name in names}, explain(result)
    assert "<html" in (workspace.site_dir(parked) / "index.html").read_text()


def test_set_status_d_keeps_d_when_the_design_is_there(workspace):
    names = _batch(workspace, 2)
    workspace.design_file(names[0]).parent.mkdir(parents=True, exist_ok=True)
    workspace.design_file(names[0]).write_text("# Design\n")
    result = run_smb(workspace, "set-status", *names, "--status", "D", "--json")
    assert result.returncode == 0, explain(result)
    assert statuses(workspace) == {names[0]: "D", names[1]: "-"}
    data = json.loads(result.stdout)
    assert data["no_design"] == [names[1]] and sorted(data["changed"]) == sorted(names)


def test_a_run_meeting_a_d_without_its_design_designs_and_builds_it(workspace):
    names = _batch(workspace)
    lost = names[1]
    # A D whose design file is gone (deleted by hand, or written by an older smb): every run used to skip it.
    with Store(workspace).transaction(actor="test") as txn:
        txn.set_status(txn.row(lost), "D")
    result = run_smb(workspace, "run", "--batch", "001", timeout=180)
    assert result.returncode == 0, explain(result)
    assert f"{lost}: D -> - (its design file is missing" in result.stdout + result.stderr
    assert "design missing" not in " ".join(l for l in (result.stdout + result.stderr).splitlines() if "SKIP" in l)
    assert statuses(workspace) == {name: "Q" for name in names}, explain(result)
    assert workspace.design_file(lost).stat().st_size > 0
