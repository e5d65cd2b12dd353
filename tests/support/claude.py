"""Running the real Claude Code CLI offline against tests/claude_mock/mockapi.py (issue 10).

Reusable by any test: install the CLI from npm into a cache folder, start the mock
on a free loopback port with a chosen scenario, build the CLI's environment, and
run commands inside the mock's network namespace, where only a loopback interface
exists, so no packet can leave the machine (root: ``unshare --net``; otherwise the
mock still listens on 127.0.0.1 only and the preset's quiet variables keep the CLI
from calling anything else, as measured in tests/claude_mock/FINDINGS.md).

A whole ``smb`` run against the mock (tests/test_claude_pool.py), for example::

    from claude_support import claude_cli, claude_mock, claude_env, run_smb_in  # fixtures + helpers
    from support.cli import smb_env

    def test_night(claude_cli, claude_mock, workspace, tmp_path):
        mock = claude_mock("usage-limit", "--reset-at", str(int(time.time()) + 5))
        env = claude_env(mock, claude_cli, tmp_path / "home", auth="oauth", base=smb_env(),
                         extra={"CLAUDE_CODE_MAX_RETRIES": "1", "API_TIMEOUT_MS": "3000"})
        result = run_smb_in(mock, workspace, "implement", "--batch", "001", "--agent", "claude", env=env)
        mock.requests()  # what the CLI asked, one dict per /v1/messages request

(by hand: ``mock.wrap([sys.executable, "-m", "smbatcher", ...])`` is the smb command line in the
mock's namespace).

Everything smb launches inherits the namespace (nsenter) and the environment.
Knobs: ``SMB_TEST_CLAUDE_DIR`` (install folder, default /tmp/smb-claude-cli) and
``SMB_TEST_CLAUDE_VERSION`` (default the version FINDINGS.md was measured with;
``latest`` to try the newest).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from smbatcher.agents import prompt_template
from smbatcher.agents.outcome import AgentReport, classify
from smbatcher.agents.presets import AgentSpec, agent_env

HERE = Path(__file__).resolve().parents[1]  # tests/
MOCK = HERE / "claude_mock" / "mockapi.py"
CLI_PACKAGE = "@anthropic-ai/claude-code"
CLI_VERSION = os.environ.get("SMB_TEST_CLAUDE_VERSION") or "2.1.197"
CLI_DIR = Path(os.environ.get("SMB_TEST_CLAUDE_DIR") or "/tmp/smb-claude-cli")
INSTALL_TIMEOUT = 600

# Variables of the machine's own Claude/Anthropic set-up that must never reach a test's CLI:
# a real key or token, a real config folder, or the preset's knobs set by hand.
_SCRUBBED_PREFIXES = ("ANTHROPIC_", "CLAUDE_", "DISABLE_")
_SCRUBBED = {"API_TIMEOUT_MS", "IS_SANDBOX", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy",
             "ALL_PROXY", "all_proxy", "NODE_OPTIONS"}


# --- the CLI -------------------------------------------------------------------------------------
def _cli_version(exe: Path) -> str:
    try:
        out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=60,
                             stdin=subprocess.DEVNULL, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                                                            "HOME": str(CLI_DIR), "DISABLE_AUTOUPDATER": "1"})
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def install_claude(folder: Path = CLI_DIR, version: str = CLI_VERSION) -> tuple[Path | None, str]:
    """The CLI's executable, installed with npm into ``folder`` if not there yet; (None, why) when it
    cannot be (no npm, registry unreachable)."""
    exe = folder / "node_modules" / ".bin" / "claude"
    found = _cli_version(exe) if exe.exists() else ""
    if found and (version == "latest" or found.split()[0] == version):
        return exe, found
    npm = shutil.which("npm")
    if not npm:
        return None, "npm is not installed (apt-get install npm), so the real Claude Code CLI cannot be installed"
    folder.mkdir(parents=True, exist_ok=True)
    from filelock import FileLock

    with FileLock(str(folder / ".install.lock"), timeout=INSTALL_TIMEOUT):
        found = _cli_version(exe) if exe.exists() else ""
        if not (found and (version == "latest" or found.split()[0] == version)):
            package = folder / "package.json"
            if not package.exists():
                package.write_text('{"name": "smb-claude-cli", "private": true}\n', encoding="utf-8")
            try:
                proc = subprocess.run([npm, "install", "--no-audit", "--no-fund", f"{CLI_PACKAGE}@{version}"],
                                      cwd=folder, capture_output=True, text=True, timeout=INSTALL_TIMEOUT,
                                      stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired:
                return None, f"npm install {CLI_PACKAGE}@{version} did not finish in {INSTALL_TIMEOUT}s"
            if proc.returncode != 0:
                errors = [line for line in proc.stderr.splitlines()
                          if line.strip() and "complete log of this run" not in line]
                why = "; ".join(errors[:2]) or f"exit {proc.returncode}"
                return None, f"npm install {CLI_PACKAGE}@{version} failed (registry unreachable?): {why}"
            found = _cli_version(exe)
    if not found:
        return None, f"{exe} was installed but `claude --version` does not run"
    return exe, found


# --- the mock API ------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def netns_usable() -> bool:
    """Whether this process may make a network namespace (root, or CAP_SYS_ADMIN) and has the tools."""
    if not all(shutil.which(tool) for tool in ("unshare", "nsenter", "ip")):
        return False
    try:
        return subprocess.run(["unshare", "--net", "--", "ip", "link", "set", "lo", "up"], capture_output=True,
                              timeout=10, stdin=subprocess.DEVNULL).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


# The page the mock's agent writes unless a test gives --html: one that passes `smb finish`'s checks
# (the mock's own default is under finish's 200-byte minimum, so every site would get repair turns).
SITE_HTML = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Mock site</title></head>
<body><h1>Hello from the mock model</h1><p>Written by the Write tool, one page with enough words in it to
pass the checks that smb finish runs on every site.</p></body>
</html>
"""


