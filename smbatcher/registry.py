"""The registry format: markdown text <-> rows, and its validation. Pure: no I/O.

The file is free text, one pipe table, free text (SPEC §2). Everything the tool
does not change is written back byte for byte: an unchanged row keeps its raw
line, so ``serialize(parse(text)) == text`` for every text that parses.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from itertools import repeat

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
    by_hand: bool = False  # the header itself: only a person can say which column was meant

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


class _Table:
    """The rows of a table parsed in bulk (issue 13), before any Row object exists.

    A one-shot command on 100,000 rows reads a few columns of every row (``smb status``: batch and
    status) or a few whole rows (``smb set-status``): making 100,000 Row objects would cost more
    than the parse. So the clean table is kept as its text and the columns the parse read anyway;
    a Row is made when one is asked for (and kept: the same position is the same Row), and all of
    them only when ``Registry.rows`` is touched.
    """

    __slots__ = ("text", "start", "end", "first_line", "size", "values", "frame", "made", "given", "replaced",
                 "edited", "clean", "lookups", "_parts")

    def __init__(self, text: str, start: int, end: int, first_line: int, size: int,
                 values: dict[str, list[str] | str], frame: tuple) -> None:
        self.text = text
        self.start, self.end = start, end  # the rows are text[start:end]
        self.first_line = first_line  # 1-based line number of the first row
        self.size = size
        self.values = values  # column -> its stripped cells (or them joined by line feeds, split on first use)
        self.frame = frame  # before, header, align, after and columns as parsed
        self.made: dict[int, Row] = {}  # position -> the Row handed out for it
        self.given: dict[int, str] = {}  # position -> the line its Row was given (or was last written as)
        self.replaced: dict[int, str] = {}  # position -> its line as parsed, once written anew
        self.edited = False  # some part is no longer the text's
        self.clean = True  # False once a line was set by hand (``_reads_back`` checks the rendered ones)
        self.lookups = 0
        self._parts: list[str] | None = None

    def column(self, name: str) -> list[str]:
        """The column as parsed (not as changed since)."""
        values = self.values[name]
        if isinstance(values, str):
            values = self.values[name] = values.split("\n") if self.size else []
        elif isinstance(values, _Unstripped):
            values = self.values[name] = list(map(str.strip, values))
        return values

    def layout_values(self, columns: dict[str, int]) -> dict[str, str]:
        """The columns as they now are, joined by line feeds: the derived index's form of them.

        An index read back holds its columns joined, and a write changes a few rows and mostly not
        every column: those come back as they were, without splitting 100,000 cells (issue 13). The
        columns that changed become the new "as parsed", so the next write (the runner writes every
        loop turn) compares only the rows it changes itself."""
        before = {position: split_cells(line) for position, line in self.replaced.items()}
        joined = {}
        for name in self.values:
            index = columns[name]
            changes = {p: self.made[p].get(name) for p, cells in before.items()
                       if self.made[p].get(name) != _cell(cells, index)}
            values = self.values[name]
            if isinstance(values, str) and not changes:
                joined[name] = values
                continue
            values = self.column(name)
            if changes:
                values = list(values)
                for position, value in changes.items():
                    values[position] = value
            joined[name] = "\n".join(values)
            if changes:
                self.values[name] = joined[name]
        self.replaced = {}
        return joined

    def find(self, domain: str) -> int | None:
        """The position of ``domain``, found without a dict: the first few lookups (`smb set-status`
        changes a site or two) cost less as a scan in C than building the index of 100,000 rows."""
        self.lookups += 1
        try:
            return self.column("domain").index(domain)
        except ValueError:
            return None

    def parts(self) -> list[str]:
        """Every row's line without its final line feed (split once, when a Row or the text is wanted)."""
        if self._parts is None:
            parts = self.text[self.start:self.end].split("\n")
            if self.end > self.start and self.text[self.end - 1] == "\n":
                parts.pop()  # the "" after the last line feed
            self._parts = parts
        return self._parts

    def _ends(self, position: int) -> bool:
        """Whether the row's line ends with a line feed: all but an unended last line of the file."""
        return position < self.size - 1 or self.text[self.end - 1] == "\n"

    def row(self, position: int, columns: dict[str, int]) -> "Row":
        row = self.made.get(position)
        if row is None:
            line = self.parts()[position] + ("\n" if self._ends(position) else "")
            row = self.made[position] = Row(None, columns, line, self.first_line + position)
            self.given[position] = line
        return row

    def rows(self, columns: dict[str, int]) -> list["Row"]:
        lines = [part + "\n" for part in self.parts()]
        if lines and not self._ends(self.size - 1):
            lines[-1] = lines[-1][:-1]
        rows = list(map(Row, repeat(None), repeat(columns), lines, range(self.first_line, self.first_line + self.size)))
        for position, row in self.made.items():
            rows[position] = row
        return rows

    def body(self, newline: str) -> str:
        """The rows' text: the original slice, with the rows handed out and changed since written anew."""
        changed = [(p, row) for p, row in self.made.items() if row._raw is not self.given[p]]
        if changed:
            parts = self.parts()
            for position, row in changed:
                self.replaced.setdefault(position, parts[position])
                if row._raw is None:
                    # Rendered once: the row then reads as written, so the next write (the runner
                    # writes every loop turn) copies its line instead of rendering it again.
                    row._raw = _render_row(row, newline)
                else:
                    self.clean = False  # a line set by hand: no telling what it reads as
                line = self.given[position] = row._raw
                if line.endswith("\n"):
                    line = line[:-1]
                elif self._ends(position):
                    line += newline[:-1]  # a line followed by another needs an ending (as serialize gives it)
                parts[position] = line
            self.edited = True
        if not self.edited:
            return self.text[self.start:self.end]
        return "\n".join(self.parts()) + ("\n" if self._ends(self.size - 1) else "")

    def reads_back(self) -> bool:
        """Whether every line written anew is one ``_parse_bulk`` takes, with the values
        ``Registry.column`` gives (asked only when the derived index is written: small registries
        have none, and the runner's writes need not pay for it)."""
        return self.clean and all(self._reads_back(p, self.made[p]) for p in self.replaced)

    def _reads_back(self, position: int, row: "Row") -> bool:
        """Whether a rendered row is one ``_parse_bulk`` takes, with the values ``Registry.column`` gives."""
        if "\\" in row._raw or row.domain != self.column("domain")[position]:
            return False  # an escape (a pipe or a line break in a cell), or a new domain the index lacks
        values = [row.get(name) for name in self.values]
        batch = row.get("batch")
        return (row.get("status") in STATUSES and batch.isdigit() and batch.isascii()
                and all(value == value.strip() for value in values))


