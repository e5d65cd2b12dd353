"""What an agent says is data (issue 22): escape sequences, odd Unicode and absurd numbers from an
agent never reach a terminal, a report, a JSON reader or the cost caps raw. Real smb processes with
tests/agents/hostile.py as the agent."""

from __future__ import annotations

import json
import re

import pytest
from support.agents import agent_cmd
from support.cli import explain, run_smb, smb_env
from support.text import ESCAPES, RAW_CONTROL
from support.workspaces import build_site, make_sites

from smbatcher.numbers import checked_cost, checked_count
from smbatcher.text import clean_text, escape_control



def assert_clean(proc, what: str) -> None:
    for name, text in (("stdout", proc.stdout), ("stderr", proc.stderr)):
        found = RAW_CONTROL.search(text)
        assert found is None, f"{what}: raw {found.group()!r} on {name}\n{explain(proc)}"


def test_escape_control_escapes_what_a_terminal_acts_on_and_keeps_the_rest():
    assert escape_control(ESCAPES + "\tok é") == \
        "\\u001b]0;pwned\\u0007 \\u001b[2J \\u009b31m \\u202eevil\tok é"
    assert escape_control("a\nb\r\u2028c") == "a\\u000ab\\u000d\\u2028c"  # the registry's line-break form
    assert escape_control(escape_control(ESCAPES)) == escape_control(ESCAPES)  # idempotent
    assert clean_text("x\x00y\ud800z") == "x\ufffdy\ufffdz"
    clean_text("\udcff" * 3).encode("utf-8")  # always encodable


@pytest.mark.parametrize("value", [-50, float("nan"), float("inf"), -float("inf"), 1e308, 10**400, "5", True, [1]])
def test_absurd_costs_are_not_reported(value):
    warnings: list[str] = []
    assert checked_cost(value, warnings) == 0.0
    assert len(warnings) == 1 and "total_cost_usd" in warnings[0]


@pytest.mark.parametrize("value", [-1, "many", 2.5, float("nan"), True, 10**30])
def test_absurd_counts_are_not_reported(value):
    warnings: list[str] = []
    assert checked_count(value, warnings, "num_turns") == 0
    assert len(warnings) == 1


def test_sane_numbers_pass():
    assert checked_cost(0.42) == 0.42 and checked_cost(0) == 0.0 and checked_count(17) == 17


def test_escape_sequences_from_an_agent_and_a_note_reach_no_output_raw(workspace):
    names = make_sites(workspace, 2, implement=agent_cmd("hostile"), max_attempts=1)
    env = smb_env(HOSTILE_MODE="escapes")
    run = run_smb(workspace, "implement", "--batch", "001", env=env, timeout=90)
    assert run.returncode == 1, explain(run)
    assert "FAIL" in run.stdout and "\\u001b]0;pwned" in run.stdout, explain(run)  # shown, escaped
    assert_clean(run, "implement")
    note = run_smb(workspace, "set-status", names[1], "--status", "D", "--force", "--note", "op " + ESCAPES)
    assert note.returncode == 0, explain(note)
    assert_clean(note, "set-status")
    build_site(workspace, names[0])
    run_smb(workspace, "set-status", names[0], "--status", "I", "--force")
    commands = [
        ("history", names[0]), ("history", names[1]), ("list-sites", "--format", "table"),
        ("list-sites", "--format", "json"), ("list-sites", "--format", "csv"), ("list-sites", "--format", "plain"),
        ("report",), ("report", "--json"), ("status",), ("status", "--json"), ("finish", "--batch", "001"),
    ]
    for args in commands:
        proc = run_smb(workspace, *args, timeout=60)
        assert proc.returncode in (0, 1), f"{args}\n{explain(proc)}"
        assert_clean(proc, " ".join(args))
        if "json" in args or "--json" in args:
            json.loads(proc.stdout)
    history = run_smb(workspace, "history", names[0])
    assert "pwned" in history.stdout, explain(history)  # the message is there, as text
    listed = json.loads(run_smb(workspace, "list-sites", "--format", "json").stdout)
    assert any("pwned" in row.get("note", "") for row in listed), listed


def test_registry_file_holds_no_raw_control_character(workspace):
    names = make_sites(workspace, 2, implement=agent_cmd("hostile"), max_attempts=1)
    run = run_smb(workspace, "implement", "--batch", "001", env=smb_env(HOSTILE_MODE="escapes"), timeout=90)
    assert run.returncode == 1, explain(run)  # both sites failed and were parked, their notes written
    note = run_smb(workspace, "set-status", names[1], "--status", "D", "--force", "--note", "op " + ESCAPES)
    assert note.returncode == 0, explain(note)
    text = workspace.registry.read_bytes().decode("utf-8")
    assert RAW_CONTROL.search(text) is None, text
    assert "agent says " in text and "op " in text and text.count("pwned") == 2, text  # both kept, escaped


