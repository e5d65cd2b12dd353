"""``smb history DOMAIN``: a site's events from logs/events.jsonl, and its registry commits."""

from __future__ import annotations

from . import events as event_log
from .config import Settings
from .errors import UsageError
from .registry import BadValue, normalize_domain
from .store import Store
from .workspace import Workspace


def site_history(workspace: Workspace, settings: Settings, store: Store, domain: str) -> list[dict]:
    try:
        name = normalize_domain(domain)
    except BadValue as exc:
        raise UsageError(str(exc)) from None
    items = list(event_log.read(workspace.events, name))
    if settings.git.autocommit:
        from .gitlog import registry_history

        items.extend(registry_history(workspace, name))
    if not items and store.read().row(name) is None:
        raise UsageError(f"unknown domain {name}: no row and no events")
    items.sort(key=lambda e: e.get("ts", 0))
    return items
