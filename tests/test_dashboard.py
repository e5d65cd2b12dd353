"""`smb dashboard` over HTTP (Starlette's TestClient): pages, JSON, escaping, paths, token, CSRF (issue 11)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from starlette.testclient import TestClient

from support.dashboard import add_events, completion_event, failure_event, write_log
from support.processes import create_time, dead_process_identity
from support.registry import domains, row_line
from support.sessions import write_session
from support.waiting import wait_for
from support.workspaces import make_workspace, write_run
from smbatcher.config import load_settings
from smbatcher.dashboard import LOOPBACK_HOSTS, create_app, is_loopback, serve
from smbatcher.errors import UsageError
from smbatcher.registry import new_registry_text

XSS = "<script>alert(1)</script>"
# The ws fixture's batch 001: S[0:2] new, S[2:5] designed, S[5] claimed by no live run, S[6:8] built,
# S[8:11] finished, S[11] parked.
S = domains(12)


def client(ws, **kwargs) -> TestClient:
    return TestClient(create_app(ws, load_settings(ws.config_file), **kwargs), follow_redirects=False)


@pytest.fixture
def ws(workspace_root: Path):
    statuses = ["-", "-", "D", "D", "D", "i", "I", "I", "Q", "Q", "Q", "X"]
    return make_workspace(workspace_root, {"001": list(zip(domains(12), statuses)),
                                           "002": [(d, "-") for d in domains(3, "other")]})


def cells(html: str, batch: str) -> dict[str, int]:
    row = re.search(rf'<tr id="batch-{batch}">(.*?)</tr>', html, re.S).group(1)
    return {s: int(n) for s, n in re.findall(r'data-status="([^"]+)">(\d+)<', row)}


# -- pages and data -----------------------------------------------------------------------------------


def test_overview_shows_each_batch_counts_by_status(ws):
    page = client(ws).get("/")
    assert page.status_code == 200, page.text
    assert cells(page.text, "001") == {"-": 2, "d": 0, "D": 3, "i": 1, "I": 2, "Q": 3, "X": 1, "total": 12}
    assert cells(page.text, "002")["-"] == 3
    assert cells(page.text, "all")["total"] == 15
    assert 'data-stream="/api/stream?view=overview"' in page.text  # the page goes live
    assert "<svg" in page.text and 'class="chart"' in page.text  # the chart is drawn on the server


def test_overview_rates_eta_and_cost_come_from_the_event_log(ws):
    now = time.time()
    add_events(ws, [completion_event(d, now - 60 * (i + 1), cost_usd=0.25) for i, d in enumerate(domains(10))])
    data = client(ws).get("/api/overview").json()
    first = next(b for b in data["batches"] if b["batch"] == "001")
    assert first["sites_per_min_5m"] == pytest.approx(4 / 5)  # 4 in the last 5 min (1, 2, 3, 4 min ago)
    assert first["sites_per_min_15m"] == pytest.approx(10 / 15, abs=0.01)
    # Steps left: 2 new sites x2 + 3 designed + 1 implementing = 8; at 0.8/min: 10 minutes.
    assert first["eta_seconds"] == 600
    assert first["cost_usd"] == pytest.approx(2.5)
    assert "$2.50" in client(ws).get("/").text


def test_live_run_shows_its_agents_with_their_latest_action(ws):
    agents = [{"domain": S[5], "pid": os.getpid(), "create_time": create_time(os.getpid()),
               "attempt": 2, "started": time.time() - 75, "phase": "implement", "action": "Write index.html",
               "turn": 7, "cost_usd": 0.42}]
    path = write_run(ws, "implement-001-live", os.getpid(), create_time(os.getpid()), agents=agents)
    data = json.loads(path.read_text())
    data.update(cost_usd=1.5, breaker={"state": "open", "until": time.time() + 90, "trips": 2})
    path.write_text(json.dumps(data))
    page = client(ws).get("/").text
    assert "implement-001-live" in page and "Write index.html" in page and "$0.42" in page
    assert "Circuit breaker open" in page and "tripped 2 times" in page
    live = client(ws).get("/api/overview").json()["runs"]["live"]
    assert [a["action"] for a in live[0]["agents"]] == ["Write index.html"]
    site = client(ws).get(f"/site/{S[5]}").text
    assert "Write index.html" in site  # the site page names its live agent too


def test_a_live_run_with_wrong_typed_optional_fields_still_shows(ws):
    """A hand-edited record: its identity is sound, its cost, breaker and counts are not. The run
    still shows, read as `smb status` reads it (runs.RunRecord), the bad fields as their defaults."""
    agents = [{"domain": S[5], "pid": os.getpid(), "create_time": create_time(os.getpid()), "attempt": 1,
               "started": time.time() - 30, "action": ["not", "text"], "cost_usd": "lots", "turn": "3"}]
    path = write_run(ws, "implement-001-edited", os.getpid(), create_time(os.getpid()), agents=agents)
    data = json.loads(path.read_text())
    data.update(cost_usd="lots", breaker="open", halted=7, done="many", wave="two", executor=None)
    path.write_text(json.dumps(data))
    http = client(ws)
    page = http.get("/")
    assert page.status_code == 200 and "implement-001-edited" in page.text
    live = http.get("/api/overview").json()["runs"]["live"]
    assert [r["run_id"] for r in live] == ["implement-001-edited"]
    assert live[0]["cost_usd"] == 0.0 and live[0]["breaker"] == {} and live[0]["done"] == 0
    assert live[0]["agents"][0]["domain"] == S[5] and live[0]["agents"][0]["action"] == ""
    status = subprocess.run([sys.executable, "-m", "smbatcher", "status", "--root", str(ws.root)],
                            capture_output=True, text=True, timeout=60)
    assert status.returncode == 0 and "implement-001-edited" in status.stdout, status.stdout + status.stderr
    assert "ignoring" not in status.stderr and "Traceback" not in status.stderr, status.stderr


def test_a_dead_run_and_its_stale_claims_are_flagged(ws):
    pid, ctime = dead_process_identity()
    write_run(ws, "implement-001-dead", pid, ctime)
    page = client(ws).get("/").text
    assert "implement-001-dead" in page and "died without ending" in page
    assert "smb doctor --scenario wave-failure --fix" in page
    assert client(ws).get("/api/overview").json()["stale_claims"] == 1  # S[5] is claimed (i) by no live run


def test_hold_is_shown_with_its_reset_time(ws):
    until = time.time() + 3600
    (ws.smb_dir / "hold.json").write_text(json.dumps(
        {"until": until, "limit": "weekly", "message": "You've hit your weekly limit " + XSS,
         "source": f"{S[3]} attempt 1 of run r1", "since": time.time() - 60, "probes": 1}))
    page = client(ws).get("/").text
    assert "Usage-limit hold (weekly)" in page
    assert time.strftime("%H:%M", time.localtime(until)) in page
    assert XSS not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Release hold" not in page  # read-only


def test_recent_failures_are_grouped_by_reason_with_the_log_tail(ws):
    now = time.time()
    add_events(ws, [failure_event(S[2], now - 30, "implement: exit=1: boom"),
                    failure_event(S[3], now - 20, "implement: exit=1: boom again", attempt=2),
                    failure_event(S[4], now - 10, "implement: timeout after 90s")])
    write_log(ws, S[3], "implement-2.log", "=== smb header\nstep 1\nTraceback: " + XSS + "\n")
    page = client(ws).get("/").text
    groups = client(ws).get("/api/overview").json()["failures"]
    assert [(g["reason"], g["count"]) for g in groups] == [("timeout", 1), ("exit 1", 2)]
    exit_group = groups[1]
    assert exit_group["domains"] == [S[3], S[2]]
    assert exit_group["tail"][-1] == "Traceback: " + XSS
    assert "Traceback: &lt;script&gt;alert(1)&lt;/script&gt;" in page and XSS not in page


def test_failures_the_pool_classified_are_grouped_by_class_and_message(ws):
    now = time.time()
    add_events(ws, [failure_event(S[2], now - 9, "implement: exit=1: x", **{"class": "site", "message": "No space"}),
                    failure_event(S[3], now - 8, "implement: exit=1: y", **{"class": "site", "message": "No space"}),
                    failure_event(S[4], now - 7, "implement: exit=1: z", **{"class": "site", "message": "Bad HTML"}),
                    failure_event(S[4], now - 6, "implement: exit=1", **{"class": "usage-limit"}),
                    failure_event(S[4], now - 5, "implement: stopped", **{"class": "stopped"}),
                    {**failure_event(S[6], now - 4, "implement: ok"), "class": "ok", "to": "I"}])
    groups = client(ws).get("/api/overview").json()["failures"]
    assert [(g["reason"], g["count"]) for g in groups] == [
        ("usage-limit: exit 1", 1), ("site: Bad HTML", 1), ("site: No space", 2)]


def test_gallery_is_paginated_and_filtered(workspace_root):
    ws = make_workspace(workspace_root, {"001": [(d, "I") for d in domains(100)],
                                          "002": [(d, "Q") for d in domains(5, "q")]})
    http = client(ws)
    first = http.get("/api/gallery").json()
    assert (first["total"], first["pages"], len(first["entries"])) == (105, 3, 48)
    last = http.get("/api/gallery?page=3").json()
    assert len(last["entries"]) == 9
    only_q = http.get("/api/gallery?status=Q").json()
    assert {e["status"] for e in only_q["entries"]} == {"Q"} and only_q["total"] == 5
    batch_two = http.get("/api/gallery?batch=2&status=all").json()
    assert batch_two["total"] == 5 and batch_two["batch"] == "002"
    page = http.get("/gallery?batch=001").text
    assert page.count('class="tile ') == 48 and 'loading="lazy"' in page
    assert http.get("/gallery?status=Z").status_code == 400
    assert http.get("/gallery?page=abc").status_code == 400


def test_gallery_badges_come_from_the_finish_report_and_screenshots_are_served(ws):
    report = {"batch": "001", "passed": [S[7]],
              "failed": [{"domain": S[6], "reasons": ["index.html: broken link", "about.html: " + XSS]}]}
    (ws.logs / "finish-001.json").write_text(json.dumps(report))
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    shot = ws.site_dir(S[7]) / ".smb" / "screenshot.png"
    shot.parent.mkdir(parents=True)
    shot.write_bytes(png)
    http = client(ws)
    entries = {e["domain"]: e for e in http.get("/api/gallery").json()["entries"]}
    assert [b["label"] for b in entries[S[6]]["badges"]] == ["broken link", XSS]
    assert [b["label"] for b in entries[S[7]]["badges"]] == ["checks passed"]
    assert entries[S[7]]["screenshot"] and not entries[S[6]]["screenshot"]
    assert XSS not in http.get("/gallery").text
    thumb = http.get(f"/thumb/{S[7]}")
    assert thumb.headers["content-type"] == "image/png" and thumb.content == png
    generated = http.get(f"/thumb/{S[6]}")
    assert generated.headers["content-type"].startswith("image/svg+xml") and S[6].encode() in generated.content
    assert http.get("/thumb/nobody.dev").status_code == 404
    assert "1 failed" in http.get("/").text  # the batch row's finish column


def test_site_page_has_status_design_history_logs_and_a_sandboxed_frame(ws):
    add_events(ws, [completion_event(S[6], time.time() - 5, run="implement-001-a")])
    write_log(ws, S[6], "implement-1.log", "=== smb header\nbuilt it\n")
    http = client(ws)
    page = http.get(f"/site/{S[6]}")
    assert page.status_code == 200
    text = page.text
    assert "I implemented" in text
    assert "<h1>" in text and "design</h1>" in text  # the design, rendered from markdown
    assert "implement-1.log" in text and "built it" in text
    frame = re.search(r"<iframe[^>]*>", text).group(0)
    assert 'sandbox="allow-scripts"' in frame  # scripts run, but in an opaque origin: no dashboard access
    src = re.search(r'src="([^"]+)"', frame).group(1)
    served = http.get(src)
    assert served.status_code == 200 and served.headers["content-type"].startswith("text/html")
    assert "sandbox" in served.headers["content-security-policy"]
    css = re.search(r'href="([^"]+\.css)"', served.text).group(1)
    assert http.get(src + css).status_code == 200  # relative links of the site resolve under the same base
    log = http.get(f"/site/{S[6]}/log/implement-1.log")
    assert log.headers["content-type"].startswith("text/plain") and "built it" in log.text
    assert http.get("/site/unknown.dev").status_code == 404
    assert http.get(f"/api/site/{S[6]}").json()["site"]["status"] == "I"


def test_site_page_shows_the_latest_agent_session_and_how_to_take_it_over(ws):
    """Issue 21: the session's id, phase, state and why it was kept, and the command, escaped like the rest."""
    assert "Agent session" not in client(ws).get(f"/site/{S[3]}").text
    write_session(ws, S[3], "design", reason="old")
    kept = write_session(ws, S[3], "implement", reason="usage-limit " + XSS, resumes=2)
    add_events(ws, [failure_event(S[3], time.time(), "implement: usage limit", session=kept.id, resumed=True)])
    http = client(ws)
    page = http.get(f"/site/{S[3]}").text
    card = page[page.index("Agent session"):]
    assert kept.id in card and "implement" in card and "kept (usage-limit &lt;script&gt;" in card
    assert re.search(r"<dt>resumes</dt><dd>2</dd>", card)
    assert f"<code>smb resume {S[3]}</code>" in card and f"smb resume {S[3]} --promote" in card
    assert XSS not in page
    history = page[page.index('data-live="history"'):]
    assert f"session {kept.id}, resumed" in history
    data = http.get(f"/api/site/{S[3]}").json()["session"]
    assert (data["id"], data["phase"], data["state"], data["resumes"]) == (kept.id, "implement", "kept", 2)
    assert data["command"] == f"smb resume {S[3]}"


