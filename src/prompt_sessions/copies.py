"""New sessions made from another: a duplicate with the whole history, a fork with its first N
messages and its parent recorded (DESIGN section 5)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .cells import boundary
from .errors import ReadOnlyStore, UsageError
from .models import FORMAT_VERSION, NAME_MAX, Message, Session, clean_name
from .storage.base import SupportsFork

if TYPE_CHECKING:
    from .manager import SessionManager


def duplicate(manager: SessionManager, session_id: str, new_name: str | None = None) -> Session:
    """A copy of session ``session_id`` with its whole history and thread type.

    Raises SessionNotFound, or ReadOnlyStore for a session a newer version wrote.
    """
    source = not_newer(manager.get(session_id))
    name = new_name if new_name is not None else unused(manager, source, " (copy)")
    return derive(
        manager, source, name, history=list(source.history), thread_type=source.thread_type
    )


def fork(
    manager: SessionManager, session_id: str, at: int | None = None, name: str | None = None
) -> Session:
    """A new session with the first ``at`` messages (all by default) of ``session_id``,
    ``thread_type`` "fork", ``parent_id`` and ``parent_message_index`` recorded; through the
    backend's own ``fork`` when it has one (``SupportsFork``).

    Raises UsageError when ``at`` is not between 0 and the number of messages, ReadOnlyStore
    for a session a newer version wrote.
    """
    source = not_newer(manager.get(session_id))
    cut = len(source.history) if at is None else at
    if not isinstance(cut, int) or isinstance(cut, bool) or cut < 0 or cut > len(source.history):
        raise UsageError(f"fork point must be between 0 and {len(source.history)}, not {at!r}")
    label = name if name is not None else unused(manager, source, " (fork)")
    if isinstance(manager.backend, SupportsFork):
        session = manager.backend.fork(source.id, cut, clean_name(label))
        manager.host.session_created(session=session, manager=manager)
        return session
    return derive(
        manager,
        source,
        label,
        history=list(source.history[:cut]),
        thread_type="fork",
        parent_id=source.id,
        parent_message_index=cut,
    )


def derive(
    manager: SessionManager,
    source: Session,
    name: str,
    *,
    history: list[Message],
    **fields: Any,
) -> Session:
    """A new session of ``source``'s PO with ``history``, its source, metadata and tags."""
    fields = {k: v for k, v in fields.items() if v is not None}
    return manager.create(
        source.po_name,
        name,
        source=source.source,
        metadata=dict(source.metadata),
        history=history,
        tags=list(source.tags) if source.tags else None,
        **fields,
    )


def not_newer(source: Session) -> Session:
    """Refuse to copy a session a newer version wrote: the copy would be written as this
    version's format, silently dropping what it does not understand (DESIGN section 4)."""
    if source.format_version > FORMAT_VERSION:
        raise ReadOnlyStore(
            f"session {source.id} has format_version {source.format_version}, newer than this "
            f"program ({FORMAT_VERSION}); a copy made here would lose what this version does "
            "not understand. Upgrade prompt-sessions."
        )
    return source


def unused(manager: SessionManager, source: Session, mark: str) -> str:
    """``source``'s name with ``mark`` (`` (copy)``), numbered from 2 (`` (copy 2)``) when a
    session of its PO already bears that name: a second duplicate must not look like the
    first in lists and the picker."""
    return numbered(source.name, mark, {s.name for s in manager.list(source.po_name)})


def numbered(name: str, mark: str, taken: set[str]) -> str:
    """``name`` with ``mark`` (`` (copy)``), numbered from 2 (`` (copy 2)``) until it is none
    of the names in ``taken``. A name that ends in the mark already, bare or numbered (a copy
    of a copy, an export of an import imported again), is numbered on from its own number
    instead (``X (imported)`` gives ``X (imported 2)``, not ``X (imported) (imported)``)."""
    base, number = name, 1
    found = re.search(re.escape(mark[:-1]) + r"(?: ([0-9]+))?\)\Z", name)
    if found is not None and found.start() > 0:
        base, number = name[: found.start()], int(found[1] or 1)
    label = suffixed(base, mark) if base is name else ""
    while not label or label in taken:
        number += 1
        label = suffixed(base, f"{mark[:-1]} {number})")
    return label


def suffixed(name: str, suffix: str) -> str:
    """``name`` with ``suffix``, cut (never inside a character's cells, nor inside a mark in
    parentheses such as an earlier "(imported 7)") to fit NAME_MAX."""
    room = boundary(name, NAME_MAX - len(suffix))  # never half an emoji
    kept = name[:room]
    opened = kept.rfind("(")
    if room < len(name) and opened > kept.rfind(")"):
        kept = kept[:opened]  # the cut fell inside a "(...)" mark: never half of one
    return (kept.rstrip() or "Session") + suffix
