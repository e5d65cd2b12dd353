"""The registry format: markdown text <-> rows, and its validation. Pure: no I/O.

The file is free text, one pipe table, free text (SPEC §2). Everything the tool
does not change is written back byte for byte: an unchanged row keeps its raw
line, so ``serialize(parse(text)) == text`` for every text that parses.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from .lifecycle import STATUSES
from .units import utc_stamp as utc_now

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
    return f"{int(value):03d}"



# Characters that end a line for str.splitlines() (and for editors and viewers): a cell must never
# hold one raw, or the next read splits the row and every later row is lost (issue 8). They are
# written as \uXXXX, lower-case hex, and so is a backslash that would otherwise start such an
# escape. Only these exact sequences (and SPEC §2's \|) mean anything: every other backslash is
# literal, so registries written before (C:\temp\new, \\server\share) read as they always did.
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_CODE_OF = {ch: f"u{ord(ch):04x}" for ch in LINE_BREAKS + "\\"}
_CHAR_OF = {code: ch for ch, code in _CODE_OF.items()}
_ESCAPE_RE = re.compile("[|" + re.escape(LINE_BREAKS) + "]|\\\\(?=" + "|".join(sorted(_CHAR_OF)) + ")")
_UNESCAPE_RE = re.compile("\\\\(\\||" + "|".join(sorted(_CHAR_OF)) + ")")
_SEPARATOR_RE = re.compile(r"(?<!\\)\|")


def _escape(match: re.Match) -> str:
    ch = match.group()
    return "\\|" if ch == "|" else "\\" + _CODE_OF[ch]


def escape_cell(value: str) -> str:
    """A cell value as written in the file: ``|`` -> ``\\|``, line breaks -> ``\\u2028`` and the like."""
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
    """``value`` fit for a cell: a lone surrogate (an undecodable byte) becomes ``?``.

    Callers that take text from an operator refuse it first (``bad_cell_text``); this keeps a
    runner's error note from ever making the registry unwritable."""
    if bad_cell_text(value) is None:
        return value
    return value.encode("utf-8", "replace").decode("utf-8")


@dataclass(frozen=True)
class Problem:
    line: int  # 1-based line number in the file, 0 when it concerns the whole file
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


def unclean_warning(where: str, problems: list[Problem]) -> str:
    """The one warning line read-only commands print for a registry that does not parse cleanly (SPEC §2)."""
    more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{where}: {problems[0]}{more}; showing what could be read"


class Row:
    """One site. ``raw`` is the original line (with its newline) until the row changes.

    ``cells`` may be None at first: ``parse`` then splits ``raw`` only when a cell is
    asked for (a transaction on 100,000 rows touches a handful; issue 2's benchmark).
    A changed row is written with the line ending its raw line had (issue 8: a registry
    with mixed endings keeps every line's own), a new one with the file's.
    """

    __slots__ = ("_cells", "_raw", "line", "_columns", "eol")

    def __init__(self, cells: list[str] | None, columns: dict[str, int], raw: str | None = None, line: int = 0):
        self._cells = cells
        self._raw = raw
        self.line = line
        self._columns = columns
        self.eol: str | None = None  # set when ``raw`` is dropped; None: the file's newline

    @property
    def cells(self) -> list[str]:
        cells = self._cells
        if cells is None:
            cells = self._cells = split_cells(self._raw)
        return cells

    @cells.setter
    def cells(self, value: list[str]) -> None:
        self._cells = value

    @property
    def raw(self) -> str | None:
        return self._raw

    @raw.setter
    def raw(self, value: str | None) -> None:
        old = self._raw
        if old is not None:
            if self._cells is None:  # keep the cells before the line they come from is dropped
                self._cells = split_cells(old)
            if self.eol is None:
                self.eol = old[len(old.rstrip("\r\n")):]
        self._raw = value

    def get(self, column: str, default: str = "") -> str:
        index = self._columns.get(column)
        if index is None or index >= len(self.cells):
            return default
        return self.cells[index]

    def set(self, column: str, value: str) -> None:
        index = self._columns.get(column)
        if index is None:
            return  # the registry has no such column: nothing to record it in
        if self.cells[index] != value:
            self.cells[index] = value
            self.raw = None

    @property
    def domain(self) -> str:
        return self.cells[0]

    @property
    def batch(self) -> str:
        return self.get("batch")

    @property
    def status(self) -> str:
        return self.get("status")

    @property
    def attempts(self) -> int:
        value = self.get("attempts", "0")
        return int(value) if value.isdigit() else 0

    def as_dict(self) -> dict[str, str]:
        return {name: self.get(name) for name in self._columns}

    def __repr__(self) -> str:
        return f"Row({self.cells!r}, line={self.line})"


