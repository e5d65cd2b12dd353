"""Which files the dashboard may serve: a site's own folder, its design, its logs; nothing else.

Every path is built from a domain that passed ``is_domain`` (no ``/``, no
``..``) and then resolved, symlinks followed, and refused unless it is still
inside the folder it belongs to: ``/site/..%2f..%2fetc%2fpasswd``, a double
encoding, or a symlink an agent left in its site pointing at ``/etc`` all get
None, which the routes turn into a 404 (issue 11).
"""

from __future__ import annotations

import re
from pathlib import Path

from ..registry import is_domain
from ..workspace import Workspace

MAX_DESIGN_BYTES = 1_000_000
LOG_NAME = re.compile(r"[a-z]+-\d{1,6}\.log")
SCREENSHOT = ".smb/screenshot.png"  # where `smb finish --screenshots` saves a site's picture


def inside(path: Path, root: Path) -> Path | None:
    """``path`` with every symlink resolved, if that is ``root`` or below it (resolved too); else None."""
    try:
        base = root.resolve(strict=True)
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError, ValueError):  # missing, a symlink loop, a NUL byte
        return None
    return resolved if resolved == base or resolved.is_relative_to(base) else None


def site_root(workspace: Workspace, domain: str) -> Path | None:
    if not is_domain(domain):
        return None
    # The site folder itself may be a symlink pointing out of sites/: refused like any other.
    return inside(workspace.site_dir(domain), workspace.sites)


def site_file(workspace: Workspace, domain: str, relative: str) -> Path | None:
    """A file of the built site (a folder means its index.html), or None."""
    if "\x00" in relative or "\\" in relative:
        return None
    parts = [p for p in relative.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        return None
    root = site_root(workspace, domain)
    if root is None:
        return None
    target = inside(root.joinpath(*parts), root)
    if target is not None and target.is_dir():
        target = inside(target / "index.html", root)
    return target if target is not None and target.is_file() else None


def site_index(workspace: Workspace, domain: str) -> Path | None:
    return site_file(workspace, domain, "index.html")


def screenshot_path(workspace: Workspace, domain: str) -> Path | None:
    return site_file(workspace, domain, SCREENSHOT)


def design_path(workspace: Workspace, domain: str) -> Path | None:
    if not is_domain(domain):
        return None
    path = inside(workspace.design_file(domain), workspace.designs)
    return path if path is not None and path.is_file() else None


def read_design(workspace: Workspace, domain: str) -> str | None:
    path = design_path(workspace, domain)
    if path is None:
        return None
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_DESIGN_BYTES + 1)
    except OSError:
        return None
    more = "\n\n(… cut: the design is larger than 1 MB)" if len(data) > MAX_DESIGN_BYTES else ""
    return data[:MAX_DESIGN_BYTES].decode("utf-8", "replace") + more


def _logs_root(workspace: Workspace) -> Path:
    return workspace.logs / "sites"


def site_log(workspace: Workspace, domain: str, name: str) -> Path | None:
    """``logs/sites/<domain>/<phase>-<n>.log``, or None."""
    if not is_domain(domain) or not LOG_NAME.fullmatch(name):
        return None
    path = inside(_logs_root(workspace) / domain / name, _logs_root(workspace) / domain)
    return path if path is not None and path.is_file() else None


def site_logs(workspace: Workspace, domain: str) -> list[dict]:
    """The site's per-attempt logs, newest first."""
    folder = inside(_logs_root(workspace) / domain, _logs_root(workspace)) if is_domain(domain) else None
    if folder is None:
        return []
    found = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return []
    for path in entries:
        if not LOG_NAME.fullmatch(path.name) or site_log(workspace, domain, path.name) is None:
            continue
        try:
            info = path.stat()
        except OSError:
            continue
        found.append({"name": path.name, "size": info.st_size, "mtime": info.st_mtime})
    found.sort(key=lambda item: (item["mtime"], item["name"]), reverse=True)
    return found


def log_path(workspace: Workspace, relative: str) -> Path | None:
    """A per-site log named by an event's ``log`` field (workspace-relative), if it is one."""
    if not relative or "\x00" in relative:
        return None
    path = inside(workspace.root / relative, _logs_root(workspace))
    return path if path is not None and path.is_file() else None
