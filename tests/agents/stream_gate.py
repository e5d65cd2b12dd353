#!/usr/bin/env python3
"""Fake claude-like agent that talks stream-json and waits at a gate: for following a live log.

It prints (flushed) an ``init`` object, a line of assistant text and a ``Write`` tool call on its
output, then waits for the file FAKE_GATE (120 s at most, then fails); once it opens, it writes the
phase's output (design: the file $SMB_OUTPUT; implement: $SMB_OUTPUT/index.html), prints the final
``result`` object with a cost, and exits 0. What it prints before the gate is all a follower can
have seen while the agent was still running.
"""

import json
import os
import sys
import time


def say(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main() -> int:
    sys.stdin.read()
    domain, output, cwd = os.environ["SMB_DOMAIN"], os.environ["SMB_OUTPUT"], os.getcwd()
    target = output if os.environ.get("SMB_PHASE") == "design" else os.path.join(output, "index.html")
    say({"type": "system", "subtype": "init", "cwd": cwd, "session_id": "sess-1", "model": "fake-opus"})
    say({"type": "assistant", "message": {"id": "m1", "content": [
        {"type": "text", "text": f"Planning the page for {domain}."}]}})
    say({"type": "assistant", "message": {"id": "m2", "content": [
        {"type": "tool_use", "id": "t1", "name": "Write", "input": {"file_path": target, "content": "<html>"}}]}})
    gate, deadline = os.environ.get("FAKE_GATE"), time.monotonic() + 120
    while gate and not os.path.exists(gate):
        if time.monotonic() > deadline:
            print("FAKE_GATE never opened", file=sys.stderr)
            return 1
        time.sleep(0.02)
    with open(target, "w", encoding="utf-8") as handle:
        handle.write(f"<!doctype html><title>{domain}</title><p>{domain}</p>\n" if target.endswith(".html")
                     else f"# {domain}\n\nA design.\n")
    say({"type": "result", "subtype": "success", "is_error": False, "num_turns": 3, "duration_ms": 4200,
         "total_cost_usd": 0.0421, "result": f"Wrote {os.path.basename(target)}"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
