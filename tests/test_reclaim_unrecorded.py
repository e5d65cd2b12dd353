"""A runner killed between starting an agent and saving its run file: the agent is in no record.

The next run must still find and stop it (by the SMB_RUN_ID the runner gave it, never by name)
before running its site again, so a site is never worked on twice at once.
"""

from __future__ import annotations

import os
import subprocess
import sys

from support.cli import explain, run_smb
from support.processes import dead_process_identity
from support.registry import statuses
from support.waiting import wait_for
from support.workspaces import make_sites, write_run


def test_an_agent_missing_from_the_dead_runs_file_is_stopped_before_its_site_reruns(workspace):
    names = make_sites(workspace, 2)
    dead_run = "implement-001-20260101T000000-dead"
    # The dead runner: a process that existed and is gone (its pid and create time are recorded),
    # killed before it recorded its agent.
    ghost_pid, ghost_created = dead_process_identity()
    write_run(workspace, dead_run, ghost_pid, ghost_created, agents=[])
    text = workspace.registry.read_text().replace(f"| {names[0]} | 001 | D |  |", f"| {names[0]} | 001 | i | {dead_run} |")
    workspace.registry.write_text(text)
    orphan = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True,
                              env=dict(os.environ, SMB_RUN_ID=dead_run, SMB_DOMAIN=names[0]))
    try:
        result = run_smb(workspace, "implement", "--batch", "001")
        assert result.returncode == 0, explain(result)
        assert f"stopped agent pid {orphan.pid} of dead run {dead_run}" in result.stdout
        # Stopped before the run returned; the deadline only covers this test reaping its child.
        wait_for(lambda: orphan.poll() is not None, 10, "the unrecorded agent of the dead run to be gone")
        assert statuses(workspace) == {names[0]: "I", names[1]: "I"}
    finally:
        if orphan.poll() is None:
            orphan.kill()
        orphan.wait()
