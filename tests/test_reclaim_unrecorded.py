"""A runner killed between starting an agent and saving its run file: the agent is in no record.

The next run must still find and stop it (by the SMB_RUN_ID the runner gave it, never by name)
before running its site again, so a site is never worked on twice at once.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import psutil

from test_runner import make_sites, run_smb, statuses


def test_an_agent_missing_from_the_dead_runs_file_is_stopped_before_its_site_reruns(workspace):
    names = make_sites(workspace, 2)
    dead_run = "implement-001-20260101T000000-dead"
    # The dead runner: a process that existed and is gone (its pid and create time are recorded).
    ghost = subprocess.Popen([sys.executable, "-c", "pass"])
    ghost_created = psutil.Process(ghost.pid).create_time()
    ghost.wait()
    workspace.runs.mkdir(parents=True, exist_ok=True)
    (workspace.runs / f"{dead_run}.json").write_text(json.dumps({
        "run_id": dead_run, "pid": ghost.pid, "create_time": ghost_created, "host": socket.gethostname(),
        "phase": "implement", "batch": "001", "agents": []}))  # killed before it recorded its agent
    text = workspace.registry.read_text().replace(f"| {names[0]} | 001 | D |  |", f"| {names[0]} | 001 | i | {dead_run} |")
    workspace.registry.write_text(text)
    orphan = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True,
                              env=dict(os.environ, SMB_RUN_ID=dead_run, SMB_DOMAIN=names[0]))
    try:
        result = run_smb(workspace, "implement", "--batch", "001")
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"stopped agent pid {orphan.pid} of dead run {dead_run}" in result.stdout
        deadline = time.monotonic() + 5
        while orphan.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert orphan.poll() is not None, "the unrecorded agent of the dead run is still running"
        assert statuses(workspace) == {names[0]: "I", names[1]: "I"}
    finally:
        if orphan.poll() is None:
            orphan.kill()
        orphan.wait()