class MockAPI:
    """mockapi.py on a free loopback port, in its own network namespace when allowed."""

    def __init__(self, folder: Path, scenario: str = "ok", *args: str, isolate: bool | None = None) -> None:
        self.folder = Path(folder)
        self.scenario = scenario
        self.args = [str(a) for a in args]
        if "--html" not in self.args:
            self.args += ["--html", SITE_HTML]
        self.isolated = netns_usable() if isolate is None else isolate
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.log = self.folder / "mock.log"

    def start(self, deadline: float = 15) -> "MockAPI":
        self.folder.mkdir(parents=True, exist_ok=True)
        port_file = self.folder / "mock.port"
        port_file.unlink(missing_ok=True)
        argv = [sys.executable, str(MOCK), "--port", "0", "--port-file", str(port_file), "--scenario",
                self.scenario, "--log", str(self.log), *self.args]
        if self.isolated:
            # The namespace lives as long as the mock: everything run through wrap() joins it.
            argv = ["unshare", "--net", "--", "sh", "-c", 'ip link set lo up && exec "$0" "$@"', *argv]
        with open(self.folder / "mock.stderr", "wb") as err:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                         start_new_session=True)
        end = time.monotonic() + deadline
        while not port_file.exists():
            if self.proc.poll() is not None or time.monotonic() > end:
                self.stop()
                raise RuntimeError(f"the mock API did not start: {self.stderr()[-500:]}")
            time.sleep(0.02)
        self.port = int(port_file.read_text())
        return self

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wrap(self, argv: list[str]) -> list[str]:
        """``argv`` run inside the mock's network namespace (unchanged when not isolated)."""
        if not self.isolated:
            return list(argv)
        return ["nsenter", f"--net=/proc/{self.proc.pid}/ns/net", "--", *argv]

    def records(self) -> list[dict]:
        try:
            lines = self.log.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in lines if line.strip()]

    def requests(self) -> list[dict]:
        """The /v1/messages requests the CLI made, oldest first."""
        return [r for r in self.records() if r.get("path", "").startswith("/v1/messages")]

    def stderr(self) -> str:
        try:
            return (self.folder / "mock.stderr").read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def __enter__(self) -> "MockAPI":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def claude_env(mock: MockAPI, cli: Path, home: Path, auth: str = "apikey", extra: dict | None = None,
               base: dict | None = None) -> dict[str, str]:
    """An environment for the CLI (or for smb launching it) that talks only to ``mock``: the CLI's
    folder first on PATH, a fresh HOME, the mock's URL and a dummy credential (``apikey``: an API
    key; ``oauth``: a subscriber token, the only mode that reports usage limits; ``none``)."""
    base = dict(os.environ if base is None else base)
    env = {k: v for k, v in base.items() if not k.startswith(_SCRUBBED_PREFIXES) and k not in _SCRUBBED}
    home.mkdir(parents=True, exist_ok=True)
    env.update({"PATH": f"{cli.parent}{os.pathsep}{base.get('PATH', '/usr/bin:/bin')}", "HOME": str(home),
                "ANTHROPIC_BASE_URL": mock.base_url, "LANG": "C.UTF-8", "TERM": "dumb", "NO_COLOR": "1"})
    if auth == "apikey":
        env["ANTHROPIC_API_KEY"] = "sk-test-dummy"
    elif auth == "oauth":
        env["CLAUDE_CODE_OAUTH_TOKEN"] = "sk-ant-oat01-mock-dummy"
    elif auth != "none":
        raise ValueError(f"auth must be apikey, oauth or none, not {auth!r}")
    env.update(extra or {})
    return env


# The preset's retries and request timeout, shortened through smb's environment (as an operator would):
# a failing case takes seconds, not the CLI's minutes.
FAST = {"CLAUDE_CODE_MAX_RETRIES": "1", "API_TIMEOUT_MS": "3000"}


def smb_claude_env(mock: MockAPI, cli: Path, tmp_path: Path, auth: str = "apikey", **extra: str) -> dict[str, str]:
    """smb's test environment (support.cli.smb_env) for runs whose agent is the real CLI against ``mock``,
    with ``FAST`` and ``extra`` (``SMB_SANDBOX="on"`` for a jailed run)."""
    from .cli import smb_env

    return claude_env(mock, cli, tmp_path / "home", auth=auth, base=smb_env(), extra={**FAST, **extra})


