r"""The registry's text format: cell values, escapes, table lines. Pure: no I/O.

What a domain and a batch may be (SPEC §2), how a cell is written and read back
(``\|``, and ``\uXXXX`` for the characters that must never stand raw in the
file), and how the file splits into lines.
"""

from __future__ import annotations

import io
import re

from .lifecycle import batch_key
from .text import CONTROL_CHARS

REQUIRED = ("domain", "batch", "status")
KNOWN = ("domain", "batch", "status", "owner", "attempts", "updated", "note")
DEFAULT_COLUMNS = KNOWN

_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_DOMAIN_RE = re.compile(rf"{_LABEL}(?:\.{_LABEL})+")
_ALIGN_CELL_RE = re.compile(r"\s*:?-+:?\s*")


class BadValue(ValueError):
    """A domain, batch or status that is not acceptable; the message says why."""


def normalize_domain(text: str) -> str:
    """Return the canonical domain, or raise BadValue. Domains become paths."""
    value = text.strip().lower()
    if not value:
        raise BadValue("empty domain")
    if len(value) > 253 or not _DOMAIN_RE.fullmatch(value):
        raise BadValue(
            f"invalid domain {text.strip()!r}: want a DNS name like lotus.dev "
            "(labels of a-z 0-9 -, at least two labels)"
        )
    return value


def is_domain(text: str) -> bool:
    return len(text) <= 253 and _DOMAIN_RE.fullmatch(text) is not None


def normalize_batch(text: str | int) -> str:
    """``1``, ``01`` and ``001`` all mean batch ``001``."""
    value = str(text).strip()
    if not value.isascii() or not value.isdigit() or len(value.lstrip("0")) > 9:
        raise BadValue(f"invalid batch {str(text)[:20]!r}: want digits like 001 (at most 9 significant)")
    return batch_key(value)



# Characters that end a line for str.splitlines() (and for editors and viewers): a cell must never
# hold one raw, or the next read splits the row and every later row is lost (issue 8). They are
# written as \uXXXX, lower-case hex, and so is a backslash that would otherwise start such an
# escape. Only these exact sequences (and SPEC §2's \|) mean anything: every other backslash is
# literal, so registries written before (C:\temp\new, \\server\share) read as they always did.
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
# Every other character text.py escapes is written the same way (issue 22): ESC, CSI (U+009B), NUL,
# a bidi override... from an agent's note would otherwise run in the terminal of whoever cats the
# file, and NUL makes grep call it binary. Tab stays: it is text.
CONTROLS = "".join(ch for ch in CONTROL_CHARS if ch not in LINE_BREAKS)
_CODE_OF = {ch: f"u{ord(ch):04x}" for ch in LINE_BREAKS + CONTROLS + "\\"}
_CHAR_OF = {code: ch for ch, code in _CODE_OF.items()}
_ESCAPE_RE = re.compile("[|" + re.escape(LINE_BREAKS + CONTROLS) + "]|\\\\(?=" + "|".join(sorted(_CHAR_OF)) + ")")
_UNESCAPE_RE = re.compile("\\\\(\\||" + "|".join(sorted(_CHAR_OF)) + ")")
_SEPARATOR_RE = re.compile(r"(?<!\\)\|")


def _escape(match: re.Match) -> str:
    ch = match.group()
    return "\\|" if ch == "|" else "\\" + _CODE_OF[ch]


def escape_cell(value: str) -> str:
    """A cell value as written in the file: ``|`` -> ``\\|``, line breaks and other control
    characters -> ``\\u2028``, ``\\u001b`` and the like."""
    return _ESCAPE_RE.sub(_escape, value)


def _unescape(match: re.Match) -> str:
    code = match.group(1)
    return "|" if code == "|" else _CHAR_OF[code]


def split_cells(line: str) -> list[str]:
    """Cells of a table line, stripped, then unescaped (``\\|`` -> ``|``, ``\\u000a`` -> a line feed...).

    Stripped before unescaping, so an escaped line break at either end of a cell survives."""
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    if "\\" not in body:
        return [cell.strip() for cell in body.split("|")]
    # A backslash always starts its own escape, so a pipe is escaped exactly when one precedes it.
    return [_UNESCAPE_RE.sub(_unescape, cell.strip()) for cell in _SEPARATOR_RE.split(body)]


def render_cells(cells: list[str]) -> str:
    return "| " + " | ".join(escape_cell(c) for c in cells) + " |"


def bad_cell_text(value: str) -> str | None:
    """Why ``value`` cannot go into a cell, or None. Only text that is not Unicode is refused:
    a byte that is not UTF-8 in an argument arrives as a lone surrogate and cannot be written."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"{value!r} is not valid UTF-8 text (character {exc.start + 1})"
    return None


def cell_text(value: str) -> str:
    """``value`` fit for a cell: a lone surrogate (an undecodable byte) becomes U+FFFD.

    Callers that take text from an operator refuse it first (``bad_cell_text``); this keeps a
    runner's error note from ever making the registry unwritable."""
    if bad_cell_text(value) is None:
        return value
    from .jsonfiles import valid_unicode  # the one repair of lone surrogates (issue 22)

    return valid_unicode(value)


def cell_at(cells: list[str], index: int) -> str:
    return cells[index] if index < len(cells) else ""


def is_table_line(line: str) -> bool:
    return line[:1] == "|" or line.lstrip(" ")[:1] == "|"


def is_align_line(line: str) -> bool:
    cells = split_cells(line)
    return bool(cells) and all(_ALIGN_CELL_RE.fullmatch(c + " ") for c in cells)


def split_lines(text: str) -> list[str]:
    """Lines with their endings, ended by LF only (CR LF counts as one ending).

    Not ``str.splitlines``: it also breaks on CR, VT, FF, U+2028... A cell holding one raw (written
    by an older smb, or by hand) must stay inside its row, as it does for awk and grep (issue 8).
    A file with no LF at all but CRs is an old Mac text file: its lines end with CR.
    """
    newline = "\n" if "\n" in text or "\r" not in text else "\r"
    return io.StringIO(text, newline=newline).readlines()


def first_newline(text: str) -> str:
    end = text.find("\n")
    if end < 0:
        return "\r" if "\r" in text else "\n"
    return "\r\n" if end and text[end - 1] == "\r" else "\n"
