"""The jail (issue 22): a hostile agent changes nothing outside its own folder; auto/on without bwrap.

Real processes and the real bubblewrap: skipped where bwrap cannot start a sandbox.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from smbatcher import jail
from support.agents import BIN, agent_cmd, tagged
from support.cli import assert_one_line_error, explain, run_smb, smb_env
from support.workspaces import make_workspace, write_config

# Only the tests that start a jail need bwrap: the ones without it (off, auto and on without bwrap, a
# bad value, doctor) run everywhere, above all where bwrap is missing.
needs_bwrap = pytest.mark.skipif(jail.probe() is None, reason="bubblewrap (bwrap) cannot start a sandbox here")


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _hostile_workspace(root: Path, sandbox: str):
    ws = make_workspace(root, {"001": [("good.dev", "Q")],
                               "002": [("evil1.dev", "D"), ("evil2.dev", "D"), ("evil3.dev", "D")]})
    write_config(ws, implement=agent_cmd("escape"), max_agents=3, sandbox=sandbox)
    other = ws.smb_dir / "tmp" / "other-run" / "x.dev-implement-1"  # a live agent's folder of another run
    other.mkdir(parents=True)
    (other / "keep.txt").write_text("theirs\n")
    return ws, other


@needs_bwrap
def test_hostile_agent_changes_nothing_outside_its_folder_and_still_builds_its_site(workspace_root):
    ws, other = _hostile_workspace(workspace_root, "on")
    good, config, theirs = _snapshot(ws.site_dir("good.dev")), ws.config_file.read_bytes(), _snapshot(other)
    good_row = next(line for line in ws.registry.read_text().splitlines() if "good.dev" in line)
    escaped = Path(f"/tmp/smb-jail-escape-{uuid.uuid4().hex}")
    result = run_smb(ws, "implement", "--batch", "002", env=smb_env(SMB_SANDBOX=None, ESCAPE_TMP=str(escaped)))
    assert result.returncode == 0, explain(result)
    log = (ws.logs / "sites" / "evil1.dev" / "implement-1.log").read_text()
    assert "blocked registry" in log and "blocked config" in log, log  # it did try
    assert "WROTE registry" not in log and "WROTE config" not in log, log
    assert _snapshot(ws.site_dir("good.dev")) == good
    assert ws.config_file.read_bytes() == config
    assert _snapshot(other) == theirs
    assert not escaped.exists()
    assert not (ws.runs / "evil.json").exists()
    assert not ws.site_dir("evil.dev").exists()
    registry = ws.registry.read_text()
    assert "evil.dev " not in registry and good_row in registry.splitlines(), registry
    for domain in ("evil1.dev", "evil2.dev", "evil3.dev"):  # its own work is done and promoted
        assert (ws.site_dir(domain) / "index.html").is_file(), domain


def test_without_the_jail_the_same_agent_does_the_damage(workspace_root):
    """The control: what the test above guards against really happens with sandbox = "off"."""
    ws, other = _hostile_workspace(workspace_root, "off")
    result = run_smb(ws, "implement", "--batch", "002", env=smb_env(SMB_SANDBOX=None, ESCAPE_SPARE_REGISTRY="1"),
                     timeout=60)
    assert result.returncode == 0, explain(result)
    assert (ws.site_dir("good.dev") / "index.html").read_text() == "hacked\n"
    assert (other / "evil.txt").exists()


def _no_bwrap_env(**extra):
    return smb_env(SMB_SANDBOX=None, PATH=BIN, **extra)  # the venv's python only: no bwrap on PATH


def test_auto_without_bwrap_warns_once_and_runs(workspace_root):
    ws = make_workspace(workspace_root, {"001": [("a.dev", "D"), ("b.dev", "D")]})
    write_config(ws, implement=agent_cmd("succeed"), sandbox="auto")
    result = run_smb(ws, "implement", "--batch", "001", env=_no_bwrap_env())
    assert result.returncode == 0, explain(result)
    assert result.stdout.count("without a jail: bwrap (bubblewrap) not found") == 1, explain(result)
    assert (ws.site_dir("a.dev") / "index.html").is_file()


def test_on_without_bwrap_refuses_with_one_line_and_writes_nothing(workspace_root):
    ws = make_workspace(workspace_root, {"001": [("a.dev", "D")]})
    write_config(ws, implement=agent_cmd("succeed"), sandbox="on")
    before = ws.registry.read_bytes()
    line = assert_one_line_error(run_smb(ws, "implement", "--batch", "001", env=_no_bwrap_env()), 2)
    assert "sandbox" in line and "bwrap" in line, line
    assert ws.registry.read_bytes() == before
    assert not list(ws.runs.glob("*.json")) if ws.runs.exists() else True
    assert not ws.site_dir("a.dev").exists()


def test_bad_sandbox_value_is_refused_naming_the_key(workspace_root):
    ws = make_workspace(workspace_root, {"001": [("a.dev", "D")]})
    write_config(ws, sandbox="maybe")
    line = assert_one_line_error(run_smb(ws, "implement", "--batch", "001", env=smb_env(SMB_SANDBOX=None)), 2)
    assert "agents.sandbox" in line, line


@needs_bwrap
def test_a_jailed_agent_killed_at_timeout_leaves_no_process(workspace_root):
    tag = uuid.uuid4().hex
    ws = make_workspace(workspace_root, {"001": [("a.dev", "D")]})
    write_config(ws, implement=agent_cmd("grandchildren"), grace="0.5s", sandbox="on")
    result = run_smb(ws, "implement", "--batch", "001", "--timeout", "2s", "--retries", "0",
                     env=smb_env(SMB_SANDBOX=None, FAKE_TAG=tag))
    assert result.returncode == 1, explain(result)
    assert "timeout a.dev after 2s" in result.stdout, explain(result)
    assert tagged(tag) == [], [p.cmdline() for p in tagged(tag)]  # bwrap, the agent, its escaped family


GRACEFUL = """#!/usr/bin/env python3
import signal, sys, time
def bye(*_):
    time.sleep(1.0)  # cleaning up takes a while: the grace is for this
    print("cleaned up after SIGTERM", flush=True)
    sys.exit(3)
