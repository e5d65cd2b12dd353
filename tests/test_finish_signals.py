"""Every phase of `smb run` stops the same way (issue 22): SIGTERM during finish's checks ends with
143 after a clean stop: no check worker left, the stdout pipe closed, nothing half written."""

from __future__ import annotations

import signal
import subprocess

import psutil
import pytest
from support.cli import smb_argv, smb_env
from support.waiting import wait_for
from support.workspaces import build_site, make_sites


@pytest.mark.parametrize("moment", ["checks"])
def test_sigterm_during_run_finish_exits_143_with_no_process_left(workspace, moment):
    names = make_sites(workspace, 300, status="I")
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
        child.send_signal(signal.SIGTERM)
        out, err = child.communicate(timeout=60)  # returns only once every holder of the pipe is gone
        assert child.returncode == 143, f"exit={child.returncode}\n{out!r}\n{err!r}"
        left = [p for p in psutil.process_iter(["pid"]) if _session(p) == child.pid]
        assert left == [], left
        after = workspace.registry.read_bytes()
        statuses = after.decode().count("| Q |")
        assert after == before or statuses == len(names), "finish half done"
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def _session(process: psutil.Process) -> int | None:
    try:
        import os

        return os.getsid(process.pid)
    except OSError:
        return None
