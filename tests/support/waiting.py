"""Wait on a condition up to a deadline instead of sleeping and hoping (PREAMBLE: no sleeps-and-hope)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(predicate: Callable[[], T], timeout: float, what: str, *, interval: float = 0.01) -> T:
    """Poll ``predicate`` until it returns something truthy and return that; fail at the deadline.

    ``timeout`` is a deadline, not a measurement: a passing test returns as soon as the condition
    holds, so deadlines can be generous (a 2-core CI machine under load is slow, never wrong).
    ``what`` finishes the sentence "timed out waiting for ..." in the failure.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)
