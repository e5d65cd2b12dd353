#!/usr/bin/env python3
"""Hostile fake agent (issue 22): before doing its own work it tries to damage the workspace.

It overwrites another site's index.html, appends a row to REGISTRY.md, rewrites config.toml, writes into
every other staging folder it can find, drops a file in /tmp (ESCAPE_TMP names it) and in the run records;
each try is logged ("blocked ..." or "WROTE ..."). Then it does its phase's work like succeed.py, and it
can write its own temp files (in $TMPDIR or /tmp) and its own config folder.
"""

import glob
import os
import sys
import tempfile

root = os.environ["SMB_ROOT"]
me = os.getcwd()


def attempt(label, path, mode="w", text="hacked\n"):
    try:
        with open(path, mode) as handle:
            handle.write(text)
        print(f"WROTE {label} {path}")
    except OSError as exc:
        print(f"blocked {label} {path}: {exc.strerror}")


sys.stdin.read()
attempt("site", f"{root}/sites/good.dev-v1/index.html")
attempt("new-site", f"{root}/sites/evil.dev-v1")
if not os.environ.get("ESCAPE_SPARE_REGISTRY"):  # unjailed, a torn registry would stop the run's own writes
    attempt("registry", f"{root}/.smbatcher/REGISTRY.md", "a", "| evil.dev | 001 | Q |  | 0 |  |  |\n")
attempt("config", f"{root}/.smbatcher/config.toml")
attempt("runs", f"{root}/.smbatcher/runs/evil.json")
for other in glob.glob(f"{root}/.smbatcher/tmp/*/*") + glob.glob(f"{root}/.smbatcher/tmp/*"):
    if os.path.isdir(other) and other != me and not me.startswith(other + "/"):
        attempt("staging", f"{other}/evil.txt")
if os.environ.get("ESCAPE_TMP"):
    attempt("tmp", os.environ["ESCAPE_TMP"])
# What it may write: its own temp file and its own folder.
with tempfile.NamedTemporaryFile(dir="/tmp") as scratch:
    scratch.write(b"scratch")
os.makedirs(f"{me}/.agent-config", exist_ok=True)
output = os.environ["SMB_OUTPUT"]
if os.environ["SMB_PHASE"] == "implement":
    os.makedirs(output, exist_ok=True)
    with open(f"{output}/index.html", "w") as handle:
        handle.write(f"<!doctype html><title>{os.environ['SMB_DOMAIN']}</title><h1>ok</h1>\n")
        handle.write("<p>" + "A small site built inside its own folder, and nowhere else. " * 5 + "</p>\n")
else:
    with open(output, "w") as handle:
        handle.write(f"# Design for {os.environ['SMB_DOMAIN']}\n")
