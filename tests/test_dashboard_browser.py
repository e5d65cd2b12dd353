"""A real browser on the overview while a real run changes the registry: counts change without a reload.

Debian's headless Chromium, driven over the DevTools protocol through a pipe (tests/support/browser.py:
no driver, no websocket library). Skipped, saying why, when there is no Chromium.
"""

from __future__ import annotations

import subprocess
import time

import pytest

pytest.importorskip("uvicorn")

from support.agents import agent_cmd  # noqa: E402
from support.browser import Browser, find_chromium, png_variety  # noqa: E402
from support.cli import smb_argv, smb_env  # noqa: E402
from support.dashboard import Server  # noqa: E402
from support.processes import stop  # noqa: E402
from support.registry import domains  # noqa: E402
from support.workspaces import make_workspace  # noqa: E402

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (apt-get install chromium)")

NAMES = domains(8)


LIVE = "document.getElementById('live').dataset.state === 'live'"


def cell(status: str) -> str:
    """The expression for batch 001's count of ``status`` on the overview."""
    return f"parseInt(document.querySelector('#batch-001 [data-status=\"{status}\"]').textContent)"


def count(browser: Browser, status: str) -> int:
    return int(browser.evaluate(cell(status)))


def test_overview_follows_a_live_run_without_reloading(workspace_root, tmp_path):
    ws = make_workspace(workspace_root, {"001": [(d, "D") for d in NAMES]})
    started = time.monotonic()
    server = Server(ws.root)
    try:
        with Browser(CHROMIUM) as browser:
            browser.open(server.url)
            browser.wait_for(LIVE, 10, "the stream to connect")
            assert count(browser, "D") == 8 and count(browser, "I") == 0
            browser.evaluate("window.__loadedOnce = 'yes'")  # a reload would lose it
            run = subprocess.Popen(smb_argv(ws, "implement", "--batch", "001", "--max-agents", "2",
                                            "--agent", agent_cmd("succeed")),
                                   env=smb_env(FAKE_SLEEP="0.6"), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, start_new_session=True)
            try:
                # While the run goes: its agents appear, and sites move to I one by one, each pushed to
                # the open page: some count strictly between 0 and 8 shows.
                browser.wait_for("document.querySelector('[data-live=\"runs\"] .agents') !== null", 10,
                                 "the live run's agents on the page")
                seen = set()
                deadline = time.monotonic() + 20
                while run.poll() is None and time.monotonic() < deadline:
                    seen.add(count(browser, "I"))
                    time.sleep(0.05)
                output = run.stdout.read()
                assert run.wait(timeout=10) == 0, output
                assert seen & set(range(1, 8)), f"counts seen while the run went: {sorted(seen)}"
                browser.wait_for(f"{cell('I')} === 8", 5, "all 8 sites implemented")
            finally:
                stop(run)
                run.stdout.close()
            assert count(browser, "D") == 0
            shot = browser.screenshot(tmp_path / "overview.png")

            # The server goes away: the page says so, and comes back by itself with the new state.
            port = server.port
            assert server.stop() == 130
            browser.wait_for("document.getElementById('live').dataset.state === 'down'", 10, "the page to notice")
            result = subprocess.run(smb_argv(ws, "set-status", NAMES[0], "--status", "X"), env=smb_env(),
                                    capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
            assert result.returncode == 0, result.stderr
            server = Server(ws.root, port=port)
            browser.wait_for(f"{cell('X')} === 1", 15, "the page to reconnect and show the change")
            assert browser.evaluate(LIVE)
            assert browser.evaluate("window.__loadedOnce") == "yes", "the page was reloaded"
            assert browser.console_errors() == []
    finally:
        server.stop()
    width, height, variety = png_variety(shot)
    assert (width, height) == (1280, 900)
    assert variety > 64, f"the screenshot looks blank ({variety} distinct byte values)"
    assert time.monotonic() - started < 40