def test_a_lone_surrogate_and_nul_in_a_message_are_stored_clean(workspace):
    names = make_sites(workspace, 1, implement=agent_cmd("hostile"), max_attempts=3)
    run = run_smb(workspace, "implement", "--batch", "001", env=smb_env(HOSTILE_MODE="escapes"), timeout=90)
    assert "internal error" not in run.stdout, explain(run)
    assert b"\x00" not in workspace.registry.read_bytes()
    events = workspace.events.read_bytes().decode("utf-8")  # strict: no lone surrogate written
    assert "agent says" in events and "\ufffd" in events, events  # the message kept, its surrogate replaced
    for args in (("status",), ("history", names[0]), ("report",)):
        proc = run_smb(workspace, *args)
        assert proc.returncode == 0 and "unexpected" not in proc.stderr, f"{args}\n{explain(proc)}"


@pytest.mark.parametrize("cost", ["-50", "NaN", "Infinity", "1e308", '"12"'])
def test_absurd_costs_from_an_agent_are_ignored_with_one_warning(workspace, cost):
    names = make_sites(workspace, 2, implement=agent_cmd("hostile"))
    env = smb_env(HOSTILE_MODE="numbers", HOSTILE_COST=cost, HOSTILE_TURNS='"many"')
    run = run_smb(workspace, "implement", "--batch", "001", env=env, timeout=90)
    assert run.returncode == 0, explain(run)  # the attempt is judged as usual: the site is built
    status = run_smb(workspace, "status")
    assert "$nan" not in status.stdout.lower() and "$-" not in status.stdout and "$inf" not in status.stdout.lower()
    assert not re.search(r"\$\d{7,}", status.stdout), explain(status)
    log = (workspace.logs / "sites" / names[0] / "implement-1.log").read_text()
    warnings = [line for line in log.splitlines() if line.startswith("=== smb warning:")]
    assert len(warnings) == 1 and "total_cost_usd" in warnings[0] and "num_turns" in warnings[0], log


def test_max_cost_total_still_stops_a_run(workspace):
    make_sites(workspace, 6, implement=agent_cmd("hostile"), max_agents=1, max_cost_total=1.0)
    env = smb_env(HOSTILE_MODE="numbers", HOSTILE_COST="0.6")
    run = run_smb(workspace, "implement", "--batch", "001", env=env, timeout=90)
    built = run_smb(workspace, "list-sites", "--status", "I").stdout.split()
    assert 1 <= len(built) < 6, explain(run)


def test_finish_prints_odd_file_names_escaped_and_its_json_is_strict(workspace):
    import os
    import subprocess

    from support.cli import smb_argv

    names = make_sites(workspace, 1)
    site = build_site(workspace, names[0])
    for odd in (b"esc-\x1b[2J-\xff.html", b"bidi-\xe2\x80\xae.html"):
        os.symlink("nowhere", os.path.join(os.fsencode(site), odd))  # a broken link: finish names it
    run_smb(workspace, "set-status", names[0], "--status", "I", "--force")
    plain = run_smb(workspace, "finish", "--batch", "001", "--dry-run")
    assert plain.returncode == 1 and "\\u001b[2J" in plain.stdout, explain(plain)
    assert_clean(plain, "finish")
    raw = subprocess.run(smb_argv(workspace, "finish", "--batch", "001", "--json"), cwd=workspace.root,
                         env=smb_env(), capture_output=True, timeout=60)
    text = raw.stdout.decode("utf-8", "strict")  # a raw 0xff byte would fail here
    assert RAW_CONTROL.search(text) is None, text
    data = json.loads(text)
    reasons = " ".join(r for f in data["failed"] for r in f["reasons"])
    assert "esc-\\u001b[2J-\ufffd.html" in reasons and "bidi-\\u202e.html" in reasons, reasons
    (workspace.logs / "finish-001.json").read_bytes().decode("utf-8", "strict")


@pytest.mark.parametrize("mode", ["symlink", "fifo"])
def test_an_output_that_is_or_holds_a_link_or_fifo_fails_the_attempt_and_is_not_promoted(workspace, tmp_path, mode):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "index.html").write_text("<!doctype html><title>outside</title>\n")
    names = make_sites(workspace, 1, implement=agent_cmd("hostile"), max_attempts=1)
    env = smb_env(HOSTILE_MODE=mode, HOSTILE_TARGET=str(outside))
    run = run_smb(workspace, "implement", "--batch", "001", env=env, timeout=90)
    assert run.returncode == 1, explain(run)
    assert ("a symlink" if mode == "symlink" else "a FIFO") in run.stdout, explain(run)
    site = workspace.site_dir(names[0])
    assert not site.is_symlink() and not site.exists(), explain(run)
    assert run_smb(workspace, "list-sites", "--status", "I").stdout == ""


