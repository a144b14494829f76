"""Each PO's current session (DESIGN section 5): the one ``send`` and the TUI use when no
session is named, remembered by the store per PO."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from .errors import SessionNotFound, UsageError
from .models import Session, SessionSummary
from .text import quoted

if TYPE_CHECKING:
    from .manager import SessionManager


def peek(manager: SessionManager, po_name: str) -> SessionSummary | None:
    """The PO's current session without creating one: the chosen one, else the most recently
    updated unarchived one; None when the PO has none."""
    return _pick(manager.list(po_name), manager.backend.get_current(po_name))


def current_ids(manager: SessionManager, sessions: Iterable[SessionSummary]) -> set[str]:
    """The id of each PO's current session by :func:`peek`'s rule, for every PO among
    ``sessions`` (every session of those POs, most recently updated first, as ``list`` gives
    them): what ``send`` without ``--session`` would use, which ``list`` marks."""
    by_po: dict[str, list[SessionSummary]] = {}
    for s in sessions:
        by_po.setdefault(s.po_name, []).append(s)
    found = (_pick(group, manager.backend.get_current(po)) for po, group in by_po.items())
    return {s.id for s in found if s is not None}


def _pick(sessions: list[SessionSummary], chosen: str | None) -> SessionSummary | None:
    for s in sessions:
        if s.id == chosen:
            return s
    return next((s for s in sessions if not s.archived), None)


def current(manager: SessionManager, po_name: str, *, source: str | None) -> Session:
    """The PO's current session, created (from ``source``) and chosen when it has none.

    A current session deleted by another process between choosing and reading it is skipped:
    the choice is made again.
    """
    found = _current_of(manager, po_name)
    if found is not None:
        return found
    # None yet: made under the PO's first-session lease, so that processes asking at once (8
    # sends to a new PO) agree on one session instead of each making its own.
    from .reply_lease import first_session_path, reply_lease

    with reply_lease(
        manager.root, "", po_name, wait=30.0, path=first_session_path(manager.root, po_name)
    ):
        found = _current_of(manager, po_name)
        if found is not None:
            return found
        session = manager.create(po_name, source=source)
        manager.backend.set_current(po_name, session.id)
        return session


def _current_of(manager: SessionManager, po_name: str) -> Session | None:
    for _ in range(5):
        found = manager.peek_current(po_name)
        if found is None:
            return None
        try:
            return manager.get(found.id)
        except SessionNotFound:
            continue
    return None


def switch(manager: SessionManager, po_name: str, session_id: str) -> Session:
    """Make ``session_id`` the PO's current session and tell plugins (``session_switched``)."""
    session = manager.get(session_id)
    if session.po_name != po_name:
        raise UsageError(
            f"session {quoted(session.name)} belongs to {session.po_name}, not {po_name}"
        )
    manager.backend.set_current(po_name, session.id)
    manager.host.session_switched(po_name=po_name, session_id=session.id, manager=manager)
    return session
