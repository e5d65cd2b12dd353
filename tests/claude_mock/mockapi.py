#!/usr/bin/env python3
"""Tiny offline mock of the Anthropic Messages API, for driving the real
Claude Code CLI (`claude -p`) in integration tests.

Standard library only.  Listens on 127.0.0.1 (loopback only) and implements:

  POST /v1/messages               streaming (SSE, "stream": true) and non-streaming
  POST /v1/messages/count_tokens  {"input_tokens": N}
  GET  /v1/models[/<id>]          a one-model list
  anything else                   logged, answered 404 with an Anthropic-style error

Scenarios (--scenario):

  ok           Scripted two-turn agent conversation.  A "main" request (one whose
               `tools` list contains the Write tool) that does not yet carry a
               tool_result gets a tool_use of Write creating <cwd>/index.html
               (the folder a prompt names in "Fill the folder /abs/path", else
               the cwd from the system prompt's "working directory" line, or
               --workdir); once the conversation carries a tool_result the
               model answers the text "done".  Any other ("side") request, e.g.
               a title/summary helper call, gets a short plain text answer.
  429          HTTP 429 rate_limit_error with a `retry-after` header.
  529          HTTP 529 overloaded_error.
  500          HTTP 500 api_error.
  400          HTTP 400 invalid_request_error.
  401          HTTP 401 authentication_error.
  usage-limit  HTTP 429 like a Claude subscription that hit its usage limit:
               rate_limit_error body plus the unified rate-limit headers
               anthropic-ratelimit-unified-status: rejected,
               ...-representative-claim: five_hour, ...-reset: <epoch seconds>.
               Also sends retry-after = --reset-in unless --retry-after 0.
               The CLI only interprets the unified headers when it authenticates
               as a subscriber (CLAUDE_CODE_OAUTH_TOKEN), see README.md.
  drop         Streams message_start and one text delta, then closes the TCP
               connection mid-stream (non-streaming: closes without answering).
  hang         Reads the request and never answers (sleeps --hang-seconds).

Options added in this copy (tests/claude_mock/, for smbatcher's tests):
  --claim C        usage-limit: the representative claim (five_hour -> "session limit",
                   seven_day -> "weekly limit", seven_day_opus -> "Opus limit", ...)
  --utilization U  ok answers carry the unified quota headers of a subscriber at U (0..1),
                   so the CLI emits a rate_limit_event with "utilization"
  --stream-delay S seconds before each streamed event (a slow model)
  --reset-at E     usage-limit: a fixed reset time (epoch seconds) instead of now + --reset-in;
                   every request before it is refused and every request after it is answered
                   like ok, as a real limit lifts at its reset (whole-run hold tests)
  --reset-after S  usage-limit: the same, with the reset S seconds after the first /v1/messages
                   request (a test need not guess how long the CLI takes to start)
  --port 0 --port-file F   listen on a free port and write it to F
  The ok scenario writes the design file when the prompt names one ("... to the file /abs/x.md").

--fail-first N makes an error scenario fail only the first N /v1/messages
requests and then behave like `ok` (to test that the caller recovers after
retries).  Without it (N=0) every /v1/messages request fails.
--ok-first K answers the first K requests like `ok` before the scenario starts
(an agent that hits the limit mid-work), and --steps S makes the `ok` agent write
S files, one a turn (part-1.css ... then index.html), counting the tool results
its conversation already carries: a resumed session goes on where it stopped,
a restarted one begins again.  With --fixed-html H, a conversation that already
wrote files and then gets a user message naming a "broken link" (a repair
request) rewrites index.html with H.  Reported input tokens count the whole request
(system prompt, tool schemas, messages), so the cost the CLI reports follows
what a request carries.

Every request is logged as one JSON line (to stderr and to --log if given):
time, method, path, selected headers (secrets redacted), body size and, for
/v1/messages, model, stream flag, tool names, number of messages and what the
mock answered.
"""

