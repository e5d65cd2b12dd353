"""The Dask executor (issue 12) on real clusters: a LocalCluster of worker processes, and a real
``dask scheduler`` with two ``dask worker`` processes on 127.0.0.1.

The pool runs in-process (``run_phase(..., executor=DaskExecutor(addr))``) or, where a signal must
reach the coordinator, in a child process running this file as a script (``coordinate`` below).
Every agent is a real process on a worker; the tests read the process table with psutil and wait
on conditions up to deadlines.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed")

import psutil  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))  # support/, when run as a script

from support.agents import BIN, SESSION_CLAUDE, agent_cmd, marker_lines, tagged  # noqa: E402
from support.net import closed_port  # noqa: E402
from support.registry import parse  # noqa: E402
from support.waiting import wait_for  # noqa: E402
from support.workspaces import make_sites  # noqa: E402

from smbatcher.errors import SmbError  # noqa: E402
from smbatcher.pool.dask import DaskExecutor, OutputRefused, unpack_output  # noqa: E402
from smbatcher.pool.dask_task import OutputProblem, pack_output  # noqa: E402

FORWARD = ("FAKE_*",)
THIS = Path(__file__).resolve()


# -- harness ------------------------------------------------------------------------------------


def run_pool(ws, executor, run_id: str | None = None, phase: str = "implement"):
    """``smb implement --batch 001`` in this process, on ``executor``."""
    from smbatcher.config import load_settings
    from smbatcher.pool import RunFlags, run_phase
    from smbatcher.store import Store
    from smbatcher.ui import UI

    settings = load_settings(ws.config_file)
    store = Store(ws, settings.registry.lock_timeout)
    return run_phase(UI(quiet=True), ws, settings, store, phase, RunFlags(batch="001"), run_id=run_id,
                     executor=executor)


def rows(ws) -> dict:
    return {row.domain: row for row in parse(ws.registry.read_text(encoding="utf-8")).rows}


def agents_of(run_id: str) -> list[psutil.Process]:
    """Live processes carrying SMB_RUN_ID=run_id: the run's agents and anything they started."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get("SMB_RUN_ID") == run_id and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def gone(pids: list[int]) -> bool:
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                return False
        except psutil.NoSuchProcess:
            pass
    return True


