#!/usr/bin/env python3
"""Fake agent taking a deterministic, per-domain time between 0.1 and 2 s, then succeeding
(bench/pool.py: rolling pool against wave barriers)."""

import hashlib
import os
import sys
import time


def duration(domain: str) -> float:
    digest = int.from_bytes(hashlib.sha256(domain.encode()).digest()[:4], "big")
    return 0.1 + 1.9 * (digest / 0xFFFFFFFF)


sys.stdin.read()
domain = os.environ["SMB_DOMAIN"]
time.sleep(duration(domain))
with open(os.path.join(os.environ["SMB_OUTPUT"], "index.html"), "w", encoding="utf-8") as handle:
    handle.write(f"<!doctype html><title>{domain}</title>\n")
