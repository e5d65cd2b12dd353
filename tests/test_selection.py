"""Which sites a run takes: waves cut from all of a batch's rows, --sites, --redo, stale claims, --dry-run."""

from __future__ import annotations

import json
import os
import socket
import sys

import pytest
from support.cli import assert_one_line_error, explain, run_smb
from support.processes import dead_process_identity
from support.registry import rows, row_line, statuses
from support.workspaces import make_sites, run_files

from smbatcher.errors import UsageError
from smbatcher.lifecycle import DESIGN, IMPLEMENT
from smbatcher.registry import new_registry_text, parse
from smbatcher.proc import own_create_time
from smbatcher.runs import RunRecord, save
from smbatcher.selection import parse_sites, select, wave_rows

# Batch 001 interleaved with batch 002 rows, every status: the cut must use all 001 rows, whatever their status.
LAYOUT = [
    ("a1.dev", "001", "D"), ("b1.dev", "002", "D"), ("a2.dev", "001", "I"), ("a3.dev", "001", "-"),
    ("a4.dev", "001", "D"), ("b2.dev", "002", "-"), ("a5.dev", "001", "X"), ("a6.dev", "001", "Q"),
    ("a7.dev", "001", "i"), ("a8.dev", "001", "D"), ("a9.dev", "001", "d"), ("a10.dev", "001", "D"),
    ("b3.dev", "002", "D"), ("a11.dev", "001", "D"),
]
BATCH_001 = [d for d, b, _ in LAYOUT if b == "001"]


def registry(layout=LAYOUT, owners: dict[str, str] | None = None):
    owners = owners or {}
    text = new_registry_text() + "".join(row_line(d, b, s, owners.get(d, "")) for d, b, s in layout)
    reg = parse(text)
    assert not reg.problems
    return reg


@pytest.fixture
def designed(workspace):
    """Design files for every site but a10.dev."""
    workspace.designs.mkdir(parents=True, exist_ok=True)
    for domain, _, _ in LAYOUT:
        if domain != "a10.dev":
            workspace.design_file(domain).write_text("# design\n")
    return workspace


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 11, 25])
def test_waves_cut_all_the_batch_rows_in_registry_order(size):
    reg = registry()
    waves = []
    wave = 1
    while (wave - 1) * size < len(BATCH_001):
        waves.append(wave_rows(reg, "001", wave, size))
        wave += 1
    assert [d for w in waves for d in w] == BATCH_001  # no row lost, none twice, order kept
    assert all(len(w) == size for w in waves[:-1]) and 0 < len(waves[-1]) <= size
    with pytest.raises(UsageError) as info:
        wave_rows(reg, "001", wave, size)  # one past the end
    assert info.value.exit_code == 2 and "past the end" in info.value.message


def test_wave_w_is_rows_w_minus_1_times_n_plus_1_to_w_times_n():
    reg = registry()
    assert wave_rows(reg, "001", 2, 3) == ["a4.dev", "a5.dev", "a6.dev"]  # rows 4..6 of batch 001
    assert wave_rows(reg, "001", 4, 3) == ["a10.dev", "a11.dev"]
    assert wave_rows(reg, "002", 1, 2) == ["b1.dev", "b2.dev"]
    for bad in (0, -1):
        with pytest.raises(UsageError):
            wave_rows(reg, "001", bad, 3)


def test_select_a_wave_takes_only_its_eligible_rows(designed):
    sel = select(registry(), designed, IMPLEMENT, "001", wave=3, wave_size=4, sites=None, redo=False, live_runs=set())
    assert sel.scope == ["a9.dev", "a10.dev", "a11.dev"]
    assert sel.eligible == ["a11.dev"]
    assert sel.skipped == [("a10.dev", "design missing")]
    assert sel.busy == ["a9.dev"]  # claimed for design: not ours