@dataclass
class Registry:
    """A parsed registry document.

    ``rows`` of a registry parsed in bulk is made on first use (``__getattr__``); ``row``,
    ``row_at``, ``column`` and ``row_count`` answer without making every Row (issue 13).
    """

    before: str = ""
    header: str = ""
    align: str = ""
    columns: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    after: str = ""
    newline: str = "\n"
    problems: list[Problem] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    _table: _Table | None = field(default=None, repr=False, compare=False)

    def __getattr__(self, name: str):
        # Reached only for an attribute not set: `rows` and `index` of a registry parsed in bulk,
        # made on first use. Do not turn them into properties: dataclasses.replace and == must keep
        # seeing plain fields.
        table = self.__dict__.get("_table")
        if table is not None and name in ("rows", "index"):
            if "index" not in self.__dict__:
                self.__dict__["index"] = dict(zip(table.column("domain"), range(table.size)))
            if name == "rows":
                self.__dict__["rows"] = table.rows(self.column_index)
                self._table = None  # from here on the rows are the truth
            return self.__dict__[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _bulk(self) -> _Table | None:
        """The bulk table, while no full list of rows exists (``replace(reg, rows=...)`` makes one)."""
        return self._table if "rows" not in self.__dict__ else None

    @property
    def column_index(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.columns)}

    @property
    def row_count(self) -> int:
        table = self._bulk()
        return table.size if table is not None else len(self.rows)

    def row_at(self, position: int) -> Row:
        table = self._bulk()
        return table.row(position, self.column_index) if table is not None else self.rows[position]

    def row(self, domain: str) -> Row | None:
        table = self._table
        if table is not None and "index" not in self.__dict__ and table.lookups < 16:
            position = table.find(domain)
        else:
            position = self.index.get(domain)
        return None if position is None else self.row_at(position)

    def column(self, name: str) -> list[str]:
        """Every row's value of one column, in order ("" where the registry has no such column).

        Read it, never change it: it may be the registry's own list. Cheap for the columns a bulk
        parse read (domain, batch, status, owner); any other makes every Row."""
        if name not in self.columns:
            return [""] * self.row_count
        table = self._bulk()
        if table is not None and name in table.values:
            values = table.column(name)
            if table.made:
                values = list(values)
                for position, row in table.made.items():  # rows handed out may have changed since
                    values[position] = row.get(name)
            return values
        return [row.get(name) for row in self.rows]

    def batch_positions(self, batch: str) -> list[int]:
        """Positions of the rows of ``batch`` (``001``); ``1`` and ``01`` in a cell count as ``001``."""
        batches = self.column("batch")
        keys = {value for value in set(batches) if _batch_key(value) == batch}
        return [position for position, value in enumerate(batches) if value in keys]

    def batch_rows(self, batch: str) -> list[Row]:
        return [self.row_at(position) for position in self.batch_positions(batch)]

    def batches(self) -> list[str]:
        return sorted({_batch_key(value) for value in self.column("batch")})

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