def ends_per_site(marker: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for event, domain, _, _ in marker_lines(marker):
        if event == "end":
            counts[domain] = counts.get(domain, 0) + 1
    return counts


def worker_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMB_")}
    env["PATH"] = BIN + os.pathsep + env.get("PATH", "/usr/bin:/bin")  # the fake agents' python3
    return env


# -- clusters -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def local_cluster():
    """Two worker processes (nannies), four AGENT slots each, one thread each."""
    from distributed import LocalCluster

    saved = os.environ.get("PATH", "")
    os.environ["PATH"] = BIN + os.pathsep + saved  # inherited by the worker processes at their start
    try:
        cluster = LocalCluster(processes=True, n_workers=2, threads_per_worker=1, resources={"AGENT": 4},
                               dashboard_address=None, host="127.0.0.1", silence_logs=50)
    finally:
        os.environ["PATH"] = saved
    yield cluster.scheduler_address
    cluster.close(timeout=10)


class CliCluster:
    """``dask scheduler`` + two ``dask worker --resources AGENT=4`` processes on loopback, on random ports."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.file = folder / "scheduler.json"
        self.procs: list[subprocess.Popen] = []
        self.scheduler = self._spawn("scheduler", "--scheduler-file", str(self.file), "--host", "127.0.0.1",
                                     "--port", "0", "--no-dashboard")
        wait_for(lambda: self.file.exists() and self.file.stat().st_size > 0, 30, "the scheduler's address file")
        self.address = json.loads(self.file.read_text())["address"]
        for n in range(2):
            self._spawn("worker", "--scheduler-file", str(self.file), "--host", "127.0.0.1", "--nthreads", "1",
                        "--resources", "AGENT=4", "--no-dashboard", "--name", f"w{n}",
                        "--local-directory", str(folder / f"w{n}"))
        self.wait_workers(2)

    def _spawn(self, *args: str) -> subprocess.Popen:
        log = open(self.folder / f"{args[0]}-{len(self.procs)}.log", "wb")
        proc = subprocess.Popen([sys.executable, "-m", "dask", *args], stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, env=worker_env(), start_new_session=True)
        self.procs.append(proc)
        return proc

    def workers(self) -> dict[str, int]:
        """Worker address -> pid of the worker process (the nanny's child) that runs the tasks."""
        from distributed import Client

        with Client(self.address, timeout=10, set_as_default=False) as client:
            return client.run(os.getpid)

    def wait_workers(self, count: int) -> None:
        wait_for(lambda: len(self.workers()) >= count, 60, f"{count} dask workers", interval=0.2)

    def close(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in reversed(self.procs):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture(scope="module")
def cli_cluster(tmp_path_factory):
    cluster = CliCluster(tmp_path_factory.mktemp("dask"))
    try:
        yield cluster
    finally:
        cluster.close()


# -- a batch, built once per site ----------------------------------------------------------------


@pytest.mark.parametrize("shared", [None, False], ids=["shared-storage-detected", "no-shared-storage"])
def test_local_cluster_builds_every_site_exactly_once(workspace, local_cluster, monkeypatch, shared):
    names = make_sites(workspace, 10, max_agents=8)
    marker = workspace.root / "marker"
    monkeypatch.setenv("FAKE_MARKER", str(marker))
    monkeypatch.setenv("FAKE_SLEEP", "0.2")
    result = run_pool(workspace, DaskExecutor(local_cluster, shared_storage=shared, forward_env=FORWARD))
    assert (result.exit_code, result.ok, result.failed) == (0, 10, 0), [o.error for o in result.outcomes]
    table = rows(workspace)
    assert {table[n].status for n in names} == {"I"}
    assert ends_per_site(marker) == {n: 1 for n in names}
    for name in names:
        index = workspace.site_dir(name) / "index.html"
        assert f"{name} attempt 1 prompt" in index.read_text(), index
        assert (workspace.site_dir(name) / "styles.css").is_file()
        log = workspace.site_log(name, "implement", 1).read_text()
        assert log.startswith(f"=== smb implement {name} attempt 1 run ") and f"built {name}\n" in log, log
    record = json.loads(next(workspace.runs.glob("*.json")).read_text())
    assert record["executor"] == "dask" and record["exit_code"] == 0
    assert not list(workspace.tmp.glob("*/.dask-shared"))  # the marker goes with the run


@pytest.mark.parametrize("shared", [None, False], ids=["shared-storage-detected", "no-shared-storage"])
def test_the_agent_works_in_place_only_when_the_worker_sees_the_workspace(workspace, local_cluster, monkeypatch,
                                                                          shared):
    # fake_claude finds its output folder in the prompt, as a real CLI does: the prompt's paths
    # must point where the agent really works.
    names = make_sites(workspace, 2, implement=agent_cmd("fake_claude", "-p"))
    calls = workspace.root / "calls.jsonl"
    monkeypatch.setenv("FAKE_ARGV_LOG", str(calls))
    result = run_pool(workspace, DaskExecutor(local_cluster, shared_storage=shared, forward_env=FORWARD))
    assert (result.exit_code, result.ok) == (0, 2), [o.error for o in result.outcomes]
    seen = [json.loads(line) for line in calls.read_text().splitlines()]
    assert sorted(c["domain"] for c in seen) == names
    for call in seen:
        inside = Path(call["cwd"]).is_relative_to(workspace.root)
        assert inside == (shared is None), call  # in the staging folder, or in the worker's private mirror
        assert call["target"] == str(Path(call["cwd"]) / "site")
        assert not Path(call["cwd"]).exists() or inside  # the mirror is removed after the agent
    for name in names:
        assert "styles.css" in (workspace.site_dir(name) / "index.html").read_text()


def test_design_phase_without_shared_storage_returns_the_design_file(workspace, local_cluster):
    names = make_sites(workspace, 3, status="-", designs=False)
    result = run_pool(workspace, DaskExecutor(local_cluster, shared_storage=False), phase="design")
    assert (result.exit_code, result.ok) == (0, 3), [o.error for o in result.outcomes]
    for name in names:
        assert workspace.design_file(name).read_text() == f"# {name}\n\nA design for {name}.\n"
        assert rows(workspace)[name].status == "D"


def test_timeout_on_a_worker_stops_the_whole_family_and_counts_the_attempt(workspace, local_cluster, monkeypatch, tag):
    # The timeout must not fall before the agent has made its whole family (python start-up and three
    # forks, well under 0.1 s when idle): 1 s left a loaded 2-core CI machine, running the cluster's
    # processes too, little room; 3 s leaves it plenty (the local pool's test gives 2 s).
    (name,) = make_sites(workspace, 1, implement=agent_cmd("grandchildren"), timeout="3s", grace="0.5s",
                         max_attempts=1)
    pids = workspace.root / "pids.txt"
    monkeypatch.setenv("FAKE_TAG", tag)
    monkeypatch.setenv("FAKE_PIDS", str(pids))
    started = time.monotonic()
    result = run_pool(workspace, DaskExecutor(local_cluster, forward_env=FORWARD), run_id="dask-timeout")
    assert result.exit_code == 1 and result.parked == 1
    # Killed at timeout + grace (3.5 s), not left waiting on the escaped descendants (they never exit);
    # the rest is the cluster round trips and the kill sweep, wide for a loaded machine.
    assert time.monotonic() - started < 3 + 0.5 + 15
    row = rows(workspace)[name]
    assert row.status == "X" and "timeout after 3s" in row.get("note"), row
    family = [int(line.split()[1]) for line in pids.read_text().splitlines()]
    assert len(family) == 4  # the agent, a group child, a setsid child, a double-forked daemon
    wait_for(lambda: gone(family), 5, "the agent's whole family to be gone")
    assert not agents_of("dask-timeout")


@pytest.mark.parametrize("shared", [True, False])
def test_an_agent_hung_after_its_result_is_reaped_on_the_worker_and_its_site_built(workspace, local_cluster, tag,
                                                                                  monkeypatch, shared):
    """Issue 20: the reap lives in the attempt, so the worker's supervisor does it too."""
    (name,) = make_sites(workspace, 1, implement=agent_cmd("result_then_hang"), timeout="5m")
    monkeypatch.setenv("FAKE_TAG", tag)
    started = time.monotonic()
    result = run_pool(workspace, DaskExecutor(local_cluster, forward_env=FORWARD, shared_storage=shared))
    assert (result.exit_code, result.ok) == (0, 1), [o.error for o in result.outcomes]
    assert time.monotonic() - started < 60
    assert rows(workspace)[name].status == "I" and rows(workspace)[name].attempts == 0
    assert "[smb] reaped" in (workspace.root / f"logs/sites/{name}/implement-1.log").read_text()
    wait_for(lambda: not tagged(tag), 10, "the reaped agent and its child to be gone")


def test_a_silent_agent_on_a_worker_is_stopped_as_stalled_and_the_next_launch_builds(workspace, local_cluster, tag,
                                                                                    monkeypatch):
    (name,) = make_sites(workspace, 1, implement=agent_cmd("stall_once"), timeout="5m", stall_timeout="2s")
    monkeypatch.setenv("FAKE_TAG", tag)
    result = run_pool(workspace, DaskExecutor(local_cluster, forward_env=FORWARD))
    assert (result.exit_code, result.ok) == (0, 1), [o.error for o in result.outcomes]
    first = result.outcomes[0]
    assert (first.failure_class, first.counted, first.not_counted_because) == ("stalled", False, "first stall")
    assert rows(workspace)[name].status == "I"


def test_the_real_cli_cluster_builds_every_site_exactly_once(workspace, cli_cluster, monkeypatch):
    names = make_sites(workspace, 12, max_agents=8)
    marker = workspace.root / "marker"
    monkeypatch.setenv("FAKE_MARKER", str(marker))
    monkeypatch.setenv("FAKE_SLEEP", "0.3")
    executor = DaskExecutor(cli_cluster.address, forward_env=FORWARD)
    result = run_pool(workspace, executor)
    assert (result.exit_code, result.ok, result.failed) == (0, 12, 0), [o.error for o in result.outcomes]
    assert ends_per_site(marker) == {n: 1 for n in names}
    assert {row.status for row in rows(workspace).values()} == {"I"}


# -- a worker dies -------------------------------------------------------------------------------


@pytest.mark.slow
def test_sigkill_of_a_worker_mid_task_still_builds_every_site_once_and_leaves_no_orphan(
        workspace, cli_cluster, monkeypatch):
    names = make_sites(workspace, 8, max_agents=8)
    marker = workspace.root / "marker"
    monkeypatch.setenv("FAKE_MARKER", str(marker))
    monkeypatch.setenv("FAKE_SLEEP", "2")
    workers = cli_cluster.workers()
    killed: dict = {}

    def kill_a_worker_when_agents_run():
        # The agents' parent is their worker's supervisor; its parent is the worker process.
        started = wait_for(lambda: [l for l in marker_lines(marker) if l[0] == "start"] if len(
            [l for l in marker_lines(marker) if l[0] == "start"]) >= 6 else None, 30, "six agents to start")
        # The latest agent to start: the first ones may already have ended (2 s each) on a loaded
        # machine by the time the sixth starts.
        supervisor = psutil.Process(started[-1][2]).parent()
        worker = supervisor.parent()
        assert worker.pid in workers.values(), (worker, workers)
        killed["agents"] = [p.pid for p in supervisor.children()]
        killed["worker"] = worker.pid
        os.kill(worker.pid, signal.SIGKILL)

    import threading

    killer = threading.Thread(target=kill_a_worker_when_agents_run)
    killer.start()
    try:
        result = run_pool(workspace, DaskExecutor(cli_cluster.address, forward_env=FORWARD), run_id="dask-sigkill")
    finally:
        killer.join(60)
    assert killed, "the worker was not killed"
    assert (result.exit_code, result.ok, result.failed, result.parked) == (0, 8, 0, 0), \
        [o.error for o in result.outcomes]
    lost = [o for o in result.outcomes if not o.counted]
    assert lost and all("lost" in o.error for o in lost), [(o.kind, o.error) for o in result.outcomes]
    assert {row.status for row in rows(workspace).values()} == {"I"}
    assert ends_per_site(marker) == {n: 1 for n in names}  # built exactly once: no second agent finished
    assert gone(killed["agents"])  # stopped by the supervisor when its worker died
    assert not agents_of("dask-sigkill")
    cli_cluster.wait_workers(2)  # the nanny restarts the worker for the next test


# -- the coordinator is stopped -------------------------------------------------------------------


def coordinate(root: str, scheduler: str, run_id: str) -> int:
    """The child process of the stop tests: ``smb implement`` on Dask, behind smb's error boundary."""
    from smbatcher.errors import guarded
    from smbatcher.workspace import Workspace

    def call():
        executor = DaskExecutor(scheduler, forward_env=FORWARD,
                                connect_timeout=float(os.environ.get("TEST_CONNECT_TIMEOUT", "10")))
        result = run_pool(Workspace(Path(root)), executor, run_id=run_id)
        return result.exit_code

    return guarded(call)


@pytest.mark.slow
@pytest.mark.parametrize("sig, code, agent", [(signal.SIGINT, 130, "succeed"), (signal.SIGTERM, 143, "grandchildren")],
                         ids=["sigint", "sigterm-stubborn-agent"])
def test_a_signal_to_the_coordinator_stops_agents_on_workers_within_grace(workspace, cli_cluster, tag, sig, code,
                                                                            agent):
    grace = 1.0
    names = make_sites(workspace, 6, max_agents=6, implement=agent_cmd(agent), grace="1s")
    marker, pids = workspace.root / "marker", workspace.root / "pids"
    env = worker_env() | {"FAKE_MARKER": str(marker), "FAKE_SLEEP": "60", "FAKE_TAG": tag, "FAKE_PIDS": str(pids),
                          "NO_COLOR": "1"}
    run_id = f"dask-stop-{sig}"
    out = open(workspace.root / "coordinator.out", "w+")
    coordinator = subprocess.Popen([sys.executable, str(THIS), "coordinate", str(workspace.root), cli_cluster.address,
                                    run_id], env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    try:
        try:
            if agent == "succeed":
                wait_for(lambda: len([l for l in marker_lines(marker) if l[0] == "start"]) == 6, 30, "six agents")
                family = [l[2] for l in marker_lines(marker)]
            else:
                wait_for(lambda: pids.exists() and pids.read_text().count("agent ") == 6, 30, "six stubborn agents")
                family = [int(line.split()[1]) for line in pids.read_text().splitlines()]
        except AssertionError as exc:
            out.seek(0)
            raise AssertionError(f"{exc}\ncoordinator:\n{out.read()}\nworkers: {cli_cluster.workers()}") from None
        assert agents_of(run_id)
        coordinator.send_signal(sig)
        signalled = time.monotonic()
        wait_for(lambda: gone(family), grace + 5, "the agents on the workers to stop")
        stopped_in = time.monotonic() - signalled
        assert coordinator.wait(30) == code
    finally:
        if coordinator.poll() is None:
            coordinator.kill()
            coordinator.wait()
        out.seek(0)
        text = out.read()
    assert stopped_in <= grace + 1, f"stopped in {stopped_in:.2f}s\n{text}"
    assert not agents_of(run_id)
    table = rows(workspace)
    assert {(table[n].status, table[n].attempts, table[n].get("owner")) for n in names} == {("D", 0, "")}, text


@pytest.mark.slow
def test_a_coordinator_killed_with_sigkill_leaves_no_agent_running_on_the_workers(workspace, cli_cluster):
    # Nothing of the coordinator runs any more to say "stop": the scheduler drops the futures of a
    # client that is gone, and each task stops the agent nobody will collect.
    make_sites(workspace, 4, max_agents=4, grace="1s")
    marker = workspace.root / "marker"
    env = worker_env() | {"FAKE_MARKER": str(marker), "FAKE_SLEEP": "60", "NO_COLOR": "1"}
    coordinator = subprocess.Popen([sys.executable, str(THIS), "coordinate", str(workspace.root), cli_cluster.address,
                                    "dask-sigkill-coordinator"], env=env, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: len([l for l in marker_lines(marker) if l[0] == "start"]) == 4, 30, "four agents")
        agents = [l[2] for l in marker_lines(marker)]
        coordinator.kill()
        coordinator.wait(10)
        wait_for(lambda: gone(agents), 10, "the agents of the killed coordinator to stop")
    finally:
        if coordinator.poll() is None:
            coordinator.kill()
            coordinator.wait()
    assert {l[0] for l in marker_lines(marker) if l[0] != "start"} == {"term"}  # stopped, not finished
    assert not agents_of("dask-sigkill-coordinator")


# -- the scheduler is down -------------------------------------------------------------------------


def test_scheduler_down_is_one_clear_line_before_anything_is_claimed(workspace):
    make_sites(workspace, 3)
    before = workspace.registry.read_bytes()
    address = f"tcp://127.0.0.1:{closed_port()}"
    started = time.monotonic()
    with pytest.raises(SmbError) as caught:
        run_pool(workspace, DaskExecutor(address, connect_timeout=1))
    message = caught.value.message
    assert message.startswith(f"cannot reach the Dask scheduler at {address}: "), message
    assert "\n" not in message and len(message) < 400, message
    assert workspace.registry.read_bytes() == before
    assert not list(workspace.runs.glob("*.json"))  # no run on record either: it never started
    assert time.monotonic() - started < 15


def test_scheduler_down_through_the_error_boundary_prints_one_line(workspace):
    make_sites(workspace, 2)
    before = workspace.registry.read_bytes()
    address = f"tcp://127.0.0.1:{closed_port()}"
    done = subprocess.run([sys.executable, str(THIS), "coordinate", str(workspace.root), address, "dask-down"],
                          env=worker_env() | {"TEST_CONNECT_TIMEOUT": "1"},
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done
    lines = done.stderr.splitlines()
    assert lines == [lines[0]] and lines[0].startswith(f"smb: error: cannot reach the Dask scheduler at {address}"), \
        done.stderr
    assert workspace.registry.read_bytes() == before


def test_cluster_report_names_each_worker_with_its_agent_slots_and_versions(local_cluster):
    from smbatcher import __version__
    from smbatcher.pool.dask import cluster_report

    report = cluster_report(local_cluster)
    assert [w["agent_slots"] for w in report["workers"]] == [4.0, 4.0]
    assert {w["smbatcher"] for w in report["workers"]} == {__version__} == {report["coordinator"]["smbatcher"]}
    assert all(w["python"] == report["coordinator"]["python"] and not w["error"] for w in report["workers"])
    with pytest.raises(SmbError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:"):
        cluster_report(f"tcp://127.0.0.1:{closed_port()}", timeout=1)


# -- the output that comes back -------------------------------------------------------------------


def tar_of(*entries: tuple[str, str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, kind, data in entries:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, data.decode()
                tar.addfile(info)
            elif kind == "hardlink":
                info.type, info.linkname = tarfile.LNKTYPE, data.decode()
                tar.addfile(info)
            elif kind == "device":
                info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
                tar.addfile(info)
    return buffer.getvalue()


def test_a_site_folder_round_trips_through_pack_and_unpack(tmp_path):
    site = tmp_path / "built"
    (site / "assets").mkdir(parents=True)
    (site / "index.html").write_text("<!doctype html><title>x</title>\n")
    (site / "assets" / "app.js").write_bytes(b"\x00\x01binary")
    kind, data = pack_output(site, cap=10_000)
    target = tmp_path / "staging" / "site"
    target.mkdir(parents=True)
    unpack_output(kind, data, target, cap=10_000)
    assert (target / "index.html").read_text() == "<!doctype html><title>x</title>\n"
    assert (target / "assets" / "app.js").read_bytes() == b"\x00\x01binary"


@pytest.mark.parametrize("entries, why", [
    ([("../escaped.html", "file", b"x")], "outside the output folder"),
    (([("/etc/evil", "file", b"x")]), "outside the output folder"),
    ([("a/../../up", "file", b"x")], "outside the output folder"),
    ([("link", "symlink", b"/etc/passwd")], "a link or a special file"),
    ([("index.html", "file", b"x"), ("hard", "hardlink", b"index.html")], "a link or a special file"),
    ([("null", "device", b"")], "a link or a special file"),
    ([("big.bin", "file", b"x" * 2000)], "over the cap"),
], ids=["dotdot", "absolute", "inner-dotdot", "symlink", "hardlink", "device", "over-cap"])
def test_unpack_refuses_an_unsafe_tar_and_writes_nothing(tmp_path, entries, why):
    target = tmp_path / "site"
    target.mkdir()
    with pytest.raises(OutputRefused, match=why):
        unpack_output("tar", tar_of(("index.html", "file", b"ok"), *entries), target, cap=1000)
    assert list(target.iterdir()) == []
    assert not (tmp_path / "escaped.html").exists()


def test_pack_refuses_symlinks_and_sites_over_the_cap(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("x" * 100)
    with pytest.raises(OutputProblem, match="over the cap"):
        pack_output(site, cap=50)
    (site / "passwd").symlink_to("/etc/passwd")
    with pytest.raises(OutputProblem, match="symlink"):
        pack_output(site, cap=10_000)


if __name__ == "__main__" and len(sys.argv) == 5 and sys.argv[1] == "coordinate":
    sys.exit(coordinate(*sys.argv[2:]))


# -- sessions (issue 21) ------------------------------------------------------------------------


@pytest.mark.parametrize("shared", [None, False], ids=["shared-storage-detected", "no-shared-storage"])
def test_a_session_resumes_on_a_worker_only_where_its_folder_is_reachable(workspace, local_cluster, monkeypatch,
                                                                          shared):
    # The first attempt writes part-1.css and ends in an outage (not counted, its session kept); the
    # run launches the site again at once. With shared storage the worker continues the session in
    # its folder; without it, the transcript stayed in the worker's mirror: a fresh start, and the
    # site's log says why.
    (name,) = make_sites(workspace, 1, implement=str(SESSION_CLAUDE))
    calls = workspace.root / "calls.jsonl"
    monkeypatch.setenv("FAKE_SESSION_LOG", str(calls))
    monkeypatch.setenv("FAKE_OUTAGE_AFTER", "1")
    monkeypatch.setenv("FAKE_OUTAGE_ONCE", str(workspace.root / "outage-happened"))
    result = run_pool(workspace, DaskExecutor(local_cluster, shared_storage=shared, forward_env=FORWARD))
    assert (result.exit_code, result.ok) == (0, 1), [o.error for o in result.outcomes]
    first, second = [json.loads(line) for line in calls.read_text().splitlines()]
    assert not first["resumed"] and first["done"] == 0
    log = (workspace.logs / "sites" / name / "implement-1.log").read_text()
    if shared is None:
        assert second["resumed"] and second["session"] == first["session"] and second["done"] == 1, second
        assert "continued (resume 1 of at most 3)" in log
    else:
        assert not second["resumed"] and second["session"] != first["session"] and second["done"] == 0, second
        assert "written on a worker without shared storage" in log and "starting fresh" in log, log
    assert (workspace.site_dir(name) / "index.html").is_file() and (workspace.site_dir(name) / "part-1.css").is_file()
    assert rows(workspace)[name].status == "I"