def test_select_eligibility_per_phase_and_stale_claims(designed):
    reg = registry(owners={"a7.dev": "implement-001-dead", "a9.dev": "design-001-live"})
    impl = select(reg, designed, IMPLEMENT, "001", wave=None, wave_size=25, sites=None, redo=False,
                  live_runs={"design-001-live"})
    assert impl.eligible == ["a1.dev", "a4.dev", "a7.dev", "a8.dev", "a11.dev"]
    assert impl.stale == ["a7.dev"]  # its owner is not a live run
    assert impl.busy == ["a9.dev"]
    assert impl.done_already == 4  # I, X, Q, and "-" (not ready): counted, not run
    design = select(reg, designed, DESIGN, "001", wave=None, wave_size=25, sites=None, redo=False, live_runs=set())
    assert design.eligible == ["a3.dev", "a9.dev"] and design.stale == ["a9.dev"]
    assert design.busy == ["a7.dev"]
    live = select(reg, designed, IMPLEMENT, "001", wave=None, wave_size=25, sites=None, redo=False,
                  live_runs={"implement-001-dead"})
    assert "a7.dev" in live.busy and "a7.dev" not in live.eligible  # a live run's claim is left alone


def test_sites_and_redo(designed):
    reg = registry()
    pick = ["a11.dev", "a1.dev", "a2.dev", "a5.dev", "a6.dev", "a3.dev"]
    plain = select(reg, designed, IMPLEMENT, "001", wave=None, wave_size=25, sites=pick, redo=False, live_runs=set())
    assert plain.scope == ["a1.dev", "a2.dev", "a3.dev", "a5.dev", "a6.dev", "a11.dev"]  # registry order
    assert plain.eligible == ["a1.dev", "a11.dev"]
    redo = select(reg, designed, IMPLEMENT, "001", wave=None, wave_size=25, sites=pick, redo=True, live_runs=set())
    assert redo.eligible == ["a1.dev", "a2.dev", "a5.dev", "a6.dev", "a11.dev"]  # I, X, Q again; never "-"
    in_wave = select(reg, designed, IMPLEMENT, "001", wave=1, wave_size=3, sites=pick, redo=False, live_runs=set())
    assert in_wave.scope == ["a1.dev", "a2.dev", "a3.dev"]  # --sites within the wave
    with pytest.raises(UsageError, match="not in batch 001"):
        select(reg, designed, IMPLEMENT, "001", wave=None, wave_size=25, sites=["b1.dev"], redo=False, live_runs=set())
    with pytest.raises(UsageError, match="--redo needs --sites"):
        select(reg, designed, IMPLEMENT, "001", wave=None, wave_size=25, sites=None, redo=True, live_runs=set())
    with pytest.raises(UsageError, match="has no sites"):
        select(reg, designed, IMPLEMENT, "009", wave=None, wave_size=25, sites=None, redo=False, live_runs=set())
    assert parse_sites(" A1.dev,a1.dev,,b1.dev ") == ["a1.dev", "b1.dev"]
    with pytest.raises(UsageError):
        parse_sites("../etc,a1.dev")


def test_a_claim_owned_by_a_dead_process_is_stale_and_a_live_one_is_not(workspace):
    """pid + create time: a reused pid is not life."""
    me = RunRecord(run_id="implement-001-me", pid=os.getpid(), create_time=own_create_time(),
                   host=socket.gethostname(), phase="implement", batch="001")
    reused = RunRecord(run_id="implement-001-reused", pid=os.getpid(), create_time=own_create_time() - 1000,
                       host=socket.gethostname(), phase="implement", batch="001")
    gone_pid, gone_created = dead_process_identity()  # a process that really ran and is gone (reaped)
    dead = RunRecord(run_id="implement-001-dead", pid=gone_pid, create_time=gone_created,
                     host=socket.gethostname(), phase="implement", batch="001")
    for record in (me, reused, dead):
        save(workspace, record)
    from smbatcher.runs import live_owner_ids

    assert live_owner_ids(workspace) == {"implement-001-me"}


# -- through the CLI ------------------------------------------------------------------------


