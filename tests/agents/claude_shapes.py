#!/usr/bin/env python3
"""A fast stand-in for Claude Code: prints one output shape recorded from the real CLI.

The shapes in tests/agents/shapes/ are the real CLI's stdout (2.1.197, against
tests/claude_mock/mockapi.py; FINDINGS.md there), with the working folder
replaced by @CWD@. This agent reads its prompt on stdin like the CLI, accepts
and ignores the CLI's flags (so it can stand in for ``claude`` in the preset's
argv: tests/agents/bin/claude), prints the chosen shape, writes the site (or
design) into $SMB_OUTPUT when the shape wrote one, and exits with the recorded
exit code.

  FAKE_SHAPE       which shape (see SHAPES; default success). Aliases: rate-limit, auth,
                   outage, success, permission-denied, usage-limit (the brief's names).
  FAKE_RESET_IN    usage-limit shapes: move the reset to now + N seconds (resetsAt and the
                   "resets 5:39pm (UTC)" text, formatted as the CLI formats it).
  FAKE_LINE_DELAY  seconds between lines (to watch live activity).
  FAKE_SHAPE_LOG   append one line "<shape> <domain> <attempt>" per call.

Two shapes are not recordings: ``usage-limit-legacy`` (the older CLIs' text
``Claude AI usage limit reached|<epoch>``) and ``hang`` (prints the init line,
then sleeps until killed, like a CLI waiting on an API that never answers).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sys
import time
from pathlib import Path

SHAPES_DIR = Path(__file__).resolve().parent / "shapes"

# shape -> (file, exit code, writes the output)
SHAPES = {
    "success": ("success.jsonl", 0, True),
    "success-design": ("success-design.jsonl", 0, True),
    "permission-denied": ("permission-denied.jsonl", 0, False),
    "rate-limit": ("rate-limit.jsonl", 1, False),
    "rate-limit-then-success": ("rate-limit-then-success.jsonl", 0, True),
    "rate-limit-subscriber": ("rate-limit-subscriber.jsonl", 1, False),
    "auth": ("auth.jsonl", 1, False),
    "auth-subscriber": ("auth-subscriber.jsonl", 1, False),
    "usage-limit": ("usage-limit.jsonl", 1, False),
    "usage-limit-weekly": ("usage-limit-weekly.jsonl", 1, False),
    "usage-limit-opus": ("usage-limit-opus.jsonl", 1, False),
    "usage-limit-sonnet": ("usage-limit-sonnet.jsonl", 1, False),
    "usage-limit-apikey": ("usage-limit-apikey.jsonl", 1, False),
    "usage-limit-json": ("usage-limit-json.jsonl", 1, False),
    "usage-limit-text": ("usage-limit-text.txt", 1, False),
    "usage-limit-legacy": (None, 1, False),
    "quota-warning": ("quota-warning.jsonl", 0, True),
    "outage": ("outage.jsonl", 1, False),
    "overloaded": ("overloaded.jsonl", 1, False),
    "bad-request": ("bad-request.jsonl", 1, False),
    "timeout": ("timeout.jsonl", 1, False),
    "connection-reset": ("connection-reset.jsonl", 1, False),
    "root-refused": ("root-refused.jsonl", 1, False),
    "hang": ("success.jsonl", None, False),
}

LEGACY_RESET = 1764794400  # 2025-12-03T20:40:00Z, as an old CLI printed it


def format_reset(epoch: float, now: float, zone: dt.tzinfo = dt.timezone.utc, zone_name: str = "UTC") -> str:
    """The reset as the CLI prints it: "5:39pm (UTC)" within 24 h, "Dec 3, 5pm (UTC)" beyond,
    with the year when it differs (the CLI's own formatting, read from its source)."""
    when = dt.datetime.fromtimestamp(epoch, zone)
    clock = f"{when.hour % 12 or 12}" + (f":{when.minute:02d}" if when.minute else "") + \
        ("am" if when.hour < 12 else "pm")
    if (epoch - now) / 3600 > 24:
        year = f", {when.year}" if when.year != dt.datetime.fromtimestamp(now, zone).year else ""
        clock = f"{when.strftime('%b')} {when.day}{year}, {clock}"
    return f"{clock} ({zone_name})"


def shape_text(name: str, cwd: str, output: str = "", reset_in: float | None = None,
               now: float | None = None) -> str:
    """The shape's stdout as this agent prints it (tests call this to get a shape's text)."""
    file, _, _ = SHAPES[name]
    now = time.time() if now is None else now
    if file is None:
        epoch = int(now + reset_in) if reset_in is not None else LEGACY_RESET
        return f"Claude AI usage limit reached|{epoch}\n"
    text = (SHAPES_DIR / file).read_text(encoding="utf-8")
    if output:
        # the recorded paths: implement wrote @CWD@/site/index.html, design @CWD@/x.dev-DESIGN.md
        text = text.replace("@CWD@/site", output).replace("@CWD@/x.dev-DESIGN.md", output)
    text = text.replace("@CWD@", cwd)
    if reset_in is not None:
        epoch = int(now + reset_in)
        text = re.sub(r'"resetsAt":\d+', f'"resetsAt":{epoch}', text)
        text = re.sub(r"resets [^\"(\n]+ \(UTC\)", "resets " + format_reset(epoch, now), text)
    return text


def write_output(output: str, phase: str, domain: str) -> None:
    if phase == "design":
        Path(output).write_text(f"# {domain}\n\nA design written by the fake Claude Code.\n", encoding="utf-8")
        return
    os.makedirs(output, exist_ok=True)
    Path(output, "index.html").write_text(
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{domain}</title></head>'
        f"<body><h1>{domain}</h1></body></html>\n", encoding="utf-8")


def main() -> int:
    name = os.environ.get("FAKE_SHAPE", "success")
    if name not in SHAPES:
        print(f"fake claude: unknown FAKE_SHAPE {name!r}; known: {', '.join(SHAPES)}", file=sys.stderr)
        return 2
    sys.stdin.read()  # like the CLI: the prompt, up to EOF
    file, code, writes = SHAPES[name]
    output = os.environ.get("SMB_OUTPUT", "")
    log = os.environ.get("FAKE_SHAPE_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(f"{name} {os.environ.get('SMB_DOMAIN', '?')} {os.environ.get('SMB_ATTEMPT', '?')}\n")
    reset_in = os.environ.get("FAKE_RESET_IN")
    text = shape_text(name, os.getcwd(), output, float(reset_in) if reset_in else None)
    delay = float(os.environ.get("FAKE_LINE_DELAY") or 0)
    if writes and output:
        write_output(output, os.environ.get("SMB_PHASE", "implement"), os.environ.get("SMB_DOMAIN", "site"))
    lines = text.splitlines(keepends=True)
    if code is None:  # hang: the init line, then wait for the API forever
        lines = lines[:1]
    for line in lines:
        sys.stdout.write(line)
        sys.stdout.flush()
        if delay:
            time.sleep(delay)
    if file:
        stderr = SHAPES_DIR / (file.rsplit(".", 1)[0] + ".stderr")
        if stderr.exists():
            sys.stderr.write(stderr.read_text(encoding="utf-8"))
    if code is None:
        while True:
            time.sleep(3600)
    return code


if __name__ == "__main__":
    sys.exit(main())