def _cell(cells: list[str], index: int) -> str:
    return cells[index] if index < len(cells) else ""


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
    """Parse a registry. Never raises: problems are collected with line numbers.

    A clean table (the file smb writes) is read in bulk; anything else, and any doubt, line by line.
    Both give the same Registry (tests/test_registry_bulk.py holds them to it)."""
    registry = _parse_bulk(text)
    return registry if registry is not None else _parse_lines(text)


_TABLE_LINE_RE = re.compile(r"^[ ]*\|", re.M)  # a line starting with a pipe (_is_table_line)
# Led by a line feed, not ^: a literal first character lets re skip to each line feed.
_TABLE_END_RE = re.compile(r"\n(?![ ]*\|)")  # the line feed before the first line that is not a table line
_TABLE_LINE_AFTER_RE = re.compile(r"\n[ ]*\|")
_FIRST_GAP_RE = re.compile(r"[ ]*")  # before the first row's first pipe
_ROW_GAP_RE = re.compile(r"[^\S\n]*\n[ ]*")  # after a row's last pipe: blanks, the line feed, the next row's indent
_LAST_GAP_RE = re.compile(r"[^\S\n]*\n?")
_BULK_COLUMNS = ("domain", "batch", "status", "owner")
_DOMAIN_BYTES = b"abcdefghijklmnopqrstuvwxyz0123456789.-\n"
_LONG_LABEL_RE = re.compile(r"[^.\n]{64}")


def _all_domains(domains: list[str]) -> bool:
    """``all(map(is_domain, domains))`` for domains holding no line feed, in a few passes in C.

    A DNS name as ``_DOMAIN_RE`` has it: only a-z 0-9 . -; labels of 1 to 63 characters that
    neither start nor end with a hyphen; at least two labels; 253 characters at most. Joined by line
    feeds (and framed by them), an empty name or label, or a hyphen at a label's edge, shows as one
    of the pairs below; a name without a dot has one label. tests/test_registry_bulk.py holds this
    to is_domain."""
    if not domains:
        return True
    longest = max(map(len, domains))
    joined = "\n" + "\n".join(domains) + "\n"
    return (longest <= 253 and joined.isascii() and not joined.encode().translate(None, _DOMAIN_BYTES)
            and not any(pair in joined for pair in ("\n\n", "\n.", ".\n", "..", "\n-", "-\n", ".-", "-."))
            and all(map(str.__contains__, domains, repeat(".")))
            and (longest <= 63 or _LONG_LABEL_RE.search(joined) is None))


