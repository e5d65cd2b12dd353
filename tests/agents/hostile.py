#!/usr/bin/env python3
"""Fake agent that misbehaves the way a confused LLM with tools can (issue 22).

HOSTILE_MODE picks the misbehaviour:

- ``escapes``: terminal escape sequences (OSC title, CSI clear screen, C1 CSI, bidi override),
  a NUL and a lone surrogate, on stderr and in its JSON result message; it fails (exit 1).
- ``limit``: a usage-limit message holding the same sequences (a hold's message); exit 1.
- ``numbers``: builds the site, then reports ``HOSTILE_COST`` / ``HOSTILE_TURNS`` (JSON literals,
  NaN and Infinity allowed) in its result line (``HOSTILE_LIAR_COST`` for the site
  ``HOSTILE_LIAR``); exit 0.
- ``symlink``: replaces its output folder with a symlink to ``HOSTILE_TARGET`` (implement), or
  makes the design file a symlink to it (design); exit 0.
- ``fifo``: builds the site and adds a FIFO next to index.html; exit 0.
- ``names``: builds the site and adds files whose names hold ESC and a raw 0xff byte; exit 0.
"""

import json
import os
import sys

ESCAPES = "\x1b]0;pwned\x07 \x1b[2J \x9b31m \u202eevil \x00nul \ud800 end"


def build(output: str) -> None:
    os.makedirs(output, exist_ok=True)
    with open(os.path.join(output, "index.html"), "w") as handle:
        handle.write("<!doctype html><html lang=en><head><meta charset=utf-8><title>t</title></head>"
                     "<body><h1>hi</h1></body></html>\n")


def result(**fields) -> str:
    return json.dumps({"type": "result", **fields})


def main() -> int:
    sys.stdin.read()
    mode = os.environ.get("HOSTILE_MODE", "escapes")
    output = os.environ["SMB_OUTPUT"]
    design = os.environ.get("SMB_PHASE") == "design"
    if mode == "escapes":
        sys.stderr.write(f"stderr says {ESCAPES}\n".encode("utf-8", "surrogatepass").decode("utf-8", "replace"))
        sys.stderr.flush()
        # json.dumps writes \ud800 as an escape: the lone surrogate arrives through json.loads.
        print(result(is_error=True, result=f"agent says {ESCAPES}", total_cost_usd=0.01), flush=True)
        return 1
    if mode == "limit":
        print(result(is_error=True, result=f"You've hit your session limit · resets 5pm (UTC) {ESCAPES}"), flush=True)
        return 1
    if mode == "numbers":
        cost = os.environ.get("HOSTILE_COST", "0.5")
        if os.environ.get("SMB_DOMAIN") == os.environ.get("HOSTILE_LIAR"):
            cost = os.environ.get("HOSTILE_LIAR_COST", cost)
        build(output) if not design else open(output, "w").write("# design\n")
        line = ('{"type": "result", "is_error": false, "result": "done", '
                f'"total_cost_usd": {cost}, '
                f'"num_turns": {os.environ.get("HOSTILE_TURNS", "3")}, '
                f'"usage": {{"input_tokens": {os.environ.get("HOSTILE_TOKENS", "10")}, "output_tokens": 5}}}}')
        print(line, flush=True)
        return 0
    if mode == "symlink":
        target = os.environ["HOSTILE_TARGET"]
        if design:
            if os.path.lexists(output):
                os.remove(output)
            os.symlink(target, output)
        else:
            import shutil

            shutil.rmtree(output, ignore_errors=True)
            if os.path.lexists(output):
                os.remove(output)
            os.symlink(target, output)
        return 0
    if mode == "fifo":
        build(output)
        os.mkfifo(os.path.join(output, "pipe"))
        return 0
    if mode == "names":
        build(output)
        for name in (b"esc-\x1b[2J.html", b"raw-\xff.html"):
            with open(os.path.join(os.fsencode(output), name), "w") as handle:
                handle.write("x\n")
        return 0
    print(f"unknown HOSTILE_MODE {mode}", file=sys.stderr)
    return 2


sys.exit(main())
