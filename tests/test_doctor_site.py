"""``smb doctor --scenario site-stuck --site D`` on a claimed site says whether its owner run is alive."""

from __future__ import annotations

import json

from support.cli import explain, invoke
from support.processes import create_time, dead_process_identity, start_sleeper, stop
from support.registry import registry_text
from support.workspaces import make_workspace, write_run


def test_one_claimed_site_names_its_owner_and_whether_the_claim_is_stale(tmp_path):
    ws = make_workspace(tmp_path / "ws", {"001": [("dead.dev", "D"), ("live.dev", "D")]})
    pid, ctime = dead_process_identity()
    write_run(ws, "implement-001-gone", pid, ctime)
    sleeper = start_sleeper(60)
    try:
        write_run(ws, "implement-001-live", sleeper.pid, create_time(sleeper.pid))
        ws.registry.write_text(registry_text([("dead.dev", "001", "i", "implement-001-gone", 1),
                                              ("live.dev", "001", "i", "implement-001-live", 1)]))
        found = {}
        for domain in ("dead.dev", "live.dev"):
            result = invoke(ws.root, "doctor", "--scenario", "site-stuck", "--site", domain, "--json")
            assert result.exit_code == 0, explain(result)
            found[domain] = json.loads(result.stdout)["checks"][0]["findings"]
    finally:
        stop(sleeper)
    assert ("claimed by run implement-001-gone: not alive, a stale claim "
            "(smb doctor --scenario wave-failure --fix returns it)") in found["dead.dev"]
    assert "claimed by run implement-001-live: alive" in found["live.dev"]
