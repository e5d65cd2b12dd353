"""Hypothesis strategies for registry text: valid registries of every shape, cell values, junk lines.

Shared by the line-parser tests (test_registry.py) and the bulk-parser tests (test_registry_bulk.py).
"""

from __future__ import annotations

from hypothesis import strategies as st

from smbatcher.registry import LINE_BREAKS, STATUSES, escape_cell

# -- generated valid registries ---------------------------------------------------------

# Free text: anything but a line feed, the one character that ends a line (issue 8: CR, VT, FF,
# \x1c-\x1e, \x85, \u2028 and \u2029 end a line for str.splitlines, not for the registry).
_TEXT_CHARS = st.one_of(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"),
                        st.sampled_from(LINE_BREAKS.replace("\n", "")))
# Cell values: anything, line breaks, pipes and backslashes included, with the sequences the
# escapes are made of drawn often; written to the file with escape_cell.
_VALUE_PIECES = st.one_of(
    st.characters(blacklist_categories=("Cs",)),
    st.sampled_from(list(LINE_BREAKS) + ["|", "\\", "\\|", "\\\\", "u", "u000a", "u2028", "u005c", "\\u000a",
                                         "\\u005c", "C:\\new", "\r\n"]),
)
_LABEL = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=10).map(
    lambda s: s.strip("-") or "a")
_DOMAIN = st.lists(_LABEL, min_size=2, max_size=3).map(".".join)
_EXTRA_COLUMNS = ["client", "priority", "Comments", "région", "x"]
_OPTIONAL_COLUMNS = ["owner", "attempts", "updated", "note"]


def _fits_a_cell(value: str) -> bool:
    """A value the file can hold as is: cells are stripped, and a backslash just before the closing
    pipe would escape it (smb writes `` |`` after every cell, so only hand-made lines can do that)."""
    written = escape_cell(value)
    return written == written.strip() and not written.endswith("\\")


cell_value = st.lists(_VALUE_PIECES, max_size=8).map("".join).filter(_fits_a_cell)


@st.composite
def cell_text(draw) -> str:
    """Cell content as written in the file: pipes and line breaks escaped."""
    return escape_cell(draw(cell_value))


@st.composite
def free_line(draw) -> str:
    line = draw(st.one_of(st.just(""), st.text(_TEXT_CHARS, max_size=30)))
    if line.lstrip(" ").startswith("|"):
        line = "x" + line  # a line starting with a pipe would be (part of) a table
    return line


@st.composite
def table_line(draw, cells: list[str]) -> str:
    indent = draw(st.sampled_from(["", "", "", " ", "  "]))
    pads = draw(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=len(cells), max_size=len(cells)))
    body = "|".join(" " * a + c + " " * b for c, (a, b) in zip(cells, pads))
    return f"{indent}|{body}|"


@st.composite
def valid_registry(draw) -> tuple[str, int]:
    """A registry text that must parse cleanly, and its number of rows."""
    nl = draw(st.sampled_from(["\n", "\r\n"]))
    tail_columns = ["batch", "status"]
    tail_columns += draw(st.lists(st.sampled_from(_OPTIONAL_COLUMNS), unique=True))
    tail_columns += draw(st.lists(st.sampled_from(_EXTRA_COLUMNS), unique=True))
    columns = ["domain"] + draw(st.permutations(tail_columns))
    header_names = [draw(st.sampled_from([c, c.upper(), c.capitalize()])) if c in ("domain", "batch") else c
                    for c in columns]

    align_cells = []
    for _ in columns:
        dashes = "-" * draw(st.integers(1, 8))
        align_cells.append(draw(st.sampled_from([dashes, ":" + dashes, dashes + ":", ":" + dashes + ":"])))

    domains = draw(st.lists(_DOMAIN, unique=True, max_size=12))
    rows = []
    for domain in domains:
        cells = []
        for column in columns:
            if column == "domain":
                cells.append(domain)
            elif column == "batch":
                cells.append(draw(st.text("0123456789", min_size=1, max_size=3)))
            elif column == "status":
                cells.append(draw(st.sampled_from(STATUSES)))
            elif column == "attempts":
                cells.append(str(draw(st.integers(0, 9))))
            elif column == "updated":
                cells.append(draw(st.sampled_from(["", "2026-11-21T10:02:11Z"])))
            else:
                cells.append(draw(cell_text()))
        rows.append(draw(table_line(cells)))

    lines = draw(st.lists(free_line(), max_size=5))
    lines += [draw(table_line(header_names)), draw(table_line(align_cells))] + rows
    trailing = draw(st.lists(free_line(), max_size=4))
    if trailing and trailing[0] == "" and len(trailing) == 1:
        trailing = ["", ""]  # a lone empty trailing line is just the final newline
    lines += trailing
    text = nl.join(lines)
    if draw(st.booleans()):  # the final newline is optional
        text += nl
    return text, len(domains)


# Lines a hand-edited table may hold: pipes, escapes, near-domains, blanks.
JUNK = st.lists(st.sampled_from(["|", " | ", "\\|", "\\", "a.dev", "b.dev", "001", "1", "D", "Z", "i", " ", "\t",
                                  "-", "é", "A.DEV", "1a", "\u00a0"]), max_size=14).map("".join)
