#!/usr/bin/env python3
"""Fake agent that hangs: reads the prompt, says it started, then sleeps forever (a timeout).

FAKE_MARKER, when set, gets a ``start <domain> <pid> <time>`` line.
"""

import os
import sys
import time

sys.stdin.read()
marker = os.environ.get("FAKE_MARKER")
if marker:
    fd = os.open(marker, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, f"start {os.environ.get('SMB_DOMAIN')} {os.getpid()} {time.time():.6f}\n".encode())
    os.close(fd)
print("thinking...", flush=True)
while True:
    time.sleep(3600)
