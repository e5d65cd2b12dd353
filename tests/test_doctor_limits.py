"""Doctor's time limits (issue 9): a repair that overruns is reported, lets go of the registry lock, writes nothing."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest

from support.cli import explain, invoke
from support.registry import row_dicts, statuses
from support.workspaces import build_site, make_workspace

from smbatcher.doctor.site_stuck import SiteStuck


def lock_taken_by_another_process(lock_file, timeout: float = 3.0) -> bool:
    """A second process tries the registry lock, as the next runner's transaction would."""
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from filelock import FileLock, Timeout\n"
         "lock = FileLock(sys.argv[1])\n"
         "try:\n    lock.acquire(timeout=float(sys.argv[2]))\nexcept Timeout:\n    sys.exit(1)\n"
         "lock.release()", str(lock_file), str(timeout)],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    return result.returncode == 0


class HangingRepair:
    """site-stuck's repair, made to hang inside its transaction after changing a row (a wedged repair)."""

    def __init__(self) -> None:
        self.inside = threading.Event()  # set once the repair holds the lock and has changed a row
        self.go_on = threading.Event()  # set to let it leave its transaction
        self.threads: list[threading.Thread] = []

    def __call__(self, check, ctx, finding):
        self.threads.append(threading.current_thread())
        with ctx.store.transaction(actor="doctor") as txn:
            txn.set_status(txn.row("built.dev"), "I", expect="D", reason="test: a change the timeout must undo")
            self.inside.set()
            self.go_on.wait(60)
        return ["built.dev: D -> I"]

    def wake_and_wait(self) -> None:
        self.go_on.set()
        for thread in self.threads:
            thread.join(10)
        assert not any(t.is_alive() for t in self.threads), "the abandoned repair ended"


@pytest.fixture
def hanging(monkeypatch):
    repair = HangingRepair()
    monkeypatch.setattr(SiteStuck, "repair", lambda self, ctx, finding: repair(self, ctx, finding))
    monkeypatch.setattr(SiteStuck, "time_limit", 1.0)
    yield repair
    repair.wake_and_wait()  # whatever the test asserted, no thread is left hanging


def events_of(ws) -> bytes:
    return ws.events.read_bytes() if ws.events.exists() else b""


def test_a_timed_out_repair_releases_the_lock_and_writes_nothing(tmp_path, hanging):
    ws = make_workspace(tmp_path / "ws", {"001": [("built.dev", "D"), ("lost.dev", "D"), ("fine.dev", "Q")]})
    build_site(ws, "built.dev")  # site-stuck wants to move it to I
    ws.registry.write_text("".join(line for line in ws.registry.read_text().splitlines(keepends=True)
                                   if "| lost.dev |" not in line))  # finalization wants to rebuild this row

    result = invoke(ws.root, "doctor", "--scenario", "site-stuck", "--scenario", "finalization", "--fix", "--json")

    assert hanging.inside.is_set(), "the repair reached its transaction"
    assert result.exit_code == 3, explain(result)
    # Right after doctor reported, while the abandoned repair still hangs: a second process takes the lock.
    assert hanging.threads and hanging.threads[0].is_alive()
    assert lock_taken_by_another_process(ws.lock_file), "the timed-out repair still holds the registry lock"
    data = json.loads(result.stdout)
    site = next(c for c in data["checks"] if c["scenario"] == "site-stuck")
    assert site["status"] == "error" and "timed out after 1s" in site["summary"], site
    assert "not yet written was dropped and the registry lock is free" in site["summary"], site
    # The next fix of the same doctor run took the lock and committed: nothing was left wedged.
    fin = next(c for c in data["checks"] if c["scenario"] == "finalization")
    assert "lost.dev: row rebuilt in batch 001 as D" in fin["fixed"], fin
    assert statuses(ws) == {"built.dev": "D", "lost.dev": "D", "fine.dev": "Q"}  # built.dev: not written


def test_an_abandoned_repair_that_wakes_up_later_still_writes_nothing(tmp_path, hanging):
    ws = make_workspace(tmp_path / "ws", {"001": [("built.dev", "D"), ("fine.dev", "Q")]})
    build_site(ws, "built.dev")
    before, events_before = ws.registry.read_bytes(), events_of(ws)

    result = invoke(ws.root, "doctor", "--scenario", "site-stuck", "--fix")
    assert result.exit_code == 3, explain(result)
    assert "[☠] site-stuck" in result.stdout and "timed out" in result.stdout, explain(result)

    # The wedged repair wakes up and leaves its `with` block normally: its commit is refused.
    hanging.wake_and_wait()
    assert ws.registry.read_bytes() == before
    assert row_dicts(ws)["built.dev"]["status"] == "D"
    assert events_of(ws) == events_before  # no event for a change that was not made
    assert lock_taken_by_another_process(ws.lock_file)
