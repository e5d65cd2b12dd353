"""The dashboard's few write actions (``--allow-control`` only): each is one existing smb operation.

Stop is ``smb stop RUN_ID``; retry is ``smb set-status D --status S --expect X``
(compare-and-set: a site that moved on since the page was drawn is left
alone); releasing a hold removes ``.smbatcher/hold.json`` (``smb hold
--release``); resetting the breaker writes nothing to the registry: a flag
file the run takes (``runs.request_breaker_reset``) and an event. None of them writes the registry other than through ``sites.set_status``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import events as event_log
from ..config import Settings
from ..errors import SmbError
from ..registry import is_domain
from ..workspace import Workspace
from .sources import Sources
from .views import retry_target

ACTOR = "dashboard"


@dataclass
class ControlResult:
    ok: bool
    message: str
    status_code: int = 200

    def as_json(self) -> dict:
        return {"ok": self.ok, "message": self.message}


def stop_run(workspace: Workspace, settings: Settings, run_id: str) -> ControlResult:
    from ..pool import stop_runs  # the pool is heavy; only a stop needs it

    try:
        result = stop_runs(workspace, settings, run_id, None, False, wait=settings.agents.grace + 10)
    except SmbError as exc:
        return ControlResult(False, exc.message, 404 if "no run" in exc.message else 409)
    if result.stopped:
        return ControlResult(True, f"stopped run {run_id}: its sites went back to where they were")
    if result.still_alive:
        return ControlResult(False, f"run {run_id} was asked to stop and is still shutting down", 202)
    return ControlResult(False, f"run {run_id} is not running", 409)


def retry_site(workspace: Workspace, settings: Settings, sources: Sources, domain: str, expect: str) -> ControlResult:
    """``smb set-status DOMAIN --status <target> --expect <what the page showed>``."""
    from ..sites import set_status
    from ..store import Store

    if not is_domain(domain):
        return ControlResult(False, "not a domain", 400)
    site = sources.registry().row(domain)
    if site is None:
        return ControlResult(False, f"unknown domain {domain}", 404)
    target = retry_target(workspace, site._replace(status=expect))
    if target is None:
        return ControlResult(False, f"a site at {expect} has nothing to retry", 400)
    store = Store(workspace, settings.registry.lock_timeout)
    try:
        result = set_status(store, [domain], target, expect=expect)
    except SmbError as exc:
        return ControlResult(False, exc.message, 409 if exc.exit_code != 3 else 503)
    if result.changed:
        return ControlResult(True, f"{domain}: {expect} -> {target}; the next run picks it up")
    now = result.unchanged[0] if result.unchanged else {}
    why = now.get("reason") or f"it is {now.get('status', '?')} now, not {expect}"
    return ControlResult(False, f"{domain} left alone: {why}", 409)


def release_hold(workspace: Workspace, since: float | None) -> ControlResult:
    """``smb hold --release`` for the hold the page showed (same ``since``): a newer one is left alone."""
    from .. import holds

    shown = holds.read(workspace)
    if shown is None and not holds.path(workspace).exists():
        return ControlResult(False, "there is no hold", 409)
    if since is not None and shown is not None and abs(shown.since - since) > 1e-6:
        return ControlResult(False, "the hold changed since the page was drawn: look again", 409)
    if holds.release(workspace) is None and holds.path(workspace).exists():
        return ControlResult(False, "the hold could not be removed", 500)
    event_log.append(workspace.events, [{"event": "hold-end", "reason": "released from the dashboard",
                                         "actor": ACTOR}])
    return ControlResult(True, "hold released: launching resumes at the pool's next turn")


def reset_breaker(workspace: Workspace, sources: Sources, run_id: str) -> ControlResult:
    run = next((r for r in sources.runs() if r.run_id == run_id and r.alive), None)
    if run is None:
        return ControlResult(False, f"run {run_id} is not running", 409)
    from ..runs import request_breaker_reset

    request_breaker_reset(workspace, run_id)  # the run takes it at its next loop turn
    event_log.append(workspace.events, [{"event": "breaker", "state": "closed", "reason": "reset from the dashboard",
                                         "run": run_id, "batch": run.batch, "actor": ACTOR}])
    return ControlResult(True, f"breaker reset requested for run {run_id}")
