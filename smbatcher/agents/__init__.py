"""Agents that smbatcher launches: command resolution and prompt rendering (SPEC §5).

An agent is any command. It is split like a shell would split it and run
without a shell; nothing from a domain or a design is ever put on its command
line. It reads its prompt on stdin and the SMB_* variables from its
environment.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path
from string import Template

from ..errors import UsageError

BUILTIN = "builtin"

DESIGN_TEMPLATE = """\
You are designing a small one-page website for the domain $domain (batch $batch).

Write a design document in markdown to the file $output. It must give:
- the site's name and a one-line tagline;
- a palette with hex colours (background, surface, text, primary, accent) with readable contrast;
- a type pairing (heading and body fonts, system font stacks, no web fonts);
- the sections of the page (hero, three features, about, testimonial or FAQ, call to action, footer),
  each with its real copy: no placeholder text.

The batch brief:

$brief
"""

IMPLEMENT_TEMPLATE = """\
You are building the website for the domain $domain (batch $batch) from its design.

Fill the folder $output with a complete static site: index.html, styles.css, script.js
(and any assets). Use the design's palette, type and copy. Valid, responsive, accessible HTML;
every local link must resolve inside the folder; no external requests; no placeholder text.

The design ($design_path):

$design

The batch brief:

$brief
"""


def agent_argv(command: str) -> list[str]:
    """The argv for an agent command; ``builtin`` is the offline agent shipped in the package."""
    if command.strip() == BUILTIN:
        return [sys.executable, "-m", "smbatcher.agents.builtin"]
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise UsageError(f"agent command {command!r} cannot be split: {exc}") from None
    if not argv:
        raise UsageError("the agent command is empty")
    return argv


def check_agent(command: str, path: str | None = None) -> list[str]:
    """Resolve the agent's executable now, so a typo fails the run before any site is claimed."""
    argv = agent_argv(command)
    exe = argv[0]
    if os.sep in exe:
        if not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
            raise UsageError(f"agent command not found or not executable: {exe}")
        return argv
    found = shutil.which(exe, path=path)
    if not found:
        raise UsageError(f"agent command {exe!r} is not on PATH (set [agents] in config.toml or --agent)")
    return argv


def prompt_template(prompts_dir: Path, phase: str) -> Template:
    """``.smbatcher/prompts/<phase>.md`` when present (``$domain``, ``$brief``, ... placeholders),
    else the built-in template. A run reads it once, not once per agent."""
    from ..fs import read_text

    custom = prompts_dir / f"{phase}.md"
    shown = f".smbatcher/prompts/{phase}.md"
    try:
        text = read_text(custom, shown)  # a FIFO in its place is refused, never waited on (issue 22)
    except FileNotFoundError:
        text = DESIGN_TEMPLATE if phase == "design" else IMPLEMENT_TEMPLATE
    except UnicodeDecodeError as exc:
        # An operator's template that cannot be read must refuse the run, never fall back silently
        # to the built-in prompt (issue 8): nothing has been claimed yet.
        raise UsageError(f"{shown} is not UTF-8 text (byte {exc.start}); fix or remove it") from None
    except IsADirectoryError:
        raise UsageError(f"{shown} is a folder, not a prompt template; remove it or make it a file") from None
    except OSError as exc:
        raise UsageError(f"cannot read {shown}: {exc.strerror or exc}") from None
    return Template(text)

