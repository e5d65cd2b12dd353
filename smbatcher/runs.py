"""Run records: ``.smbatcher/runs/<run-id>.json``, and whether a run is alive.

A run is alive only if a process with the recorded pid *and* create time
exists and is not a zombie: pid reuse is not life, a zombie is not life
(SPEC §4). Agents are identified the same way, never by name.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import time
from dataclasses import dataclass, field

from .store import atomic_write
from .workspace import Workspace


def new_run_id(phase: str, batch: str) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    return f"{phase}-{batch}-{stamp}-{secrets.token_hex(2)}"


def process_alive(pid: int, create_time: float | None) -> bool:
    """True if ``pid`` is a live, non-zombie process started at ``create_time``."""
    import psutil

    if not pid or pid <= 0:
        return False
    try:
        proc = psutil.Process(pid)
        if create_time is not None and abs(proc.create_time() - create_time) > 0.05:
            return False  # the pid was reused by another process
        return proc.status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False


def own_create_time() -> float:
    import psutil

    return psutil.Process(os.getpid()).create_time()


@dataclass
class AgentRecord:
    domain: str
    pid: int
    create_time: float
    attempt: int
    started: float


@dataclass
class RunRecord:
    run_id: str
    pid: int
    create_time: float
    host: str
    phase: str
    batch: str
    wave: int | None = None
    started: float = field(default_factory=time.time)
    ended: float | None = None
    exit_code: int | None = None
    log: str = ""
    agents: list[AgentRecord] = field(default_factory=list)
    done: int = 0
    failed: int = 0
    total: int = 0

    @property
    def path_name(self) -> str:
        return f"{self.run_id}.json"

    def to_json(self) -> str:
        data = dict(self.__dict__)
        data["agents"] = [a.__dict__ for a in self.agents]
        return json.dumps(data, indent=1)

    @classmethod
    def from_dict(cls, data: dict) -> "RunRecord":
        agents = [AgentRecord(**a) for a in data.get("agents", [])]
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "agents"}
        return cls(agents=agents, **known)

    def alive(self) -> bool:
        if self.ended is not None:
            return False
        if self.host != socket.gethostname():
            return True  # cannot see another host's processes: never treat its claims as stale
        return process_alive(self.pid, self.create_time)


def save(workspace: Workspace, record: RunRecord) -> None:
    workspace.runs.mkdir(parents=True, exist_ok=True)
    # Rewritten each loop turn of a run: atomic, not fsynced. A power cut that loses the newest
    # copy loses nothing either: agents are also found by their SMB_RUN_ID (proc.agents_of_runs).
    atomic_write(workspace.runs / record.path_name, record.to_json(), durable=record.ended is not None)


def load_all(workspace: Workspace) -> list[RunRecord]:
    records = []
    try:
        paths = sorted(workspace.runs.glob("*.json"))
    except OSError:
        return records
    for path in paths:
        try:
            records.append(RunRecord.from_dict(json.loads(path.read_text())))
        except (OSError, ValueError, TypeError):
            continue  # a foreign or torn file is not a run
    return records


def load(workspace: Workspace, run_id: str) -> RunRecord | None:
    path = workspace.runs / f"{run_id}.json"
    if path.parent != workspace.runs:
        return None
    try:
        return RunRecord.from_dict(json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def live_owner_ids(workspace: Workspace) -> set[str]:
    return {r.run_id for r in load_all(workspace) if r.alive()}


def stop_survivors(dead_runs: list[RunRecord], owners: set[str], grace: float,
                   domains: set[str] | None = None) -> list[tuple[str, int, str]]:
    """Stop every still-alive agent of dead runs; returns (run id, pid, domain) of those stopped.

    Recorded agents are matched by pid *and* create time; agents a runner started just before a
    kill -9, before its run file named them, by the SMB_RUN_ID it gave them (``owners``: the dead
    runs' ids, with or without a run file). All at once, with one shared grace: stopped one after
    the other, 25 agents ignoring SIGTERM cost 25 graces.
    """
    from .proc import agents_of_runs, stop_recorded_processes

    targets: dict[int, tuple[str, float, str]] = {}
    for record in dead_runs:
        for agent in record.agents:
            if domains is None or agent.domain in domains:
                targets[agent.pid] = (record.run_id, agent.create_time, agent.domain)
    for pid, create_time, run_id, domain in agents_of_runs(owners | {r.run_id for r in dead_runs}, domains):
        targets.setdefault(pid, (run_id, create_time, domain))
    stopped = stop_recorded_processes([(pid, t[1]) for pid, t in targets.items()], grace)
    return [(targets[pid][0], pid, targets[pid][2]) for pid in stopped]