@dataclass
class Registry:
    """A parsed registry document."""

    before: str = ""
    header: str = ""
    align: str = ""
    columns: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    after: str = ""
    newline: str = "\n"
    problems: list[Problem] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)

    @property
    def column_index(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.columns)}

    def row(self, domain: str) -> Row | None:
        position = self.index.get(domain)
        return None if position is None else self.rows[position]

    def batch_rows(self, batch: str) -> list[Row]:
        return [row for row in self.rows if _batch_key(row.batch) == batch]

    def batches(self) -> list[str]:
        seen: dict[str, None] = {}
        for row in self.rows:
            seen.setdefault(_batch_key(row.batch), None)
        return sorted(seen)

    def add(self, domain: str, batch: str, status: str = "-") -> Row:
        values = {"domain": domain, "batch": batch, "status": status, "attempts": "0", "updated": utc_now()}
        columns = self.column_index
        row = Row([values.get(name, "") for name in self.columns], columns)
        self.index[domain] = len(self.rows)
        self.rows.append(row)
        return row

    def reindex(self) -> None:
        self.index = {}
        for position, row in enumerate(self.rows):
            self.index.setdefault(row.domain, position)


def _batch_key(value: str) -> str:
    return f"{int(value):03d}" if value.isdigit() else value


def _is_table_line(line: str) -> bool:
    return line[:1] == "|" or line.lstrip(" ")[:1] == "|"


def _is_align_line(line: str) -> bool:
    cells = split_cells(line)
    return bool(cells) and all(_ALIGN_CELL_RE.fullmatch(c + " ") for c in cells)


def _split_lines(text: str) -> list[str]:
    """Lines with their endings, ended by LF only (CR LF counts as one ending).

    Not ``str.splitlines``: it also breaks on CR, VT, FF, U+2028... A cell holding one raw (written
    by an older smb, or by hand) must stay inside its row, as it does for awk and grep (issue 8).
    A file with no LF at all but CRs is an old Mac text file: its lines end with CR.
    """
    newline = "\n" if "\n" in text or "\r" not in text else "\r"
    return io.StringIO(text, newline=newline).readlines()


def _first_newline(text: str) -> str:
    end = text.find("\n")
    if end < 0:
        return "\r" if "\r" in text else "\n"
    return "\r\n" if end and text[end - 1] == "\r" else "\n"


