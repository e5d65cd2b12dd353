"""The pages' data: overview, gallery and site page, computed from the cached sources.

Values only: no HTML here (templates render them, every string escaped there),
and every value also goes out as JSON (``/api/...``) for scripts.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field

from ..lifecycle import STATUSES, STEPS_LEFT
from ..registry import is_domain
from ..sitelog import read_tail
from ..workspace import Workspace
from . import files
from .chart import throughput_series
from .eventlog import EventDigest
from .snapshot import RegistrySnapshot, SiteRow
from .sources import RunView, Sources
from .values import number, text

STATUS_NAMES = {"-": "new", "d": "designing", "D": "designed", "i": "implementing", "I": "implemented",
                "Q": "finished", "X": "parked"}
# Left to right in a progress bar: furthest along first, parked last.
BAR_ORDER = ("Q", "I", "i", "D", "d", "-", "X")
GALLERY_DEFAULT = ("I", "Q")  # "built": a site folder was put in place
PER_PAGE = 48
FAILURE_GROUPS = 8
TAIL_LINES = 8


def status_class(status: str) -> str:
    """A CSS class per status (``-`` and case do not survive as class names)."""
    return "s-" + STATUS_NAMES.get(status, "unknown")


# -- overview ----------------------------------------------------------------------------------------


@dataclass
class BatchView:
    batch: str
    counts: dict[str, int]
    total: int
    rate_5m: float = 0.0
    rate_15m: float = 0.0
    steps_left: int = 0
    cost_usd: float = 0.0
    finish: dict | None = None  # {"passed": n, "failed": n, "at": epoch} from logs/finish-<batch>.json

    @property
    def rate(self) -> float:
        return self.rate_5m or self.rate_15m

    @property
    def eta_seconds(self) -> float | None:
        if not self.steps_left:
            return 0.0
        return self.steps_left / self.rate * 60 if self.rate else None

    @property
    def finished_fraction(self) -> float:
        return self.counts.get("Q", 0) / self.total if self.total else 0.0

    def as_json(self) -> dict:
        return {"batch": self.batch, "counts": self.counts, "total": self.total,
                "sites_per_min_5m": round(self.rate_5m, 2), "sites_per_min_15m": round(self.rate_15m, 2),
                "eta_seconds": None if self.eta_seconds is None else round(self.eta_seconds),
                "cost_usd": round(self.cost_usd, 4), "finish": self.finish}


@dataclass
class FailureGroup:
    reason: str
    count: int = 0
    domains: list[str] = field(default_factory=list)
    last_ts: float = 0.0
    last_domain: str = ""
    message: str = ""
    log: str = ""  # workspace-relative path of the latest failure's log
    tail: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Overview:
    generated: float
    batches: list[BatchView]
    totals: BatchView
    live: list[RunView]
    dead: list[RunView]
    hold: dict | None
    breakers: list[dict]
    halted: list[dict]
    failures: list[FailureGroup]
    chart: dict  # sites/min per series in buckets over the window (chart.throughput_series)
    problems: list[str]
    registry_error: str | None
    stale_claims: int = 0  # sites claimed by runs that are not alive


    def as_json(self) -> dict:
        return {"generated": self.generated, "batches": [b.as_json() for b in self.batches],
                "totals": self.totals.as_json(), "runs": {"live": [r.as_json() for r in self.live],
                                                          "dead": [r.as_json() for r in self.dead]},
                "hold": self.hold, "breakers": self.breakers, "halted": self.halted,
                "failures": [f.as_json() for f in self.failures], "problems": self.problems,
                "registry_error": self.registry_error, "stale_claims": self.stale_claims, "throughput": self.chart}


def _rates(stamps, now: float) -> tuple[float, float]:
    """Sites/min over the last 5 and 15 minutes, as ``smb status`` computes them."""
    in_5 = in_15 = 0
    for ts in reversed(stamps):  # appended in time order; a little slack for writers that raced
        if ts < now - 15 * 60 - 60:
            break
        if ts >= now - 15 * 60:
            in_15 += 1
            if ts >= now - 5 * 60:
                in_5 += 1
    return in_5 / 5.0, in_15 / 15.0


def _finish_summary(report: dict | None) -> dict | None:
    if report is None:
        return None
    passed = report.get("passed")
    failed = report.get("failed")
    return {"passed": len(passed) if isinstance(passed, list) else 0,
            "failed": len(failed) if isinstance(failed, list) else 0,
            "already_final": int(number(report.get("already_final")))}


def batch_views(sources: Sources, snapshot: RegistrySnapshot, digest: EventDigest, runs: list[RunView],
                now: float) -> tuple[list[BatchView], BatchView]:
    run_cost: Counter = Counter()
    for run in runs:
        run_cost[run.batch] += run.cost_usd
    views = []
    totals = BatchView(batch="all", counts={s: 0 for s in STATUSES}, total=0)
    for batch, counts in sorted(snapshot.counts.items()):
        view = BatchView(batch=batch, counts={s: counts.get(s, 0) for s in STATUSES}, total=sum(counts.values()))
        view.steps_left = sum(STEPS_LEFT.get(s, 0) * n for s, n in counts.items())
        view.rate_5m, view.rate_15m = _rates(digest.completions.get(batch, ()), now)
        # The event log has every attempt's cost; run records only the runs still on disk.
        view.cost_usd = digest.cost_by_batch.get(batch, 0.0) or run_cost.get(batch, 0.0)
        view.finish = _finish_summary(sources.finish_report(batch))
        views.append(view)
        for status, n in view.counts.items():
            totals.counts[status] += n
        totals.total += view.total
        totals.steps_left += view.steps_left
        totals.rate_5m += view.rate_5m
        totals.rate_15m += view.rate_15m
        totals.cost_usd += view.cost_usd
    return views, totals


def failure_reason(event: dict) -> str:
    """A short, stable name to group failures by: the failure class and the agent's own message when
    the pool recorded them (``site: Write failed: no space left``), else the shape of the note."""
    klass = event.get("class")
    klass = klass if isinstance(klass, str) and klass else ""
    message = " ".join(text(event.get("message")).split())[:70]
    if klass:
        detail = message or _note_reason(event)
        return f"{klass}: {detail}" if detail and detail not in ("failed", klass) else klass
    return _note_reason(event)


def _note_reason(event: dict) -> str:
    note = text(event.get("note"))
    detail = note.split(": ", 1)[1] if ": " in note else note
    if event.get("actor") == "finish":
        reason = detail.split(";")[0]
        return "finish: " + (reason.split(": ", 1)[1] if ": " in reason else reason)[:60]
    if detail.startswith("timeout"):
        return "timeout"
    match = re.match(r"exit=(-?\d+)", detail)
    if match:
        return f"exit {match.group(1)}"
    if detail.startswith("exit 0 but"):
        return "no output"
    if detail.startswith("cannot start agent"):
        return "cannot start agent"
    return detail[:60] or "failed"


def failure_groups(workspace: Workspace, digest: EventDigest, limit: int = FAILURE_GROUPS) -> list[FailureGroup]:
    groups: dict[str, FailureGroup] = {}
    for event in reversed(digest.failures):  # newest first
        reason = failure_reason(event)
        group = groups.get(reason)
        domain = text(event.get("domain"))
        if group is None:
            group = groups[reason] = FailureGroup(reason=reason, last_ts=number(event.get("ts")), last_domain=domain,
                                                  message=text(event.get("message")) or text(event.get("note")),
                                                  log=text(event.get("log")))
        group.count += 1
        if domain and domain not in group.domains and len(group.domains) < 8:
            group.domains.append(domain)
    chosen = sorted(groups.values(), key=lambda g: g.last_ts, reverse=True)[:limit]
    for group in chosen:
        path = files.log_path(workspace, group.log) if group.log else None
        if path is not None:
            group.tail = [line for line in read_tail(path, 4096).splitlines() if line.strip()][-TAIL_LINES:]
    return chosen


def hold_view(hold: dict | None, now: float) -> dict | None:
    if hold is None:
        return None
    until = number(hold.get("until"), 0.0) or None
    return {"until": until, "remaining": max(0.0, until - now) if until else None,
            "limit": text(hold.get("limit"), "unknown") or "unknown", "message": text(hold.get("message")),
            "source": text(hold.get("source")), "since": number(hold.get("since"), 0.0) or None,
            "probes": int(number(hold.get("probes")))}


def build_overview(sources: Sources, now: float | None = None) -> Overview:
    now = time.time() if now is None else now
    snapshot = sources.registry()
    runs = sources.runs()
    live = [r for r in runs if r.alive]
    live_ids = {r.run_id for r in live}
    with sources.events() as digest:  # held still while it is read: the stream's thread may fold lines in
        batches, totals = batch_views(sources, snapshot, digest, runs, now)
        failures = failure_groups(sources.workspace, digest)
        chart = throughput_series(digest.minutes, digest.first_ts, now)
        chart["loading"] = digest.loading
    dead = [r for r in runs if not r.alive and r.ended is None]
    breakers = [{"run_id": r.run_id, "state": text(r.breaker.get("state"), "closed"),
                 "until": number(r.breaker.get("until"), 0.0) or None, "trips": int(number(r.breaker.get("trips")))}
                for r in live if r.breaker and text(r.breaker.get("state"), "closed") != "closed"]
    halted = [{"run_id": r.run_id, "reason": text(r.halted.get("reason")), "fix": text(r.halted.get("fix")),
               "at": number(r.halted.get("at"), 0.0) or None}
              for r in runs if r.halted and (r.alive or (r.ended or 0) > now - 24 * 3600)]
    more = [f"(+{len(snapshot.problems) - 3} more)"] if len(snapshot.problems) > 3 else []
    return Overview(generated=now, batches=batches, totals=totals, live=live, dead=dead,
                    hold=hold_view(sources.hold(), now), breakers=breakers, halted=halted, failures=failures,
                    chart=chart, problems=snapshot.problems[:3] + more, registry_error=snapshot.error,
                    stale_claims=sum(n for owner, n in snapshot.claims.items() if owner not in live_ids))


# -- gallery -----------------------------------------------------------------------------------------


@dataclass
class Badge:
    label: str
    kind: str  # ok | fail | info
    title: str = ""


def badges_for(sources: Sources, site: SiteRow) -> list[Badge]:
    """Finish's verdict for a site: its last report's checks, or Q (final) when it passed earlier."""
    report = sources.finish_report(site.batch)
    badges: list[Badge] = []
    if site.status == "Q":
        badges.append(Badge("finished", "ok", "every finish check passed"))
    failed = report.get("failed") if report else None
    if isinstance(failed, list) and site.status != "Q":
        for item in failed:
            if isinstance(item, dict) and item.get("domain") == site.domain:
                reasons = [r for r in item.get("reasons") or [] if isinstance(r, str)]
                for reason in reasons[:3]:
                    badges.append(Badge(reason.split(": ", 1)[-1][:40], "fail", reason))
                if len(reasons) > 3:
                    badges.append(Badge(f"+{len(reasons) - 3} more", "fail", "; ".join(reasons[3:])))
                break
    passed = report.get("passed") if report else None
    if not badges and isinstance(passed, list) and site.domain in passed:
        badges.append(Badge("checks passed", "ok", "passed finish"))
    if site.status == "I" and not badges:
        badges.append(Badge("not checked", "info", "run: smb finish --batch " + site.batch))
    return badges


@dataclass
class GalleryPage:
    entries: list[dict]
    total: int
    page: int
    pages: int
    batch: str | None
    statuses: tuple[str, ...]
    batches: list[str]
    counts: dict[str, int]  # per status, within the batch filter

    def as_json(self) -> dict:
        return {"entries": self.entries, "total": self.total, "page": self.page, "pages": self.pages,
                "batch": self.batch, "statuses": list(self.statuses), "batches": self.batches, "counts": self.counts}


def build_gallery(sources: Sources, batch: str | None = None, statuses: tuple[str, ...] = GALLERY_DEFAULT,
                  page: int = 1, per_page: int = PER_PAGE) -> GalleryPage:
    snapshot = sources.registry()
    wanted = set(statuses)
    pairs = zip(snapshot.batches, snapshot.statuses)
    if batch is None:
        chosen = [i for i, (_, status) in enumerate(pairs) if status in wanted]
        counts = Counter()
        for batch_counts in snapshot.counts.values():
            counts.update(batch_counts)
    else:
        chosen = [i for i, (b, status) in enumerate(pairs) if b == batch and status in wanted]
        counts = snapshot.counts.get(batch, Counter())
    pages = max(1, -(-len(chosen) // per_page))
    page = min(max(1, page), pages)
    entries = []
    for position in chosen[(page - 1) * per_page: page * per_page]:
        site = snapshot.site(position)
        entries.append({"domain": site.domain, "batch": site.batch, "status": site.status,
                        "attempts": site.attempts, "note": site.note,
                        "screenshot": files.screenshot_path(sources.workspace, site.domain) is not None,
                        "badges": [b.__dict__ for b in badges_for(sources, site)]})
    return GalleryPage(entries=entries, total=len(chosen), page=page, pages=pages, batch=batch,
                       statuses=tuple(s for s in STATUSES if s in wanted), batches=sorted(snapshot.counts),
                       counts={s: counts.get(s, 0) for s in STATUSES})


# -- site page ---------------------------------------------------------------------------------------


@dataclass
class SiteView:
    site: SiteRow
    design: str | None  # the design document's text (rendered by the template's markdown filter)
    history: list[dict]
    logs: list[dict]  # {"name", "size", "mtime"}, newest first
    latest_log: str | None
    latest_tail: list[str]
    built: bool
    screenshot: bool
    badges: list[Badge]
    live_agent: dict | None
    retry_to: str | None  # status a retry would set (None: no retry for this status)
    session: dict | None = None  # the site's latest agent session (issue 21) and the command that takes it over

    def as_json(self) -> dict:
        return {"site": self.site._asdict(), "design": self.design, "history": self.history, "logs": self.logs,
                "built": self.built, "screenshot": self.screenshot, "badges": [b.__dict__ for b in self.badges],
                "live_agent": self.live_agent, "retry_to": self.retry_to, "session": self.session}


def retry_target(workspace: Workspace, site: SiteRow) -> str | None:
    """A parked site goes back to the start of the phase it failed in; a built one to be built again."""
    if site.status == "X":
        return "D" if files.design_path(workspace, site.domain) is not None else "-"
    if site.status == "I":
        return "D"
    return None


def build_site(sources: Sources, domain: str, history_limit: int = 200) -> SiteView | None:
    if not is_domain(domain):
        return None
    snapshot = sources.registry()
    site = snapshot.row(domain)
    if site is None:
        return None
    workspace = sources.workspace
    design = files.read_design(workspace, domain)
    history = sources.history(domain, history_limit)
    logs = files.site_logs(workspace, domain)
    latest = logs[0]["name"] if logs else None
    tail: list[str] = []
    if latest is not None:
        path = files.site_log(workspace, domain, latest)
        if path is not None:
            tail = read_tail(path, 8192).splitlines()[-40:]
    live_agent = None
    for run in sources.runs():
        if not run.alive:
            continue
        for agent in run.agents:
            if agent.domain == domain:
                live_agent = {"run_id": run.run_id, **agent.__dict__}
    return SiteView(site=site, design=design, history=history, logs=logs, latest_log=latest, latest_tail=tail,
                    built=files.site_index(workspace, domain) is not None,
                    screenshot=files.screenshot_path(workspace, domain) is not None,
                    badges=badges_for(sources, site), live_agent=live_agent,
                    retry_to=retry_target(workspace, site), session=latest_session(workspace, domain))


def latest_session(workspace: Workspace, domain: str) -> dict | None:
    """The site's latest agent session as the site page shows it, with ``smb resume``'s take-over command."""
    from .. import sessions

    found = sessions.latest(workspace, domain)
    if found is None:
        return None
    return {"id": found.id, "phase": found.phase, "state": found.state, "reason": found.reason,
            "resumes": found.resumes, "run": found.run, "attempt": found.attempt, "updated": found.updated,
            "command": f"smb resume {domain}"}
