"""``prune --empty`` (DESIGN section 14): empty sessions a person may clear away, moved to the
trash (restorable), never deleted for good."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..current_session import current_ids
from ..errors import CorruptSession, SessionNotFound, UsageError
from ..models import SessionSummary
from ..timeutil import days_before_now, parse_iso

if TYPE_CHECKING:
    from ..manager import SessionManager


def empty_sessions(manager: SessionManager, days: float | None = None) -> list[SessionSummary]:
    """Sessions without messages, last changed more than ``days`` days ago (any age: None),
    archived ones included. A PO's current session is left out: it is the one in use.

    Raises:
        UsageError: ``days`` is negative or NaN.
    """
    if days is not None and not days >= 0:  # NaN too
        raise UsageError(f"--older-than must be zero or more days, not {days}")
    cutoff = days_before_now(days or 0)
    manager.recheck()  # a message typed into a file in place must keep it from the trash
    found = manager.list()
    current = current_ids(manager, found)  # what `send` would write to stays
    return [
        s
        for s in found
        if s.message_count == 0
        and s.id not in current
        and (days is None or parse_iso(s.updated_at) < cutoff)
    ]


def prune(manager: SessionManager, sessions: list[SessionSummary]) -> list[SessionSummary]:
    """Move ``sessions`` to the trash; returns those moved. One deleted meanwhile, or written
    to since it was listed (another process's ``send``), is skipped."""
    moved = []
    for s in sessions:
        try:
            if manager.get(s.id).history:
                continue
            manager.delete(s.id)
        except (SessionNotFound, CorruptSession):  # gone, or damaged: doctor says which
            continue
        moved.append(s)
    return moved
