"""doctor's cluster scenario (issue 12): the Dask scheduler reachable, workers with AGENT slots, versions."""

from __future__ import annotations

import json

import pytest

from support.cli import explain, run_smb
from support.net import closed_port
from support.registry import write_registry

distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")


def configure(ws, scheduler: str) -> None:
    ws.config_file.write_text(f'[executor]\nkind = "dask"\nscheduler = "{scheduler}"\n')


def cluster_check(ws) -> dict:
    result = run_smb(ws, "doctor", "--scenario", "cluster", "--json")
    assert result.returncode in (0, 1), explain(result)
    (check,) = json.loads(result.stdout)["checks"]
    return check


@pytest.fixture
def cluster():
    """``make(resources)``: a scheduler and one worker (threads) in this process, on loopback; its address."""
    def start(resources):
        from distributed import LocalCluster

        return LocalCluster(processes=False, protocol="tcp://", n_workers=1, threads_per_worker=1,
                            resources=resources, dashboard_address="127.0.0.1:0", host="127.0.0.1", silence_logs=50)

    started = []

    def make(resources=None):
        started.append(start(resources))
        return started[-1].scheduler_address

    yield make
    for c in started:
        c.close(timeout=10)


def test_with_the_local_executor_there_is_nothing_to_check(workspace):
    write_registry(workspace, 1)
    check = cluster_check(workspace)
    assert check["status"] == "ok" and "local executor" in check["summary"]


def test_an_unreachable_scheduler_fails_with_the_fix(workspace):
    write_registry(workspace, 1)
    configure(workspace, f"tcp://127.0.0.1:{closed_port()}")
    check = cluster_check(workspace)
    assert check["status"] == "fail" and "unreachable" in check["summary"], check
    assert "dask scheduler" in check["fix"]
    network = json.loads(run_smb(workspace, "doctor", "--scenario", "network", "--json").stdout)["checks"][0]
    assert network["status"] == "fail"  # SPEC §6: network probes the distributed scheduler when set


def test_workers_with_agent_slots_and_matching_versions_are_ok(workspace, cluster):
    write_registry(workspace, 1)
    configure(workspace, cluster({"AGENT": 3}))
    check = cluster_check(workspace)
    assert check["status"] == "ok", check
    assert "1 workers, 3 AGENT slots" in check["summary"]
    assert any("AGENT=3" in line for line in check["findings"]), check


def test_a_worker_without_agent_slots_fails_with_the_command_that_starts_a_right_one(workspace, cluster):
    write_registry(workspace, 1)
    address = cluster(None)
    configure(workspace, address)
    check = cluster_check(workspace)
    assert check["status"] == "fail" and "no worker offers AGENT slots" in check["summary"], check
    assert f"dask worker {address} --resources AGENT=" in check["fix"]
