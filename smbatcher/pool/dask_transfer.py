"""What travels between the coordinator and a Dask worker: out, what a job carries besides its
command (the shared-storage marker, its environment, and without shared storage the design and the
brief); back, without shared storage, the agent's output (the design file's bytes, the site folder as
a size-capped tar) and its log (issue 12)."""

from __future__ import annotations

import io
import os
import tarfile
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath

from .output import output_problem

SHARED_MARKER = ".dask-shared"  # in the run's staging root; its text is the executor's id


# -- what goes out with a job -------------------------------------------------------------


def shared_marker(job) -> Path:
    """The file a worker reads back to tell whether it sees the workspace: in the run's own staging
    root, even for an agent that works in a session folder (issue 21): .smbatcher/sessions/ is shared
    by every run, and each run's executor writes its own token."""
    root, run_id = job.env.get("SMB_ROOT"), job.env.get("SMB_RUN_ID")
    if not (root and run_id):
        return job.cwd.parent / SHARED_MARKER
    from ..workspace import Workspace

    return Workspace(Path(root)).tmp / run_id / SHARED_MARKER


def job_inputs(job) -> dict[str, bytes]:
    """The design and the brief, for a worker without the workspace (absent here: absent there too)."""
    inputs = {}
    for variable in ("SMB_DESIGN", "SMB_BRIEF"):
        path = job.env.get(variable)
        if path:
            try:
                inputs[path] = Path(path).read_bytes()
            except OSError:
                pass
    return inputs


def names_a_path(name: str) -> bool:
    """A job variable that names a workspace path: smb's own, and the agent's config folder (its
    session's transcript, issue 21). They always travel with the job, and a worker without the
    workspace maps them into its mirror."""
    return name.startswith("SMB_") or name == "CLAUDE_CONFIG_DIR"


def job_env(job, forward: tuple[str, ...]) -> dict[str, str]:
    """The variables a job takes to a worker: those that name workspace paths, and the ``forward`` ones."""
    return {k: v for k, v in job.env.items()
            if names_a_path(k) or any(fnmatchcase(k, pattern) for pattern in forward)}


def reason(exc: BaseException) -> str:
    """An exception as one short line."""
    text = " ".join(str(exc).split())
    return text[:300] or type(exc).__name__


class OutputProblem(Exception):
    """The agent's output cannot be shipped back (too big, a symlink or a device in it)."""


# -- shipping the output back -------------------------------------------------------------


def read_tail(path: Path, cap: int) -> bytes:
    """The log, or its last ``cap`` bytes (the end says why an agent failed) after a note."""
    try:
        with open(path, "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            if size <= cap:
                handle.seek(0)
                return handle.read()
            handle.seek(size - cap)
            return f"[smb: the first {size - cap} bytes of this log were cut on the worker]\n".encode() + handle.read()
    except OSError:
        return b""


def pack_output(output: Path, cap: int) -> tuple[str | None, bytes | None]:
    """(kind, bytes) of the agent's output: ("tar", a gzip tar of the folder), ("file", the design),
    ("dir", None) for a design that is a folder, (None, None) when nothing was written."""
    problem = output_problem(output)  # issue 22: the one rule, shared with the local executor
    if problem:
        raise OutputProblem(problem)
    if output.is_file():
        size = output.stat().st_size
        if size > cap:
            raise OutputProblem(f"the output is {size} bytes, over the cap of {cap} (max_output_bytes)")
        return "file", output.read_bytes()
    if not output.is_dir():
        return None, None
    entries: list[tuple[Path, str]] = []
    total = 0
    for folder, dirs, files in os.walk(output):
        for name in sorted(dirs) + sorted(files):
            path = Path(folder, name)
            rel = path.relative_to(output).as_posix()
            if path.is_file():
                total += path.stat().st_size
                if total > cap:
                    raise OutputProblem(f"the output is over the cap of {cap} bytes (max_output_bytes)")
            entries.append((path, rel))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=1) as tar:
        for path, rel in entries:
            info = tar.gettarinfo(str(path), arcname=rel)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if info.isfile():
                with open(path, "rb") as handle:
                    tar.addfile(info, handle)
            else:
                tar.addfile(info)
    return "tar", buffer.getvalue()


# -- unpacking what a worker sent back ------------------------------------------------------------


class OutputRefused(Exception):
    """The output a worker returned is not acceptable (an unsafe entry, over the cap)."""


def unpack_output(kind: str | None, data: bytes | None, output: Path, cap: int) -> None:
    """Put a worker's output into the staging ``output``: a design file's bytes, or the site folder's tar.

    The tar comes from our own task, but is checked as if it did not: only regular files and
    folders, relative names with no ``..``, no more than ``cap`` bytes in all. Nothing is written
    unless every entry passes."""
    if kind is None:
        return  # the agent wrote nothing: the pool's check says so
    if kind == "dir":
        output.mkdir(parents=True, exist_ok=True)
        return
    if kind == "file":
        if data is None or len(data) > cap:
            raise OutputRefused(f"the file is over the cap of {cap} bytes")
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(data)
        return
    if kind != "tar" or data is None:
        raise OutputRefused(f"unknown output kind {kind!r}")
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            members = tar.getmembers()
            total = 0
            for member in members:
                name = PurePosixPath(member.name)
                if name.is_absolute() or ".." in name.parts or not name.parts or "\\" in member.name:
                    raise OutputRefused(f"entry {member.name[:120]!r} points outside the output folder")
                if not (member.isreg() or member.isdir()):
                    raise OutputRefused(f"entry {member.name[:120]!r} is a link or a special file")
                total += member.size
                if total > cap:
                    raise OutputRefused(f"the folder is over the cap of {cap} bytes")
            output.mkdir(parents=True, exist_ok=True)
            tar.extractall(output, members=members, filter="data")
    except (tarfile.TarError, EOFError, ValueError) as exc:
        raise OutputRefused(f"not a readable tar ({reason(exc)})") from None
