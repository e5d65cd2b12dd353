"""``smb status`` (issue 23): throughput and an ETA only while a run of that batch is live; otherwise the
last run's outcome and when it ended."""

from __future__ import annotations

import os
import socket

import psutil
from support.cli import explain, run_smb
from support.registry import domains
from support.workspaces import write_config

from smbatcher.runs import RunRecord, save
from smbatcher.sites import add_sites
from smbatcher.store import Store


def _status(workspace, *args: str) -> str:
    result = run_smb(workspace, "status", *args)
    assert result.returncode == 0, explain(result)
    return result.stdout


def test_no_eta_before_any_run_nor_after_the_last_one_ended(workspace):
    add_sites(Store(workspace), domains(3, "eta"), "001")
    write_config(workspace, design="builtin", implement="builtin", max_agents=3)
    before = _status(workspace)
    assert "ETA" not in before and "throughput" not in before and "no run yet" in before
    assert run_smb(workspace, "design", "--batch", "001", timeout=120).returncode == 0
    after = _status(workspace)
    assert "ETA" not in after and "throughput" not in after
    last = [line for line in after.splitlines() if line.startswith("no live run; last run design-001-")]
    assert len(last) == 1 and "design batch 001, 3/3 done, 0 failed, ok, ended " in last[0], after


def test_eta_while_a_run_of_that_batch_is_live(workspace):
    add_sites(Store(workspace), domains(2, "eta"), "001")
    add_sites(Store(workspace), domains(2, "other"), "002")
    # A live run: its record names this test's own process (pid and start time), as a runner's does.
    save(workspace, RunRecord(run_id="design-001-20261121T100000-beef", pid=os.getpid(),
                              create_time=psutil.Process().create_time(), host=socket.gethostname(),
                              phase="design", batch="001", total=2))
    live = _status(workspace)
    assert "throughput:" in live and "ETA" in live, live
    assert "ETA" in _status(workspace, "--batch", "1")
    other = _status(workspace, "--batch", "2")  # the live run is another batch's
    assert "ETA" not in other and "no run yet" in other, other
