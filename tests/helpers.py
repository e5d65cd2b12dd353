"""Transitional: the shared helpers moved to tests/support/ (issue 9); import them from there.

Kept only so modules written before the move still import; delete this file once
``grep -rn "from helpers" tests/ bench/`` finds nothing.
"""

from support.cli import assert_one_line_error  # noqa: F401
from support.registry import STAMP, assert_clean, domains, registry_text, statuses, write_registry  # noqa: F401
from support.waiting import wait_for  # noqa: F401