signal.signal(signal.SIGTERM, bye)
print("working", flush=True)
time.sleep(600)
"""


@needs_bwrap
def test_a_jailed_agent_gets_its_grace_at_timeout(workspace_root):
    """SIGTERM goes to the agent, not to bwrap (which would die and take the agent with it at once)."""
    ws = make_workspace(workspace_root, {"001": [("a.dev", "D")]})
    agent = ws.root / "graceful.py"
    agent.write_text(GRACEFUL)
    agent.chmod(0o755)
    write_config(ws, implement=str(agent), grace="20s", sandbox="on")
    result = run_smb(ws, "implement", "--batch", "001", "--timeout", "2s", "--retries", "0",
                     env=smb_env(SMB_SANDBOX=None))
    assert result.returncode == 1, explain(result)
    log = (ws.logs / "sites" / "a.dev" / "implement-1.log").read_text()
    assert "working" in log and "cleaned up after SIGTERM" in log, log


@needs_bwrap
def test_the_builtin_agent_runs_jailed_end_to_end(workspace_root):
    ws = make_workspace(workspace_root, {"001": [("a.dev", "-"), ("b.dev", "-")]})
    ws.config_file.write_text('[agents]\nsandbox = "on"\n\n[doctor]\ndisk_critical = "0"\n')
    result = run_smb(ws, "run", "--batch", "001", env=smb_env(SMB_SANDBOX=None))
    assert result.returncode == 0, explain(result)
    assert (ws.site_dir("a.dev") / "index.html").is_file() and ws.design_file("b.dev").is_file()


@needs_bwrap
def test_wrap_gives_a_jail_where_only_cwd_is_writable(tmp_path):
    mine, theirs = tmp_path / "mine", tmp_path / "theirs"
    mine.mkdir(), theirs.mkdir()
    script = "open('ok', 'w').write('1')\ntry:\n    open('../theirs/no', 'w')\nexcept OSError as e:\n    print(e.errno)"
    argv = jail.wrap(["python3", "-c", script], cwd=mine, readable=[tmp_path, BIN], bwrap=jail.probe())
    done = subprocess.run(argv, cwd=mine, capture_output=True, text=True, timeout=30,
                          env=smb_env(PATH=BIN + ":/usr/bin:/bin"))
    assert done.returncode == 0, done.stderr
    assert (mine / "ok").read_text() == "1" and not (theirs / "no").exists()
    assert done.stdout.strip() == "30"  # EROFS


@needs_bwrap
def test_the_real_claude_cli_builds_a_site_inside_the_jail(claude_cli, claude_mock, workspace, tmp_path):
    """The CLI reaches the (mock) API and writes its CLAUDE_CONFIG_DIR in its staging folder, jailed."""
    from support.claude import claude_env, run_smb_in
    from support.workspaces import make_sites

    names = make_sites(workspace, 2, implement="claude", max_agents=2, sandbox="on")
    mock = claude_mock("ok")
    env = claude_env(mock, claude_cli, tmp_path / "home", auth="apikey", base=smb_env(SMB_SANDBOX=None),
                     extra={"CLAUDE_CODE_MAX_RETRIES": "1", "API_TIMEOUT_MS": "3000"})
    result = run_smb_in(mock, workspace, "implement", "--batch", "001", "--agent", "claude", env=env)
    assert result.returncode == 0, explain(result)
    for name in names:
        assert "Hello from the mock model" in (workspace.site_dir(name) / "index.html").read_text()
    assert len(mock.requests()) == 4


@pytest.mark.parametrize("mode, code", [("auto", 0), ("on", 1)])
def test_doctor_environment_says_when_agents_would_run_without_a_jail(workspace_root, mode, code):
    ws = make_workspace(workspace_root, {"001": [("a.dev", "D")]})
    ws.config_file.write_text(f'[agents]\nsandbox = "{mode}"\n')
    result = run_smb(ws, "doctor", "--scenario", "environment", "--json", env=_no_bwrap_env())
    assert result.returncode == code, explain(result)
    assert "agents run without a jail: bwrap (bubblewrap) not found on PATH" in result.stdout, explain(result)


@needs_bwrap
def test_agents_on_a_dask_worker_are_jailed_too(workspace_root, monkeypatch):
    """The worker's sidecar starts agents through the same LocalExecutor: the mode travels in the job.
    The coordinator's own bwrap does not matter (here it has none): sandbox = "on" is the workers'."""
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    from smbatcher.config import load_settings
    from smbatcher.pool import RunFlags, run_phase
    from smbatcher.pool.dask import DaskExecutor
    from smbatcher.store import Store
    from smbatcher.ui import UI

    ws, other = _hostile_workspace(workspace_root, "on")
    good, theirs = _snapshot(ws.site_dir("good.dev")), _snapshot(other)
    monkeypatch.setenv("PATH", BIN + ":" + os.environ["PATH"])  # the workers' python3
    for name in ("MALLOC_TRIM_THRESHOLD_", "MKL_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                 "PYTHONHASHSEED", "__DASK_PARENT_PID"):  # what LocalCluster sets in this process: put back after
        monkeypatch.setenv(name, os.environ.get(name, ""))
        if not os.environ[name]:
            monkeypatch.delenv(name)
    cluster = LocalCluster(processes=True, n_workers=1, threads_per_worker=1, resources={"AGENT": 3},
                           dashboard_address=None, host="127.0.0.1", silence_logs=50)
    monkeypatch.setitem(jail._probed, os.environ["PATH"], None)  # this process (the coordinator): no bwrap
    try:
        settings = load_settings(ws.config_file)
        result = run_phase(UI(quiet=True), ws, settings, Store(ws, 30), "implement", RunFlags(batch="002"),
                           executor=DaskExecutor(cluster.scheduler_address))
    finally:
        cluster.close(timeout=10)
    assert (result.exit_code, result.ok) == (0, 3), [o.error for o in result.outcomes]
    log = (ws.logs / "sites" / "evil1.dev" / "implement-1.log").read_text()
    assert "blocked registry" in log and "WROTE registry" not in log, log
    assert _snapshot(ws.site_dir("good.dev")) == good and _snapshot(other) == theirs
    assert "evil.dev " not in ws.registry.read_text()


@needs_bwrap
@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root to become another user")
def test_the_jail_works_for_an_operator_who_is_not_root(tmp_path):
    """Unprivileged, bwrap makes a user namespace: the same jail, for a user who is not root (nobody here)."""
    tmp_path = tmp_path / "open"  # pytest's own folders are root's alone (0700): nobody could not reach these
    tmp_path.mkdir()
    modes = {folder: folder.stat().st_mode for folder in list(tmp_path.parents)[:-2]}  # /tmp/pytest-of-root/..
    try:
        for folder, mode in modes.items():
            folder.chmod(mode | 0o011)  # searchable for the test's user, for the test's length
        mine, theirs = tmp_path / "mine", tmp_path / "theirs"
        for folder in (mine, theirs):
            folder.mkdir()
            os.chown(folder, 65534, 65534)
        tmp_path.chmod(0o755)
        script = "open('ok', 'w').write('1')\ntry:\n    open('../theirs/no', 'w')\nexcept OSError as e:\n    print(e.errno)"
        argv = jail.wrap(["python3", "-I", "-c", script], cwd=mine, readable=[tmp_path], bwrap=jail.probe())
        done = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *argv], cwd=mine,
                              capture_output=True, text=True, timeout=30, env={"PATH": "/usr/bin:/bin"})
    finally:
        for folder, mode in modes.items():
            folder.chmod(mode)
    assert done.returncode == 0, done.stderr
    assert (mine / "ok").read_text() == "1" and not (theirs / "no").exists()
    assert done.stdout.strip() == "30"  # EROFS, though nobody owns ../theirs
