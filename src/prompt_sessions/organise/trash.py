"""The trash over any backend (DESIGN section 4, "Nothing is deleted automatically", and
section 14, "Trash"): listing, finding a trashed session by what a person typed, restoring it,
and emptying the trash, only ever when asked."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from ..errors import PromptSessionsError, SessionNotFound, UsageError
from ..resolve import resolve_ref
from ..storage.base import SupportsTrash, TrashedSession
from ..timeutil import days_before_now, parse_iso

if TYPE_CHECKING:
    from ..manager import SessionManager


def _store(manager: SessionManager) -> SupportsTrash:
    if not isinstance(manager.backend, SupportsTrash):
        raise UsageError(f"the {manager.backend.name} store has no trash: its deletes are for good")
    return manager.backend


def undo_hint(manager: SessionManager, session_id: str) -> str:
    """What to say after a delete: how to undo it, or that it was for good (a store without a
    trash). DESIGN section 14: "The TUI's delete says how to undo it"."""
    if not isinstance(manager.backend, SupportsTrash):
        return " for good"
    return f" (moved to the trash; undo with: prompt-sessions restore {session_id[:8]})"


def folded_fork_note(manager: SessionManager, fork_id: str, name: str | None) -> str:
    """What to say when an undo of a rewind took the fork's messages back and removed the
    fork: that it went to the trash and how to bring it back (nothing leaves silently)."""
    quoted = f"'{name}' " if name else ""
    return f"the fork {quoted}is no longer needed{undo_hint(manager, fork_id)}"


def trashed(manager: SessionManager) -> list[TrashedSession]:
    """The trashed sessions, most recently deleted first (empty for a store without a trash)."""
    if not isinstance(manager.backend, SupportsTrash):
        return []
    return manager.backend.trashed()


def find(manager: SessionManager, ref: str) -> TrashedSession:
    """The trashed session ``ref`` names: exact name, unique id prefix or unique name prefix.

    Raises:
        SessionNotFound: nothing in the trash matches.
        AmbiguousSession: several trashed sessions match.
    """
    entries = trashed(manager)
    summary = resolve_ref(ref, [e.summary for e in entries])
    return next(e for e in entries if e.summary.id == summary.id)


def in_trash_hint(manager: SessionManager, ref: object, po_name: str | None) -> str | None:
    """How to restore what ``ref`` names when no live session matches it but a session in the
    trash does; None otherwise (the trash is read only on this error's way)."""
    if not isinstance(ref, str):
        return None
    with contextlib.suppress(PromptSessionsError):
        entries = [e for e in trashed(manager) if po_name is None or e.summary.po_name == po_name]
        gone = resolve_ref(ref, [e.summary for e in entries])
        return f"it is in the trash: prompt-sessions restore {gone.id[:8]}"
    return None


def restore(manager: SessionManager, ref: str) -> TrashedSession:
    """Bring the trashed session ``ref`` back, byte for byte as it was deleted.

    Raises:
        SessionNotFound: nothing in the trash matches.
        StorageError: a live session has its id.
    """
    store = _store(manager)
    entry = find(manager, ref)
    return store.restore(entry.summary.id)


def older_than(entries: list[TrashedSession], days: float | None) -> list[TrashedSession]:
    """The entries deleted more than ``days`` days ago (all of them when ``days`` is None).

    Raises:
        UsageError: ``days`` is negative or NaN.
    """
    if days is None:
        return list(entries)
    if not days >= 0:  # NaN too
        raise UsageError(f"--older-than must be zero or more days, not {days}")
    cutoff = days_before_now(days)
    return [e for e in entries if parse_iso(e.deleted_at) < cutoff]


def empty(manager: SessionManager, days: float | None = None) -> list[TrashedSession]:
    """Delete for good every trashed session deleted more than ``days`` days ago (all when
    None). Only a person's explicit request calls this (DESIGN section 4, promise 5).

    Returns:
        The sessions deleted; one removed by another process meanwhile is left out.
    """
    store = _store(manager)
    gone = []
    for entry in older_than(store.trashed(), days):
        try:
            store.purge(entry.summary.id)
        except SessionNotFound:
            continue
        gone.append(entry)
    return gone
