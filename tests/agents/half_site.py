#!/usr/bin/env python3
"""Fake agent that writes half a site, then crashes (SIGABRT), as an agent killed mid-write would."""

import os
import sys

sys.stdin.read()
output = os.environ["SMB_OUTPUT"]
with open(os.path.join(output, "index.html"), "w", encoding="utf-8") as handle:
    handle.write("<!doctype html><html><head><title>half")  # truncated page
os.makedirs(os.path.join(output, "assets"), exist_ok=True)
with open(os.path.join(output, "assets", "half.txt"), "w", encoding="utf-8") as handle:
    handle.write("partial")
print("writing the site...", flush=True)
print("Segmentation fault (simulated)", file=sys.stderr, flush=True)
os.abort()
