#!/usr/bin/env python3
"""Fake agent that fails only for some domains: those in FAIL_DOMAINS (comma-separated) or
matching the glob FAIL_PATTERN; the others succeed like succeed.py."""

import fnmatch
import os
import sys

sys.stdin.read()
domain = os.environ["SMB_DOMAIN"]
listed = {d.strip() for d in os.environ.get("FAIL_DOMAINS", "").split(",") if d.strip()}
pattern = os.environ.get("FAIL_PATTERN")
if domain in listed or (pattern and fnmatch.fnmatch(domain, pattern)):
    print(f"error: cannot build {domain}: model refused", file=sys.stderr)
    sys.exit(1)
output = os.environ["SMB_OUTPUT"]
if os.environ.get("SMB_PHASE") == "design":
    with open(output, "w", encoding="utf-8") as handle:
        handle.write(f"# {domain}\n")
else:
    with open(os.path.join(output, "index.html"), "w", encoding="utf-8") as handle:
        handle.write(f"<!doctype html><title>{domain}</title>\n")
sys.exit(0)
