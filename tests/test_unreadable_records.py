"""Issue 22: a hold, run record or event line that cannot be read is ignored with one warning; text
that is not valid Unicode (a lone surrogate, from an agent's words) is made valid; never an unexpected
error in every command.

The files are written by hand, exactly as a crash, a full disk or an agent's message left them, and
the real CLI runs in a subprocess (``text=True``: its output must decode as UTF-8, so a lone surrogate
that reached stdout or stderr would fail the test too).
"""

from __future__ import annotations

import json
import os
import socket
import time

import pytest
from support.cli import explain
from support.registry import statuses, write_registry

from smbatcher import events as event_log
from smbatcher import holds, runs
from smbatcher.workspace import Workspace

# The commands that read holds, run records and events; each must still work.
READERS = {
    "status": ("status",),
    "status --json": ("status", "--json"),
    "hold": ("hold",),
    "doctor": ("doctor",),
    "history": ("history", "a.dev"),
}
SURROGATE = '"limit \\ud800 reached \\udfff"'  # valid JSON; the strings it makes cannot be encoded


@pytest.fixture
def sites(workspace: Workspace) -> Workspace:
    names = write_registry(workspace, ["a.dev", "b.dev", "c.dev"], status="-")
    workspace.manifest("001").write_text("# Batch 001\n\n## Domains\n\n" + "".join(f"- {d}\n" for d in names))
    return workspace


def _works(smb, args: tuple[str, ...], *, doctor_ok: bool = True):
    proc = smb(*args, timeout=120)
    assert "unexpected" not in proc.stderr and "Traceback" not in proc.stderr, explain(proc)
    # doctor may find real problems (exit 1: the load of a shared machine, say); never "could not run"
    allowed = (0, 1) if args[0] == "doctor" else (0,)
    assert proc.returncode in allowed, explain(proc)
    return proc


def _warnings(proc) -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.startswith("smb: warning: ")]


def _new_run_works(smb, ws: Workspace) -> None:
    proc = smb("design", "--batch", "1", timeout=120)
    assert proc.returncode == 0 and "unexpected" not in proc.stderr, explain(proc)
    assert set(statuses(ws).values()) == {"D"}, explain(proc)


# -- the hold ----------------------------------------------------------------------------------


def _write_hold(ws: Workspace, raw: bytes) -> None:
    holds.path(ws).write_bytes(raw)


def test_a_hold_with_lone_surrogates_still_holds_and_every_command_works(sites: Workspace, smb):
    until = time.time() + 3600
    _write_hold(sites, f'{{"until": {until}, "limit": "session", "message": {SURROGATE}, '
                       f'"source": "a.dev \\udc80", "since": {time.time()}}}'.encode())
    for args in READERS.values():
        _works(smb, args)
    shown = smb("hold", timeout=60)
    assert "held until" in shown.stdout and "limit \ufffd reached \ufffd" in shown.stdout, explain(shown)
    assert holds.read(sites).message == "limit \ufffd reached \ufffd"


def test_an_expired_hold_with_lone_surrogates_lets_a_new_run_work(sites: Workspace, smb):
    _write_hold(sites, f'{{"until": {time.time() - 60}, "limit": "session", "message": {SURROGATE}}}'.encode())
    _new_run_works(smb, sites)


@pytest.mark.parametrize("raw, reason", [
    (b'{"until": 4102444800, "message": "caf\xe9"}', "not UTF-8"),
    (b'{"until": 4102444800, "message": "torn', "not JSON"),
    (b'[1, 2, 3]', "not a hold"),
])
def test_an_unreadable_hold_is_ignored_with_one_warning(sites: Workspace, smb, raw: bytes, reason: str):
    _write_hold(sites, raw)
    for name, args in READERS.items():
        proc = _works(smb, args)
        if name in ("status", "hold"):
            warned = [w for w in _warnings(proc) if "hold.json" in w]
            assert len(warned) == 1 and reason in warned[0], explain(proc)
    assert "no hold" in smb("hold", timeout=60).stdout
    _new_run_works(smb, sites)  # an unreadable hold holds nothing: the run launches
    assert holds.path(sites).read_bytes() == raw, "reading a damaged hold must not change it"


def test_a_hold_that_is_a_fifo_is_ignored_without_waiting(sites: Workspace, smb):
    os.mkfifo(holds.path(sites))
    proc = _works(smb, ("hold",))
    assert any("FIFO" in w for w in _warnings(proc)), explain(proc)
    _new_run_works(smb, sites)


