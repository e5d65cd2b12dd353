"""The Starlette application: routes, rendering, the live stream, and (with --allow-control) the controls.

Handlers stay thin: data comes from ``views`` (run in a worker thread: the
first parse of a 100,000-row registry takes a second or two, and the event loop
must keep serving the other pages and streams meanwhile), HTML from Jinja2
templates with autoescape on, so every domain, note, log line and design text
reaches the browser as text, never as markup.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import mimetypes
import secrets
import threading
import time
from collections import OrderedDict
from pathlib import Path
from urllib.parse import parse_qsl, quote

import anyio
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse as _StarletteJSON
from starlette.responses import (FileResponse, HTMLResponse, PlainTextResponse, RedirectResponse,
                                 Response, StreamingResponse)
from starlette.routing import Route

from ..config import Settings
from ..lifecycle import STATUSES
from ..registry import BadValue, is_domain, normalize_batch
from ..sitelog import read_tail
from ..text import escape_lines
from ..units import format_duration, format_money, format_size
from ..workspace import Workspace
from . import controls, files, views
from .auth import PAGE_CSP, SITE_CSP, Guard, derive, same_origin
from .chart import progress_svg, throughput_svg
from .sources import Sources
from .thumbnail import thumbnail_svg

HERE = Path(__file__).parent
POLL_SECONDS = 0.25  # how often a live page's stream looks for changes (the issue: within 2 s)
HEARTBEAT_SECONDS = 5.0  # the page reconnects when it has heard nothing for 3 heartbeats
REFRESH_SECONDS = 30  # rates and ETAs move with the clock even when no file changes
RENDER_CACHE = 64  # views kept rendered (the overview, a few gallery pages and site pages)
MAX_FORM_BYTES = 16 * 1024
LOG_VIEW_BYTES = 2_000_000
OVERVIEW_SECTIONS = ("alerts", "batches", "runs", "chart", "failures")
SITE_SECTIONS = ("site-status", "live-agent", "history", "logs")
GALLERY_SECTIONS = ("tiles",)


def _markdown(text: str | None) -> Markup:
    """A design document as HTML: raw HTML in it is shown as text (``html: False``), unsafe links dropped."""
    if not text:
        return Markup("")
    from markdown_it import MarkdownIt

    return Markup(MarkdownIt("commonmark", {"html": False}).enable("table").render(text))


def _ago(ts: float | None, now: float | None = None) -> str:
    if not ts:
        return "-"
    return format_duration(max(0.0, (now or time.time()) - ts))


def _clock(ts: float | None) -> str:
    if not ts:
        return "-"
    return time.strftime("%H:%M:%S", time.localtime(ts))


def _stamp(ts: float | None) -> str:
    if not ts:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def _static_assets() -> dict[str, tuple[bytes, str, str]]:
    """name -> (bytes, content type, version) of the package's static files, read once."""
    assets = {}
    for path in sorted((HERE / "static").iterdir()):
        if path.is_file() and not path.name.startswith("."):
            data = path.read_bytes()
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            if kind.startswith("text/") or kind in ("application/javascript", "image/svg+xml"):
                kind += "; charset=utf-8"
            assets[path.name] = (data, kind, hashlib.sha256(data).hexdigest()[:10])
    return assets



class JSONResponse(_StarletteJSON):
    """The API's JSON with agent text's C1, bidi and lone surrogates escaped too (issue 22): the same
    data for a JSON reader, nothing raw for `curl` in a terminal."""

    def render(self, content) -> bytes:
        return escape_lines(json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))).encode()


def _printable(value):
    """Every ``{{ }}`` of every template: autoescape handles HTML, not control characters (issue 22).
    Markup (rendered Markdown) stays Markup: its line feeds are kept, its other controls escaped."""
    if isinstance(value, Markup):
        return Markup(escape_lines(str(value)))
    return escape_lines(value) if isinstance(value, str) else value

