"""Running smb: the real CLI in a subprocess, or the Typer app in-process (typer's CliRunner).

A subprocess is the truth (exit codes, signals, stdin from /dev/null, no terminal); the in-process
runner is for speed and for tests that patch the core (a full disk). Both take an environment
built by ``smb_env``: the test's own, minus every SMB_* variable, colour off, fixed width.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

from smbatcher.workspace import Workspace

from .agents import BIN


def smb_env(**extra: str | None) -> dict[str, str]:
    """The environment for an smb process: no SMB_* from outside, NO_COLOR, COLUMNS=120, PATH with BIN first.

    ``extra`` sets variables; a value of None removes one (``smb_env(PATH=None)``).
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("SMB_")}
    # SMB_SANDBOX=off: fake agents write markers outside their folder; tests/test_jail.py jails them.
    env.update(NO_COLOR="1", COLUMNS="120", SMB_SANDBOX="off", PATH=BIN + os.pathsep + env.get("PATH", "/usr/bin:/bin"))
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def _root(where: Workspace | Path) -> Path:
    return where.root if isinstance(where, Workspace) else Path(where)


def smb_argv(where: Workspace | Path | None, *args: str) -> list[str]:
    """``python -m smbatcher *args``, with ``--root`` when a workspace is given (none: found from the cwd)."""
    root = [] if where is None else ["--root", str(_root(where))]
    return [sys.executable, "-m", "smbatcher", *args, *root]


def run(*args: str, cwd: Path, env: dict[str, str] | None = None, input: str | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m smbatcher *args`` in ``cwd``, no ``--root``: the workspace is found as a user's shell finds it.

    No terminal; stdin is /dev/null unless ``input`` is given.
    """
    return subprocess.run(smb_argv(None, *args), cwd=cwd, env=env if env is not None else smb_env(),
                          stdin=subprocess.DEVNULL if input is None else None, input=input,
                          capture_output=True, text=True, timeout=timeout)


def run_smb(where: Workspace | Path, *args: str, env: dict[str, str] | None = None, input: str | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess:
    """``smb *args --root <workspace>`` in a real process, from the workspace's folder."""
    root = _root(where)
    return subprocess.run(smb_argv(root, *args), cwd=root, env=env if env is not None else smb_env(),
                          stdin=subprocess.DEVNULL if input is None else None, input=input,
                          capture_output=True, text=True, timeout=timeout)


def start_smb(where: Workspace | Path, *args: str, env: dict[str, str] | None = None,
              prefix: list[str] | None = None, **popen) -> subprocess.Popen:
    """smb in the background (``prefix``: e.g. ``["nohup"]``); ``collect`` waits for it.

    Its output goes to files in the workspace: a pipe nobody reads could fill up and block it.
    """
    root = _root(where)
    out = (root / f"runner-{uuid.uuid4().hex[:6]}.out").open("w+")
    err = (root / f"runner-{uuid.uuid4().hex[:6]}.err").open("w+")
    process = subprocess.Popen([*(prefix or []), *smb_argv(root, *args)], cwd=root,
                               env=env if env is not None else smb_env(), stdin=subprocess.DEVNULL,
                               stdout=out, stderr=err, **popen)
    process.out_file, process.err_file = out, err  # type: ignore[attr-defined]
    return process


def collect(process: subprocess.Popen, timeout: float = 60) -> subprocess.CompletedProcess:
    """Wait for a process from ``start_smb``; its exit code and output, as ``run_smb`` returns them."""
    code = process.wait(timeout=timeout)
    texts = []
    for handle in (process.out_file, process.err_file):  # type: ignore[attr-defined]
        handle.seek(0)
        texts.append(handle.read())
        handle.close()
    return subprocess.CompletedProcess(process.args, code, texts[0], texts[1])


def invoke(where: Workspace | Path | None, *args: str, env: dict[str, str] | None = None,
           input: str | None = None):
    """The Typer app in-process; a click ``Result`` (``.exit_code``, ``.stdout``, ``.stderr``).

    With a workspace, ``--root`` is added; without, the workspace is found from the cwd. An exception
    the app does not map to an exit code propagates (a bug shows its traceback, not "exit 1").
    """
    from typer.testing import CliRunner

    from smbatcher.cli import app

    root = [] if where is None else ["--root", str(_root(where))]
    return CliRunner().invoke(app, [*args, *root], env=env, input=input, catch_exceptions=False)


def explain(result) -> str:
    """An assertion message for a CompletedProcess or a CliRunner Result: the exit code and the output."""
    if isinstance(result, subprocess.CompletedProcess):
        return f"exit={result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return f"exit={result.exit_code}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"


def assert_one_line_error(proc: subprocess.CompletedProcess, code: int) -> str:
    """Exit ``code``, exactly one line on stderr, no traceback; returns that line."""
    assert proc.returncode == code, explain(proc)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, explain(proc)
    assert "Traceback" not in proc.stderr, explain(proc)
    return lines[0]


def read_terminal(master: int, timeout: float, *, until_closed: bool = True) -> bytes:
    """What a program writes to the pseudo-terminal whose master end is ``master``: everything until
    every writer has gone (``until_closed``), else the first bytes. Fails at ``timeout`` instead of
    hanging the suite when the program never writes or never lets go of the terminal."""
    import select
    import time

    deadline = time.monotonic() + timeout
    shown = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"the terminal was still {'open' if shown else 'silent'} after {timeout:g}s: "
                                 f"{shown[-500:]!r}")
        ready, _, _ = select.select([master], [], [], left)
        if not ready:
            continue
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: every writer of the terminal is gone
            return shown
        if not chunk:
            return shown
        shown += chunk
        if not until_closed:
            return shown
