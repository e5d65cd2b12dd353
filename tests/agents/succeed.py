#!/usr/bin/env python3
"""Fake agent that succeeds: reads the prompt on stdin, writes the phase's output.

implement: ``$SMB_OUTPUT/index.html`` (+ styles.css); design: the file ``$SMB_OUTPUT``.
FAKE_SLEEP (seconds) delays the work; FAKE_MARKER names a file that gets
``start|end|term <domain> <pid> <time>`` lines, so tests can check that no
site ever had two agents at once (a SIGTERM writes ``term`` and exits 143).
FAKE_GATE names a file the agent waits for before it works (a test opens the
gate when it is ready: an order of events without a clock); after 120 s
without it the agent gives up and fails.
"""

import os
import signal
import sys
import time


def mark(event: str) -> None:
    path = os.environ.get("FAKE_MARKER")
    if path:
        line = f"{event} {os.environ.get('SMB_DOMAIN', '?')} {os.getpid()} {time.time():.6f}\n"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())  # one O_APPEND write: lines of concurrent agents never mix
        finally:
            os.close(fd)


def on_term(signum, frame):
    mark("term")
    os._exit(143)


def wait_for_gate(path: str | None, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while path and not os.path.exists(path):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def main() -> int:
    signal.signal(signal.SIGTERM, on_term)
    prompt = sys.stdin.read()
    mark("start")
    if not wait_for_gate(os.environ.get("FAKE_GATE"), 120):
        print("FAKE_GATE never opened", file=sys.stderr)
        return 1
    time.sleep(float(os.environ.get("FAKE_SLEEP") or 0))
    domain, output = os.environ["SMB_DOMAIN"], os.environ["SMB_OUTPUT"]
    if os.environ.get("SMB_PHASE") == "design":
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(f"# {domain}\n\nA design for {domain}.\n")
    else:
        with open(os.path.join(output, "index.html"), "w", encoding="utf-8") as handle:
            handle.write(f"<!doctype html><title>{domain}</title><p>{domain} attempt "
                         f"{os.environ.get('SMB_ATTEMPT')} prompt {len(prompt)} chars</p>\n")
        with open(os.path.join(output, "styles.css"), "w", encoding="utf-8") as handle:
            handle.write("body { font-family: system-ui; }\n")
    print(f"built {domain}")
    mark("end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
