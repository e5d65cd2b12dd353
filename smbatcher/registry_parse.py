"""The registry parsers: text -> Registry. Pure: no I/O; never raises, problems carry line numbers.

A clean table (the file smb writes) is read in bulk, column-wise (issue 13); anything else, and
any doubt, line by line. Both give the same Registry (tests/test_registry_bulk.py holds them to it).
"""

from __future__ import annotations

import re
from itertools import repeat

from .lifecycle import STATUSES
from .registry_cells import (KNOWN, REQUIRED, first_newline, is_align_line, is_table_line, split_cells,
                             split_lines)
from .registry_model import Problem, Registry, Row, Unstripped, _Table
from .registry_validate import header_problems, row_problems


def parse(text: str) -> Registry:
    """Parse a registry. Never raises: problems are collected with line numbers.

    A clean table (the file smb writes) is read in bulk; anything else, and any doubt, line by line.
    Both give the same Registry (tests/test_registry_bulk.py holds them to it)."""
    registry = _parse_bulk(text)
    return registry if registry is not None else _parse_lines(text)


_TABLE_LINE_RE = re.compile(r"^[ ]*\|", re.M)  # a line starting with a pipe (is_table_line)
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
    if not (is_table_line(align) and is_align_line(align)):
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
        values["owner"] = Unstripped(values["owner"])  # only `smb status` reads it
    if (statuses is None or not _all_domains(domains)
            or not all(batch.isdigit() and batch.isascii() for batch in set(batches))):
        return None
    if len(set(domains)) != count:
        return None  # a duplicate domain: the line-by-line parser names both lines
    reg = Registry(before=text[:header_at], header=header, align=align, columns=columns, after=text[end:],
                   newline=first_newline(header))
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
                   after=text[end:], newline=first_newline(header))
    _attach(reg, _Table(text, start, end, first_line, size, values, ()))
    return reg

def _parse_lines(text: str) -> Registry:
    """The line-by-line parser: any text, every problem with its line number."""
    reg = Registry()
    lines = split_lines(text)
    start = next((i for i, line in enumerate(lines) if is_table_line(line)), None)
    if start is None:
        reg.before = text
        reg.problems.append(Problem(0, "no registry table found (want a header row: | domain | batch | status |)"))
        return reg
    reg.before = "".join(lines[:start])
    reg.header = lines[start]
    # New rows get the header's line ending, or the file's first one when the header has none.
    reg.newline = first_newline(reg.header if reg.header.endswith("\n") else text)
    reg.columns = [c.lower() for c in split_cells(reg.header)]
    columns = reg.column_index
    reg.problems.extend(header_problems(reg.columns, start + 1))
    end = start + 1
    if end < len(lines) and is_table_line(lines[end]) and is_align_line(lines[end]):
        reg.align = lines[end]
        end += 1
    else:
        reg.problems.append(Problem(start + 2, "missing alignment row (|---|---|) after the header"))
    width = len(reg.columns)
    status_i, batch_i = columns.get("status"), columns.get("batch")
    # Fast path: only the cells validation needs are split here; the rest on demand.
    needed = max(status_i or 0, batch_i or 0) + 1
    rows, index, problems = reg.rows, reg.index, reg.problems
    total = len(lines)
    while end < total and is_table_line(lines[end]):
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
        first = index.get(domain)
        if first is None:
            index[domain] = len(rows)
        problems += row_problems(lineno, domain, status, batch, None if first is None else rows[first].line)
        rows.append(row)
        end += 1
    reg.after = "".join(lines[end:])
    for offset, line in enumerate(lines[end:], start=end + 1):
        if is_table_line(line):
            problems.append(Problem(offset, "table row outside the registry table (after a break)"))
    return reg
