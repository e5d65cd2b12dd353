"""Benchmark: `smb dashboard` (issue 11) at 568 and at 100,000 sites.

    python bench/dashboard.py [--sizes 568,100000] [--requests 30] [--changes 5] [--no-browser] [--keep]

For each size, a workspace with a registry of that many sites (batches of 568, every status), an
event log with the history that leads there (five events a site: ~500,000 lines at 100k), and a run
record; then the real server (`python -m smbatcher.dashboard`) in its own process, and:

  * overview (`/`) and gallery (`/gallery`) response times over HTTP (keep-alive, after a warm-up),
    median and p95: targets <= 100 ms (overview) and <= 500 ms (gallery);
  * the first overview after the registry changed (the cache keyed on the file's identity is
    rebuilt: a full parse of the registry), reported beside the target, not against it;
  * change -> browser: headless Chromium keeps the overview open; the registry is replaced
    atomically (as every smb writer does) and the time until the page's count changes, without a
    reload, is measured: target <= 2 s.

Prints each figure with its target beside it.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support.browser import Browser, find_chromium  # noqa: E402
from support.dashboard import Server  # noqa: E402

from smbatcher.registry import new_registry_text, render_cells  # noqa: E402
from smbatcher.workspace import Workspace, create_workspace  # noqa: E402

OVERVIEW_TARGET_MS = 100
GALLERY_TARGET_MS = 500
CHANGE_TARGET_S = 2.0
BATCH_SIZE = 568
# Status mix of a workspace mid-way through: mostly finished, some built, a few in flight and parked.
MIX = "QQQQQQQQIIIDDi-X"


def site(n: int) -> str:
    return f"site-{n:06d}.dev"


def build(folder: Path, sites: int) -> Workspace:
    ws, _ = create_workspace(folder)
    now = time.time()
    rows, events = [new_registry_text()], []
    for n in range(sites):
        status = MIX[n % len(MIX)]
        batch = f"{n // BATCH_SIZE + 1:03d}"
        rows.append(render_cells([site(n), batch, status, "", "1", "2026-11-21T10:02:11Z",
                                  "implement: exit=1: boom" if status == "X" else ""]) + "\n")
        # The history of a finished site: claim, designed, claim, implemented, finished; spread over 8 hours.
        ts = now - 8 * 3600 * (1 - n / sites)
        base = {"event": "status", "domain": site(n), "batch": batch, "actor": "implement"}
        events += [json.dumps({"ts": round(ts, 3), **base, "from": a, "to": b, "cost_usd": 0.01})
                   for a, b in (("-", "d"), ("d", "D"), ("D", "i"), ("i", "I"), ("I", "Q"))]
    ws.registry.write_text("".join(rows), encoding="utf-8")
    ws.logs.mkdir(parents=True, exist_ok=True)
    ws.events.write_text("\n".join(events) + "\n", encoding="utf-8")
    return ws


def timed_get(conn: http.client.HTTPConnection, path: str) -> float:
    started = time.perf_counter()
    conn.request("GET", path)
    response = conn.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - started
    if response.status != 200:
        raise SystemExit(f"GET {path}: {response.status} {body[:200]!r}")
    return elapsed


def get_body(conn: http.client.HTTPConnection, path: str) -> bytes:
    conn.request("GET", path)
    return conn.getresponse().read()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def replace_registry(ws: Workspace, old: str, new: str) -> float:
    """Change one row the way smb does (temp file, os.replace); returns the time of the replace."""
    text = ws.registry.read_text(encoding="utf-8")
    assert old in text, old
    tmp = ws.registry.with_name(".REGISTRY.md.bench.tmp")
    tmp.write_text(text.replace(old, new, 1), encoding="utf-8")
    moment = time.time()
    os.replace(tmp, ws.registry)
    return moment


def bench_size(tmp: Path, sites: int, requests: int, changes: int, browser_binary: str | None) -> list[str]:
    started = time.perf_counter()
    ws = build(tmp / f"ws-{sites}", sites)
    lines = [f"{sites} sites: workspace built in {time.perf_counter() - started:.1f} s "
             f"({ws.events.stat().st_size / 1e6:.0f} MB of events; setup, not measured)"]
    with Server(ws.root) as server:
        port = int(server.url.rsplit(":", 1)[1].strip("/"))
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        first = timed_get(conn, "/")  # the registry parsed; the event log may still be being read
        read_log = time.perf_counter()
        while json.loads(get_body(conn, "/api/overview"))["throughput"]["loading"]:
            time.sleep(0.05)
        lines.append(f"{sites} sites: first overview {1000 * first:.0f} ms after start; the whole event log "
                     f"read {time.perf_counter() - read_log + first:.1f} s after start (the page fills in then)")
        for path, target, label in (("/", OVERVIEW_TARGET_MS, "overview"),
                                    ("/gallery", GALLERY_TARGET_MS, "gallery"),
                                    ("/gallery?status=all&page=50", GALLERY_TARGET_MS, "gallery page 50, all")):
            timed_get(conn, path)
            times = [1000 * timed_get(conn, path) for _ in range(requests)]
            median, p95 = statistics.median(times), percentile(times, 0.95)
            verdict = "OK" if median <= target else "MISSED"
            lines.append(f"{sites} sites: {label}: median {median:.1f} ms, p95 {p95:.1f} ms "
                         f"(target <= {target} ms): {verdict}")
        after_change = []
        for n in range(3):
            replace_registry(ws, f"| {site(n * 16)} |", f"| {site(n * 16)} |")  # same text: a new inode
            after_change.append(1000 * timed_get(conn, "/"))
        lines.append(f"{sites} sites: overview just after a registry change (changed rows re-read): "
                     f"median {statistics.median(after_change):.0f} ms")
        conn.close()
        if browser_binary is None:
            lines.append(f"{sites} sites: change -> browser: skipped (no chromium)")
            return lines
        delays = []
        with Browser(browser_binary) as browser:
            browser.open(server.url)
            browser.wait_for("document.getElementById('live').dataset.state === 'live'", 60, "the stream")
            cell = "document.querySelector('#batch-001 [data-status=\"X\"]').textContent"
            for n in range(changes):
                before = int(browser.evaluate(cell))
                # A designed site of batch 001 is parked: the page's X count for batch 001 goes up by one.
                domain = site(12 + 16 * n)
                moment = replace_registry(ws, f"| {domain} | 001 | D |", f"| {domain} | 001 | X |")
                browser.wait_for(f"parseInt({cell}) === {before + 1}", 30, f"the change of {domain}",
                                 interval=0.01)
                delays.append(time.time() - moment)
                time.sleep(0.6)  # let the stream settle, so each change is measured from a quiet page
            reloaded = browser.evaluate("performance.getEntriesByType('navigation').length")
        median, worst = statistics.median(delays), max(delays)
        verdict = "OK" if worst <= CHANGE_TARGET_S else "MISSED"
        lines.append(f"{sites} sites: change -> browser: median {median:.2f} s, worst {worst:.2f} s over "
                     f"{changes} changes, no reload ({reloaded} navigation) (target <= {CHANGE_TARGET_S:g} s): "
                     f"{verdict}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="568,100000")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--changes", type=int, default=5)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the workspaces and print where they are")
    args = parser.parse_args()
    browser = None if args.no_browser else find_chromium()
    tmp = Path(tempfile.mkdtemp(prefix="smb-bench-dashboard-"))
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            for line in bench_size(tmp, size, args.requests, args.changes, browser):
                print(line, flush=True)
    finally:
        if args.keep:
            print(f"workspaces kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
