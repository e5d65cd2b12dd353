"""The jail: every agent sees the machine read-only but its own staging folder (issue 22).

An agent is any command, often an LLM with tools. Asking it not to touch the
workspace is not enough: ``echo ... >> $SMB_ROOT/.smbatcher/REGISTRY.md``
added a "finished" row, and any agent could overwrite another domain's site.
So each agent runs inside bubblewrap (``bwrap``, Debian's ``bubblewrap``: the
sandbox Flatpak and Claude Code itself use on Linux), a mount namespace where

- ``/`` is bound read-only (the agent still reads its tools, the venv, the
  brief and its design file, which its prompt points at);
- its staging folder (its cwd: its output and its ``CLAUDE_CONFIG_DIR``) is the
  one writable folder of the workspace;
- ``/tmp`` and ``/dev/shm`` are private, empty tmpfs (what it needs there
  under ``/tmp``, say a workspace or a CLI installed there, is bound back
  read-only);
- ``.smbatcher/tmp`` and ``.smbatcher/sessions`` (other agents' working
  folders) and ``sites/`` (other domains' sites) are hidden behind empty tmpfs.

The network, pids and users are not unshared: agents call their API, and the
pool's process-group kill and pid + create-time records keep working as they
are (bwrap stays in the agent's session, ``--die-with-parent`` takes the agent
down if bwrap is killed first). Measured here (kernel 6.18): bwrap 0.8 works
for root and, through an unprivileged user namespace, for other users; a bare
start costs about 3 ms. Landlock (ABI 7 here) could confine writes too, but
only from inside the child (a pre-exec hook, which turns Python's fast
``posix_spawn`` path off) through a third-party binding, and it cannot hide a
folder, only deny it.

``[agents] sandbox``: ``auto`` jails where bwrap works, else warns once and runs
without; ``on`` refuses to run without it; ``off`` never jails. The mode travels
with each job in ``SMB_SANDBOX`` so a Dask worker decides with its own bwrap and
its own paths, exactly as this machine does.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys

MODES = ("auto", "on", "off")
ENV = "SMB_SANDBOX"  # the run's mode, in every job's environment
_TMP = "/tmp"

_probed: dict[str, str | None] = {}  # PATH -> a working bwrap (None: none works), once per process


class JailUnavailable(OSError):
    """``sandbox = on`` and bubblewrap does not work on this machine."""


def probe(path: str | None = None) -> str | None:
    """The bwrap on ``path`` (default ``$PATH``) if it can start a jail here (once per process), else None."""
    path = os.environ.get("PATH", os.defpath) if path is None else path
    if path not in _probed:
        _probed[path] = _try(shutil.which("bwrap", path=path))
    return _probed[path]


def _try(bwrap: str | None) -> str | None:
    if bwrap is None:
        return None
    try:
        done = subprocess.run([bwrap, "--die-with-parent", "--ro-bind", "/", "/", "--dev", "/dev",
                               "--tmpfs", _TMP, "true"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return bwrap if done.returncode == 0 else None


def why_not(path: str | None = None) -> str:
    """One line: why there is no jail here (for the run log and the doctor)."""
    path = os.environ.get("PATH", os.defpath) if path is None else path
    if shutil.which("bwrap", path=path) is None:
        return "bwrap (bubblewrap) not found on PATH"
    return "bwrap cannot start a sandbox here (user namespaces off?)"


def check(mode: str, path: str | None = None) -> str | None:
    """Before a run claims anything: None when the mode can be honoured silently, a warning line for
    ``auto`` without a jail; ``on`` without one raises ``UsageError`` (exit 2, one line)."""
    if mode == "off" or probe(path) is not None:
        return None
    if mode == "on":
        from .errors import UsageError

        raise UsageError(f"agents.sandbox = \"on\" but {why_not(path)}: install bubblewrap or set sandbox = \"auto\"")
    return f"warning: agents run without a jail: {why_not(path)} (agents.sandbox = \"auto\"; install bubblewrap)"


def wrap(argv: list[str], *, cwd: str | os.PathLike, writable=(), hidden=(), readable=(),
         bwrap: str = "bwrap") -> list[str]:
    """``argv`` run inside a jail where only ``cwd`` and ``writable`` can be written, ``hidden``
    folders are empty, and ``/tmp`` is private but for ``readable`` paths under it (bound read-only)."""
    cwd = os.fspath(cwd)
    args = [bwrap, "--die-with-parent", "--ro-bind", "/", "/", "--dev", "/dev", "--tmpfs", "/dev/shm",
            "--tmpfs", _TMP]
    for path in _under_tmp(readable):
        args += ["--ro-bind", path, path]
    for path in hidden:
        args += ["--tmpfs", os.fspath(path)]
    for path in (cwd, *map(os.fspath, writable)):
        args += ["--bind", path, path]
    return args + ["--chdir", cwd, "--", *argv]


def _under_tmp(paths) -> list[str]:
    """The top folders under /tmp that hold ``paths``: bound back into the private /tmp, read-only.
    The top folder, not the path itself, so a symlink next to it (a CLI's bin/ -> lib/) still resolves."""
    tops = []
    for path in paths:
        path = os.path.abspath(os.fspath(path))
        if path.startswith(_TMP + "/"):
            top = _TMP + "/" + path[len(_TMP) + 1:].split("/", 1)[0]
            if top not in tops and os.path.exists(top):
                tops.append(top)
    return tops


def confine(argv: list[str], executable: str | None, *, cwd, env: dict[str, str]) -> tuple[list[str], str | None]:
    """The command line that starts one agent: jailed when ``env[SMB_SANDBOX]`` asks for it and bwrap
    works on this machine (``on`` without it raises ``JailUnavailable``), else as given. Paths are this
    machine's: the job's own cwd and ``SMB_ROOT`` (a Dask worker's mirror, or the shared workspace)."""
    mode = env.get(ENV, "off")
    if mode == "off":
        return argv, executable
    bwrap = probe(env.get("PATH"))
    if bwrap is None:
        if mode == "on":
            raise JailUnavailable(f"agents.sandbox = \"on\" but {why_not(env.get('PATH'))}")
        return argv, executable
    root = env.get("SMB_ROOT", "")
    hidden = [p for p in (f"{root}/.smbatcher/tmp", f"{root}/.smbatcher/sessions", f"{root}/sites")
              if root and os.path.isdir(p)]
    cwd = os.fspath(cwd)  # often inside a hidden folder: bound back, bwrap makes its mount point in the tmpfs
    program, readable = _program(executable or argv[0], root, env.get("PATH", ""), env.get("HOME", ""))
    return wrap([program, *argv[1:]], cwd=cwd, hidden=hidden, readable=[*readable, cwd], bwrap=bwrap), bwrap


@functools.lru_cache(maxsize=64)
def _program(program: str, root: str, path: str, home: str) -> tuple[str, tuple[str, ...]]:
    """The agent's program and what it must read under /tmp: the same for every agent of a run, worked
    out once (the launch path runs once per agent, bench/dispatch.py)."""
    found = shutil.which(program, path=path) if "/" not in program else None
    found = found if found and os.path.isabs(found) else program  # "./agent" stays the cwd's, as unjailed
    readable = [root, home, os.path.realpath(found), *path.split(os.pathsep)]
    readable += [sys.prefix, os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]  # the builtin agent
    return found, tuple(_under_tmp(p for p in readable if p))
