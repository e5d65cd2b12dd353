"""What an agent says is data (issue 22): its text made safe for terminals, files and pages.

Two functions, used everywhere agent text goes:

- ``clean_text`` where the text enters (the parse of an agent's log and result): valid Unicode
  only (a lone surrogate or a NUL becomes U+FFFD, so ``hold.json``, run records and events can
  always be written and read back), then ``escape_control``.
- ``escape_control`` before agent text reaches a terminal, a report, a notification or a page
  (again, because a note or an old record may predate the cleaning): C0 control characters but
  tab, DEL, C1 (U+0080-U+009F, U+009B is a one-character CSI), Unicode line/paragraph separators
  and the bidi overrides and isolates (U+202E makes a line read backwards) become ``\\uXXXX``,
  lower-case hex, the form REGISTRY.md uses for its line-break escapes, so a message reads the
  same in the registry, on the terminal and on the dashboard. A lone surrogate (a file name's
  undecodable byte, as os.listdir gives it) becomes U+FFFD: strict UTF-8 and JSON readers take it. ``ESC ] 0 ; title BEL`` can then
  neither retitle a terminal nor clear it.

Escaping is idempotent: escaped text holds no control character, so escaping it again is a no-op.
"""

from __future__ import annotations

import re

# Do not "simplify" to str.isprintable(): that also escapes every non-ASCII space and unassigned
# code point, which are harmless and common in agents' prose (issue 22 lists exactly these).
CONTROL_CHARS = "".join(map(chr, [
    *range(0x00, 0x09), *range(0x0a, 0x20), *range(0x7f, 0xa0),  # C0 but tab, DEL, C1 (U+009B CSI included)
    0x061c, 0x200e, 0x200f, *range(0x202a, 0x202f), *range(0x2066, 0x206a),  # bidi marks, overrides, isolates
    0x2028, 0x2029,  # line and paragraph separators (line breaks for str.splitlines())
]))  # the one list: REGISTRY.md's cells escape exactly these too (registry_cells.py)
# Lone surrogates too: an undecodable byte of a file name; no encoder takes them.
_CONTROL_RE = re.compile("[" + re.escape(CONTROL_CHARS) + "\ud800-\udfff]")
_UNSAFE_UNICODE_RE = re.compile("[\x00\ud800-\udfff]")  # NUL and lone surrogates
REPLACEMENT = "\ufffd"


def _code(match: re.Match) -> str:
    code = ord(match.group())
    return REPLACEMENT if 0xD800 <= code <= 0xDFFF else f"\\u{code:04x}"


def escape_control(text: str) -> str:
    """``text`` with its control characters written as ``\\uXXXX`` (tab kept): safe to print."""
    return _CONTROL_RE.sub(_code, text)


def escape_lines(text: str) -> str:
    """``escape_control`` for text smb composed of several lines: each line escaped, the line
    feeds between them kept (ui.py's safety net; an agent's field is escaped whole before)."""
    if _CONTROL_RE.search(text) is None:  # the usual case, and the fast one
        return text
    return "\n".join(escape_control(line) for line in text.split("\n"))


def clean_text(text: str) -> str:
    """Agent text as smb keeps it: valid Unicode without NUL, control characters escaped."""
    return escape_control(_UNSAFE_UNICODE_RE.sub(REPLACEMENT, text))
