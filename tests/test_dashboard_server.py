"""The dashboard as a real server: the live stream over a socket, and `python -m smbatcher.dashboard` as a process."""

from __future__ import annotations

import http.client
import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

pytest.importorskip("uvicorn")

from support.cli import assert_one_line_error, run_smb, smb_env  # noqa: E402
from support.dashboard import Server  # noqa: E402
from support.registry import domains  # noqa: E402
from support.workspaces import make_workspace  # noqa: E402

from smbatcher.config import load_settings  # noqa: E402
from smbatcher.dashboard import LOOPBACK_HOSTS, create_app  # noqa: E402

NAMES = domains(6)


@pytest.fixture
def ws(workspace_root):
    return make_workspace(workspace_root, {"001": [(d, "D") for d in NAMES]})


class InProcessServer:
    """uvicorn in a thread of the test, so module settings (the heartbeat) can be patched."""

    def __init__(self, app) -> None:
        import uvicorn

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off",
                                                    timeout_graceful_shutdown=1))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


class EventStream:
    """A reader of text/event-stream: ``next()`` returns (event name, data) of the next event."""

    def __init__(self, port: int, path: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.conn.request("GET", path, headers={"Accept": "text/event-stream"})
        self.response = self.conn.getresponse()
        assert self.response.status == 200
        assert self.response.getheader("content-type").startswith("text/event-stream")

    def next(self) -> tuple[str, dict]:
        name, data = "message", []
        while True:
            line = self.response.fp.readline().decode().rstrip("\n")
            if line == "":
                if data:
                    return name, json.loads("\n".join(data))
                continue
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())

    def close(self) -> None:
        self.conn.close()


def count_of(sections: dict, status: str) -> int:
    row = re.search(r'<tr id="batch-001">(.*?)</tr>', sections["batches"], re.S).group(1)
    return int(re.search(rf'data-status="{re.escape(status)}">(\d+)<', row).group(1))


def test_a_registry_change_reaches_an_open_stream_within_two_seconds(ws, monkeypatch):
    from smbatcher.dashboard import app as dashboard_app

    monkeypatch.setattr(dashboard_app, "HEARTBEAT_SECONDS", 0.3)
    # The page also refreshes on a 30 s clock step (rates and ETAs move); a step falling inside this
    # test would send an update where it expects a heartbeat, so the step is made longer than any run.
    monkeypatch.setattr(dashboard_app, "REFRESH_SECONDS", 10**9)
    server = InProcessServer(create_app(ws, load_settings(ws.config_file), allowed_hosts=LOOPBACK_HOSTS))
    try:
        stream = EventStream(server.port, "/api/stream?view=overview")
        kind, first = stream.next()
        assert kind == "update" and count_of(first["sections"], "X") == 0
        assert set(first["sections"]) == {"alerts", "batches", "runs", "chart", "failures"}
        kind, _ = stream.next()
        assert kind == "heartbeat"  # nothing changed: a heartbeat keeps the connection known alive
        changed = time.monotonic()
        result = run_smb(ws, "set-status", NAMES[0], NAMES[1], "--status", "X")  # a real writer process
        assert result.returncode == 0, result.stderr
        written = time.monotonic()
        while True:
            kind, data = stream.next()
            if kind == "update":
                break
        assert count_of(data["sections"], "X") == 2 and count_of(data["sections"], "D") == 4
        assert time.monotonic() - written < 2.0, f"{time.monotonic() - changed:.2f}s after the change"
        stream.close()
        # A dropped connection costs the server nothing: the next request is served.
        site = EventStream(server.port, f"/api/stream?view=site&site={NAMES[0]}")
        kind, data = site.next()
        assert kind == "update" and "X parked" in data["sections"]["site-status"]
        site.close()
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request("GET", "/api/stream?view=site&site=..%2f..%2fetc")
        assert conn.getresponse().status == 404
        conn.close()
    finally:
        server.close()


def test_the_module_serves_and_stops_on_ctrl_c_with_a_stream_open(ws):
    with Server(ws.root) as server:
        assert server.url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(server.url, timeout=10) as page:
            assert page.status == 200 and b'id="batch-001"' in page.read()
        port = int(server.url.rsplit(":", 1)[1].strip("/"))
        stream = EventStream(port, "/api/stream")
        assert stream.next()[0] == "update"
        started = time.monotonic()
        code = server.stop(signal.SIGINT)
        assert code == 130, server.process.stderr
        assert time.monotonic() - started < 8  # an open stream does not hold the shutdown
        stream.close()


def test_the_module_with_a_token_from_the_environment(ws):
    token = "a-long-token-from-env"
    with Server(ws.root, env=smb_env(SMB_DASHBOARD_TOKEN=token)) as server:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(server.url, timeout=10)
        assert refused.value.code == 401
        request = urllib.request.Request(server.url, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=10) as page:
            assert page.status == 200


@pytest.mark.parametrize("args, message", [
    (["--host", "0.0.0.0"], "--token"),
    (["--port", "70000"], "--port"),
    (["--token", "short"], "--token"),
])
def test_bad_usage_is_one_line_and_exit_2(ws, args, message):
    result = subprocess.run([sys.executable, "-m", "smbatcher.dashboard", "--root", str(ws.root), *args],
                            capture_output=True, text=True, stdin=subprocess.DEVNULL, env=smb_env(), timeout=30)
    line = assert_one_line_error(result, 2)
    assert line.startswith("smb: error: ") and message in line


def test_no_workspace_is_exit_2(workspace_root):
    result = subprocess.run([sys.executable, "-m", "smbatcher.dashboard", "--root", str(workspace_root / "nope")],
                            capture_output=True, text=True, stdin=subprocess.DEVNULL, env=smb_env(), timeout=30)
    assert "no smb workspace" in assert_one_line_error(result, 2)
