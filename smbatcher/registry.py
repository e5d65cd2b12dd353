"""The registry format: markdown text <-> rows, and its validation. Pure: no I/O.

The file is free text, one pipe table, free text (SPEC §2). Everything the tool
does not change is written back byte for byte: an unchanged row keeps its raw
line, so ``serialize(parse(text)) == text`` for every text that parses.

This module is the surface the rest of smb uses; the work is split by job:

    registry_cells.py     values (domain, batch), cell escapes, table lines
    registry_model.py     Row, Registry, the bulk table behind them, serialize
    registry_validate.py  what makes a header or a row unclean
    registry_parse.py     the bulk parser and the line parser
"""

from __future__ import annotations

from .lifecycle import STATUSES
from .registry_cells import (DEFAULT_COLUMNS, KNOWN, LINE_BREAKS, REQUIRED, BadValue, bad_cell_text,
                             cell_text, escape_cell, is_domain, normalize_batch, normalize_domain,
                             render_cells, split_cells)
from .registry_model import Problem, Registry, Row, new_registry_text, serialize, unclean_warning
from .registry_parse import _all_domains, _parse_bulk, _parse_lines, _status_letters, bulk_layout, from_layout, parse

__all__ = [
    "DEFAULT_COLUMNS", "KNOWN", "LINE_BREAKS", "REQUIRED", "STATUSES", "BadValue", "Problem", "Registry", "Row",
    "bad_cell_text", "bulk_layout", "cell_text", "escape_cell", "from_layout", "is_domain", "new_registry_text",
    "normalize_batch", "normalize_domain", "parse", "render_cells", "serialize", "split_cells",
    "unclean_warning", "_all_domains", "_parse_bulk", "_parse_lines", "_status_letters",
]