def test_pages_survive_foreign_and_wrong_typed_records(ws):
    ws.runs.mkdir(exist_ok=True)
    (ws.runs / "junk.json").write_text("{not json")
    (ws.runs / "list.json").write_text("[1, 2]")
    (ws.runs / "odd.json").write_text(json.dumps({"run_id": "odd", "pid": "x", "breaker": "open", "agents": [1, {}],
                                                  "cost_usd": "lots", "started": None, "ended": None}))
    (ws.smb_dir / "hold.json").write_text('"just a string"')
    (ws.logs / "finish-001.json").write_text(json.dumps({"passed": "all", "failed": [None, 3]}))
    add_events(ws, [{"ts": "yesterday", "event": "status"}, {"event": "status", "ts": time.time(), "cost_usd": "x",
                                                             "class": 5, "to": "I", "from": "i"}])
    with ws.events.open("a") as handle:
        handle.write("torn line {\n[1]\n")
    http = client(ws)
    for url in ("/", "/gallery", f"/site/{S[6]}", "/api/overview", "/api/gallery"):
        assert http.get(url).status_code == 200, url


def test_missing_or_unclean_registry_is_reported_not_a_crash(ws):
    lines = ws.registry.read_text().splitlines(keepends=True)
    ws.registry.write_text("".join(lines) + lines[-1])  # a duplicate row
    page = client(ws).get("/").text
    assert "does not parse cleanly" in page and "duplicate domain" in page
    ws.registry.unlink()
    assert "no registry at" in client(ws).get("/").text