def test_a_design_file_that_links_outside_is_not_promoted(workspace, tmp_path):
    from support.registry import write_registry
    from support.workspaces import write_config

    target = tmp_path / "hostname"
    target.write_text("# a design that lives outside\n")
    names = write_registry(workspace, 1, status="-")
    write_config(workspace, design=agent_cmd("hostile"), max_attempts=1)
    run = run_smb(workspace, "design", "--batch", "001", env=smb_env(HOSTILE_MODE="symlink", HOSTILE_TARGET=str(target)),
                  timeout=90)
    assert run.returncode == 1 and "a symlink" in run.stdout, explain(run)
    assert not workspace.design_file(names[0]).is_symlink() and not workspace.design_file(names[0]).exists()


def test_a_notification_carries_agent_text_escaped_as_strict_json(tmp_path):
    from smbatcher import notify

    out = tmp_path / "event.json"
    notify.notify(f"sh -c 'cat > {out}'", {"event": "hold", "message": ESCAPES + " \ud800 \x00"})
    notify.wait()
    text = out.read_bytes().decode("utf-8", "strict")
    assert RAW_CONTROL.search(text) is None, text
    assert json.loads(text)["message"].startswith("\x1b]0;pwned")  # the same data, escaped in transit


def test_a_usage_limit_message_with_a_lone_surrogate_and_nul_does_not_brick_the_workspace(workspace):
    make_sites(workspace, 2, implement=agent_cmd("hostile"), max_agents=1, max_hold="1s")  # waits 1 s, stops
    run = run_smb(workspace, "implement", "--batch", "001", env=smb_env(HOSTILE_MODE="limit"), timeout=90)
    assert "internal error" not in run.stdout, explain(run)
    assert_clean(run, "implement")
    holds = list(workspace.root.rglob("hold.json"))
    assert holds, explain(run)  # the usage limit did make a hold
    held = holds[0].read_bytes().decode("utf-8", "strict")
    assert "\\ud800" not in held and "\\u0000" not in held, held
    for args in (("status",), ("hold",), ("doctor",), ("report",), ("implement", "--batch", "001")):
        proc = run_smb(workspace, *args, env=smb_env(HOSTILE_MODE="limit"), timeout=90)
        assert "unexpected" not in proc.stderr and "Traceback" not in proc.stderr, f"{args}\n{explain(proc)}"
        assert_clean(proc, " ".join(args))


@pytest.mark.parametrize("lie", ["-1000", "NaN"])
def test_one_agent_lying_about_its_cost_does_not_switch_max_cost_total_off(workspace, lie):
    names = make_sites(workspace, 6, implement=agent_cmd("hostile"), max_agents=1, max_cost_total=1.0)
    env = smb_env(HOSTILE_MODE="numbers", HOSTILE_COST="0.6", HOSTILE_LIAR=names[0], HOSTILE_LIAR_COST=lie)
    run = run_smb(workspace, "implement", "--batch", "001", env=env, timeout=90)
    built = run_smb(workspace, "list-sites", "--status", "I").stdout.split()
    assert 1 <= len(built) < 6, explain(run)  # the cap stopped launching; -1000 or NaN once disabled it
    status = run_smb(workspace, "status", "--json")
    json.loads(status.stdout)  # strict enough for Python; and no NaN literal:
    assert "NaN" not in status.stdout and "-1000" not in status.stdout, explain(status)


def test_agent_words_that_look_like_rich_markup_are_shown_as_they_are():
    """An activity such as "Bash cat [/tmp/x]" once raised Rich's MarkupError in the live display."""
    import io

    from rich.console import Console

    from smbatcher.ui import UI, RunProgress

    ui = UI()
    screen = io.StringIO()
    ui._console = Console(file=screen, force_terminal=True, width=200, no_color=True)
    progress = RunProgress(ui, "implement 001", 3)
    progress.update(1, 1, "2.0/min", "1m", activity="Bash cat [/tmp/x] [bold]y")
    progress.progress.stop()
    assert "Bash cat [/tmp/x] [bold]y" in screen.getvalue()


def test_a_note_that_looks_like_rich_markup_is_a_table_cell_as_it_is(workspace):
    """list-sites --format table on a terminal: a note "[/oops]" once ended it with "unexpected MarkupError"."""
    import os
    import subprocess

    from support.cli import read_terminal, smb_argv

    names = make_sites(workspace, 1)
    assert run_smb(workspace, "set-status", names[0], "--status", "D", "--note", "see [/oops] [red]x").returncode == 0
    master, slave = os.openpty()
    child = subprocess.Popen(smb_argv(workspace, "list-sites", "--format", "table"), cwd=workspace.root,
                             env=smb_env(COLUMNS="200"), stdin=subprocess.DEVNULL, stdout=slave, stderr=slave,
                             start_new_session=True)
    os.close(slave)
    try:
        shown = read_terminal(master, 60).decode("utf-8", "replace")
    finally:
        os.close(master)
    assert child.wait(timeout=60) == 0, shown
    assert "see [/oops] [red]x" in shown and "Error" not in shown, shown