class _Unstripped(list):
    """A column's cells as split, stripped when first read (``_Table.column``)."""


def _parse_bulk(text: str) -> Registry | None:
    """A clean table read with a few passes over the whole text, or None for the line-by-line parser.

    Clean: a header with the required columns once each and domain first, an alignment row, then
    rows of exactly the header's number of cells, each line starting and ending with a pipe, with no
    backslash (so no escape), and valid, unique domains, known statuses and digit batches, and no table
    row after the table. Splitting the rows' text on every pipe then puts each row's cells at fixed
    places, so a column is a slice. 30 µs a row line by line, about 2 µs here (issue 13).
    """
    if "\n" not in text:
        return None
    found = _TABLE_LINE_RE.search(text)
    if found is None:
        return None
    header_at = found.start()
    align_at = text.find("\n", header_at) + 1
    if not align_at:
        return None
    header = text[header_at:align_at]
    columns = [c.lower() for c in split_cells(header)]
    if (columns[:1] != ["domain"] or any(name not in columns for name in REQUIRED)
            or any(columns.count(name) > 1 for name in KNOWN)):
        return None
    start = text.find("\n", align_at) + 1 or len(text)
    align = text[align_at:start]
    if not (_is_table_line(align) and _is_align_line(align)):
        return None
    if text[start - 1] != "\n":
        end = start  # the alignment row is the file's last line
    else:
        found = _TABLE_END_RE.search(text, start - 1)
        end = found.end() if found is not None else len(text)
    if text.find("\\", start, end) >= 0 or _TABLE_LINE_AFTER_RE.search(text, end - 1):
        return None
    body = text[start:end]
    count = body.count("\n") + (not body.endswith("\n") if body else 0)
    stride = len(columns) + 1
    cells = body.split("|")
    if len(cells) != count * stride + 1:
        return None
    if count:
        gaps = cells[stride:-1:stride]
        if (not _FIRST_GAP_RE.fullmatch(cells[0]) or not _LAST_GAP_RE.fullmatch(cells[-1])
                or not all(map(_ROW_GAP_RE.fullmatch, set(gaps)))):
            return None
    position = {name: i for i, name in enumerate(columns)}
    values: dict = {name: cells[position[name] + 1::stride] for name in _BULK_COLUMNS if name in position}
    del cells
    domains = values["domain"] = list(map(str.strip, values["domain"]))
    values["status"] = statuses = _status_letters(values["status"])
    values["batch"] = batches = list(map(str.strip, values["batch"]))
    if "owner" in values:
        values["owner"] = _Unstripped(values["owner"])  # only `smb status` reads it
    if (statuses is None or not _all_domains(domains)
            or not all(batch.isdigit() and batch.isascii() for batch in set(batches))):
        return None
    if len(set(domains)) != count:
        return None  # a duplicate domain: the line-by-line parser names both lines
    reg = Registry(before=text[:header_at], header=header, align=align, columns=columns, after=text[end:],
                   newline=_first_newline(header))
    _attach(reg, _Table(text, start, end, text.count("\n", 0, start) + 1, count, values, ()))
    return reg


def _status_letters(cells: list[str]) -> list[str] | None:
    """The status column, stripped, or None when a status is not a known one."""
    count = len(cells)
    letters = "|".join(cells)  # no cell holds a pipe: all at every fourth place means every cell is 3 long
    if (count and len(letters) == 4 * count - 1 and letters[3::4] == "|" * (count - 1)
            and letters[0::4] == letters[2::4] == " " * count):
        statuses = list(letters[1::4])  # every cell " X ", as smb writes them: no strip needed
    else:
        statuses = list(map(str.strip, cells))
    return statuses if set(statuses) <= set(STATUSES) else None