def test_a_hold_written_with_a_lone_surrogate_is_stored_valid(sites: Workspace):
    holds.write(sites, holds.Hold(until=time.time() + 60, message="limit \ud800 reached", source="a.dev"))
    raw = holds.path(sites).read_bytes()
    assert b"\\ud800" not in raw.lower(), raw
    assert holds.read(sites).message == "limit \ufffd reached"


# -- run records -------------------------------------------------------------------------------


def _record(**extra) -> dict:
    """A run record of this host whose process is gone (pid 1's create time is not 1.0): a dead run."""
    base = {"run_id": "design-001-dead", "pid": 1, "create_time": 1.0, "host": socket.gethostname(),
            "phase": "design", "batch": "001", "started": time.time() - 60}
    base.update(extra)
    return base


def test_a_run_record_with_lone_surrogates_is_kept(sites: Workspace, smb):
    agent = {"domain": "a.dev", "pid": 1, "create_time": 1.0, "attempt": 1, "started": time.time(),
             "action": "writing \ud800 index.html"}
    text = json.dumps(_record(agents=[agent], log="logs/design-001.log \udc00"))  # ensure_ascii: \ud800 escapes
    (sites.runs / "design-001-dead.json").write_text(text)
    for args in READERS.values():
        proc = _works(smb, args)
        assert not any("run record" in w for w in _warnings(proc)), explain(proc)
    [record] = runs.load_all(sites)
    assert record.agents[0].action == "writing \ufffd index.html"
    _new_run_works(smb, sites)


@pytest.mark.parametrize("raw, reason", [
    (b'{"run_id": "design-001-x", "host": "caf\xe9"}', "not UTF-8"),
    (b'{"run_id": "design-001-x", "pid": 12', "not JSON"),
])
def test_an_unreadable_run_record_is_ignored_with_one_warning(sites: Workspace, smb, raw: bytes, reason: str):
    (sites.runs / "design-001-x.json").write_bytes(raw)
    for name, args in READERS.items():
        proc = _works(smb, args)
        if name.startswith("status"):
            warned = [w for w in _warnings(proc) if "design-001-x.json" in w]
            assert len(warned) == 1 and reason in warned[0], explain(proc)
    _new_run_works(smb, sites)


# -- event lines -------------------------------------------------------------------------------


def test_unreadable_event_lines_are_skipped_with_one_warning(sites: Workspace, smb):
    sites.events.parent.mkdir(parents=True, exist_ok=True)
    now = time.time()
    lines = [
        json.dumps({"ts": now - 30, "event": "status", "domain": "a.dev", "from": "-", "to": "d"}).encode(),
        b'{"ts": %f, "event": "status", "domain": "a.dev", "note": "caf\xe9"}' % (now - 20),  # not UTF-8
        b'{"ts": %f, "event": "status", "domain": "a.dev", "no' % (now - 15),  # torn
        json.dumps({"ts": now - 10, "event": "status", "domain": "a.dev", "from": "d", "to": "D",
                    "note": "agent said \ud800"}).encode(),  # a lone surrogate: kept, made valid
    ]
    sites.events.write_bytes(b"\n".join(lines) + b"\n")
    for name, args in READERS.items():
        proc = _works(smb, args)
        if name == "history":
            warned = [w for w in _warnings(proc) if "events.jsonl" in w]
            assert len(warned) == 1 and "2 unreadable lines" in warned[0], explain(proc)
            assert "agent said \ufffd" in proc.stdout, explain(proc)
    found = list(event_log.read(sites.events, "a.dev"))
    assert [e.get("to") for e in found] == ["d", "D"]
    assert found[1]["note"] == "agent said \ufffd"
    assert [e["ts"] for e in event_log.read_since(sites.events, now - 25)] == [now - 10]
    _new_run_works(smb, sites)


def test_a_run_record_saved_with_a_lone_surrogate_is_stored_valid(sites: Workspace):
    record = runs.RunRecord(**{k: v for k, v in _record().items() if k != "started"})
    record.agents.append(runs.AgentRecord(domain="a.dev", pid=1, create_time=1.0, attempt=1, started=time.time(),
                                          action="reading \udc9b\ud83d\ude00 file"))
    runs.save(sites, record)
    raw = (sites.runs / record.path_name).read_bytes()
    assert b"\\udc9b" not in raw.lower(), raw
    [loaded] = runs.load_all(sites)
    assert loaded.agents[0].action == "reading \ufffd\U0001F600 file"
