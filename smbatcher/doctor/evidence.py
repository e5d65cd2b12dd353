"""What the files on disk say about a site: shared by the checks that rebuild or correct rows."""

from __future__ import annotations

from ..lifecycle import DESIGNED, IMPLEMENTED, NEW
from ..workspace import Workspace


def site_built(workspace: Workspace, domain: str) -> bool:
    return (workspace.site_dir(domain) / "index.html").is_file()


def design_present(workspace: Workspace, domain: str) -> bool:
    try:
        return workspace.design_file(domain).stat().st_size > 0
    except OSError:
        return False


def status_from_disk(workspace: Workspace, domain: str) -> str:
    """Site built -> I, design -> D, else - (SPEC §6, finalization)."""
    if site_built(workspace, domain):
        return IMPLEMENTED
    if design_present(workspace, domain):
        return DESIGNED
    return NEW


def last_log_errors(workspace: Workspace, domain: str, limit: int = 3) -> list[str]:
    """The last lines of the site's newest agent logs, newest first."""
    folder = workspace.logs / "sites" / domain
    try:
        logs = sorted(folder.glob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return []
    from ..sitelog import last_error_line

    lines = []
    for log in logs[:limit]:
        line = last_error_line(log)
        if line:
            lines.append(f"{workspace.rel(log)}: {line}")
    return lines
