#!/usr/bin/env python3
"""Fake Claude Code whose behaviour changes with the clock: a night compressed into seconds.

FAKE_PHASES is a comma-separated list of ``<shape>@<epoch>``: the shape printed by calls
before that instant, oldest window first; the last entry may omit ``@`` (from then on).
E.g. ``usage-limit@1764790000,success``: a usage limit until then, success after. The
shape itself comes from claude_shapes.py (FAKE_RESET_IN etc. apply as there). Accepts and
ignores the CLI's flags, like tests/agents/bin/claude.
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import claude_shapes  # noqa: E402

now = time.time()
shape = "success"
for part in os.environ.get("FAKE_PHASES", "success").split(","):
    name, _, until = part.strip().partition("@")
    shape = name
    if not until or now < float(until):
        break
os.environ["FAKE_SHAPE"] = shape
if shape.startswith("usage-limit") and "FAKE_RESET_IN" not in os.environ:
    # The reset this agent prints: the end of its window.
    for part in os.environ.get("FAKE_PHASES", "").split(","):
        name, _, until = part.partition("@")
        if name == shape and until and now < float(until):
            os.environ["FAKE_RESET_IN"] = str(max(1.0, float(until) - now))
            break
sys.exit(claude_shapes.main())
