"""Runs: ``.smbatcher/runs/<run-id>.json`` records, and the one answer to "which runs are alive,
which died, which claims are stale" (SPEC §4).

A run is alive only if a process with the recorded pid *and* create time
exists and is not a zombie (``proc.process_alive``). A run that ended cleanly
is history; one whose process vanished without ending is dead, and its claims
are stale. Every caller (the pool, ``smb status``, ``smb stop``, doctor, the
dashboard) asks ``run_states`` rather than working it out again.
"""

from __future__ import annotations

import json
import secrets
import socket
import time
from dataclasses import dataclass, field

from .fs import atomic_write
from .lifecycle import CLAIMS
from .proc import process_alive
from .units import compact_stamp
from .workspace import Workspace


def new_run_id(phase: str, batch: str) -> str:
    return f"{phase}-{batch}-{compact_stamp()}-{secrets.token_hex(2)}"


@dataclass
class AgentRecord:
    domain: str
    pid: int
    create_time: float
    attempt: int
    started: float
    phase: str = ""
    action: str = ""  # the agent's latest reported action (stream-json), for status and the dashboard
    turn: int = 0
    cost_usd: float = 0.0
    worker: str = ""  # "" for a local agent; the executor's worker otherwise
    session: str = ""  # the agent's session id (issue 21)


# Field -> accepted types: a record of the wrong shape (valid JSON, foreign content) is not a run.
_SHAPE = {"run_id": (str,), "pid": (int,), "create_time": (int, float), "host": (str,), "phase": (str,),
          "batch": (str,)}
_AGENT_SHAPE = {"domain": (str,), "pid": (int,), "create_time": (int, float), "attempt": (int,),
                "started": (int, float)}
# Optional fields: one of the wrong type reads as its default (a hand-edited or foreign record must
# not break `smb status` or the dashboard over a cost or a breaker state).
_OPTIONAL = {"wave": ((int,), None), "exit_code": ((int,), None), "log": ((str,), ""), "done": ((int,), 0),
             "failed": ((int,), 0), "total": ((int,), 0), "executor": ((str,), "local"),
             "cost_usd": ((int, float), 0.0), "breaker": ((dict,), {}), "halted": ((dict,), None)}
_AGENT_OPTIONAL = {"phase": ((str,), ""), "action": ((str,), ""), "turn": ((int,), 0),
                   "cost_usd": ((int, float), 0.0), "worker": ((str,), ""), "session": ((str,), "")}


def _typed(data: dict, optional: dict) -> dict:
    return {key: data[key] if type(data[key]) in types else default
            for key, (types, default) in optional.items() if key in data}


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
    executor: str = "local"
    cost_usd: float = 0.0
    breaker: dict = field(default_factory=dict)  # {"state", "until", "trips"}
    halted: dict | None = None  # {"reason", "fix", "at"} when a halt policy ended the run

    @property
    def path_name(self) -> str:
        return f"{self.run_id}.json"

    def to_json(self) -> str:
        data = dict(self.__dict__)
        data["agents"] = [a.__dict__ for a in self.agents]
        text = json.dumps(data, indent=1)
        if "\\ud" in text.lower():  # a lone surrogate from an agent's words: never stored (issue 22)
            from .jsonfiles import valid_unicode

            text = json.dumps(valid_unicode(data), indent=1)
        return text

    @classmethod
    def from_dict(cls, data) -> "RunRecord":
        """A record from its JSON; ValueError when the shape is not a run record's."""
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        for key, types in _SHAPE.items():
            if type(data.get(key)) not in types:
                raise ValueError(f"{key} missing or of the wrong type")
        raw_agents = data.get("agents", [])
        if not isinstance(raw_agents, list):
            raise ValueError("agents is not a list")
        agents = []
        for item in raw_agents:
            if not isinstance(item, dict) or any(type(item.get(k)) not in t for k, t in _AGENT_SHAPE.items()):
                raise ValueError("an agent entry of the wrong shape")
            agents.append(AgentRecord(**{k: item[k] for k in _AGENT_SHAPE}, **_typed(item, _AGENT_OPTIONAL)))
        known = {k: data[k] for k in _SHAPE}
        if isinstance(data.get("started"), (int, float)):
            known["started"] = data["started"]
        if "ended" in data:
            known["ended"] = data["ended"]
        record = cls(agents=agents, **known, **_typed(data, _OPTIONAL))
        if record.ended is not None and not isinstance(record.ended, (int, float)):
            raise ValueError("ended is not a time")
        return record

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
    """Every readable run record; a torn or foreign file is not a run (warned about once).

    Issue 22: a lone surrogate in a record (an agent's action text) is made valid (U+FFFD) and the
    record kept, so a live run's claims never look stale over a word; bytes that are not UTF-8, and
    a FIFO or device in a record's place (never waited on), make it unreadable like torn JSON.
    """
    from .errors import SmbError
    from .fs import read_bytes
    from .jsonfiles import loads, warn_once

    records = []
    try:
        paths = sorted(workspace.runs.glob("*.json"))
    except OSError:
        return records
    for path in paths:
        try:
            records.append(RunRecord.from_dict(loads(read_bytes(path, workspace.rel(path)))))
        except FileNotFoundError:
            continue  # a record removed between the listing and the read
        except (OSError, ValueError, TypeError, SmbError) as exc:
            reason = exc.message if isinstance(exc, SmbError) else exc
            warn_once(f"run:{path.name}", f"ignoring run record {workspace.rel(path)}: {reason}")
            continue
    return records


@dataclass
class RunStates:
    """Runs sorted into live, dead (never ended, process gone) and ended, at one moment."""

    records: list[RunRecord]
    live: dict[str, RunRecord]
    dead: list[RunRecord]

    @property
    def live_ids(self) -> set[str]:
        return set(self.live)

    def is_stale(self, row) -> bool:
        """A claim is stale when its owner run is not alive (SPEC §4)."""
        return row.status in CLAIMS and row.get("owner") not in self.live

    def stale_claims(self, rows) -> list:
        return [row for row in rows if self.is_stale(row)]


def run_states(workspace: Workspace, batch: str | None = None) -> RunStates:
    records = [r for r in load_all(workspace) if batch is None or r.batch == batch]
    live = {r.run_id: r for r in records if r.alive()}
    dead = [r for r in records if r.ended is None and r.run_id not in live]
    return RunStates(records, live, dead)


def live_owner_ids(workspace: Workspace) -> set[str]:
    return run_states(workspace).live_ids


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
            if agent.worker:
                continue  # on a Dask worker: its pid means nothing here (the worker stops its own agents)
            if domains is None or agent.domain in domains:
                targets[agent.pid] = (record.run_id, agent.create_time, agent.domain)
    for pid, create_time, run_id, domain in agents_of_runs(owners | {r.run_id for r in dead_runs}, domains):
        targets.setdefault(pid, (run_id, create_time, domain))
    stopped = stop_recorded_processes([(pid, t[1]) for pid, t in targets.items()], grace)
    return [(targets[pid][0], pid, targets[pid][2]) for pid in stopped]


def request_breaker_reset(workspace: Workspace, run_id: str) -> None:
    """Ask a live run to close its breaker now (the dashboard's control): a flag file the run takes."""
    from .fs import atomic_write

    atomic_write(workspace.runs / f"{run_id}.reset-breaker", b"", durable=False)


def take_breaker_reset(workspace: Workspace, run_id: str) -> bool:
    """True once if a reset was requested for this run (the flag is removed)."""
    import os

    try:
        os.unlink(workspace.runs / f"{run_id}.reset-breaker")
        return True
    except OSError:
        return False
