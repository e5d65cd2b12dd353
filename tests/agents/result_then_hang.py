#!/usr/bin/env python3
"""Fake agent that builds its site, prints a success result line, then never exits (issue 20).

Claude Code is known to hang after printing its final ``result`` object; smb must reap it.
It also starts a child that sleeps, which must die with the agent's group.
"""

import json
import os
import subprocess
import sys
import time

sys.stdin.read()
with open(os.path.join(os.environ["SMB_OUTPUT"], "index.html"), "w") as handle:
    handle.write(f"<h1>{os.environ['SMB_DOMAIN']}</h1>")
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
print(json.dumps({"type": "result", "subtype": "success", "is_error": False, "result": "built the site",
                  "total_cost_usd": 0.25, "num_turns": 3}), flush=True)
time.sleep(600)
