#!/usr/bin/env python3
"""Fake agent that always fails: one error line on stderr, exit 1 (also the breaker's outage).

FAKE_MARKER, when set, gets a ``fail <domain> <pid> <time>`` line per launch.
"""

import os
import sys
import time

sys.stdin.read()
marker = os.environ.get("FAKE_MARKER")
if marker:
    fd = os.open(marker, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, f"fail {os.environ.get('SMB_DOMAIN')} {os.getpid()} {time.time():.6f}\n".encode())
    os.close(fd)
print(f"working on {os.environ.get('SMB_DOMAIN')}")
print("error: simulated API failure (503 Service Unavailable)", file=sys.stderr)
sys.exit(1)
