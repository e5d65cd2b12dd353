"""The dashboard shows agent text escaped (issue 22): Jinja's autoescape handles HTML, not the
control characters of an agent's note or log tail."""

from __future__ import annotations

import time


from starlette.testclient import TestClient
from support.dashboard import add_events, failure_event, write_log
from support.registry import domains
from support.text import ESCAPES, RAW_CONTROL
from support.workspaces import make_workspace
from smbatcher.config import load_settings
from smbatcher.dashboard import create_app



def test_notes_and_log_tails_with_escape_sequences_are_shown_escaped(workspace_root):
    names = domains(3)
    ws = make_workspace(workspace_root, {"001": list(zip(names, ["D", "D", "I"]))})
    now = time.time()
    add_events(ws, [failure_event(names[0], now - 20, "implement: exit=1: " + ESCAPES),
                    failure_event(names[1], now - 10, "implement: exit=1: " + ESCAPES, attempt=2)])
    write_log(ws, names[1], "implement-2.log", "=== smb header\nstep 1\nagent: " + ESCAPES + "\n")
    app = TestClient(create_app(ws, load_settings(ws.config_file)), follow_redirects=False)
    for url in ("/", f"/site/{names[1]}"):
        page = app.get(url)
        assert page.status_code == 200, url
        found = RAW_CONTROL.search(page.text)
        assert found is None, f"{url}: raw {found.group()!r}"
    assert "\\u001b]0;pwned" in app.get("/").text


def test_the_json_api_carries_agent_text_escaped_and_strict(workspace_root):
    names = domains(2)
    ws = make_workspace(workspace_root, {"001": list(zip(names, ["D", "D"]))})
    add_events(ws, [failure_event(names[0], time.time() - 5, "implement: exit=1: " + ESCAPES + " \ud800")])
    app = TestClient(create_app(ws, load_settings(ws.config_file)), follow_redirects=False)
    answer = app.get("/api/overview")
    text = answer.content.decode("utf-8", "strict")
    assert RAW_CONTROL.search(text) is None, text
    assert "pwned" in text and answer.json()
