"""``smb finish`` (issue 4): checks per I site, one transaction, conservation, resumable under kill -9."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from support import REPO_ROOT
from support.cli import explain, invoke, smb_argv, smb_env
from support.registry import domains, rows, statuses
from support.workspaces import build_site, make_workspace

from smbatcher.finish import conservation_problem, finish_batch
from smbatcher.manifest import parse_manifest
from smbatcher.registry import parse
from smbatcher.store import Store

GOOD = ["good-one.dev", "good-two.dev", "good-three.dev"]
BAD = {
    "no-index.dev": "index.html: missing",
    "broken-link.dev": "broken link: missing-page.html",
    "escapes.dev": "link escapes the site folder: ../other.dev-v1/index.html",
    "placeholder.dev": "placeholder text 'lorem ipsum'",
    "no-design.dev": "design file missing",
}


def _inject(site: Path, html: str) -> None:
    index = site / "index.html"
    index.write_text(index.read_text(encoding="utf-8").replace("</main>", html + "\n</main>", 1), encoding="utf-8")


@pytest.fixture
def mixed(tmp_path):
    """Batch 001: three good sites and one of each failure; one site already Q; one still D."""
    items = [(d, "I") for d in GOOD] + [(d, "I") for d in BAD] + [("done-before.dev", "Q"), ("later.dev", "D")]
    ws = make_workspace(tmp_path / "ws", {"001": items})
    (ws.site_dir("no-index.dev") / "index.html").unlink()
    _inject(ws.site_dir("broken-link.dev"), '<p><a href="missing-page.html">More</a></p>')
    _inject(ws.site_dir("escapes.dev"), '<p><a href="../other.dev-v1/index.html">Other</a></p>')
    _inject(ws.site_dir("placeholder.dev"), "<p>Lorem ipsum dolor sit amet.</p>")
    ws.design_file("no-design.dev").unlink()
    return ws


def _reasons(data: dict) -> dict[str, str]:
    return {item["domain"]: "; ".join(item["reasons"]) for item in data["failed"]}


def test_only_good_sites_become_q_and_failures_are_reported_with_reasons(mixed):
    result = invoke(mixed.root, "finish", "--batch", "1", "--json")
    assert result.exit_code == 1, explain(result)
    data = json.loads(result.stdout)
    assert sorted(data["passed"]) == sorted(GOOD)
    reasons = _reasons(data)
    assert set(reasons) == set(BAD)
    for domain, expected in BAD.items():
        assert expected in reasons[domain], (domain, reasons[domain])
    assert data["already_final"] == 1 and data["written"] is True and data["refused"] is None
    assert data["before"] == {"D": 1, "I": 8, "Q": 1}
    assert data["after"] == {"D": 1, "I": 5, "Q": 4}
    now = statuses(mixed)
    assert {d for d, s in now.items() if s == "Q"} == set(GOOD) | {"done-before.dev"}
    assert all(now[d] == "I" for d in BAD) and now["later.dev"] == "D"
    # Failures keep their reason in the note column, for `smb list-sites` and the doctor.
    assert rows(mixed)["broken-link.dev"].get("note").startswith("finish: index.html: broken link")
    # The report file says the same thing.
    report = json.loads((mixed.logs / "finish-001.json").read_text())
    assert sorted(report["passed"]) == sorted(GOOD) and _reasons(report) == reasons
    assert data["report_file"] == "logs/finish-001.json"


def test_text_report_lists_each_failure_and_the_totals(mixed):
    result = invoke(mixed.root, "finish", "--batch", "001")
    assert result.exit_code == 1, explain(result)
    for domain, expected in BAD.items():
        line = next(line for line in result.stdout.splitlines() if line.startswith(f"FAIL {domain}:"))
        assert expected in line
    assert "3 passed -> Q, 5 failed (stay I), 1 already final" in result.stdout
    assert "before: D 1, I 8, Q 1; after: D 1, I 5, Q 4" in result.stdout
    assert "\x1b" not in result.output


def test_dry_run_writes_nothing(mixed):
    before = mixed.registry.read_bytes()
    result = invoke(mixed.root, "finish", "--batch", "1", "--dry-run", "--json")
    assert result.exit_code == 1, explain(result)
    data = json.loads(result.stdout)
    assert sorted(data["passed"]) == sorted(GOOD) and set(_reasons(data)) == set(BAD)
    assert data["written"] is False
    assert mixed.registry.read_bytes() == before
    assert not (mixed.logs / "finish-001.json").exists()
    text = invoke(mixed.root, "finish", "--batch", "1", "--dry-run")
    assert "would pass" in text.stdout and "dry run: nothing written" in text.stdout
    assert mixed.registry.read_bytes() == before


def test_reset_failed_sends_failures_back_to_d_with_the_reason(mixed):
    result = invoke(mixed.root, "finish", "--batch", "1", "--reset-failed", "--json")
    assert result.exit_code == 1, explain(result)
    table = rows(mixed)
    for domain, expected in BAD.items():
        assert table[domain].status == "D", domain
        note = table[domain].get("note")
        assert note.startswith("finish: ") and expected in note, table[domain]
    assert all(table[d].status == "Q" for d in GOOD)
    # Nothing is left at I: a second finish has nothing to do.
    again = invoke(mixed.root, "finish", "--batch", "1", "--json")
    assert again.exit_code == 0, explain(again)
    assert json.loads(again.stdout)["passed"] == []


def test_second_run_changes_nothing_and_exits_0_when_nothing_is_left(tmp_path):
    ws = make_workspace(tmp_path / "ws", {"001": [(d, "I") for d in domains(6)] + [("x.dev", "Q")]})
    first = invoke(ws.root, "finish", "--batch", "1")
    assert first.exit_code == 0, explain(first)
    assert set(statuses(ws).values()) == {"Q"}
    snapshot = ws.registry.read_bytes()
    second = invoke(ws.root, "finish", "--batch", "1", "--json")
    assert second.exit_code == 0, explain(second)
    data = json.loads(second.stdout)
    assert data["passed"] == [] and data["failed"] == [] and data["already_final"] == 7 and not data["written"]
    assert ws.registry.read_bytes() == snapshot


def test_second_run_with_failures_left_changes_nothing(mixed):
    assert invoke(mixed.root, "finish", "--batch", "1").exit_code == 1
    # Age every `updated` stamp, so a rewrite within the same second could not hide.
    text = mixed.registry.read_text()
    for row in parse(text).rows:
        if row.get("updated"):
            text = text.replace(f"| {row.get('updated')} |", "| 2026-01-01T00:00:00Z |")
    mixed.registry.write_text(text)
    snapshot = mixed.registry.read_bytes()
    again = invoke(mixed.root, "finish", "--batch", "1", "--json")
    assert again.exit_code == 1, explain(again)  # the failures are still there
    assert json.loads(again.stdout)["passed"] == []
    assert mixed.registry.read_bytes() == snapshot  # not even the `updated` stamps moved
    # Once the site is repaired, the next finish takes it.
    ws = mixed
    shutil.rmtree(ws.site_dir("no-index.dev"))
    build_site(ws, "no-index.dev")
    third = invoke(ws.root, "finish", "--batch", "1", "--json")
    assert json.loads(third.stdout)["passed"] == ["no-index.dev"]
    assert statuses(ws)["no-index.dev"] == "Q"


def test_a_row_deleted_by_hand_makes_finish_refuse_to_write(tmp_path):
    names = domains(5)
    ws = make_workspace(tmp_path / "ws", {"001": [(d, "I") for d in names]})
    lines = ws.registry.read_text().splitlines(keepends=True)
    lost = names[2]
    ws.registry.write_text("".join(line for line in lines if f"| {lost} |" not in line))
    before = ws.registry.read_bytes()
    result = invoke(ws.root, "finish", "--batch", "1", "--json")
    assert result.exit_code == 1, explain(result)
    data = json.loads(result.stdout)
    assert data["written"] is False and lost in data["refused"] and "manifest" in data["refused"]
    assert ws.registry.read_bytes() == before
    text = invoke(ws.root, "finish", "--batch", "1")
    assert text.exit_code == 1
    assert "finish wrote nothing" in text.stderr and lost in text.stderr
    assert "smb doctor --scenario finalization --fix" in text.stderr
    assert ws.registry.read_bytes() == before


def test_a_row_lost_while_finish_checks_makes_it_refuse(tmp_path, monkeypatch):
    """Conservation against a concurrent writer: the rows at write time must be those finish started with."""
    import smbatcher.finish as finish_module

    names = domains(4)
    lost = names[1]
    ws = make_workspace(tmp_path / "ws", {"001": [(d, "I") for d in names]})
    real_check = finish_module.check_sites

    def check_then_lose_a_row(workspace, todo):
        results = real_check(workspace, todo)
        text = ws.registry.read_text()
        ws.registry.write_text("".join(l for l in text.splitlines(keepends=True) if f"| {lost} |" not in l))
        return results

    monkeypatch.setattr(finish_module, "check_sites", check_then_lose_a_row)
    before_write = None
    report = finish_batch(ws, Store(ws, 5), "001")
    before_write = ws.registry.read_text()
    assert report.refused and "disappeared" in report.refused and lost in report.refused
    assert report.exit_code == 1 and not report.written
    assert "| Q |" not in before_write


def test_conservation_problem_names_what_differs():
    assert conservation_problem({"a.dev"}, {"a.dev"}, {"a.dev"}) is None
    assert "appeared" in conservation_problem({"a.dev"}, {"a.dev", "b.dev"}, None)
    assert "not in the manifest" in conservation_problem({"a.dev", "b.dev"}, {"a.dev", "b.dev"}, {"a.dev"})


def test_builtin_agent_sites_pass_finish_for_every_demo_domain(tmp_path):
    batches = {}
    for path in sorted((REPO_ROOT / ".smbatcher" / "batches").glob("Batch_*.md")):
        batch = path.stem.removeprefix("Batch_")
        batches[batch] = [(d, "I") for d in parse_manifest(path.read_text(encoding="utf-8")).domains]
    assert sum(len(v) for v in batches.values()) >= 30
    ws = make_workspace(tmp_path / "ws", batches)
    for batch in batches:
        result = invoke(ws.root, "finish", "--batch", batch, "--json")
        data = json.loads(result.stdout)
        assert result.exit_code == 0, _reasons(data)
        assert len(data["passed"]) == len(batches[batch])
    assert set(statuses(ws).values()) == {"Q"}


def _path_without_chromium() -> str:
    names = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
    keep = [d for d in os.environ.get("PATH", "").split(os.pathsep)
            if d and not any(os.path.exists(os.path.join(d, n)) for n in names)]
    return os.pathsep.join(keep)


def test_screenshots_without_chromium_say_so_and_still_finish(tmp_path):
    ws = make_workspace(tmp_path / "ws", {"001": [(d, "I") for d in domains(2)]})
    result = invoke(ws.root, "finish", "--batch", "1", "--screenshots", env={"PATH": _path_without_chromium()})
    assert result.exit_code == 0, explain(result)
    assert "chromium not found" in result.stderr
    assert set(statuses(ws).values()) == {"Q"}
    assert not any(ws.sites.glob("*/.smb/screenshot.png"))


@pytest.mark.skipif(not any(shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")),
                    reason="chromium is not installed")
def test_screenshots_with_chromium(tmp_path):
    ws = make_workspace(tmp_path / "ws", {"001": [("shot.dev", "I")]})
    result = invoke(ws.root, "finish", "--batch", "1", "--screenshots", "--json")
    assert result.exit_code == 0, explain(result)
    shot = ws.site_dir("shot.dev") / ".smb" / "screenshot.png"
    assert shot.is_file() and shot.stat().st_size > 0
    assert json.loads(result.stdout)["screenshots"] == ["sites/shot.dev-v1/.smb/screenshot.png"]
    # The screenshot folder is not part of the site: a second check still passes it.
    from smbatcher.sitecheck import check_site

    assert check_site(ws.site_dir("shot.dev"), ws.design_file("shot.dev")) == []


# -- kill -9 at random instants -------------------------------------------------------------------


def _finish_process(root: Path) -> subprocess.Popen:
    # Its own session, so the kill takes its process-pool workers too, as kill -9 of a tmux pane would.
    return subprocess.Popen(smb_argv(root, "finish", "--batch", "1"), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=smb_env(), start_new_session=True)


@pytest.mark.slow
def test_sigkill_at_random_instants_never_half_finalizes(tmp_path):
    names = domains(100)
    bad = {names[10], names[57]}
    ws = make_workspace(tmp_path / "ws", {"001": [(d, "I") for d in names]})
    for domain in bad:
        _inject(ws.site_dir(domain), "<p>TODO write this</p>")
    original = ws.registry.read_bytes()
    rows_before = [row.domain for row in parse(original.decode()).rows]

    # How long an undisturbed finish takes, so the kills spread over its whole life.
    started = time.monotonic()
    proc = _finish_process(ws.root)
    assert proc.wait(timeout=120) == 1
    full = time.monotonic() - started
    assert set(statuses(ws).values()) == {"I", "Q"}

    rng = random.Random(20261121)
    outcomes = {"old": 0, "new": 0}
    for trial in range(20):
        ws.registry.write_bytes(original)
        proc = _finish_process(ws.root)
        # Half the kills anywhere in its life, half near its end, where the transaction writes.
        time.sleep(rng.uniform(0.0, full) if trial % 2 else rng.uniform(full * 0.8, full * 1.05))
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)
        text = ws.registry.read_text(encoding="utf-8")
        registry = parse(text)
        assert not registry.problems, (trial, registry.problems)
        assert [row.domain for row in registry.rows] == rows_before, trial
        found = {row.status for row in registry.rows}
        assert found <= {"I", "Q"}, (trial, found)
        q = {row.domain for row in registry.rows if row.status == "Q"}
        # One transaction: either no site was finalized, or every good one was.
        assert q in (set(), set(names) - bad), (trial, len(q))
        outcomes["new" if q else "old"] += 1
        if trial % 5 == 4:
            report = finish_batch(ws, Store(ws, 10), "001")
            assert report.refused is None and set(report.failed) == bad
            assert {d for d, s in statuses(ws).items() if s == "Q"} == set(names) - bad
    # The next run completes.
    report = finish_batch(ws, Store(ws, 10), "001")
    assert report.refused is None and set(report.failed) == bad
    final = statuses(ws)
    assert {d for d, s in final.items() if s == "Q"} == set(names) - bad
    assert {d for d, s in final.items() if s == "I"} == bad
    print("kill outcomes:", outcomes, f"(undisturbed finish {full:.2f} s)")
    assert outcomes["old"] >= 1, outcomes  # some kills did land before the write