def _attach(reg: Registry, table: _Table) -> None:
    table.frame = (reg.before, reg.header, reg.align, reg.after, list(reg.columns))
    reg._table = table
    # Made on first use (Registry.__getattr__): a count needs no Row, a few lookups no dict.
    del reg.__dict__["rows"], reg.__dict__["index"]


def bulk_layout(reg: Registry) -> dict | None:
    """What ``from_layout`` needs to rebuild ``reg`` from ``serialize(reg)`` without parsing it, or None
    when that text might not parse cleanly in bulk (a row added, an escape written, a header changed).

    For the derived index (``registry_index``): columns joined by line feeds (no cell of a clean
    table holds one), offsets into the text."""
    table = reg._bulk()
    if table is None or not table.clean:
        return None
    before, header, align, after, columns = table.frame
    if (reg.before, reg.header, reg.align, reg.after, reg.columns) != (before, header, align, after, columns):
        return None
    body = table.body(reg.newline)  # (renders rows changed since the last serialize)
    if not table.reads_back():
        return None
    header_at = len(before)
    start = header_at + len(header) + len(align)
    return {"at": [header_at, header_at + len(header), start, start + len(body), table.first_line, table.size],
            "values": table.layout_values(reg.column_index)}


def from_layout(text: str, layout: dict) -> Registry | None:
    """The registry ``_parse_bulk(text)`` would give, from ``bulk_layout`` of a registry whose
    ``serialize`` was ``text``; None when the layout does not fit the text (then parse it)."""
    try:
        header_at, align_at, start, end, first_line, size = layout["at"]
        values = dict(layout["values"])
        if not (0 <= header_at < align_at < start <= end <= len(text)) or "domain" not in values:
            return None
        header = text[header_at:align_at]
        columns = [c.lower() for c in split_cells(header)]
        if not set(values) <= set(columns) or not all(
                isinstance(v, str) and (v.count("\n") + 1 == size if size else not v) for v in values.values()):
            return None
    except (KeyError, TypeError, ValueError):
        return None
    reg = Registry(before=text[:header_at], header=header, align=text[align_at:start], columns=columns,
                   after=text[end:], newline=_first_newline(header))
    _attach(reg, _Table(text, start, end, first_line, size, values, ()))
    return reg


def _parse_lines(text: str) -> Registry:
    """The line-by-line parser: any text, every problem with its line number."""
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
            reg.problems.append(Problem(start + 1, f"missing required column '{name}'", by_hand=True))
    for name in KNOWN:
        # Two `status` columns: smb would read one cell and awk or a reader the other (issue 8).
        positions = [i + 1 for i, column in enumerate(reg.columns) if column == name]
        if len(positions) > 1:
            reg.problems.append(Problem(start + 1, f"column '{name}' appears {len(positions)} times "
                                        f"(columns {', '.join(map(str, positions))}); rename or remove one by hand",
                                        by_hand=True))
    if reg.columns and reg.columns[0] != "domain" and "domain" in columns:
        reg.problems.append(Problem(start + 1, "column 'domain' must come first", by_hand=True))
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


def _render_row(row: Row, newline: str) -> str:
    return render_cells(row.cells) + (newline if row.eol is None else row.eol)


def serialize(reg: Registry) -> str:
    """The document as text; unchanged rows come back byte for byte."""
    newline = reg.newline
    table = reg._bulk()
    if table is not None and reg.header.endswith("\n") and (reg.align.endswith("\n") or not table.size):
        # Bulk-parsed, no row added or removed: only the file's last line can lack a line feed, and
        # nothing follows it. (A header or alignment row changed to lack one: the general way below.)
        return reg.before + reg.header + reg.align + table.body(newline) + reg.after
    table = [reg.header, reg.align] if reg.align else [reg.header]
    table += [row._raw if row._raw is not None else _render_row(row, newline) for row in reg.rows]
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
