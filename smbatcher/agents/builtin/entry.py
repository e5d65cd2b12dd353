"""The agent process: one phase for one site, as the SMB_* environment describes.

``main`` reads ``SMB_PHASE``, ``SMB_DOMAIN``, ``SMB_OUTPUT`` (and ``SMB_DESIGN``,
``SMB_BRIEF``; SPEC section 5), drains the prompt from stdin, writes the design
document or the site files, and prints one line. A problem is one line on
stderr and exit code 2 (bad environment, unreadable design) or 1 (cannot
write the output).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .design import make_design
from .parse import parse_design
from .render import render_site


class _AgentError(Exception):
    """A problem reported as one line on stderr, with the exit code to return."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _require_env(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise _AgentError(f"builtin agent: {name} is not set")
    return value


def _read_brief() -> str:
    """The batch manifest, or "" when it is absent or unreadable: it is only flavour."""
    path = os.environ.get("SMB_BRIEF", "").strip()
    if not path:
        return ""
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except (OSError, ValueError):
        return ""


def _drain_stdin() -> None:
    """Read and discard the prompt.

    The runner writes the prompt into a pipe; leaving it unread could block
    that writer or hand it EPIPE. A terminal is skipped so a person running
    the agent by hand is not left waiting.
    """
    stream = sys.stdin
    if stream is None:
        return
    try:
        if stream.isatty():
            return
        buffer = getattr(stream, "buffer", None)
        while (buffer.read(1 << 16) if buffer is not None else stream.read(1 << 16)):
            pass
    except (OSError, ValueError):
        # Closed or unreadable stdin: there is nothing to discard.
        return


def _write(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8", newline="\n")


def _run() -> str:
    phase = _require_env("SMB_PHASE")
    domain = _require_env("SMB_DOMAIN").lower()
    output = Path(_require_env("SMB_OUTPUT"))
    if phase == "design":
        _drain_stdin()
        brief = _read_brief()
        try:
            _write(output, make_design(domain, brief))
        except OSError as error:
            raise _AgentError(f"builtin agent: cannot write {output}: {error.strerror or error}", 1) from error
        return f"wrote design for {domain} to {output}"
    if phase == "implement":
        design_path = Path(_require_env("SMB_DESIGN"))
        _drain_stdin()
        try:
            design_text = design_path.read_text(encoding="utf-8", errors="replace")
        except OSError as error:
            raise _AgentError(f"builtin agent: cannot read design {design_path}: {error.strerror or error}") from error
        files = render_site(parse_design(design_text), domain)
        try:
            for filename, content in files.items():
                _write(output / filename, content)
        except OSError as error:
            raise _AgentError(f"builtin agent: cannot write {output}: {error.strerror or error}", 1) from error
        return f"wrote {len(files)} files for {domain} to {output}"
    raise _AgentError(f"builtin agent: unknown SMB_PHASE {phase!r} (expected design or implement)")


def main() -> int:
    """Run one phase for one site as the environment describes; return the exit code."""
    try:
        summary = _run()
    except _AgentError as error:
        print(error, file=sys.stderr)
        return error.exit_code
    print(summary)
    return 0
