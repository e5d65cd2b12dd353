#!/usr/bin/env python3
"""A stand-in for a real coding agent CLI run as ``claude -p --model opus ...``.

Like such a CLI in print mode it takes its instructions from the prompt on
stdin, works in its current folder, finds where to write from the prompt text
(falling back to $SMB_OUTPUT), writes the files, prints a short report and
exits 0. Without ``-p`` it refuses, as an interactive CLI with no terminal
would. FAKE_ARGV_LOG names a file that gets one JSON line per call: argv, the
output path it understood and the prompt's size, for the test to check.
"""

import json
import os
import re
import sys


def parse_args(argv: list[str]) -> dict:
    options = {"print": False, "model": None}
    args = iter(argv)
    for arg in args:
        if arg in ("-p", "--print"):
            options["print"] = True
        elif arg == "--model":
            options["model"] = next(args, None)
        elif arg.startswith("--model="):
            options["model"] = arg.split("=", 1)[1]
        elif arg in ("--dangerously-skip-permissions", "--verbose"):
            pass
        elif arg == "--output-format":
            next(args, None)
        else:
            print(f"error: unknown option '{arg}'", file=sys.stderr)
            sys.exit(2)
    return options


def main() -> int:
    options = parse_args(sys.argv[1:])
    if not options["print"]:
        print("error: interactive mode needs a terminal; use -p", file=sys.stderr)
        return 2
    prompt = sys.stdin.read()
    if not prompt.strip():
        print("error: no prompt on stdin", file=sys.stderr)
        return 1
    folder = re.search(r"Fill the folder (.+?) with a complete", prompt)
    design = re.search(r"to the file (.+?-DESIGN\.md)", prompt)
    domain = re.search(r"for the domain (\S+) \(batch", prompt)
    name = domain.group(1) if domain else os.environ.get("SMB_DOMAIN", "site")
    log = os.environ.get("FAKE_ARGV_LOG")
    target = (folder or design).group(1) if (folder or design) else os.environ.get("SMB_OUTPUT", ".")
    if log:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"argv": sys.argv[1:], "model": options["model"], "target": target,
                                     "cwd": os.getcwd(), "domain": name, "prompt_chars": len(prompt)}) + "\n")
    if design:
        with open(target, "w", encoding="utf-8") as handle:
            handle.write(f"# {name}\n\nTagline: the best {name} on the web.\n\n## Palette\n\n- primary: #1a5276\n")
        print(f"Wrote the design for {name} to {target}.")
        return 0
    os.makedirs(target, exist_ok=True)
    with open(os.path.join(target, "index.html"), "w", encoding="utf-8") as handle:
        handle.write(f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{name}</title>'
                     f'<link rel="stylesheet" href="styles.css"></head><body><h1>{name}</h1></body></html>\n')
    with open(os.path.join(target, "styles.css"), "w", encoding="utf-8") as handle:
        handle.write("body { margin: 0 auto; max-width: 60rem; font-family: system-ui, sans-serif; }\n")
    print(f"Created index.html and styles.css for {name} in {target}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
