"""Every phase of `smb run` stops the same way (issue 22): a signal during finish's checks, or
between phases, ends with 130/143 after a clean stop: no check worker left, the stdout pipe
closed, finish's transaction done or not begun."""

from __future__ import annotations

import os
import signal
import subprocess

import psutil
import pytest
from support.cli import smb_argv, smb_env
from support.waiting import wait_for
from support.workspaces import build_site, make_sites

EXIT = {signal.SIGTERM: 143, signal.SIGHUP: 143, signal.SIGINT: 130}


def _in_session(session: int) -> list[psutil.Process]:
    left = []
    for process in psutil.process_iter():
        try:
            if os.getsid(process.pid) == session:
                left.append(process)
        except OSError:
            pass
    return left


def _implement_logged(workspace) -> bool:
    """The implement phase has written its run log's summary: the run is between implement and finish."""
    path = workspace.run_log("implement", "001")
    return path.exists() and len(path.read_text().splitlines()) >= 2


@pytest.mark.parametrize("moment, sig", [
    ("checks", signal.SIGTERM), ("checks", signal.SIGINT), ("checks", signal.SIGHUP),
    ("after-implement", signal.SIGTERM), ("design", signal.SIGTERM),
])
def test_a_signal_during_run_finish_or_between_phases_stops_cleanly(workspace, moment, sig):
    names = make_sites(workspace, 300, status="I")  # design and implement have nothing to do
    for name in names:
        build_site(workspace, name)
    before = workspace.registry.read_bytes()
    child = subprocess.Popen(smb_argv(workspace, "run", "--batch", "001"), cwd=workspace.root, env=smb_env(),
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             start_new_session=True)
    try:
        me = psutil.Process(child.pid)
        if moment == "checks":  # finish's worker processes are up: the checks are running
            wait_for(lambda: me.children(), 60, "finish's check workers")
        elif moment == "after-implement":
            wait_for(lambda: _implement_logged(workspace), 60, "the implement phase's summary line")
        else:
            wait_for(lambda: workspace.run_log("design", "001").exists(), 60, "the design phase's run log")
        child.send_signal(sig)
        out, err = child.communicate(timeout=60)  # returns only once every holder of the pipes is gone
        assert child.returncode == EXIT[sig], f"exit={child.returncode}\n{out!r}\n{err!r}"
        assert _in_session(child.pid) == [], "processes of the run's session are left"
        after = workspace.registry.read_bytes()
        finished = after.decode().count("| Q |")
        assert after == before or finished == len(names), f"finish half done: {finished} of {len(names)} Q"
        assert b"Traceback" not in err, err
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