def parse(text: str) -> Registry:
    """Parse a registry. Never raises: problems are collected with line numbers."""
    reg = Registry()
    lines = _split_lines(text)
    start = next((i for i, line in enumerate(lines) if _is_table_line(line)), None)
    if start is None:
        reg.before = text
        reg.problems.append(Problem(0, "no registry table found (want a header row: | domain | batch | status |)"))
        return reg
    reg.before = "".join(lines[:start])
    reg.header = lines[start]
    # New rows get the header's line ending, or the file's first one when the header has none.
    reg.newline = _first_newline(reg.header if reg.header.endswith("\n") else text)
    reg.columns = [c.lower() for c in split_cells(reg.header)]
    columns = reg.column_index
    for name in REQUIRED:
        if name not in columns:
            reg.problems.append(Problem(start + 1, f"missing required column '{name}'"))
    for name in KNOWN:
        # Two `status` columns: smb would read one cell and awk or a reader the other (issue 8).
        positions = [i + 1 for i, column in enumerate(reg.columns) if column == name]
        if len(positions) > 1:
            reg.problems.append(Problem(start + 1, f"column '{name}' appears {len(positions)} times "
                                        f"(columns {', '.join(map(str, positions))}); rename or remove one by hand"))
    if reg.columns and reg.columns[0] != "domain" and "domain" in columns:
        reg.problems.append(Problem(start + 1, "column 'domain' must come first"))
    end = start + 1
    if end < len(lines) and _is_table_line(lines[end]) and _is_align_line(lines[end]):
        reg.align = lines[end]
        end += 1
    else:
        reg.problems.append(Problem(start + 2, "missing alignment row (|---|---|) after the header"))
    width = len(reg.columns)
    status_i, batch_i = columns.get("status"), columns.get("batch")
    # Fast path: only the cells validation needs are split here; the rest on demand.
    needed = max(status_i or 0, batch_i or 0) + 1
    statuses = set(STATUSES)
    rows, index, problems = reg.rows, reg.index, reg.problems
    total = len(lines)
    while end < total and _is_table_line(lines[end]):
        raw = lines[end]
        lineno = end + 1
        body = raw.strip()
        pipes = body.count("|")
        if "\\" not in body and pipes >= 2 and pipes - body.endswith("|") == width:
            # No escapes, the right number of cells: exactly what split_cells would give.
            parts = body.split("|", needed + 1)
            row = Row(None, columns, raw, lineno)
            domain = parts[1].strip()
            status = parts[status_i + 1].strip() if status_i is not None else None
            batch = parts[batch_i + 1].strip() if batch_i is not None else None
        else:
            cells = split_cells(raw)
            row = Row(cells, columns, raw, lineno)
            if len(cells) != width:
                problems.append(Problem(lineno, f"{len(cells)} cells where the header has {width}"))
                if len(cells) < width:
                    cells.extend([""] * (width - len(cells)))
            domain = cells[0]
            status = cells[status_i] if status_i is not None else None
            batch = cells[batch_i] if batch_i is not None else None
        if not is_domain(domain):
            problems.append(Problem(lineno, f"invalid domain {domain!r}"))
        if domain in index:
            problems.append(Problem(lineno, f"duplicate domain {domain} (first at line {rows[index[domain]].line})"))
        else:
            index[domain] = len(rows)
        if status is not None and status not in statuses:
            problems.append(Problem(lineno, f"unknown status {status!r} for {domain}"))
        if batch is not None and not (batch.isdigit() and batch.isascii()):
            problems.append(Problem(lineno, f"invalid batch {batch!r} for {domain}"))
        rows.append(row)
        end += 1
    reg.after = "".join(lines[end:])
    for offset, line in enumerate(lines[end:], start=end + 1):
        if _is_table_line(line):
            problems.append(Problem(offset, "table row outside the registry table (after a break)"))
    return reg


def serialize(reg: Registry) -> str:
    """The document as text; unchanged rows come back byte for byte."""
    newline = reg.newline
    table = [reg.header, reg.align] if reg.align else [reg.header]
    table += [row._raw if row._raw is not None else render_cells(row.cells) + (newline if row.eol is None else row.eol)
              for row in reg.rows]
    # Only the file's last line may lack a newline; once something follows it, it needs one.
    ending = newline[-1]  # "\n", or "\r" in an old Mac file
    for i in range(len(table) - 1):
        if not table[i].endswith(ending):
            table[i] += newline
    return reg.before + "".join(table) + reg.after


def new_registry_text(title: str = "# Site registry") -> str:
    header = render_cells(list(DEFAULT_COLUMNS))
    align = "|" + "|".join("-" * (len(c) + 2) for c in DEFAULT_COLUMNS) + "|"
    return f"{title}\n\n{header}\n{align}\n"