import argparse
import json
import os
import re
import socket
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SCENARIOS = ["ok", "429", "529", "500", "400", "401", "usage-limit", "drop", "hang"]

# error scenario -> (HTTP status, Anthropic error type, message)
ERRORS = {
    "429": (429, "rate_limit_error",
            "This request would exceed the rate limit for your organization. (mock)"),
    "529": (529, "overloaded_error", "Overloaded"),
    "500": (500, "api_error", "Internal server error"),
    "400": (400, "invalid_request_error", "messages: mock invalid request"),
    "401": (401, "authentication_error", "invalid x-api-key"),
    "usage-limit": (429, "rate_limit_error",
                    "This request would exceed your account's rate limit. Please try again later."),
}

DEFAULT_HTML = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Mock site</title></head>
<body><h1>Hello from the mock model</h1><p>Written by the Write tool.</p></body>
</html>
"""

# representative claim -> the abbreviation of its per-window headers (as the CLI reads them)
CLAIM_ABBREV = {"five_hour": "5h", "seven_day": "7d", "seven_day_opus": "7d_opus",
                "seven_day_sonnet": "7d_sonnet"}

DESIGN_MD = """# Mock design

Tagline: written by the mock model.

## Palette
- background: #ffffff
- text: #1b1b1b
- primary: #1a5276
"""

SECRET_HEADERS = {"x-api-key", "authorization", "cookie", "proxy-authorization"}
# headers worth logging (everything else is dropped to keep the log short)
LOGGED_HEADERS = {"user-agent", "anthropic-version", "anthropic-beta", "content-type",
                  "x-app", "x-stainless-retry-count", "x-stainless-timeout",
                  "x-stainless-lang", "x-stainless-package-version", "accept",
                  "x-claude-code-session-id", "x-api-key", "authorization", "connection"}


class State:
    """Mutable server state shared by handler threads."""

    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.n_messages = 0          # /v1/messages requests seen
        self.t0 = time.time()
        self.log_fh = open(args.log, "a", buffering=1) if args.log else None

    def log(self, rec):
        rec = {"t": round(time.time() - self.t0, 3), **rec}
        line = json.dumps(rec, sort_keys=False)
        with self.lock:
            print(line, file=sys.stderr, flush=True)
            if self.log_fh:
                self.log_fh.write(line + "\n")


def redact_headers(headers):
    out = {}
    for k, v in headers.items():
        lk = k.lower()
        if lk not in LOGGED_HEADERS and not lk.startswith("anthropic-") and not lk.startswith("x-"):
            continue
        if lk in SECRET_HEADERS:
            v = (v[:12] + "...<redacted>") if len(v) > 12 else "<redacted>"
        out[lk] = v
    return out


def text_of(content):
    """Flatten a message `content` (string or block list) into plain text."""
    if isinstance(content, str):
        return content
    parts = []
    for b in content or []:
        if isinstance(b, dict):
            if b.get("type") == "text":
                parts.append(b.get("text", ""))
            elif b.get("type") == "tool_result":
                parts.append(text_of(b.get("content")))
    return "\n".join(parts)


def system_text(system):
    return text_of(system) if system is not None else ""


def find_workdir(req, fallback):
    """The CLI puts 'Primary working directory: /abs/path' (or similar) in the
    system prompt or in the first user message's <env> block."""
    hay = system_text(req.get("system")) + "\n" + "\n".join(
        text_of(m.get("content")) for m in req.get("messages", [])[:2])
    # A prompt that names its output folder ("Fill the folder /abs/path with ...") wins.
    m = re.search(r"\b(?:[Ff]ill|[Ww]rite into|[Oo]utput) the folder (/[^\s`'\"]+?)[.,:;]?(?:\s|$)", hay) \
        or re.search(r"[Ww]orking directory:\s*(/\S+)", hay)
    return m.group(1) if m else fallback


