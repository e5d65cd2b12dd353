"""The pure registry engine: byte-for-byte round trips, validation with line numbers, domain and batch rules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smbatcher.registry import (
    LINE_BREAKS,
    STATUSES,
    BadValue,
    escape_cell,
    is_domain,
    new_registry_text,
    normalize_batch,
    normalize_domain,
    parse,
    render_cells,
    serialize,
    split_cells,
)

from support.registry_strategies import JUNK, cell_value, valid_registry

GOLDEN = Path(__file__).parent / "golden"
GOLDEN_FILES = sorted(GOLDEN.glob("*.md"))


def _lines(text: str) -> list[str]:
    """The registry's lines: ended by LF only."""
    return text.split("\n")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_registry())
def test_round_trip_is_byte_for_byte(case):
    text, count = case
    reg = parse(text)
    assert not reg.problems, [str(p) for p in reg.problems]
    assert len(reg.rows) == count
    assert serialize(reg) == text


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_registry(), st.data())
def test_changing_one_status_changes_exactly_that_line(case, data):
    text, count = case
    if count == 0:
        return
    reg = parse(text)
    index = data.draw(st.integers(0, count - 1))
    row = reg.rows[index]
    before_cells = list(row.cells)
    new_status = data.draw(st.sampled_from([s for s in STATUSES if s != row.status]))
    row.set("status", new_status)
    out = serialize(reg)
    old_lines, new_lines = _lines(text), _lines(out)
    assert len(old_lines) == len(new_lines)
    differing = [i for i, (a, b) in enumerate(zip(old_lines, new_lines)) if a != b]
    assert differing == [row.line - 1]
    again = parse(out)
    assert not again.problems, [str(p) for p in again.problems]
    assert again.rows[index].status == new_status
    assert [c for i, c in enumerate(again.rows[index].cells) if i != again.column_index["status"]] == [
        c for i, c in enumerate(before_cells) if i != reg.column_index["status"]
    ]


# -- golden files -----------------------------------------------------------------------


def test_golden_files_exist():
    names = {p.name for p in GOLDEN_FILES}
    assert {"preamble_extra_columns.md", "crlf.md", "no_preamble_no_final_newline.md"} <= names


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=lambda p: p.name)
def test_golden_round_trips_byte_for_byte(path: Path):
    data = path.read_bytes()
    reg = parse(data.decode("utf-8"))
    assert not reg.problems, [str(p) for p in reg.problems]
    assert serialize(reg).encode("utf-8") == data


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=lambda p: p.name)
def test_golden_one_status_change_touches_one_line(path: Path):
    data = path.read_bytes()
    for index in range(len(parse(data.decode()).rows)):
        reg = parse(data.decode())
        row = reg.rows[index]
        row.set("status", "Q" if row.status != "Q" else "D")
        out = serialize(reg).encode()
        old, new = data.splitlines(keepends=True), out.splitlines(keepends=True)
        assert len(old) == len(new)
        changed = [i for i, (a, b) in enumerate(zip(old, new)) if a != b]
        assert changed == [row.line - 1]
        if old[-1].endswith(b"\n") or changed[0] != len(old) - 1:
            assert new[changed[0]].endswith(reg.newline.encode())


def test_golden_cells_are_unescaped():
    reg = parse((GOLDEN / "preamble_extra_columns.md").read_text(encoding="utf-8"))
    lotus = reg.row("lotus.dev")
    assert lotus.get("client") == "Lotus | Co"
    assert lotus.get("note") == "colour: teal | gold"
    assert reg.row("bright-path.org").get("note") == "a | b | c"
    assert reg.row("x1.example.com").get("note") == "C:\\temp\\ path"
    assert reg.row("atlas-maps.io").get("note") == "spaced   oddly"
    assert reg.columns[:4] == ["domain", "client", "status", "batch"]
    assert reg.batches() == ["001", "002", "010"]


def test_changed_row_with_pipes_is_escaped_and_parses_back():
    reg = parse((GOLDEN / "preamble_extra_columns.md").read_text(encoding="utf-8"))
    reg.row("lotus.dev").set("note", "a | b \\| c")
    reg.row("lotus.dev").set("status", "Q")
    again = parse(serialize(reg))
    assert not again.problems
    assert again.row("lotus.dev").get("note") == "a | b \\| c"
    assert again.row("lotus.dev").get("client") == "Lotus | Co"