# -- escaping -------------------------------------------------------------------------------------------


def test_notes_designs_and_logs_are_escaped_everywhere(ws):
    text = ws.registry.read_text().replace(row_line(S[11], "001", "X"),
                                           row_line(S[11], "001", "X", note=XSS))
    ws.registry.write_text(text)
    ws.design_file(S[11]).write_text(
        f"# Evil\n\n{XSS}\n\n<img src=x onerror=alert(2)>\n\n[click](javascript:alert(3))\n")
    write_log(ws, S[11], "implement-3.log", XSS + "\n")
    add_events(ws, [failure_event(S[11], time.time(), "implement: " + XSS, attempt=3)])
    http = client(ws)
    for url in ("/", "/gallery?status=all", f"/site/{S[11]}"):
        body = http.get(url).text
        assert XSS not in body and "<img src=x" not in body and 'href="javascript:' not in body, url
    site = http.get(f"/site/{S[11]}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in site  # shown, as text
    assert "&lt;img src=x onerror=alert(2)&gt;" in site
    raw = http.get(f"/design/{S[11]}")
    assert raw.headers["content-type"].startswith("text/plain") and raw.headers["x-content-type-options"] == "nosniff"
    assert "script-src 'self'" in http.get("/").headers["content-security-policy"]  # no inline script would run


# -- paths ---------------------------------------------------------------------------------------------


TRAVERSALS = ["..%2f..%2f..%2f..%2fetc%2fpasswd", "%2e%2e/%2e%2e/%2e%2e/etc/passwd", "..%252f..%252fetc%252fpasswd",
              "%252e%252e%252f%252e%252e%252fetc%252fpasswd", "....//....//etc/passwd", "..\\..\\etc\\passwd",
              "%00index.html", "/etc/passwd"]


def test_no_route_serves_a_file_outside_sites_and_designs(ws, tmp_path):
    http = client(ws)
    assert http.get("/site/..%2f..%2fetc%2fpasswd").status_code == 404
    assert http.get("/site/%252e%252e%252f%252e%252e%252fetc%252fpasswd").status_code == 404
    src = re.search(r'<iframe[^>]*src="([^"]+)"', http.get(f"/site/{S[6]}").text).group(1)
    for attempt in TRAVERSALS:
        for url in (src + attempt, f"/site/{S[6]}/log/{attempt}", f"/design/{attempt}", f"/thumb/{attempt}",
                    f"/static/{attempt}", f"/static/..%2f{attempt}"):
            response = http.get(url)
            assert response.status_code in (404, 400), (url, response.status_code)
            assert "root:" not in response.text, url
    assert http.get("/static/..%2f__init__.py").status_code == 404


def test_symlinks_pointing_out_are_not_followed(ws, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    site = ws.site_dir(S[6])
    (site / "leak.txt").symlink_to(secret)
    (site / "etc").symlink_to("/etc")
    ws.sites.joinpath("evil.dev-v1").symlink_to(tmp_path)  # a whole site folder pointing out
    ws.registry.write_text(ws.registry.read_text() + row_line("evil.dev", "001", "I"))
    ws.design_file(S[7]).unlink()
    ws.design_file(S[7]).symlink_to(secret)
    http = client(ws)
    src = re.search(r'<iframe[^>]*src="([^"]+)"', http.get(f"/site/{S[6]}").text).group(1)
    assert http.get(src + "leak.txt").status_code == 404
    assert http.get(src + "etc/passwd").status_code == 404
    evil = http.get("/site/evil.dev").text
    assert "<iframe" not in evil  # not a built site: its folder is outside sites/
    assert http.get(src.replace(S[6], "evil.dev") + "secret.txt").status_code == 404
    assert http.get(f"/design/{S[7]}").status_code == 404
    assert "top secret" not in http.get(f"/site/{S[7]}").text


def test_site_files_need_the_capability_in_their_path(ws):
    http = client(ws)
    src = re.search(r'<iframe[^>]*src="([^"]+)"', http.get(f"/site/{S[6]}").text).group(1)
    assert http.get(src).status_code == 200
    cap = src.split("/")[2]
    assert http.get(src.replace(cap, "0" * len(cap))).status_code == 404
    assert http.get(src.replace(S[6], S[7])).status_code == 404  # per-site capability


# -- token, host, loopback ------------------------------------------------------------------------------


def test_with_a_token_every_request_needs_it(ws):
    token = "s3cret-token-123"
    http = client(ws, token=token)
    for url in ("/", "/api/overview", "/static/dashboard.css", "/gallery", "/api/stream", f"/thumb/{S[6]}"):
        assert http.get(url).status_code == 401, url
    assert http.get("/", headers={"Authorization": "Bearer wrong-token-xyz"}).status_code == 401
    assert http.get("/?token=wrong-token-xyz").status_code == 401
    assert http.get("/", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    # ?token= once: a cookie, and the token leaves the URL.
    first = http.get(f"/gallery?token={token}&status=all")
    assert first.status_code == 303 and first.headers["location"] == "/gallery?status=all"
    assert "HttpOnly" in first.headers["set-cookie"] and "SameSite=Strict" in first.headers["set-cookie"]
    assert token not in first.headers["set-cookie"]
    assert http.get("/gallery?status=all").status_code == 200  # the client keeps the cookie
    # The sandboxed frame sends no cookie: its files carry a capability derived from the token.
    src = re.search(r'<iframe[^>]*src="([^"]+)"', http.get(f"/site/{S[6]}").text).group(1)
    assert TestClient(http.app).get(src).status_code == 200
    # The same token after a restart keeps the cookie and the frame's links valid.
    again = client(ws, token=token)
    again.cookies = http.cookies
    assert again.get("/").status_code == 200 and again.get(src).status_code == 200


def test_on_loopback_a_foreign_host_header_is_refused(ws):
    http = client(ws, allowed_hosts=LOOPBACK_HOSTS)
    assert http.get("/", headers={"host": "attacker.example"}).status_code == 421
    assert http.get("/", headers={"host": "127.0.0.1:3000"}).status_code == 200
    assert http.get("/", headers={"host": "localhost:3000"}).status_code == 200


def test_loopback_is_the_default_and_other_hosts_need_a_token(ws, monkeypatch):
    monkeypatch.delenv("SMB_DASHBOARD_TOKEN", raising=False)
    settings = load_settings(ws.config_file)
    assert serve.__kwdefaults__["host"] == "127.0.0.1"
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1") and is_loopback("127.5.0.1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4") and not is_loopback("example.com")
    for host in ("0.0.0.0", "::", "192.168.1.4"):
        with pytest.raises(UsageError, match="--token"):
            serve(ws, settings, host=host, port=0)
    for port in (-1, 65536, "3000", True):
        with pytest.raises(UsageError, match="--port"):
            serve(ws, settings, port=port)
    with pytest.raises(UsageError, match="--token"):
        serve(ws, settings, token="short")


def test_a_port_in_use_is_a_usage_error(ws):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        with pytest.raises(UsageError, match="already in use"):
            serve(ws, load_settings(ws.config_file), port=port)


# -- controls --------------------------------------------------------------------------------------------


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)


def test_read_only_mode_has_no_write_route(ws):
    before = ws.registry.read_bytes()
    http = client(ws)
    page = http.get(f"/site/{S[11]}").text
    assert 'name="csrf"' not in page and "<form method=\"post\"" not in page
    for action in ("retry", "stop", "release-hold", "reset-breaker"):
        response = http.post(f"/control/{action}", data={"domain": S[11], "expect": "X"})
        assert response.status_code in (404, 405), action
    assert ws.registry.read_bytes() == before


def test_retry_is_a_compare_and_set_with_a_csrf_token(ws):
    http = client(ws, allow_control=True)
    before = ws.registry.read_bytes()
    page = http.get(f"/site/{S[11]}").text
    assert "Retry: X → D" in page
    form = {"domain": S[11], "expect": "X", "csrf": csrf_of(page)}
    assert http.post("/control/retry", data={**form, "csrf": "0" * 64}).status_code == 403
    assert http.post("/control/retry", data={k: v for k, v in form.items() if k != "csrf"}).status_code == 403
    cross = http.post("/control/retry", data=form, headers={"origin": "http://evil.example"})
    assert cross.status_code == 403
    assert ws.registry.read_bytes() == before  # nothing written by a refused request
    done = http.post("/control/retry", data=form, headers={"origin": "http://testserver",
                                                           "accept": "application/json"})
    assert done.status_code == 200 and done.json()["ok"], done.text
    assert f"| {S[11]} | 001 | D |" in ws.registry.read_text()
    again = http.post("/control/retry", data=form, headers={"accept": "application/json"})
    assert again.status_code == 409 and "D now, not X" in again.json()["message"]  # the site moved on
    events = [json.loads(line) for line in ws.events.read_text().splitlines()]
    assert [(e["from"], e["to"]) for e in events if e.get("domain") == S[11]] == [("X", "D")]


def test_release_hold_and_reset_breaker_write_no_registry(ws):
    http = client(ws, allow_control=True)
    before = ws.registry.read_bytes()
    hold = ws.smb_dir / "hold.json"
    hold.write_text(json.dumps({"until": time.time() + 600, "limit": "session", "message": "limit",
                                "source": "x", "since": 1700000000.5, "probes": 0}))
    page = http.get("/").text
    assert "Release hold" in page
    csrf = csrf_of(page)
    stale = http.post("/control/release-hold", data={"csrf": csrf, "since": "1600000000"})
    assert stale.status_code == 409 and hold.exists()  # a newer hold than the one shown is kept
    released = http.post("/control/release-hold", data={"csrf": csrf, "since": "1700000000.5"})
    assert released.status_code == 200 and not hold.exists()
    write_run(ws, "implement-001-live", os.getpid(), create_time(os.getpid()))
    reset = http.post("/control/reset-breaker", data={"csrf": csrf, "run": "implement-001-live"})
    assert reset.status_code == 200
    assert http.post("/control/reset-breaker", data={"csrf": csrf, "run": "nope"}).status_code == 409
    assert ws.registry.read_bytes() == before
    kinds = [json.loads(line)["event"] for line in ws.events.read_text().splitlines()]
    assert kinds == ["hold-end", "breaker"]


def test_stop_control_stops_a_real_run(ws):
    """A real `smb implement` with a hanging agent, stopped from the dashboard: its sites go back to D."""
    from support.agents import agent_cmd
    from support.cli import smb_env
    from support.processes import stop

    agent = agent_cmd("hang")
    run = subprocess.Popen([sys.executable, "-m", "smbatcher", "implement", "--batch", "001", "--agent", agent,
                            "--max-agents", "2", "--root", str(ws.root)], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=smb_env(),
                           start_new_session=True)
    try:
        http = client(ws, allow_control=True)
        overview = wait_for(lambda: (lambda d: d if d["runs"]["live"] and len(d["runs"]["live"][0]["agents"]) == 2
                                       else None)(http.get("/api/overview").json()), 20, "the run's agents")
        run_id = overview["runs"]["live"][0]["run_id"]
        page = http.get("/").text
        assert "Stop run" in page
        stopped = http.post("/control/stop", data={"csrf": csrf_of(page), "run": run_id},
                            headers={"accept": "application/json"})
        assert stopped.status_code == 200 and stopped.json()["ok"], stopped.text
        assert run.wait(timeout=20) in (130, 143)
        statuses = {d: s for d, s in re.findall(r"\| (\S+) \| 001 \| (\S) \|", ws.registry.read_text())}
        # The run reclaimed the stale claim (S[5]) first; the sites it was working on went back to D.
        assert [statuses[d] for d in S[2:6]] == ["D", "D", "D", "D"]
    finally:
        stop(run)
        print(run.stdout.read())  # the run's own account, shown when the test fails
        run.stdout.close()


# -- caching and cheap imports ------------------------------------------------------------------------------


def test_the_registry_is_parsed_once_per_version(ws, monkeypatch):
    from smbatcher.dashboard import snapshot

    calls = []
    real = snapshot.parse
    monkeypatch.setattr(snapshot, "parse", lambda text: calls.append(1) or real(text))
    http = client(ws)
    for _ in range(3):
        http.get("/")
        http.get("/gallery")
    assert len(calls) == 1
    text = ws.registry.read_text().replace(f"| {S[0]} | 001 | - |", f"| {S[0]} | 001 | D |")
    tmp = ws.registry.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, ws.registry)  # how smb writes: a new inode
    assert cells(http.get("/").text, "001")["D"] == 4
    assert len(calls) == 2


def test_the_event_log_is_read_incrementally(ws):
    from smbatcher.dashboard.sources import Sources

    def lines(found: Sources) -> int:
        with found.events() as digest:
            return digest.lines

    now = time.time()
    add_events(ws, [completion_event(d, now - 30) for d in domains(3)])
    found = Sources(ws)
    assert lines(found) == 3
    with ws.events.open("a") as handle:
        handle.write(json.dumps(completion_event(S[4], now)) + "\n" + '{"ts": 1, "event": "sta')
    assert lines(found) == 4  # the half-written line waits for its end
    with found.events() as digest:
        assert len(digest.completions["001"]) == 4
    with ws.events.open("a") as handle:
        handle.write('tus"}\n')
    assert lines(found) == 5
    ws.events.write_text(json.dumps(completion_event(S[1], now)) + "\n")  # rotated: start over
    assert lines(found) == 1


def test_a_large_event_log_is_read_in_the_background_and_pages_do_not_wait(ws, monkeypatch):
    import threading

    from smbatcher.dashboard import sources as sources_module
    from smbatcher.dashboard.sources import Sources

    monkeypatch.setattr(sources_module, "SYNC_LOAD_BYTES", 1000)  # as if the log were 100 MB
    add_events(ws, [completion_event(d, time.time() - 30) for d in domains(40)])
    found = Sources(ws)
    release = threading.Event()
    real_load = found._load_events
    monkeypatch.setattr(found, "_load_events", lambda: (release.wait(10), real_load()))
    with found.events() as digest:
        assert digest.loading and digest.lines == 0  # at once, marked as still loading
    assert client(ws).get("/").status_code == 200
    release.set()
    wait_for(lambda: found.events_loaded, 10, "the background read")
    with found.events() as digest:
        assert not digest.loading and digest.lines == 40


def test_importing_the_package_loads_no_web_stack():
    code = ("import sys, smbatcher.dashboard, smbatcher.listing; "
            "print(sorted(m for m in ('starlette', 'uvicorn', 'jinja2') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == "[]", out.stderr


def test_registry_without_rows_renders(workspace_root):
    from smbatcher.workspace import create_workspace

    ws, _ = create_workspace(workspace_root)
    ws.registry.write_text(new_registry_text())
    http = client(ws)
    assert "No sites yet" in http.get("/").text
    assert http.get("/api/gallery").json()["total"] == 0


def test_a_patched_registry_snapshot_is_what_a_full_parse_gives(ws):
    """After a change the dashboard parses only the changed rows when it can; never a different answer."""
    from smbatcher.dashboard.snapshot import snapshot_of

    def same(patched, full):
        assert patched.domains == full.domains and patched.statuses == full.statuses
        assert patched.batches == full.batches and patched.problems == full.problems
        assert {b: dict(c) for b, c in patched.counts.items()} == {b: dict(c) for b, c in full.counts.items()}
        assert dict(patched.claims) == dict(full.claims)
        assert [r.line for r in patched.registry.rows] == [r.line for r in full.registry.rows]
        assert [patched.site(i) for i in range(len(full.domains))] == [full.site(i) for i in range(len(full.domains))]

    base = ws.registry.read_text()
    edits = [
        lambda t: t.replace(row_line(S[2], "001", "D"), row_line(S[2], "001", "i", owner="run-1", attempts=1)),
        lambda t: t.replace(row_line(S[6], "001", "I"), row_line(S[6], "001", "Q", note="a | pipe")),
        lambda t: t.replace(row_line(S[6], "001", "I"), row_line(S[7], "001", "I")),  # a duplicate
        lambda t: t.replace(row_line(S[3], "001", "D"), "| broken |\n"),
        lambda t: t.replace(row_line(S[3], "001", "D"), row_line("renamed.dev", "001", "D")),
        lambda t: t.replace(row_line(S[3], "001", "D"), "\n"),  # the table ends early
        lambda t: t + "trailing text\n",
        lambda t: t.replace("# Site registry", "# Sites"),
        lambda t: t.replace(row_line(S[0], "001", "-"), row_line(S[0], "002", "D")),  # another batch
        lambda t: t,
    ]
    previous = snapshot_of(base)
    for edit in edits:
        changed = edit(base)
        same(snapshot_of(changed, previous), snapshot_of(changed))
    # A chain of edits, each patched from the last.
    chain = snapshot_of(base)
    text = base
    for n, status in ((2, "X"), (3, "Q"), (2, "D")):
        before = next(line for line in text.splitlines(keepends=True) if line.startswith(f"| {S[n]} |"))
        text = text.replace(before, row_line(S[n], "001", status))
        chain = snapshot_of(text, chain)
        same(chain, snapshot_of(text))


def test_site_history_is_read_by_offset_and_matches_smb_history(ws):
    from smbatcher import events as event_log
    from smbatcher.dashboard.sources import Sources

    now = time.time()
    add_events(ws, [completion_event(d, now - 60 + i) for i, d in enumerate(S[:8] * 3)])
    found = Sources(ws)
    assert found.history(S[6]) == list(event_log.read(ws.events, S[6]))
    with ws.events.open("a") as handle:
        handle.write("not json\n")
    add_events(ws, [failure_event(S[6], now, "implement: exit=1: late " + XSS)])
    history = found.history(S[6])
    assert history == list(event_log.read(ws.events, S[6])) and len(history) == 4
    assert history[-1]["note"].endswith(XSS)
    assert found.history(S[6], limit=2) == history[-2:]
    assert found.history("nobody.dev") == []
