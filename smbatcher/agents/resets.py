"""When a usage limit resets, and which limit it was, from the CLI's own words and fields."""

from __future__ import annotations

import datetime as _dt
import re
import time

# rate_limit_event rateLimitType -> the hold's limit name (CONTRACTS.md). Sonnet and the
# included-overage windows are seven-day windows like the weekly one.
LIMIT_TYPES = {
    "five_hour": "session",
    "seven_day": "weekly",
    "seven_day_sonnet": "weekly",
    "seven_day_overage_included": "weekly",
    "seven_day_opus": "opus",
}
# The same, from the words of "You've hit your <name> · resets <when>" (the CLI's own table).
_LIMIT_WORDS = {"session limit": "session", "weekly limit": "weekly", "sonnet limit": "weekly",
                "fable 5 limit": "weekly", "opus limit": "opus"}

_LEGACY_LIMIT = re.compile(r"Claude AI usage limit reached\|(\d{9,12})")

_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
# "resets 5pm", "resets 5:39pm (UTC)", "resets Dec 3, 5pm (Europe/Berlin)", "resets Jan 3, 2027, 5:39pm"
_RESETS = re.compile(
    r"resets\s+(?:(?P<mon>[A-Za-z]{3})[a-z]*\.?\s+(?P<day>\d{1,2}),?\s+(?:(?P<year>\d{4}),?\s+)?)?"
    r"(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?\s*(?P<ampm>[ap]\.?m\.?)"
    r"(?:\s*\((?P<tz>[^)]+)\))?", re.I)



def _zone(name: str | None) -> _dt.tzinfo | None:
    """The time zone the CLI named (IANA, e.g. "Europe/Berlin"); None means smb's local time,
    which is the CLI's too when it runs on this machine."""
    if not name:
        return None
    name = name.strip()
    if name.upper() in ("UTC", "GMT", "Z", "ETC/UTC"):
        return _dt.timezone.utc
    offset = re.fullmatch(r"(?:UTC|GMT)([+-])(\d{1,2})(?::?(\d{2}))?", name, re.I)
    if offset:
        sign = 1 if offset.group(1) == "+" else -1
        return _dt.timezone(sign * _dt.timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3) or 0)))
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except Exception:  # unknown name or no tz database: fall back to local time
        return None


def parse_reset(text: str, now: float | None = None) -> float | None:
    """Epoch seconds of the reset a limit message names ("resets 5:39pm (UTC)",
    "resets Dec 3, 5pm (Europe/Berlin)"), or None when it names none.

    A clock time without a date is its next occurrence. The CLI prints the minute of the
    reset, cut down, so a time inside the current minute means the end of that minute.
    """
    legacy = _LEGACY_LIMIT.search(text)
    if legacy:
        return float(legacy.group(1))
    match = _RESETS.search(text)
    if not match:
        return None
    now = time.time() if now is None else now
    hour, minute = int(match.group("hour")), int(match.group("minute") or 0)
    if not (1 <= hour <= 12 and minute < 60):
        return None
    hour = hour % 12 + (12 if match.group("ampm").lower().startswith("p") else 0)
    zone = _zone(match.group("tz"))  # None: local time, where a naive datetime's timestamp() is local too
    current = _dt.datetime.fromtimestamp(now, zone)

    def at(day: _dt.date) -> float:
        return _dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone).timestamp()

    if match.group("mon"):
        month = _MONTHS.get(match.group("mon").lower())
        if month is None:
            return None
        day_of_month = int(match.group("day"))
        years = [int(match.group("year"))] if match.group("year") else [current.year, current.year + 1]
        candidate = None
        for year in years:
            try:
                candidate = at(_dt.date(year, month, day_of_month))
            except ValueError:
                return None
            if match.group("year") or candidate + 60 > now:
                break
    else:
        candidate = at(current.date())
        if candidate + 60 <= now:  # already past today: tomorrow (re-localised across DST)
            candidate = at(current.date() + _dt.timedelta(days=1))
    if candidate <= now < candidate + 60:
        candidate += 60
    return candidate


def limit_from(message: str, rate_limit: dict | None) -> str:
    if rate_limit and rate_limit.get("rateLimitType") in LIMIT_TYPES:
        return LIMIT_TYPES[rate_limit["rateLimitType"]]
    lowered = message.lower()
    for words, limit in _LIMIT_WORDS.items():
        if words in lowered:
            return limit
    return "unknown"
