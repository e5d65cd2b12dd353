"""The bulk parser (issue 13) gives exactly what the line-by-line parser gives, or leaves the text to it."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.registry_strategies import JUNK, valid_registry

from smbatcher.registry import (STATUSES, _all_domains, _parse_bulk, _parse_lines, _status_letters, bulk_layout,
                                from_layout, is_domain, parse, serialize)


def _shape(reg) -> dict:
    rows = [(row.raw, row.line, row.cells, row.eol) for row in reg.rows]
    return {"before": reg.before, "header": reg.header, "align": reg.align, "columns": reg.columns,
            "after": reg.after, "newline": reg.newline, "index": reg.index, "rows": rows,
            "problems": [(p.line, p.message) for p in reg.problems]}


def assert_same(text: str) -> bool:
    """Bulk and line-by-line agree on ``text`` (when bulk takes it); True when bulk took it."""
    bulk = _parse_bulk(text)
    if bulk is None:
        return False
    lines = _parse_lines(text)
    assert not lines.problems, f"bulk took a text with problems: {lines.problems}"
    # The columns and single rows, asked for before any full list of rows exists...
    for name in ("domain", "batch", "status", "owner", "note"):
        assert bulk.column(name) == [row.get(name) for row in lines.rows]
    assert bulk.row_count == len(lines.rows)
    for domain in list(lines.index)[:3]:
        assert bulk.row(domain).cells == lines.row(domain).cells
    assert serialize(bulk) == text
    # ...then the whole document.
    assert _shape(bulk) == _shape(lines)
    return True


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_registry())
def test_clean_registries_parse_the_same(case):
    text, _ = case
    assert_same(text)


_HEAD = "| domain | batch | status | owner | note |\n|---|---|---|---|---|\n"
_PIECES = ["|", " | ", "\\", "\t", "\r", "\r\n", "\n", " ", "\x0b", "\x85", "\u2028", "\u00a0", "a.dev", "b.dev",
           "A.DEV", "-x.dev", "001", "1", "x1", "D", "i", "Z", "é", "run-1"]


@st.composite
def near_clean(draw) -> str:
    """A clean five-column table with a few edits anywhere: the edges of what bulk may take."""
    rows = []
    for n in range(draw(st.integers(0, 6))):
        cells = [f"s{n}.dev", draw(st.sampled_from(["001", "1", "002"])), draw(st.sampled_from(STATUSES)),
                 draw(st.sampled_from(["", "run-1"])), draw(st.sampled_from(["", "note", "a b"]))]
        pads = draw(st.lists(st.sampled_from(["", " ", "  ", "\t"]), min_size=10, max_size=10))
        indent = draw(st.sampled_from(["", "", " "]))
        rows.append(indent + "|" + "|".join(pads[2 * i] + c + pads[2 * i + 1] for i, c in enumerate(cells)) + "|"
                    + draw(st.sampled_from(["", "", " ", "\r"])))
    nl = draw(st.sampled_from(["\n", "\r\n"]))
    text = draw(st.sampled_from(["", "# Registry\n\n", "intro | text\n"])) + _HEAD.replace("\n", nl) + nl.join(rows)
    text += draw(st.sampled_from(["", nl, nl + "after" + nl, nl + nl + "| stray |" + nl]))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 3))
        text = text[:at] + draw(st.sampled_from(_PIECES)) + text[at + cut:]
    return text


@settings(max_examples=700, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(near_clean())
def test_edited_registries_parse_the_same_or_line_by_line(text):
    assert_same(text)
    assert serialize(parse(text)) == text


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([_HEAD, "| domain | note | status | batch |\n|--|--|--|--|\n"]),
       st.lists(JUNK.map(lambda s: "|" + s), max_size=8), st.sampled_from(["\n", "\r\n"]))
def test_junk_rows_parse_the_same_or_line_by_line(head, lines, nl):
    assert_same(head + nl.join(lines) + nl)


def test_the_file_smb_writes_is_read_in_bulk():
    text = _HEAD + "| a.dev | 001 | D |  |  |\n| b.dev | 002 | i | run-1 | x |\n"
    assert assert_same(text)


@pytest.mark.parametrize("edit", [
    ("| b.dev | 002 |", "| b.dev | 00\\|2 |"),  # an escape
    ("| b.dev |", "| a.dev |"),  # a duplicate domain
    ("| b.dev |", "| B.dev |"),  # not a lowercase DNS name
    ("| i |", "| Z |"),  # an unknown status
    (" x |\n", " x\n"),  # no closing pipe
])
def test_anything_unusual_is_left_to_the_line_by_line_parser(edit):
    text = (_HEAD + "| a.dev | 001 | D |  |  |\n| b.dev | 002 | i | run-1 | x |\n").replace(*edit)
    assert _parse_bulk(text) is None
    assert serialize(parse(text)) == text


def test_rows_changed_before_and_after_the_full_list_is_made():
    text = _HEAD + "".join(f"| s{n}.dev | 001 | D |  |  |\n" for n in range(5))
    reg = parse(text)
    reg.row("s1.dev").set("status", "I")
    first = serialize(reg)
    assert first == text.replace("| s1.dev | 001 | D |", "| s1.dev | 001 | I |")
    assert reg.column("status") == ["D", "I", "D", "D", "D"]
    assert serialize(reg) == first  # the rendered line is kept, not lost
    reg.row("s3.dev").set("note", "a|b")
    assert reg.rows[1].status == "I" and reg.rows[3].get("note") == "a|b"  # the same Row objects
    reg.add("new.dev", "002")
    again = parse(serialize(reg))
    assert [r.status for r in again.rows] == ["D", "I", "D", "D", "D", "-"]
    assert again.row("s3.dev").get("note") == "a|b"


# -- the derived index's layout: a registry rebuilt from it is the one a parse gives ---------------


def _same_as_parsed(text: str, layout: dict) -> None:
    rebuilt = from_layout(text, layout)
    parsed = _parse_lines(text)
    assert not parsed.problems
    for name in ("domain", "batch", "status", "owner", "note"):
        assert rebuilt.column(name) == [row.get(name) for row in parsed.rows]
    assert rebuilt.row_count == len(parsed.rows) and serialize(rebuilt) == text
    assert _shape(rebuilt) == _shape(parsed)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(near_clean(), st.data())
def test_a_layout_rebuilds_the_registry_before_and_after_changes(text, data):
    reg = parse(text)
    if reg._bulk() is None:
        return
    _same_as_parsed(text, bulk_layout(reg))
    for _ in range(data.draw(st.integers(1, 3))):
        if not reg.row_count:
            break
        row = reg.row_at(data.draw(st.integers(0, reg.row_count - 1)))
        column = data.draw(st.sampled_from(["status", "owner", "note", "batch"]))
        row.set(column, data.draw(st.sampled_from(["Q", "x", "", " y", "a|b", "run-2", "7", "l\u2028f"])))
    new_text = serialize(reg)
    layout = bulk_layout(reg)
    if layout is not None:
        _same_as_parsed(new_text, layout)
    else:  # no index for this text: an escape or a padded value was written; a parse reads it
        assert serialize(parse(new_text)) == new_text


def test_a_layout_for_another_text_is_refused():
    text = _HEAD + "| a.dev | 001 | D |  |  |\n"
    layout = bulk_layout(parse(text))
    assert from_layout(text + "| b.dev | 001 | D |  |  |\n", {**layout, "at": [0, 0, 0, 0, 1, 1]}) is None
    assert from_layout(text, {**layout, "values": {**layout["values"], "status": "D\nI"}}) is None


_NAME_PIECES = st.sampled_from(["a", "z", "0", "9", "-", ".", "..", "x" * 63, "y" * 64, "A", " ", "é", "_", "\u00a0"])


@settings(max_examples=800, deadline=None)
@given(st.lists(st.lists(_NAME_PIECES, max_size=8).map("".join), max_size=6))
def test_domains_are_checked_in_bulk_as_one_by_one(names):
    assert _all_domains(names) == all(map(is_domain, names))


@given(st.lists(st.sampled_from([" D ", " i ", "D", " D", "  D ", " Z ", "", " ", "D  I ", "\tD ", " - "]),
                max_size=6))
def test_status_letters_are_the_stripped_cells(cells):
    expected = [c.strip() for c in cells]
    assert _status_letters(cells) == (expected if set(expected) <= set(STATUSES) else None)


def test_a_long_registry_of_long_names_is_checked():
    names = [f"{'a' * 63}.{'b' * 60}{n:03d}.dev" for n in range(50)]
    assert _all_domains(names) and not _all_domains(names + ["a" * 64 + ".dev"])
    assert is_domain(("a" * 60 + ".") * 4 + "dev") and _all_domains(names + [("a" * 60 + ".") * 4 + "dev"])
    assert not _all_domains(names + [("a" * 62 + ".") * 4 + "dev"])  # 255 characters