def test_crlf_registry_keeps_crlf_for_changed_and_added_rows():
    reg = parse((GOLDEN / "crlf.md").read_bytes().decode())
    assert reg.newline == "\r\n"
    reg.row("one.dev").set("status", "D")
    reg.add("three.dev", "001")
    out = serialize(reg)
    assert "\n" not in out.replace("\r\n", "")
    again = parse(out)
    assert not again.problems
    assert [r.domain for r in again.rows] == ["one.dev", "two.dev", "three.dev"]
    assert again.row("one.dev").get("extra") == "été"
    assert out.endswith("\r\nThe end.\r\n")


def test_added_row_after_missing_final_newline():
    text = (GOLDEN / "no_preamble_no_final_newline.md").read_text(encoding="utf-8")
    reg = parse(text)
    reg.add("new.dev", "001")
    out = serialize(reg)
    assert out.startswith(text + "\n")
    again = parse(out)
    assert not again.problems
    assert [r.domain for r in again.rows] == ["a-b.dev", "c.dev", "new.dev"]
    assert again.row("new.dev").status == "-"
    assert again.row("a-b.dev").batch == "1" and again.batch_rows("001")[0].domain == "a-b.dev"


def test_new_registry_text_parses_clean_and_empty():
    reg = parse(new_registry_text())
    assert not reg.problems and reg.rows == []
    assert serialize(reg) == new_registry_text()


def test_split_and_render_cells_are_inverse():
    cells = ["a.dev", "001", "D", "", "x | y", "trailing\\"]
    assert split_cells(render_cells(cells)) == cells


# -- line breaks and backslashes in cells (issue 8) ------------------------------------

_TWO_ROWS = "| domain | batch | status | note | extra |{nl}|---|---|---|---|---|{nl}" \
            "| a.dev | 001 | D |  |  |{nl}| b.dev | 001 | D | keep |  |{nl}"


@settings(max_examples=300, deadline=None)
@given(cell_value, cell_value, st.sampled_from(["\n", "\r\n"]))
def test_any_value_written_to_a_cell_reads_back_on_one_line(note, extra, nl):
    text = _TWO_ROWS.format(nl=nl)
    reg = parse(text)
    reg.rows[0].set("note", note)
    reg.rows[0].set("extra", extra)
    out = serialize(reg)
    assert not any(ch in out.replace(nl, "") for ch in LINE_BREAKS), "a line break was written raw"
    assert len(out.splitlines()) == len(text.splitlines())
    again = parse(out)
    assert not again.problems, [str(p) for p in again.problems]
    assert again.rows[0].get("note") == note and again.rows[0].get("extra") == extra
    assert again.rows[1].raw == reg.rows[1].raw
    assert serialize(again) == out


def _old_split_cells(line: str) -> list[str]:
    """split_cells before issue 8 (only a backslash-pipe meant anything): the compatibility reference."""
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    cells, current, i = [], [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body) and body[i + 1] == "|":
            current.append("|")
            i += 2
            continue
        if ch == "|":
            cells.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
        i += 1
    cells.append("".join(current).strip())
    return cells


_NEW_ESCAPE = re.compile(r"\\u(000a|000b|000c|000d|001c|001d|001e|0085|2028|2029|005c)")
_OLD_CELL = st.lists(st.sampled_from(["\\", "|", "\\|", "\\\\", "u", "u00", "0a", "n", "r", "t", "C:", " ", "x",
                                      "é", "\\u00e9", "\\u000A", "\\x0a"]), max_size=12).map("".join)


@settings(max_examples=400, deadline=None)
@given(_OLD_CELL.filter(lambda t: not _NEW_ESCAPE.search(t)))
def test_registries_written_before_read_the_same(body):
    """Every backslash that meant itself before still does: only the exact new escapes changed."""
    line = f"| a.dev | {body} |\n"
    assert split_cells(line) == _old_split_cells(line)


def test_the_escapes_are_the_documented_ones():
    assert escape_cell("a\nb\r\u2028\u2029\x85\x0b\x0c\x1c\x1d\x1e") == (
        "a\\u000ab\\u000d\\u2028\\u2029\\u0085\\u000b\\u000c\\u001c\\u001d\\u001e")
    assert escape_cell("C:\\temp\\new \\\\server x|y") == "C:\\temp\\new \\\\server x\\|y"
    assert escape_cell("\\u000a") == "\\u005cu000a"  # the one case a backslash needs escaping
    assert split_cells("| \\u005cu000a | \\u000A | \\u00e9 |") == ["\\u000a", "\\u000A", "\\u00e9"]


def test_an_escaped_break_at_a_cell_edge_survives_the_strip():
    reg = parse(_TWO_ROWS.format(nl="\n"))
    reg.rows[0].set("note", "\u2028 edge \n")
    assert parse(serialize(reg)).rows[0].get("note") == "\u2028 edge \n"


