"""The order doctor lists its scenarios in (SPEC §6) and the order it runs them in (registry repair first)."""

from __future__ import annotations

import json

from support.cli import explain, invoke
from support.registry import row_line
from support.workspaces import make_workspace

SPEC_ORDER = ["environment", "wave-failure", "registry-duplicates", "disk-space", "site-stuck", "resources",
              "finalization", "network", "cluster"]  # SPEC §6's eight, then issue 12's cluster


def test_list_follows_the_spec_table(tmp_path):
    result = invoke(tmp_path, "doctor", "--list")
    assert result.exit_code == 0, explain(result)
    assert [line.split()[0] for line in result.stdout.splitlines() if line.strip()] == SPEC_ORDER


def test_the_registry_is_repaired_before_the_fixes_that_write_it(tmp_path):
    """A duplicate row makes every transaction refuse the registry: site-stuck's fix works only after the merge."""
    ws = make_workspace(tmp_path / "ws", {"001": [("a.dev", "Q"), ("nodesign.dev", "D")]})
    ws.design_file("nodesign.dev").unlink()
    ws.registry.write_text(ws.registry.read_text() + row_line("a.dev", "001", "I"))

    result = invoke(ws.root, "doctor", "--fix", "--json")

    data = json.loads(result.stdout)
    ran = [c["scenario"] for c in data["checks"]]
    assert ran[:3] == ["environment", "registry-duplicates", "wave-failure"], ran
    assert sorted(ran) == sorted(SPEC_ORDER)
    site = next(c for c in data["checks"] if c["scenario"] == "site-stuck")
    assert site["fixed"] == ["nodesign.dev: D -> - (design missing; run smb design --batch 001)"], site
