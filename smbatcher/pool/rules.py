"""The counting rules: what one attempt's failure class does to its site and to the run (issues 10, 11, 19).

Pure functions of an outcome and the pool's state; the pool (``record.py``)
carries the decisions out. ``triage`` comes first: a usage limit holds the run,
a 429 backs off, a broken login stops it, a halted run counts nothing; every
other attempt goes to the breaker and the halt watch. ``settle`` comes after
the breaker has spoken: retry, park or try again later.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..agents.classes import (AUTH, BUDGET, CANNOT_START, OK, OUTAGE, RATE_LIMITED, RESUME_FAILED, SITE, STALLED,
                              USAGE_LIMIT)

# requeue values: where the site goes next
FRONT = "front"  # first in line once the hold or the back-off ends
LATER = "later"  # after the other sites, no attempt counted
RETRY = "retry"  # the retry queue, one attempt counted


@dataclass(frozen=True)
class Decision:
    counted: bool = True  # burns one of the site's attempts
    because: str = ""  # why not counted: shown on the FAIL line and in the note
    requeue: str = ""  # FRONT | LATER | RETRY | "" (done with, or parked)
    park: bool = False
    hold: bool = False  # start (or extend) a usage-limit hold
    back_off: bool = False  # rate limited: pause launching
    stop_run: bool = False  # the agent cannot authenticate: no more launches
    judged: bool = False  # the breaker and the halt watch see this attempt
    probe_done: bool = False  # a breaker probe ended without a verdict: the next probe may go


def triage(cls: str, kind: str, *, halted: bool, probe: bool, stalled_before: bool = False) -> Decision:
    """The first decision on an attempt, from its class and kind (and whether its site stalled
    before in this run: the first stall is the API's or the CLI's hang, a second one the site's)."""
    cls = cls or (OK if kind == "ok" else SITE)
    if kind == "stopped":
        return Decision(counted=True, probe_done=probe)  # written as stopped: the attempt given back
    if halted and kind != "ok":
        return Decision(counted=False, because="halted")
    if cls == USAGE_LIMIT:
        return Decision(counted=False, because="usage limit", requeue=FRONT, hold=True, probe_done=probe)
    if cls == RATE_LIMITED:
        return Decision(counted=False, because="rate limited", requeue=FRONT, back_off=True, probe_done=probe)
    if cls == RESUME_FAILED:
        return Decision(counted=False, because="resume failed", requeue=FRONT, probe_done=probe)
    if cls == STALLED and not stalled_before:
        return Decision(counted=False, because="first stall", requeue=LATER, probe_done=probe)
    if cls == AUTH:
        return Decision(counted=False, because="auth failure", stop_run=True, probe_done=probe)
    if cls == BUDGET:
        return Decision(park=True, probe_done=probe)  # the cap is the operator's: no breaker, no halt
    if cls == CANNOT_START:
        return Decision(counted=False, because="the agent cannot start", stop_run=True, probe_done=probe)
    return Decision(judged=True)


def settle(*, ok: bool, counted: bool, cls: str, probe: bool, attempt: int, max_attempts: int,
           cost_reached: bool, retries_used: int, retries: int | None) -> Decision:
    """After the breaker: ``counted`` is what it left of the count. An outage counts only as the
    breaker's probe, so that an outage lasting all night burns one attempt per cooldown, not every
    site's attempts in minutes."""
    if ok:
        return Decision()
    because = ""
    if counted and cls == OUTAGE and not probe:
        counted, because = False, "outage"
    if not counted:
        return Decision(counted=False, because=because, requeue=LATER)
    if attempt >= max_attempts or cost_reached:
        return Decision(park=True)
    if retries is None or retries_used < retries:
        return Decision(requeue=RETRY)
    return Decision()