def test_a_raw_break_inside_a_row_does_not_split_it():
    """Registries damaged by an older smb (a raw CR or U+2028 in a note) read whole."""
    for ch in LINE_BREAKS.replace("\n", ""):
        text = _TWO_ROWS.format(nl="\n").replace("| keep |", f"| ke{ch}ep |")
        reg = parse(text)
        assert not reg.problems, (repr(ch), [str(p) for p in reg.problems])
        assert [r.domain for r in reg.rows] == ["a.dev", "b.dev"]
        assert reg.rows[1].get("note") == f"ke{ch}ep"
        assert serialize(reg) == text


def test_a_changed_row_keeps_its_own_line_ending():
    text = ("| domain | batch | status |\r\n|---|---|---|\r\n| a.dev | 001 | D |\n| b.dev | 001 | D |\r\n"
            "| c.dev | 001 | D |")
    reg = parse(text)
    for row in reg.rows:
        row.set("status", "Q")
    reg.add("d.dev", "001")
    out = serialize(reg)
    assert out == ("| domain | batch | status |\r\n|---|---|---|\r\n| a.dev | 001 | Q |\n| b.dev | 001 | Q |\r\n"
                   "| c.dev | 001 | Q |\r\n| d.dev | 001 | - |\r\n")


def test_an_old_mac_registry_keeps_its_carriage_returns():
    text = "# R\r\r| domain | batch | status |\r|---|---|---|\r| a.dev | 001 | D |\r| b.dev | 001 | D |\rend\r"
    reg = parse(text)
    assert not reg.problems and [r.domain for r in reg.rows] == ["a.dev", "b.dev"]
    assert serialize(reg) == text
    reg.rows[1].set("status", "I")
    reg.add("c.dev", "001")
    assert serialize(reg) == text.replace("| b.dev | 001 | D |\r", "| b.dev | 001 | I |\r| c.dev | 001 | - |\r")


# -- validation -------------------------------------------------------------------------

HEADER = "| domain | batch | status | note |\n|---|---|---|---|\n"


def problems_of(text: str) -> list[tuple[int, str]]:
    return [(p.line, p.message) for p in parse(text).problems]


@pytest.mark.parametrize(
    "body, line, fragment",
    [
        ("| a.dev | 001 | D |  |\n| a.dev | 002 | I |  |\n", 4, "duplicate domain a.dev (first at line 3)"),
        ("| a.dev | 001 | Z |  |\n", 3, "unknown status 'Z'"),
        ("| a.dev | 001 | DD |  |\n", 3, "unknown status"),
        ("| a.dev | 001 | D |\n", 3, "3 cells where the header has 4"),
        ("| a.dev | 001 | D |  | extra |\n", 3, "5 cells where the header has 4"),
        ("| ../x | 001 | D |  |\n", 3, "invalid domain '../x'"),
        ("| a/b.com | 001 | D |  |\n", 3, "invalid domain"),
        ("| UPPER.COM | 001 | D |  |\n", 3, "invalid domain"),
        ("| a.dev | abc | D |  |\n", 3, "invalid batch 'abc'"),
        ("| a.dev | 001 | D |  |\n\ntext\n| b.dev | 001 | D |  |\n", 6, "outside the registry table"),
    ],
)
def test_problems_have_line_numbers(body, line, fragment):
    found = problems_of(HEADER + body)
    assert any(n == line and fragment in message for n, message in found), found


def test_two_columns_with_a_known_name():
    found = problems_of("| domain | batch | Status | note | status |\n|---|---|---|---|---|\n"
                        "| a.dev | 001 | D |  | Q |\n")
    assert (1, "column 'status' appears 2 times (columns 3, 5); rename or remove one by hand") in found
    assert problems_of("| domain | batch | status | x | x |  |  |\n|---|---|---|---|---|---|---|\n"
                       "| a.dev | 001 | D |  |  |  |  |\n") == []  # smb reads no unknown or unnamed column


def test_missing_required_column():
    found = problems_of("# R\n\n| domain | status |\n|---|---|\n| a.dev | D |\n")
    assert (3, "missing required column 'batch'") in found


def test_domain_must_be_first():
    found = problems_of("| batch | domain | status |\n|---|---|---|\n| 001 | a.dev | D |\n")
    assert any("must come first" in m for _, m in found)


def test_missing_alignment_row():
    found = problems_of("intro\n| domain | batch | status |\n| a.dev | 001 | D |\n")
    assert (3, "missing alignment row (|---|---|) after the header") in found