def find_design_file(req):
    """smb's design prompt says 'Write a design document in markdown to the file /abs/x-DESIGN.md.'"""
    hay = "\n".join(text_of(m.get("content")) for m in req.get("messages", [])[:2])
    m = re.search(r"to the file (/\S+?\.md)[.,:;]?(?:\s|$)", hay)
    return m.group(1) if m else None


def has_tool_result(req):
    msgs = req.get("messages", [])
    if not msgs:
        return False
    last = msgs[-1]
    c = last.get("content")
    return last.get("role") == "user" and isinstance(c, list) and any(
        isinstance(b, dict) and b.get("type") == "tool_result" for b in c)


def count_tool_results(req):
    """How many tool results the whole conversation carries (a resumed session keeps its earlier ones)."""
    return sum(1 for m in req.get("messages", []) if m.get("role") == "user" and isinstance(m.get("content"), list)
               for b in m["content"] if isinstance(b, dict) and b.get("type") == "tool_result")


def plan_reply(req, args):
    """Decide the assistant content blocks and stop_reason for the ok scenario.
    Returns (kind, blocks, stop_reason)."""
    tool_names = [t.get("name") for t in req.get("tools", []) or []]
    if "Write" not in tool_names:
        # side request (title generation, quota probe, summaries, ...)
        return "side", [{"type": "text", "text": args.side_text}], "end_turn"
    done = count_tool_results(req)
    last = (req.get("messages") or [{}])[-1]
    if (args.fixed_html and done and last.get("role") == "user"
            and "broken link" in text_of(last.get("content")).lower()):
        # a resumed session sent back with finish's failures: rewrite the page
        wd = find_workdir(req, args.workdir)
        path = wd.rstrip("/") + "/index.html" if wd else "index.html"
        return "repair", [
            {"type": "text", "text": "I'll fix index.html."},
            {"type": "tool_use", "id": "toolu_mock_" + uuid.uuid4().hex[:20], "name": "Write",
             "input": {"file_path": path, "content": args.fixed_html}},
        ], "tool_use"
    design = find_design_file(req)
    if design:
        if done:
            return "final", [{"type": "text", "text": args.final_text}], "end_turn"
        path, content, what = design, DESIGN_MD, "the design"
    else:
        files = [f"part-{i}.css" for i in range(1, max(1, args.steps))] + ["index.html"]
        if done >= len(files):
            return "final", [{"type": "text", "text": args.final_text}], "end_turn"
        wd = find_workdir(req, args.workdir)
        what = files[done]
        path = wd.rstrip("/") + "/" + what if wd else what
        content = args.html if what == "index.html" else "/* step */\n"
    return "tool_use", [
        {"type": "text", "text": f"I'll create {what}."},
        {"type": "tool_use", "id": "toolu_mock_" + uuid.uuid4().hex[:20], "name": "Write",
         "input": {"file_path": path, "content": content}},
    ], "tool_use"


