"""``smb report`` counts the sites a repair turn saved (issue 21): those whose latest implement success
in the window says ``repaired: true``, per batch, and the repair turns the implement attempts ran."""

from __future__ import annotations

import json
import time

from support.cli import explain, invoke
from support.dashboard import add_events, completion_event, failure_event
from support.registry import domains
from support.workspaces import make_workspace


def report(ws, *args: str):
    result = invoke(ws.root, "report", *args)
    assert result.exit_code == 0, explain(result)
    return result


def test_report_counts_sites_whose_latest_implement_success_was_repaired(tmp_path):
    names = domains(8)
    ws = make_workspace(tmp_path / "ws", {"001": [(d, "I") for d in names[:7]], "002": [(names[7], "I")]})
    now = time.time()
    redo_claim = {"ts": now - 250, "event": "status", "domain": names[3], "batch": "001", "from": "I", "to": "i",
                  "actor": "implement"}
    add_events(ws, [
        completion_event(names[6], now - 2 * 86400, repaired=True, repair_turns=1),  # before the window
        completion_event(names[0], now - 600, repaired=True, repair_turns=1, session="s0", resumed=False),
        completion_event(names[7], now - 590, batch="002", repaired=True, repair_turns=2),
        completion_event(names[1], now - 580, repaired=False, repair_turns=0),  # passed without a repair
        completion_event(names[3], now - 570, repaired=True, repair_turns=1),
        redo_claim, completion_event(names[3], now - 200, repaired=False, repair_turns=0),  # redone: plain
        failure_event(names[4], now - 400, "finish checks failed", repair_turns=2),  # the repair did not help
        completion_event(names[5], now - 300, repaired="yes", repair_turns=True),  # not what the pool writes
        completion_event(names[2], now - 100, to="D", repaired=True),  # a design: no repair turns there
    ])

    data = json.loads(report(ws, "--json").stdout)
    assert data["repaired"] == {"sites": 2, "by_batch": {"001": 1, "002": 1}, "repair_turns": 6}, data
    text = report(ws).stdout
    assert "repaired before publishing: 2 sites (batch 001 1, batch 002 1); 6 repair turns run" in text, text

    old = json.loads(report(ws, "--json", "--since", "4d").stdout)
    assert old["repaired"]["sites"] == 3 and old["repaired"]["repair_turns"] == 7, old


def test_report_without_repairs_has_no_repaired_line(tmp_path):
    names = domains(2)
    ws = make_workspace(tmp_path / "ws", {"001": [(d, "I") for d in names]})
    add_events(ws, [completion_event(names[0], time.time() - 60), completion_event(names[1], time.time() - 30)])
    assert "repaired" not in report(ws).stdout
    data = json.loads(report(ws, "--json").stdout)
    assert data["repaired"] == {"sites": 0, "by_batch": {}, "repair_turns": 0}, data
    assert data["done"] == {"implemented": 2}, data
