"""Numbers an agent reports, checked where they are parsed (issue 22).

An agent's result line is data, not truth: ``"total_cost_usd": -50`` or ``NaN`` once switched
``max_cost_total`` off and made ``smb status`` print ``$-100.00``. A cost must be a finite number
>= 0 and below ``COST_CAP`` per attempt; turns, tokens and durations non-negative integers below
``COUNT_CAP``. Anything else counts as not reported (0), with one warning for the site's log;
the attempt itself is judged as usual.
"""

from __future__ import annotations

import math

COST_CAP = 1000.0  # USD per attempt: far above any real agent run, far below a float's range
COUNT_CAP = 10**12  # turns, tokens, milliseconds


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def checked_cost(value: object, warnings: list[str] | None = None, name: str = "total_cost_usd") -> float:
    """``value`` as a cost in USD, or 0.0 (with a warning appended) when it is not a sane one."""
    if value is None:
        return 0.0
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            cost = float(value)
        except OverflowError:  # an int too large for a float
            cost = math.inf
        if math.isfinite(cost) and 0.0 <= cost < COST_CAP:
            return cost
    if warnings is not None:
        warnings.append(f"ignored {name} {_shown(value)}: not a finite number from 0 to {COST_CAP:g}")
    return 0.0


def checked_count(value: object, warnings: list[str] | None = None, name: str = "count") -> int:
    """``value`` as a non-negative integer, or 0 (with a warning appended) when it is not one."""
    if value is None:
        return 0
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < COUNT_CAP:
        return value
    if warnings is not None:
        warnings.append(f"ignored {name} {_shown(value)}: not a non-negative integer")
    return 0


def result_warnings(result: dict) -> list[str]:
    """The warnings for the numbers of one ``{"type": "result"}`` object."""
    warnings: list[str] = []
    checked_cost(result.get("total_cost_usd"), warnings)
    for name in ("num_turns", "duration_ms"):
        checked_count(result.get(name), warnings, name)
    usage = result.get("usage")
    if isinstance(usage, dict):
        for name in ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"):
            checked_count(usage.get(name), warnings, f"usage.{name}")
    return warnings
