"""Agent sessions no site can continue any more (issue 21): disk-space counts them and its fix removes them.

A session (``.smbatcher/sessions/<domain>-<phase>/`` and its record beside it) is kept while its site
may continue it: the site's row is in the phase's todo status or claimed for that phase. It is stale,
and only takes room, when:

- its site is not in the registry, or its row is past (or before) the phase (an implement session of
  a site at ``I``, ``Q`` or ``X``; a design session of a site at ``D`` or later);
- its record is missing or unreadable (a folder alone) or its folder is missing (a record alone);
- its transcript is gone, so the CLI has nothing to continue.

A session whose site is claimed by a live run, or whose record names a live run, is never stale: that
run's agent may be writing in its folder this very moment. Nothing is sorted while the registry has
problems: a row the parser could not read would make its site's session look orphaned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .. import sessions
from ..fs import tree_size
from ..lifecycle import PHASES, is_claim
from ..registry import Registry
from ..workspace import Workspace


@dataclass
class SortedSession:
    found: sessions.Found
    reason: str  # why it is stale, or why it is kept
    bytes: int

    @property
    def label(self) -> str:
        from ..text import escape_control

        return escape_control(f"{self.found.domain} {self.found.phase}")  # a folder's name: anyone's text


@dataclass
class SessionSort:
    kept: list[SortedSession] = field(default_factory=list)
    stale: list[SortedSession] = field(default_factory=list)
    unsorted: str | None = None  # why nothing was called stale (the registry cannot be trusted)

    @property
    def stale_bytes(self) -> int:
        return sum(s.bytes for s in self.stale)

    @property
    def kept_bytes(self) -> int:
        return sum(s.bytes for s in self.kept)

    def __bool__(self) -> bool:
        return bool(self.kept or self.stale)


def sort_sessions(workspace: Workspace, registry: Registry, live_runs: set[str]) -> SessionSort:
    """Every session on disk, kept or stale (see the module's docstring); reads only."""
    found = sessions.listing(workspace)
    result = SessionSort()
    if not found:
        return result
    if registry.problems:
        result.unsorted = "the registry has problems (registry-duplicates repairs them)"
    # Columns, not Rows: cheap on a registry of 100,000 sites (issue 13). A domain may have several
    # rows in a damaged registry: each one counts.
    rows: dict[str, list[tuple[str, str]]] = {}
    for domain, status, owner in zip(registry.column("domain"), registry.column("status"),
                                     registry.column("owner")):
        rows.setdefault(domain, []).append((status, owner))
    for item in found:
        size = _size(workspace, item)
        reason = _kept_by_live_run(item, rows.get(item.domain, []), live_runs)
        stale = False
        if reason is None and result.unsorted is not None:
            reason = "not sorted"
        elif reason is None:
            reason, stale = _verdict(workspace, item, rows.get(item.domain))
        (result.stale if stale else result.kept).append(SortedSession(item, reason, size))
    return result


def _kept_by_live_run(item: sessions.Found, rows: list[tuple[str, str]], live_runs: set[str]) -> str | None:
    for status, owner in rows:
        if is_claim(status) and owner in live_runs:
            return f"claimed by live run {owner}"
    if item.session is not None and item.session.run in live_runs:
        return f"its record names live run {item.session.run}"
    holder = sessions.held_by_hand(item.session) if item.session is not None else None
    if holder is not None:
        return f"open in smb resume (pid {holder})"
    return None


def _verdict(workspace: Workspace, item: sessions.Found, rows: list[tuple[str, str]] | None) -> tuple[str, bool]:
    """(reason, stale) for a session no live run holds."""
    if not _is_folder(item.folder):
        return "folder missing", True
    if item.session is None:
        record = sessions.record_path(workspace, item.domain, item.phase)
        return ("record unreadable" if record.exists() else "record missing"), True
    if not rows:
        return "site not in the registry", True
    phase = PHASES[item.phase]
    statuses = [status for status, _ in rows]
    if not any(status in (phase.todo, phase.claim) for status in statuses):
        return f"site at {'/'.join(statuses)}", True
    if sessions.transcript(item.folder, item.session.id) is None:
        return "transcript gone", True
    return f"site at {'/'.join(statuses)} may continue it", False


def _is_folder(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def _size(workspace: Workspace, item: sessions.Found) -> int:
    size = tree_size(item.folder)[0] if _is_folder(item.folder) else 0
    try:
        size += sessions.record_path(workspace, item.domain, item.phase).stat().st_size
    except OSError:
        pass
    return size


def remove_stale(workspace: Workspace, stale: SortedSession) -> None:
    """The session's folder and record go (``sessions.remove``); a lone record or folder alone too."""
    found = stale.found
    if found.folder.is_symlink():
        # Not ours to follow: only the record goes (rmtree refuses a link, and must).
        sessions.record_path(workspace, found.domain, found.phase).unlink(missing_ok=True)
        return
    sessions.remove(workspace, found.domain, found.phase)


def describe(sort: SessionSort, *, most: int = 8) -> list[str]:
    """The finding's lines: nothing at all when there are no sessions (a workspace without them
    reads as it did before issue 21)."""
    from ..units import format_size

    if not sort:
        return []
    if sort.unsorted is not None:
        return [(f"agent sessions: {len(sort.kept)} ({format_size(sort.kept_bytes)}), "
                 f"not sorted into kept and stale: {sort.unsorted}")]
    lines = [(f"agent sessions: {len(sort.kept)} kept ({format_size(sort.kept_bytes)}, their sites may "
              f"continue them), {len(sort.stale)} stale ({format_size(sort.stale_bytes)}, no site can "
              "continue them)")]
    if sort.stale:
        shown = ", ".join(f"{s.label} ({s.reason}, {format_size(s.bytes)})" for s in sort.stale[:most])
        lines.append(f"stale sessions: {shown}" + (f" (+{len(sort.stale) - most} more)" if len(sort.stale) > most
                                                    else ""))
    return lines