class Dashboard:
    """Everything one server holds: the workspace, its cached sources, templates and secrets."""

    def __init__(self, workspace: Workspace, settings: Settings, *, token: str | None, allow_control: bool) -> None:
        self.workspace = workspace
        self.settings = settings
        self.sources = Sources(workspace)
        self.allow_control = allow_control
        process_secret = secrets.token_bytes(32)
        # CSRF tokens die with the process: a form from yesterday's server is refused.
        self.csrf = derive(process_secret, "csrf")
        # Site files' capability: from the token when there is one (it survives restarts), else per process.
        self.files_key = derive(token, "files") if token else process_secret.hex()
        self.assets = _static_assets()
        self._rendered: OrderedDict = OrderedDict()  # (view, domain, query) -> (fingerprint, sections)
        self._render_lock = threading.Lock()
        env = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=select_autoescape(
            enabled_extensions=("html",), default_for_string=True, default=True), trim_blocks=True,
            lstrip_blocks=True, finalize=_printable)
        env.filters.update(markdown=_markdown, ago=_ago, clock=_clock, stamp=_stamp, duration=format_duration,
                           money=format_money, size=format_size)
        env.globals.update(allow_control=allow_control, csrf=self.csrf, statuses=STATUSES,
                           status_names=views.STATUS_NAMES, status_class=views.status_class,
                           asset=self.asset_url, files_url=self.files_url, bar=self.bar, quote=quote,
                           workspace_name=workspace.root.name, workspace_path=str(workspace.root))
        self.env = env

    # -- helpers for templates --------------------------------------------------------------------------
    def asset_url(self, name: str) -> str:
        return f"/static/{name}?v={self.assets[name][2]}"

    def capability(self, domain: str) -> str:
        return derive(self.files_key, "site:" + domain)[:24]

    def files_url(self, domain: str, path: str = "") -> str:
        return f"/files/{self.capability(domain)}/{domain}/{quote(path)}"

    def bar(self, counts: dict[str, int], total: int) -> Markup:
        return progress_svg(counts, total, views.BAR_ORDER, views.status_class,
                            lambda s: views.STATUS_NAMES.get(s, s))

    def render(self, name: str, **context) -> str:
        return self.env.get_template(name).render(**context)

    def page(self, name: str, status_code: int = 200, **context) -> HTMLResponse:
        return HTMLResponse(self.render(name, **context), status_code=status_code,
                            headers={"content-security-policy": PAGE_CSP, "cache-control": "no-store"})

    # -- sections pushed by the stream -------------------------------------------------------------------
    def overview_context(self) -> dict:
        model = views.build_overview(self.sources)
        return {"o": model, "chart": throughput_svg(model.chart), "now": model.generated}

    def cached_sections(self, view: str, domain: str | None = None, query: tuple | None = None) -> dict | None:
        """The sections of a view, rendered once per change of the workspace however many pages ask.

        Keyed on the sources' fingerprint (file identities) and the clock's 30 s step: every open page's
        stream and every page load in between share one render (a 176-batch overview is 250 KB of HTML).
        """
        key = (view, domain, query)
        fingerprint = (self.sources.fingerprint(), int(time.time() // REFRESH_SECONDS))
        hit = self._rendered.get(key)
        if hit is not None and hit[0] == fingerprint:
            return hit[1]
        with self._render_lock:
            hit = self._rendered.get(key)
            if hit is not None and hit[0] == fingerprint:
                return hit[1]
            sections = self.sections(view, domain, query)
            self._rendered[key] = (fingerprint, sections)
            self._rendered.move_to_end(key)
            while len(self._rendered) > RENDER_CACHE:
                self._rendered.popitem(last=False)
            return sections

    def sections(self, view: str, domain: str | None, query: tuple | None = None) -> dict[str, str] | None:
        if view == "gallery":
            model = views.build_gallery(self.sources, *query)
            return {name: self.render(f"_{name}.html", g=model) for name in GALLERY_SECTIONS}
        if view == "site":
            model = views.build_site(self.sources, domain or "")
            if model is None:
                return None
            context = {"s": model, "now": time.time()}
            return {name: self.render(f"_{name}.html", **context) for name in SITE_SECTIONS}
        context = self.overview_context()
        return {name: self.render(f"_{name}.html", **context) for name in OVERVIEW_SECTIONS}

    # -- routes -------------------------------------------------------------------------------------------
    async def overview(self, request: Request) -> Response:
        sections = await run_in_threadpool(self.cached_sections, "overview")
        return self.page("overview.html", html={k: Markup(v) for k, v in sections.items()})

    async def api_overview(self, request: Request) -> Response:
        model = await run_in_threadpool(views.build_overview, self.sources)
        return JSONResponse(model.as_json())

    @staticmethod
    def gallery_query(params) -> tuple[str | None, tuple[str, ...], int] | str:
        """(batch, statuses, page) from the query string, or why it is not acceptable."""
        batch = params.get("batch") or None
        if batch is not None:
            try:
                batch = normalize_batch(batch)
            except BadValue as exc:
                return str(exc)
        raw_status = params.get("status")
        if raw_status in (None, ""):
            statuses = views.GALLERY_DEFAULT
        elif raw_status == "all":
            statuses = STATUSES
        else:
            wanted = tuple(s for s in raw_status.split(",") if s)
            if not wanted or any(s not in STATUSES for s in wanted):
                return f"unknown status in {raw_status[:40]!r} (known: {' '.join(STATUSES)}, or all)"
            statuses = wanted
        page = params.get("page", "1")
        if not page.isascii() or not page.isdigit() or len(page) > 7:
            return "page: want a number"
        return batch, statuses, int(page)

    async def gallery(self, request: Request) -> Response:
        query = self.gallery_query(request.query_params)
        if isinstance(query, str):
            return self.page("message.html", 400, title="Bad filter", message=query, ok=False, back="/gallery")
        batch, statuses, page = query
        model = await run_in_threadpool(views.build_gallery, self.sources, batch, statuses, page)
        return self.page("gallery.html", g=model, now=time.time())

    async def api_gallery(self, request: Request) -> Response:
        query = self.gallery_query(request.query_params)
        if isinstance(query, str):
            return JSONResponse({"error": query}, status_code=400)
        model = await run_in_threadpool(views.build_gallery, self.sources, *query)
        return JSONResponse(model.as_json())

    async def site(self, request: Request) -> Response:
        domain = request.path_params["domain"]
        model = await run_in_threadpool(views.build_site, self.sources, domain)
        if model is None:
            return self.page("message.html", 404, title="No such site",
                             message=f"{domain} is not in the registry", ok=False, back="/")
        return self.page("site.html", s=model, now=time.time(), sections=SITE_SECTIONS)

    async def api_site(self, request: Request) -> Response:
        model = await run_in_threadpool(views.build_site, self.sources, request.path_params["domain"])
        if model is None:
            return JSONResponse({"error": "no such site"}, status_code=404)
        return JSONResponse(model.as_json())

    async def site_log(self, request: Request) -> Response:
        path = files.site_log(self.workspace, request.path_params["domain"], request.path_params["name"])
        if path is None:
            return PlainTextResponse("not found\n", status_code=404)
        body = await run_in_threadpool(read_tail, path, LOG_VIEW_BYTES)
        return PlainTextResponse(body, headers={"cache-control": "no-store", "content-security-policy": "sandbox"})

    async def design(self, request: Request) -> Response:
        text = files.read_design(self.workspace, request.path_params["domain"])
        if text is None:
            return PlainTextResponse("not found\n", status_code=404)
        return PlainTextResponse(text, headers={"cache-control": "no-store", "content-security-policy": "sandbox"})

    async def site_files(self, request: Request) -> Response:
        domain = request.path_params["domain"]
        given = request.path_params["cap"]
        if not is_domain(domain) or not hmac.compare_digest(given.encode(), self.capability(domain).encode()):
            return PlainTextResponse("not found\n", status_code=404)
        relative = request.path_params.get("path", "")
        if "path" not in request.path_params:  # /files/<cap>/<domain>: relative links need the slash
            return RedirectResponse(self.files_url(domain), status_code=308)
        path = files.site_file(self.workspace, domain, relative)
        if path is None:
            return PlainTextResponse("not found\n", status_code=404)
        return FileResponse(path, headers={"content-security-policy": SITE_CSP, "cache-control": "no-cache"})

    async def thumb(self, request: Request) -> Response:
        return await run_in_threadpool(self._thumb, request.path_params["domain"])

    def _thumb(self, domain: str) -> Response:
        if not is_domain(domain):
            return PlainTextResponse("not found\n", status_code=404)
        shot = files.screenshot_path(self.workspace, domain)
        if shot is not None:
            return FileResponse(shot, media_type="image/png", headers={"cache-control": "no-cache"})
        site = self.sources.registry().row(domain)
        if site is None:
            return PlainTextResponse("not found\n", status_code=404)
        design = files.read_design(self.workspace, domain)
        label = views.STATUS_NAMES.get(site.status, site.status)
        return Response(thumbnail_svg(domain, label, design), media_type="image/svg+xml",
                        headers={"cache-control": "no-cache", "content-security-policy": "default-src 'none'"})

    async def static(self, request: Request) -> Response:
        asset = self.assets.get(request.path_params["name"])
        if asset is None:
            return PlainTextResponse("not found\n", status_code=404)
        data, kind, _ = asset
        return Response(data, media_type=kind, headers={"cache-control": "public, max-age=86400"})

    async def stream(self, request: Request) -> Response:
        view = request.query_params.get("view", "overview")
        domain = request.query_params.get("site")
        query = self.gallery_query(request.query_params) if view == "gallery" else None
        if (view not in ("overview", "site", "gallery") or (view == "site" and not is_domain(domain or ""))
                or isinstance(query, str)):
            return PlainTextResponse("not found\n", status_code=404)

        async def events():
            yield "retry: 2000\n\n"
            last = None
            beat = time.monotonic()
            while True:
                fingerprint = (await run_in_threadpool(self.sources.fingerprint), int(time.time() // REFRESH_SECONDS))
                if fingerprint != last:
                    sections = await run_in_threadpool(self.cached_sections, view, domain, query)
                    yield _sse("update", {"sections": sections or {}, "at": time.time()})
                    last, beat = fingerprint, time.monotonic()
                elif time.monotonic() - beat >= HEARTBEAT_SECONDS:
                    yield _sse("heartbeat", {"at": time.time()})
                    beat = time.monotonic()
                await anyio.sleep(POLL_SECONDS)

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"cache-control": "no-store", "x-accel-buffering": "no"})

    # -- controls (registered only with --allow-control) ----------------------------------------------------
    async def control(self, request: Request) -> Response:
        headers = request.headers
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            return PlainTextResponse("form too large\n", status_code=413)
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        token = form.get("csrf", "") or headers.get("x-csrf-token", "")
        if not hmac.compare_digest(token.encode(), self.csrf.encode()) or not same_origin(headers,
                                                                                       headers.get("host", "")):
            return PlainTextResponse("refused: missing or wrong CSRF token, or a cross-site request\n",
                                     status_code=403)
        action = request.path_params["action"]
        result = await run_in_threadpool(self._act, action, form)
        if result is None:
            return PlainTextResponse("not found\n", status_code=404)
        if "application/json" in headers.get("accept", ""):
            return JSONResponse(result.as_json(), status_code=result.status_code)
        back = form.get("back", "/")
        if not back.startswith("/") or back.startswith("//"):
            back = "/"
        return self.page("message.html", result.status_code, title="Done" if result.ok else "Not done",
                         message=result.message, ok=result.ok, back=back)

    def _act(self, action: str, form: dict[str, str]) -> controls.ControlResult | None:
        if action == "stop":
            return controls.stop_run(self.workspace, self.settings, form.get("run", ""))
        if action == "retry":
            return controls.retry_site(self.workspace, self.settings, self.sources, form.get("domain", ""),
                                       form.get("expect", ""))
        if action == "release-hold":
            since = form.get("since", "")
            try:
                shown = float(since) if since else None
            except ValueError:
                shown = None
            return controls.release_hold(self.workspace, shown)
        if action == "reset-breaker":
            return controls.reset_breaker(self.workspace, self.sources, form.get("run", ""))
        return None


def _sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def build_app(workspace: Workspace, settings: Settings, *, token: str | None, allow_control: bool,
              allowed_hosts: tuple[str, ...] | None) -> Starlette:
    dashboard = Dashboard(workspace, settings, token=token, allow_control=allow_control)
    routes = [
        Route("/", dashboard.overview),
        Route("/gallery", dashboard.gallery),
        Route("/site/{domain}", dashboard.site),
        Route("/site/{domain}/log/{name}", dashboard.site_log),
        Route("/design/{domain}", dashboard.design),
        Route("/files/{cap}/{domain}", dashboard.site_files),
        Route("/files/{cap}/{domain}/{path:path}", dashboard.site_files),
        Route("/thumb/{domain}", dashboard.thumb),
        Route("/static/{name}", dashboard.static),
        Route("/api/overview", dashboard.api_overview),
        Route("/api/gallery", dashboard.api_gallery),
        Route("/api/site/{domain}", dashboard.api_site),
        Route("/api/stream", dashboard.stream),
    ]
    if allow_control:
        # Read-only mode has no write route at all: not a refused POST, no route (issue 11).
        routes.append(Route("/control/{action}", dashboard.control, methods=["POST"]))
    app = Starlette(routes=routes, middleware=[Middleware(Guard, token=token, allowed_hosts=allowed_hosts)])
    app.state.dashboard = dashboard
    return app
