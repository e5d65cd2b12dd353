"""Units people read and write: durations, sizes, money and the one timestamp format.

Parsing is strict (a bad value is a UsageError naming the key or option) and
refuses what no operator means: negative, non-finite (``nan``, ``inf``) and
absurdly long numbers (issue 8). Standard library only: ``smb list-sites``
imports this through the config.
"""

from __future__ import annotations

import math
import re
import time

from .errors import UsageError

_NUMBER = r"(\d{1,15}(?:\.\d{1,9})?)"  # at most 15 digits: a 5000-digit value is a typo, not a plan
_DURATION_RE = re.compile(rf"\s*{_NUMBER}\s*(ms|s|m|h|d)?\s*", re.IGNORECASE)
_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_SIZE_RE = re.compile(rf"\s*{_NUMBER}\s*([kmgt]?i?b?)?\s*", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "b": 1, "k": 1e3, "kb": 1e3, "kib": 1024, "m": 1e6, "mb": 1e6, "mib": 1024**2,
               "g": 1e9, "gb": 1e9, "gib": 1024**3, "t": 1e12, "tb": 1e12, "tib": 1024**4}
# A century: larger durations are typos (and would overflow deadlines and sleeps).
MAX_SECONDS = 100 * 365 * 86400
MAX_BYTES = 2**62

STAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # the registry's `updated`, log lines, headers (SPEC §2)


def _finite(number: float, key: str, what: str, limit: float) -> float:
    if math.isnan(number) or math.isinf(number):
        raise UsageError(f"{key}: {what} must be a finite number, got {number!r}")
    if number < 0:
        raise UsageError(f"{key}: {what} must not be negative")
    if number > limit:
        raise UsageError(f"{key}: {what} {number:g} is out of range")
    return number


def parse_duration(value: str | int | float, key: str = "duration") -> float:
    """``90s``, ``30m``, ``2h`` (a bare number is seconds) -> seconds."""
    if isinstance(value, bool):
        raise UsageError(f"{key}: bad duration {value!r} (want e.g. 90s, 30m, 2h)")
    if isinstance(value, (int, float)):
        seconds = float(value) if not isinstance(value, int) or abs(value) <= MAX_SECONDS else math.inf
    else:
        match = _DURATION_RE.fullmatch(str(value))
        if not match:
            raise UsageError(f"{key}: bad duration {str(value)[:40]!r} (want e.g. 90s, 30m, 2h)")
        seconds = float(match.group(1)) * _DURATION_UNITS[(match.group(2) or "s").lower()]
    return _finite(seconds, key, "duration", MAX_SECONDS)


def parse_size(value: str | int | float, key: str = "size") -> int:
    """``500MB``, ``1GB``, ``2GiB`` (a bare number is bytes) -> bytes."""
    if isinstance(value, bool):
        raise UsageError(f"{key}: bad size {value!r} (want e.g. 500MB, 1GB)")
    if isinstance(value, (int, float)):
        number = float(value) if not isinstance(value, int) or abs(value) <= MAX_BYTES else math.inf
        return int(_finite(number, key, "size", MAX_BYTES))
    match = _SIZE_RE.fullmatch(str(value))
    unit = (match.group(2) or "").lower() if match else None
    if not match or unit not in _SIZE_UNITS:
        raise UsageError(f"{key}: bad size {str(value)[:40]!r} (want e.g. 500MB, 1GB)")
    return int(_finite(float(match.group(1)) * _SIZE_UNITS[unit], key, "size", MAX_BYTES))


def parse_money(value: str | int | float, key: str = "cost") -> float:
    """``2.50``, ``$2.50`` -> dollars (finite, not negative)."""
    if isinstance(value, bool):
        raise UsageError(f"{key}: bad amount {value!r} (want e.g. 25 or 2.50)")
    if isinstance(value, str):
        text = value.strip().lstrip("$").strip()
        if not re.fullmatch(_NUMBER, text):
            raise UsageError(f"{key}: bad amount {value[:40]!r} (want e.g. 25 or 2.50)")
        value = float(text)
    if not isinstance(value, (int, float)):
        raise UsageError(f"{key}: bad amount {value!r} (want e.g. 25 or 2.50)")
    return _finite(float(value) if abs(value) < 1e15 else math.inf, key, "amount", 1e12)


def format_size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def format_money(dollars: float | None) -> str:
    return "-" if dollars is None else f"${dollars:,.2f}"


def utc_stamp(ts: float | None = None) -> str:
    """The one timestamp format smb writes: ``2026-11-21T10:02:11Z`` (UTC)."""
    return time.strftime(STAMP_FORMAT, time.gmtime(ts))


def parse_stamp(text: str) -> float | None:
    """Seconds since the epoch of a ``utc_stamp``; None for an empty or foreign value."""
    import calendar

    try:
        return float(calendar.timegm(time.strptime(text.strip(), STAMP_FORMAT)))
    except (ValueError, OverflowError):
        return None


def compact_stamp(ts: float | None = None) -> str:
    """``20261121T100211``: the same instant for file names (run ids, backups)."""
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime(ts))


def local_clock(ts: float) -> str:
    """``2026-11-21 10:02:11`` in local time, for people reading a table."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def utc_clock(ts: float) -> str:
    """``17:39 UTC`` (with the date when it is not today): reset times of holds."""
    now = time.gmtime()
    then = time.gmtime(ts)
    if (then.tm_year, then.tm_yday) == (now.tm_year, now.tm_yday):
        return time.strftime("%H:%M UTC", then)
    return time.strftime("%Y-%m-%d %H:%M UTC", then)