def test_wave_past_the_end_is_exit_2_and_writes_nothing(workspace):
    names = make_sites(workspace, 7)
    before = workspace.registry.read_bytes()
    result = run_smb(workspace, "implement", "--batch", "1", "--wave", "4", "--max-agents", "3")
    line = assert_one_line_error(result, 2)
    assert "past the end" in line and "7 sites make 3 waves of 3" in line
    ok = run_smb(workspace, "implement", "--batch", "1", "--wave", "4", "--max-agents", "2", "--dry-run")
    assert ok.returncode == 0, explain(ok)  # wave 4 of 2 is site 7
    assert ok.stdout.splitlines()[0] == f"would run implement {names[6]}"
    assert workspace.registry.read_bytes() == before
    assert run_files(workspace) == []


def test_dry_run_lists_the_sites_and_changes_nothing(workspace):
    names = make_sites(workspace, 5)
    os.remove(workspace.design_file(names[3]))
    logs_before = sorted(p.name for p in workspace.logs.rglob("*"))
    before = workspace.registry.read_bytes()
    result = run_smb(workspace, "implement", "--batch", "001", "--dry-run")
    assert result.returncode == 0, explain(result)
    lines = result.stdout.splitlines()
    assert lines[:4] == [f"would run implement {n}" for n in names if n != names[3]]
    assert f"SKIP {names[3]} design missing" in lines
    assert lines[-1].startswith("dry run: implement batch 001: 4 to run, 1 skipped")
    assert workspace.registry.read_bytes() == before
    assert run_files(workspace) == [] and not any(workspace.sites.iterdir())
    assert sorted(p.name for p in workspace.logs.rglob("*")) == logs_before


def test_a_wave_run_builds_only_its_wave(workspace):
    names = make_sites(workspace, 7)
    result = run_smb(workspace, "implement", "--batch", "001", "--wave", "2", "--max-agents", "3")
    assert result.returncode == 0, explain(result)
    got = statuses(workspace)
    assert [n for n in names if got[n] == "I"] == names[3:6]
    assert (workspace.root / "logs/implement-001-wave-2.log").is_file()


def test_a_d_site_without_its_design_goes_back_to_new_with_a_note(workspace):
    """Issue 23: not skipped run after run; the next design (or smb run) designs it."""
    names = make_sites(workspace, 3)
    os.remove(workspace.design_file(names[0]))
    result = run_smb(workspace, "implement", "--batch", "001")
    assert result.returncode == 0, explain(result)
    assert f"{names[0]}: D -> - (its design file is missing: it will be designed again)" in result.stdout + result.stderr
    assert statuses(workspace) == {names[0]: "-", names[1]: "I", names[2]: "I"}
    assert rows(workspace)[names[0]].get("note") == "design missing: back to -"


def test_sites_narrows_the_heal_too_and_the_event_names_the_command(workspace):
    names = make_sites(workspace, 3)
    for name in names[:2]:
        os.remove(workspace.design_file(name))
    result = run_smb(workspace, "implement", "--batch", "001", "--sites", f"{names[0]},{names[2]}")
    assert result.returncode == 0, explain(result)
    # Only the sites the run was asked about: names[1] is not this run's business (and stays D).
    assert statuses(workspace) == {names[0]: "-", names[1]: "D", names[2]: "I"}
    healed = [json.loads(line) for line in workspace.events.read_text().splitlines() if "design missing" in line]
    assert [(e["domain"], e["actor"]) for e in healed] == [(names[0], "implement")]


def test_sites_option_unknown_or_invalid_is_exit_2(workspace):
    names = make_sites(workspace, 2)
    before = workspace.registry.read_bytes()
    for sites in ("nope.dev", "../x", "", f"{names[0]},bad domain"):
        result = run_smb(workspace, "implement", "--batch", "001", "--sites", sites)
        assert_one_line_error(result, 2)
    assert_one_line_error(run_smb(workspace, "implement", "--batch", "001", "--redo"), 2)
    assert workspace.registry.read_bytes() == before


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
