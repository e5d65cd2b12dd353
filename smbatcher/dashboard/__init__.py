"""``smb dashboard``: a live web page of the workspace, a gallery of what was built (issue 11).

    sources.py    the files read, each cached on its identity (inode, mtime_ns, size)
    snapshot.py   one version of the registry: parallel lists, counts; patched after a change
    eventlog.py   logs/events.jsonl folded into rates, chart, costs, failures; read incrementally
    values.py     fields of foreign or older records, type-checked
    views.py      overview, gallery and site page data (values; also the JSON API)
    chart.py      the throughput chart and progress bars, as SVG drawn on the server
    thumbnail.py  a generated picture for a site without a screenshot
    files.py      which paths may be served: a site's folder, its design, its logs
    auth.py       token, Host check, CSRF, security headers
    controls.py   stop a run, retry a site, release a hold, reset the breaker (--allow-control)
    app.py        the Starlette routes and the server-sent-events stream

Starlette, uvicorn and Jinja2 are imported inside ``serve`` and ``create_app``
only: importing this package costs nothing, and ``smb list-sites`` never
loads a web stack.
"""

from __future__ import annotations

import ipaddress
import os
import signal
import socket

from ..errors import EXIT_SIGINT, UsageError

TOKEN_ENV = "SMB_DASHBOARD_TOKEN"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 3000
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")  # Host header names answered on loopback without a token


def is_loopback(host: str) -> bool:
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_port(port) -> int:
    """1-65535, or 0 for "any free port" (the URL printed says which)."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise UsageError(f"--port: want a port number from 1 to 65535, got {port!r}")
    return port


def resolve_token(token: str | None) -> str | None:
    value = token if token is not None else os.environ.get(TOKEN_ENV)
    if value is None or value == "":
        return None
    if not value.strip() or len(value) < 8 or any(c.isspace() or not c.isprintable() for c in value):
        raise UsageError(f"--token: want at least 8 printable characters without spaces (or set ${TOKEN_ENV})")
    return value


def create_app(workspace, settings, *, token: str | None = None, allow_control: bool = False,
               allowed_hosts: tuple[str, ...] | None = None):
    """The Starlette app (what ``serve`` runs; tests drive it with Starlette's TestClient).

    ``allowed_hosts``: Host header names answered (``serve`` passes the loopback names when bound to
    loopback without a token, against DNS rebinding); None answers any.
    """
    from .app import build_app

    return build_app(workspace, settings, token=token, allow_control=allow_control, allowed_hosts=allowed_hosts)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and without
    # it a keep-alive response waits 40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        if exc.errno in (98, 48):  # EADDRINUSE (Linux, macOS)
            raise UsageError(f"--port {port}: already in use on {host} (pick another with --port)") from None
        if isinstance(exc, socket.gaierror) or exc.errno in (99, 49, -2, -3, -5):
            raise UsageError(f"--host {host}: not an address of this machine ({exc.strerror or exc})") from None
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def serve(workspace, settings, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, token: str | None = None,
          allow_control: bool = False, open_browser: bool = False, ui=None) -> int:
    """Run the dashboard until Ctrl-C. Off loopback a token is required; with one, every request needs it."""
    check_port(port)
    token = resolve_token(token)
    loopback = is_loopback(host)
    if not loopback and token is None:
        raise UsageError(f"--host {host} is reachable from other machines: pass --token T "
                         f"(or set ${TOKEN_ENV}) so every request needs it")
    if ui is None:
        from ..ui import UI

        ui = UI()
    import threading

    import uvicorn

    _Server = _server_class()
    sock = _bind(host, port)
    bound_port = sock.getsockname()[1]
    app = create_app(workspace, settings, token=token, allow_control=allow_control,
                     allowed_hosts=LOOPBACK_HOSTS if loopback and token is None else None)
    # Warm the caches now, not on the first page load (a 100,000-row registry takes a moment).
    threading.Thread(target=app.state.dashboard.cached_sections, args=("overview",), daemon=True,
                     name="dashboard-warm").start()
    shown = f"[{host.strip('[]')}]" if ":" in host.strip("[]") else host
    url = f"http://{shown}:{bound_port}/"
    mode = "controls on" if allow_control else "read-only"
    ui.info(f"dashboard: {url} ({mode}{', token required' if token else ''}); Ctrl-C to stop")
    ui.flush()
    if open_browser:
        import webbrowser

        target = url + (f"?token={token}" if token else "")
        threading.Timer(0.5, webbrowser.open, args=(target,)).start()
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                            timeout_graceful_shutdown=2, server_header=False)
    server = _Server(config)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it shut down for
        return EXIT_SIGINT
    # Ctrl-C is how a dashboard ends: 130 like every smb command stopped by SIGINT (SPEC §3), even when
    # SIGINT was ignored in this process (started in the background by a shell) so nothing was re-raised.
    return EXIT_SIGINT if server.stopped_by == signal.SIGINT else 0


def _server_class():
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, remembering which signal stopped it."""

        stopped_by: int | None = None

        def handle_exit(self, sig, frame) -> None:
            if self.stopped_by is None:
                self.stopped_by = sig
            super().handle_exit(sig, frame)

    return Server