# --- one agent attempt, the way the runner launches it -------------------------------------------
@dataclass
class AgentRun:
    returncode: int | None
    log: str
    timed_out: bool
    output: Path
    output_ok: bool
    seconds: float
    report: AgentReport
    staging: Path


@dataclass
class LaunchedAgent:
    proc: subprocess.Popen
    log_path: Path
    output: Path
    staging: Path
    phase: str
    started: float


def launch_agent(spec: AgentSpec, mock: MockAPI, env: dict[str, str], staging: Path, phase: str = "implement",
                 domain: str = "lotus.dev") -> LaunchedAgent:
    """Start ``spec`` once like smb's runner does: the staging folder as cwd, the SMB_* variables and
    the preset's environment, the built-in prompt on a stdin closed after it, stdout+stderr to one
    log, its own session."""
    staging.mkdir(parents=True)
    if phase == "implement":
        output = staging / "site"
        output.mkdir()
    else:
        output = staging / f"{domain}-DESIGN.md"
    design = staging.parent / f"{domain}-DESIGN.md"
    prompt = prompt_template(staging / "no-prompts", phase).safe_substitute(
        domain=domain, batch="001", phase=phase, output=str(output), brief="Small sites for testing.",
        design="# A design\n", design_path=str(design), attempt="1")
    full = dict(env)
    full.update(agent_env(spec, staging, full))
    full.update({"SMB_PHASE": phase, "SMB_DOMAIN": domain, "SMB_BATCH": "001", "SMB_ATTEMPT": "1",
                 "SMB_OUTPUT": str(output), "SMB_ROOT": str(staging.parent), "SMB_BRIEF": str(staging.parent / "b")})
    log_path = staging.parent / f"{staging.name}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(mock.wrap(list(spec.argv)), cwd=staging, env=full, stdin=subprocess.PIPE,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    proc.stdin.write(prompt.encode())
    proc.stdin.close()
    return LaunchedAgent(proc, log_path, output, staging, phase, time.monotonic())


def finish_agent(agent: LaunchedAgent, timeout: float = 60) -> AgentRun:
    """Wait for the agent (its group gets SIGTERM, then SIGKILL, at ``timeout``) and classify the attempt."""
    proc, timed_out = agent.proc, False
    try:
        proc.wait(max(0.0, timeout - (time.monotonic() - agent.started)))
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    seconds = time.monotonic() - agent.started
    text = agent.log_path.read_text(encoding="utf-8", errors="replace")
    output = agent.output
    output_ok = (output / "index.html").is_file() if agent.phase == "implement" else output.is_file()
    report = classify(proc.returncode, text, timed_out, output_ok)
    return AgentRun(proc.returncode, text, timed_out, output, output_ok, seconds, report, agent.staging)


def run_agent(spec: AgentSpec, mock: MockAPI, env: dict[str, str], staging: Path, phase: str = "implement",
              domain: str = "lotus.dev", timeout: float = 60) -> AgentRun:
    """One attempt, start to verdict (``launch_agent`` then ``finish_agent``)."""
    return finish_agent(launch_agent(spec, mock, env, staging, phase, domain), timeout)


# --- a whole smb run inside the mock's namespace ------------------------------------------------
def run_smb_in(mock: MockAPI, where, *args: str, env: dict[str, str], timeout: float = 90,
               grace: float = 15) -> subprocess.CompletedProcess:
    """``smb *args --root <where>`` in the mock's network namespace, as support.cli.run_smb runs it
    (its output in files, stdin from /dev/null). At ``timeout`` the run gets SIGTERM (it stops its
    agents and returns their sites), SIGKILL after ``grace``, and the test fails with its output:
    a hung run must not hang the suite nor leave agents behind."""
    from support.cli import collect, explain, start_smb

    process = start_smb(where, *args, env=env, prefix=mock.wrap([]))
    try:
        return collect(process, timeout=timeout)
    except subprocess.TimeoutExpired:
        process.terminate()  # nsenter execs smb: the signal reaches smb itself
        try:
            result = collect(process, timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            result = collect(process, timeout=grace)
        raise AssertionError(f"smb {' '.join(args)} did not finish in {timeout}s\n{explain(result)}") from None


# --- pytest fixtures (import them into a test module to use them) -------------------------------
@pytest.fixture(scope="session")
def claude_cli() -> Path:
    """The real CLI's executable; the test is skipped, with the reason, when npm cannot install it."""
    exe, detail = install_claude()
    if exe is None:
        pytest.skip(f"real Claude Code CLI unavailable: {detail}")
    return exe


@pytest.fixture
def claude_mock(tmp_path: Path):
    """Start mocks: ``claude_mock("usage-limit", "--reset-in", "5")``; all are stopped after the test."""
    started: list[MockAPI] = []

    def start(scenario: str = "ok", *args: str) -> MockAPI:
        mock = MockAPI(tmp_path / f"mock-{len(started)}", scenario, *args).start()
        started.append(mock)
        return mock

    yield start
    for mock in started:
        mock.stop()