def test_no_table_at_all():
    reg = parse("just prose\n")
    assert reg.problems and reg.problems[0].line == 0
    assert serialize(reg) == "just prose\n"


def test_every_problem_is_found_not_just_the_first():
    text = HEADER + "| a.dev | 001 | Z |  |\n| a.dev | 001 | D |  |\n| b.dev | x | D |  |\n"
    lines = sorted({n for n, _ in problems_of(text)})
    assert lines == [3, 4, 5]


def test_invalid_registry_still_round_trips():
    text = HEADER + "| a.dev | 001 | D |\n| a.dev | 001 | Z |  | extra |\nafter\n"
    assert serialize(parse(text)) == text


# -- domains and batches ----------------------------------------------------------------


@pytest.mark.parametrize("raw, expected", [
    ("lotus.dev", "lotus.dev"),
    ("UPPER.COM", "upper.com"),
    ("  Mixed.Case.Org ", "mixed.case.org"),
    ("a-b.c-d.io", "a-b.c-d.io"),
    ("x1.example.com", "x1.example.com"),
    ("a" * 63 + ".dev", "a" * 63 + ".dev"),
])
def test_normalize_domain_accepts(raw, expected):
    assert normalize_domain(raw) == expected
    assert is_domain(expected)


@pytest.mark.parametrize("raw", [
    "", "   ", "../x", "a/b.com", "localhost", "a..b.com", "-a.com", "a-.com", "a.com-", "a b.com",
    "a_b.com", "a" * 64 + ".dev", ".".join(["abcdefghi"] * 26), "a.com/", "~/x.com", "a.com;rm", "é.com",
])
def test_normalize_domain_refuses(raw):
    with pytest.raises(BadValue):
        normalize_domain(raw)


@pytest.mark.parametrize("raw, expected", [("1", "001"), ("01", "001"), ("001", "001"), (7, "007"), ("123", "123"),
                                           ("1234", "1234")])
def test_normalize_batch(raw, expected):
    assert normalize_batch(raw) == expected


@pytest.mark.parametrize("raw", ["abc", "", "1a", "-1", "1.0", "١"])
def test_normalize_batch_refuses(raw):
    with pytest.raises(BadValue):
        normalize_batch(raw)


# -- the lazy cell split agrees with the reference (split every row) --------------------


def reference_problems(text: str) -> list[tuple[int, str]]:
    """Problems as found by splitting every row's cells eagerly (the parser before it went lazy)."""
    reg = parse(text)
    found = [(p.line, p.message) for p in reg.problems if "cells where" not in p.message
             and ("domain" not in p.message or "duplicate" in p.message or "invalid domain" in p.message)]
    expected = []
    columns = reg.column_index
    seen: dict[str, int] = {}
    for row in reg.rows:
        cells = split_cells(row.raw)
        cells += [""] * (len(reg.columns) - len(cells))
        domain = cells[0]
        if not is_domain(domain):
            expected.append((row.line, f"invalid domain {domain!r}"))
        if domain in seen:
            expected.append((row.line, f"duplicate domain {domain} (first at line {seen[domain]})"))
        else:
            seen[domain] = row.line
        if "status" in columns and cells[columns["status"]] not in STATUSES:
            expected.append((row.line, f"unknown status {cells[columns['status']]!r} for {domain}"))
        if "batch" in columns and not (cells[columns["batch"]].isdigit() and cells[columns["batch"]].isascii()):
            expected.append((row.line, f"invalid batch {cells[columns['batch']]!r} for {domain}"))
        assert row.cells[: len(cells)] == cells[: len(row.cells)]
    return found, expected



@settings(max_examples=400, deadline=None)
@given(st.sampled_from(["| domain | batch | status | note |\n|---|---|---|---|\n",
                        "| domain | note | status | batch |\n|--|--|--|--|\n"]),
       st.lists(JUNK.map(lambda s: "|" + s), max_size=8), st.sampled_from(["\n", "\r\n"]))
def test_lazy_split_finds_the_same_problems(head, lines, nl):
    text = head + nl.join(lines) + nl
    found, expected = reference_problems(text)
    assert found == expected
    assert serialize(parse(text)) == text


def test_dropping_raw_keeps_the_cells():
    reg = parse(HEADER + "| a.dev | 001 | D | x \\| y |\n| b.dev | 001 | D | plain |\n")
    for row in reg.rows:
        cells = split_cells(row.raw)
        row.raw = None  # what the doctor does before re-rendering a mended row
        assert row.cells == cells
    assert serialize(reg) == HEADER + "| a.dev | 001 | D | x \\| y |\n| b.dev | 001 | D | plain |\n"
