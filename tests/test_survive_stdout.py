"""A run survives its stdout (issue 22): a reader that goes away stops smb printing, not working."""

from __future__ import annotations

import os
import subprocess

from support.cli import read_terminal, smb_argv, smb_env
from support.registry import write_registry
from support.workspaces import write_config


def test_design_piped_to_head_designs_every_site_and_leaves_no_claim(workspace):
    names = write_registry(workspace, 25, status="-")
    write_config(workspace, design="builtin", implement="builtin", max_agents=4)
    argv = " ".join(f"'{a}'" for a in smb_argv(workspace, "design", "--batch", "001"))
    # The shell's pipe: head reads one line and exits, so every later write of smb's hits EPIPE.
    proc = subprocess.run(["bash", "-c", f"set -o pipefail; {argv} | head -1"], cwd=workspace.root,
                          env=smb_env(), capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, f"exit={proc.returncode}\n{proc.stdout}\n{proc.stderr}"  # smb's own: all designed
    assert len(proc.stdout.splitlines()) == 1, proc.stdout
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr
    statuses = subprocess.run(smb_argv(workspace, "list-sites", "--format", "csv"), env=smb_env(),
                              capture_output=True, text=True, timeout=60).stdout.splitlines()[1:]
    assert len(statuses) == 25 and all(",D," in line for line in statuses), statuses
    for name in names:
        assert workspace.design_file(name).is_file(), name
    run_logs = list((workspace.logs).glob("runs/*.log")) or list(workspace.logs.glob("*.log"))
    text = "".join(p.read_text() for p in run_logs)
    assert text.count("OK ") >= 25, text  # the run log has every line the pipe did not take


def test_a_closed_stderr_and_stdout_do_not_stop_the_run(workspace):
    write_registry(workspace, 5, status="-")
    write_config(workspace, design="builtin", implement="builtin", max_agents=2)
    # A reader that is gone from the start: both ends closed before smb writes anything.
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    os.close(out_r)
    os.close(err_r)
    child = subprocess.Popen(smb_argv(workspace, "design", "--batch", "001"), cwd=workspace.root, env=smb_env(),
                             stdin=subprocess.DEVNULL, stdout=out_w, stderr=err_w)
    os.close(out_w)
    os.close(err_w)
    assert child.wait(timeout=180) == 0
    statuses = subprocess.run(smb_argv(workspace, "list-sites", "--format", "csv"), env=smb_env(),
                              capture_output=True, text=True, timeout=60).stdout.splitlines()[1:]
    assert len(statuses) == 5 and all(",D," in line for line in statuses), statuses


def test_a_terminal_that_goes_away_does_not_stop_the_run(workspace):
    """stdout and stderr on a pseudo-terminal (so smb draws its progress display) whose other end
    closes after the first output: every later write fails with EIO; the run goes on."""
    write_registry(workspace, 12, status="-")
    write_config(workspace, design="builtin", implement="builtin", max_agents=2)
    master, slave = os.openpty()
    child = subprocess.Popen(smb_argv(workspace, "design", "--batch", "001"), cwd=workspace.root,
                             env=smb_env(TERM="xterm", NO_COLOR=None), stdin=subprocess.DEVNULL, stdout=slave,
                             stderr=slave, start_new_session=True)
    os.close(slave)
    try:
        read_terminal(master, 60, until_closed=False)  # smb has printed something: the terminal is in use
    finally:
        os.close(master)  # the terminal goes away
    assert child.wait(timeout=180) == 0
    statuses = subprocess.run(smb_argv(workspace, "list-sites", "--format", "csv"), env=smb_env(),
                              capture_output=True, text=True, timeout=60).stdout.splitlines()[1:]
    assert len(statuses) == 12 and all(",D," in line for line in statuses), statuses
