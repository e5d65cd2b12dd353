#!/usr/bin/env python3
"""Fake agent whose first launch per site prints one line and goes silent (a hung API stream, issue 20);
any later launch builds the site. The first launch leaves ``stalled-<domain>`` in SMB_ROOT."""

import os
import sys
import time

sys.stdin.read()
domain = os.environ["SMB_DOMAIN"]
flag = os.path.join(os.environ["SMB_ROOT"], f"stalled-{domain}")
if not os.path.exists(flag):
    open(flag, "w").close()
    print("thinking...", flush=True)
    time.sleep(600)
with open(os.path.join(os.environ["SMB_OUTPUT"], "index.html"), "w") as handle:
    handle.write(f"<h1>{domain}</h1>")
print("done")
