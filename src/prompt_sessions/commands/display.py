"""Short, human forms of times and counts for session lists."""

from __future__ import annotations

from datetime import datetime, timedelta

from ..text import counted
from ..timeutil import parse_iso


def when(iso: str, now: datetime) -> str:
    """``14:30`` today, ``Yesterday``, else a date: ``Jan 02`` this year, ``2024-12-31`` before."""
    try:
        moment = parse_iso(iso).astimezone(now.tzinfo)
    except ValueError:
        return "?"
    day, today = moment.date(), now.date()
    if day == today:
        return moment.strftime("%H:%M")
    if day == today - timedelta(days=1):
        return "Yesterday"
    if day.year == today.year:
        return moment.strftime("%b %d")
    return moment.strftime("%Y-%m-%d")


def count(n: int, word: str = "msg", plural: str | None = None) -> str:
    return counted(n, word, plural)