def usage_block(req, out_tokens=20):
    # Everything the request carries is paid for: system prompt, tool schemas and messages.
    n_in = max(1, len(json.dumps({k: req.get(k) for k in ("system", "tools", "messages")})) // 4)
    return {"input_tokens": n_in, "output_tokens": out_tokens,
            "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}


def quota_headers(args):
    """--utilization U: the unified headers of a subscriber who has used U of the five-hour window
    (status allowed, threshold surpassed), so the CLI reports a rate_limit_event with utilization."""
    if args.utilization is None:
        return {}
    reset = int(time.time()) + args.reset_in
    return {"anthropic-ratelimit-unified-status": "allowed",
            "anthropic-ratelimit-unified-reset": str(reset),
            "anthropic-ratelimit-unified-representative-claim": "five_hour",
            "anthropic-ratelimit-unified-5h-status": "allowed",
            "anthropic-ratelimit-unified-5h-reset": str(reset),
            "anthropic-ratelimit-unified-5h-utilization": str(args.utilization),
            "anthropic-ratelimit-unified-5h-surpassed-threshold": str(args.utilization)}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mockapi/1.0"
    state: State = None  # set in main()

    def log_message(self, fmt, *a):  # silence default access log
        pass

    # ------------------------------------------------------------------ utils
    def _read_body(self):
        n = int(self.headers.get("content-length") or 0)
        return self.rfile.read(n) if n else b""

    extra_headers = None  # set per answer: the unified quota headers of --utilization

    def _send_json(self, status, obj, extra_headers=None):
        extra_headers = {**(self.extra_headers or {}), **(extra_headers or {})}
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("request-id", "req_mock_" + uuid.uuid4().hex[:16])
        for k, v in (extra_headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _chunk(self, data: bytes):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _sse(self, event, obj):
        if self.state.args.stream_delay:  # a slow model: time between events (live-activity tests)
            time.sleep(self.state.args.stream_delay)
        self._chunk(f"event: {event}\ndata: {json.dumps(obj)}\n\n".encode())

    # --------------------------------------------------------------- routing
    def do_GET(self):
        self._route("GET")

    def do_POST(self):
        self._route("POST")

    def do_HEAD(self):
        self._route("HEAD")

    def _route(self, method):
        st = self.state
        body = self._read_body() if method == "POST" else b""
        path = self.path.split("?", 1)[0]
        rec = {"method": method, "path": self.path, "headers": redact_headers(self.headers),
               "body_bytes": len(body)}
        if method == "POST" and path == "/v1/messages":
            return self._messages(body, rec)
        if method == "POST" and path == "/v1/messages/count_tokens":
            rec["answer"] = "count_tokens"
            st.log(rec)
            return self._send_json(200, {"input_tokens": max(1, len(body) // 4)})
        if method == "GET" and path.startswith("/v1/models"):
            rec["answer"] = "models"
            st.log(rec)
            model = {"type": "model", "id": "claude-sonnet-4-5", "display_name": "Mock",
                     "created_at": "2025-01-01T00:00:00Z"}
            if path.rstrip("/") == "/v1/models":
                return self._send_json(200, {"data": [model], "has_more": False,
                                             "first_id": model["id"], "last_id": model["id"]})
            return self._send_json(200, model)
        rec["answer"] = "404"
        st.log(rec)
        if method == "HEAD":
            self.send_response(404)
            self.send_header("content-length", "0")
            self.end_headers()
            return
        return self._send_json(404, {"type": "error", "error": {
            "type": "not_found_error", "message": f"mock: no route {method} {path}"}})

    # ------------------------------------------------------- /v1/messages
    def _messages(self, body, rec):
        st, args = self.state, self.state.args
        try:
            req = json.loads(body or b"{}")
        except ValueError:
            req = {}
        with st.lock:
            st.n_messages += 1
            n = st.n_messages
            if args.reset_after and not args.reset_at:
                args.reset_at = float(int(time.time() + args.reset_after) + 1)  # whole seconds, as sent
        stream = bool(req.get("stream"))
        rec.update({"n": n, "model": req.get("model"), "stream": stream,
                    "max_tokens": req.get("max_tokens"),
                    "tools": [t.get("name") for t in req.get("tools", []) or []][:60],
                    "n_messages": len(req.get("messages", [])),
                    "last_user_text": text_of((req.get("messages") or [{}])[-1].get("content"))[:120]})
        if args.dump_dir:
            with open(f"{args.dump_dir}/req_{n:03d}.json", "w") as fh:
                fh.write(body.decode("utf-8", "replace"))

        scenario = args.scenario
        if scenario != "ok" and n <= args.ok_first:
            scenario = "ok"
        elif scenario != "ok" and args.fail_first and n - args.ok_first > args.fail_first:
            scenario = "ok"
        if scenario == "usage-limit" and args.reset_at and time.time() >= args.reset_at:
            scenario = "ok"  # the limit has reset

        if scenario in ERRORS:
            status, etype, msg = ERRORS[scenario]
            hdrs = {}
            if scenario == "429":
                hdrs["retry-after"] = str(args.retry_after)
            if scenario == "usage-limit":
                reset = int(args.reset_at) if args.reset_at else int(time.time()) + args.reset_in
                abbrev = CLAIM_ABBREV.get(args.claim, "5h")
                hdrs.update({
                    "anthropic-ratelimit-unified-status": "rejected",
                    "anthropic-ratelimit-unified-reset": str(reset),
                    "anthropic-ratelimit-unified-representative-claim": args.claim,
                    f"anthropic-ratelimit-unified-{abbrev}-status": "rejected",
                    f"anthropic-ratelimit-unified-{abbrev}-reset": str(reset),
                    f"anthropic-ratelimit-unified-{abbrev}-utilization": "1.0",
                    "anthropic-ratelimit-unified-fallback": "unavailable",
                    "anthropic-ratelimit-unified-overage-status": "rejected",
                    "anthropic-ratelimit-unified-overage-disabled-reason": "org_level_disabled",
                })
                if args.retry_after:
                    hdrs["retry-after"] = str(max(0, reset - int(time.time())))
            rec["answer"] = f"{status} {etype}"
            if scenario == "usage-limit":
                rec["reset"] = reset
            st.log(rec)
            return self._send_json(status, {"type": "error", "error": {"type": etype, "message": msg},
                                            "request_id": "req_mock_err"}, hdrs)

        if scenario == "hang":
            rec["answer"] = f"hang {args.hang_seconds}s"
            st.log(rec)
            time.sleep(args.hang_seconds)
            self.close_connection = True
            return

        kind, blocks, stop = plan_reply(req, args)
        rec["answer"] = ("drop-mid-stream" if scenario == "drop" else kind)
        self.extra_headers = quota_headers(args)
        st.log(rec)
        model = req.get("model") or "claude-mock"
        msg_id = "msg_mock_" + uuid.uuid4().hex[:20]
        usage = usage_block(req)
        if scenario == "drop" and not stream:
            self._abort()
            return
        if not stream:
            return self._send_json(200, {
                "id": msg_id, "type": "message", "role": "assistant", "model": model,
                "content": blocks, "stop_reason": stop, "stop_sequence": None, "usage": usage})
        self._stream(msg_id, model, blocks, stop, usage, drop=(scenario == "drop"))

    def _abort(self):
        """Close the TCP connection abruptly (RST)."""
        try:
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.close_connection = True

    def _stream(self, msg_id, model, blocks, stop, usage, drop=False):
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.send_header("request-id", "req_mock_" + uuid.uuid4().hex[:16])
        for k, v in (self.extra_headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        start_usage = dict(usage, output_tokens=1)
        self._sse("message_start", {"type": "message_start", "message": {
            "id": msg_id, "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": start_usage}})
        self._sse("ping", {"type": "ping"})
        for i, b in enumerate(blocks):
            if b["type"] == "text":
                self._sse("content_block_start", {"type": "content_block_start", "index": i,
                                                  "content_block": {"type": "text", "text": ""}})
                txt = b["text"]
                half = max(1, len(txt) // 2)
                for piece in (txt[:half], txt[half:]):
                    if piece:
                        self._sse("content_block_delta", {"type": "content_block_delta", "index": i,
                                                          "delta": {"type": "text_delta", "text": piece}})
                        if drop:
                            time.sleep(0.2)
                            self._abort()
                            return
            elif b["type"] == "tool_use":
                self._sse("content_block_start", {"type": "content_block_start", "index": i,
                                                  "content_block": {"type": "tool_use", "id": b["id"],
                                                                    "name": b["name"], "input": {}}})
                js = json.dumps(b["input"])
                step = max(1, len(js) // 3)
                for k in range(0, len(js), step):
                    self._sse("content_block_delta", {"type": "content_block_delta", "index": i,
                                                      "delta": {"type": "input_json_delta",
                                                                "partial_json": js[k:k + step]}})
            self._sse("content_block_stop", {"type": "content_block_stop", "index": i})
        self._sse("message_delta", {"type": "message_delta",
                                    "delta": {"stop_reason": stop, "stop_sequence": None},
                                    "usage": {"output_tokens": usage["output_tokens"]}})
        self._sse("message_stop", {"type": "message_stop"})
        self._chunk(b"")  # zero-length chunk terminates the chunked body


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--host", default="127.0.0.1", help="must be a loopback address")
    ap.add_argument("--scenario", choices=SCENARIOS, default="ok")
    ap.add_argument("--fail-first", type=int, default=0,
                    help="error scenarios: fail only the first N /v1/messages requests, then act ok")
    ap.add_argument("--ok-first", type=int, default=0,
                    help="error scenarios: answer the first K /v1/messages requests like ok, then fail "
                         "(with --fail-first N: the N requests after those K)")
    ap.add_argument("--steps", type=int, default=1,
                    help="ok: the agent writes STEPS files, one a turn (part-1.css ... then index.html), "
                         "counting the tool results the conversation already carries (a resumed session "
                         "goes on where it stopped; a restarted one begins again)")
    ap.add_argument("--fixed-html", default="",
                    help="ok: when a conversation that already wrote files gets a new user message naming "
                         "a 'broken link' (a repair request), the agent rewrites index.html with this content")
    ap.add_argument("--retry-after", type=int, default=2,
                    help="429: retry-after header in seconds.  usage-limit: any non-zero value "
                         "sends retry-after = --reset-in (like the real API); 0 sends none")
    ap.add_argument("--reset-in", type=int, default=3 * 3600,
                    help="usage-limit: seconds until anthropic-ratelimit-unified-reset")
    ap.add_argument("--reset-at", type=float, default=0.0,
                    help="usage-limit: fixed reset time (epoch seconds); requests after it are answered ok")
    ap.add_argument("--reset-after", type=float, default=0.0,
                    help="usage-limit: like --reset-at, the reset S seconds after the first request")
    ap.add_argument("--claim", default="five_hour", choices=sorted(CLAIM_ABBREV),
                    help="usage-limit: the representative claim (five_hour = session, seven_day = weekly, ...)")
    ap.add_argument("--utilization", type=float, default=None,
                    help="ok answers: send the unified quota headers of a subscriber at this utilization")
    ap.add_argument("--stream-delay", type=float, default=0.0,
                    help="ok answers: seconds to wait before each streamed event (a slow model)")
    ap.add_argument("--hang-seconds", type=float, default=3600)
    ap.add_argument("--workdir", default="", help="fallback directory for index.html")
    ap.add_argument("--html", default=DEFAULT_HTML, help="content written to index.html")
    ap.add_argument("--final-text", default="done")
    ap.add_argument("--side-text", default="Mock side answer")
    ap.add_argument("--port-file", help="once listening, write the port here (use with --port 0)")
    ap.add_argument("--log", help="append JSON-lines request log here")
    ap.add_argument("--dump-dir", help="write every /v1/messages request body here")
    args = ap.parse_args()
    # Whole seconds, as the API's header has them: the limit lifts exactly when the header says.
    args.reset_at = float(int(-(-args.reset_at // 1))) if args.reset_at else 0.0
    if not (args.host.startswith("127.") or args.host in ("localhost", "::1")):
        ap.error("refusing to listen on a non-loopback address")

    Handler.state = State(args)
    ThreadingHTTPServer.daemon_threads = True
    srv = ThreadingHTTPServer((args.host, args.port), Handler)
    print(json.dumps({"listening": f"http://{args.host}:{srv.server_address[1]}",
                      "scenario": args.scenario}), file=sys.stderr, flush=True)
    if args.port_file:  # written whole, then renamed: a reader never sees a partial number
        with open(args.port_file + ".tmp", "w") as fh:
            fh.write(str(srv.server_address[1]))
        os.replace(args.port_file + ".tmp", args.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
