"""Who may ask: the token, the Host check, CSRF, and the headers every response carries.

- With a token (``--token`` or ``$SMB_DASHBOARD_TOKEN``, required off loopback)
  every request needs it: ``Authorization: Bearer T``, or ``?token=T`` once,
  which sets an HttpOnly cookie and redirects to the same URL without it (so
  the token stays out of the address bar and the history).
- On loopback without a token, the Host header must name a loopback address:
  a web page elsewhere cannot reach the dashboard through DNS rebinding.
- Controls are POSTs carrying a CSRF token bound to this server process, and
  a cross-site Origin is refused whatever it carries.
"""

from __future__ import annotations

import hashlib
import hmac
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, urlencode

COOKIE = "smb_dashboard"

BASE_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
# The dashboard's own pages: nothing but its own files, no inline script or style, never framed.
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "frame-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
# A built site's files: agent-written, so sandboxed even when opened outside the iframe.
SITE_CSP = "sandbox allow-scripts allow-forms; default-src 'self' data:; frame-ancestors 'self'"


def derive(secret: str | bytes, purpose: str) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, purpose.encode(), hashlib.sha256).hexdigest()


def host_without_port(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class Guard:
    """Pure ASGI middleware (streams pass straight through: the SSE response is never buffered)."""

    def __init__(self, app, *, token: str | None, allowed_hosts: tuple[str, ...] | None,
                 capability_prefix: str = "/files/") -> None:
        self.app = app
        self.token = token
        # A built site in the sandboxed iframe has an opaque origin: its requests carry no cookie.
        # Its files are under a path holding a capability derived from the token, checked by the route.
        self.capability_prefix = capability_prefix
        self.cookie_value = derive(token, "cookie") if token else None
        self.allowed_hosts = allowed_hosts

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if self.allowed_hosts is not None and host_without_port(headers.get("host", "")) not in self.allowed_hosts:
            await _plain(send, 421, "this dashboard answers to its loopback address only\n")
            return
        exempt = scope.get("path", "").startswith(self.capability_prefix)
        if self.token is not None and not exempt and not self._authorized(headers):
            query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
            given = query.pop("token", None)
            if given is not None and hmac.compare_digest(given.encode(), self.token.encode()):
                location = scope.get("path", "/") + ("?" + urlencode(query) if query else "")
                cookie = f"{COOKIE}={self.cookie_value}; Path=/; HttpOnly; SameSite=Strict"
                await _plain(send, 303, "", [(b"location", location.encode("latin-1", "replace")),
                                             (b"set-cookie", cookie.encode())])
                return
            await _plain(send, 401, "a token is required: open the dashboard with ?token=T or send "
                                    "'Authorization: Bearer T'\n", [(b"www-authenticate", b"Bearer")])
            return

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in BASE_HEADERS if k not in present]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _authorized(self, headers: dict[str, str]) -> bool:
        auth = headers.get("authorization", "")
        if auth[:7].lower() == "bearer " and hmac.compare_digest(auth[7:].strip().encode(), self.token.encode()):
            return True
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:  # a malformed Cookie header is no credential, not a crash
            return False
        morsel = cookie.get(COOKIE)
        return morsel is not None and hmac.compare_digest(morsel.value.encode(), self.cookie_value.encode())


async def _plain(send, status: int, body: str, extra: list | None = None) -> None:
    payload = body.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(payload)).encode()),
                            (b"cache-control", b"no-store"), *BASE_HEADERS, *(extra or [])]})
    await send({"type": "http.response.body", "body": payload})


def same_origin(headers, host: str) -> bool:
    """A POST from this dashboard's own page: Origin (when sent) names this host; never cross-site."""
    if headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return False
    origin = headers.get("origin")
    if origin is None or origin == "null":
        return origin is None  # "null": a sandboxed frame (a built site) posting: refused
    return origin.split("://", 1)[-1].lower() == host.lower()
