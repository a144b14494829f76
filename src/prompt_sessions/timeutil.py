"""Timestamps: ISO-8601 UTC with a trailing Z, millisecond precision when we write them."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

# ASCII digits only: in a str pattern \d also matches the digits of other scripts ("٢٠٢٥"),
# which are not ISO 8601 and sort after every real date.
# Groups that capture nothing: every stored message's time is checked against it as its file is
# read, and capturing groups make that check half as slow again (DESIGN section 10).
TIMESTAMP_PATTERN = (
    r"^[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,9})?Z$"
)

_last_ms = 0


def now_iso() -> str:
    """The current time; strictly increasing within a process so ordering by time is stable."""
    global _last_ms
    ms = time.time_ns() // 1_000_000
    if ms <= _last_ms:
        ms = _last_ms + 1
    _last_ms = ms
    secs, millis = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{millis:03d}Z"


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def iso_from_epoch(seconds: float) -> str:
    """A POSIX time (seconds) as ISO-8601 UTC with milliseconds and ``Z``."""
    ms = int(seconds * 1000)
    secs, millis = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{millis:03d}Z"


def days_before_now(days: float) -> datetime:
    """The instant ``days`` days (zero or more, not NaN: the caller checks) before now, UTC. A
    span reaching past the calendar's first day (``1e308``, ``inf``) gives that first day:
    nothing stored is older, so an "older than" rule then matches nothing."""
    now = parse_iso(now_iso())
    try:
        return now - timedelta(days=days)
    except OverflowError:
        return datetime.min.replace(tzinfo=UTC)
