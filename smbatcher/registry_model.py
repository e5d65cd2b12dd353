"""The registry document: rows, the bulk table behind them, and writing it back. Pure: no I/O.

An unchanged row keeps its raw line, so ``serialize(parse(text)) == text`` for
every text that parses (SPEC §2). The parsers are in ``registry_parse``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import repeat

from .lifecycle import STATUSES, batch_key
from .registry_cells import DEFAULT_COLUMNS, cell_at, render_cells, split_cells
from .units import utc_stamp as utc_now


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


class Unstripped(list):
    """A column's cells as split, stripped when first read (``_Table.column``)."""


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
        elif isinstance(values, Unstripped):
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
                       if self.made[p].get(name) != cell_at(cells, index)}
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
        keys = {value for value in set(batches) if batch_key(value) == batch}
        return [position for position, value in enumerate(batches) if value in keys]

    def batch_rows(self, batch: str) -> list[Row]:
        return [self.row_at(position) for position in self.batch_positions(batch)]

    def batches(self) -> list[str]:
        return sorted({batch_key(value) for value in self.column("batch")})

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
