"""Rewind, edit and regenerate without loss, their undo, and a session's lineage (DESIGN
section 14, "Rewind without loss").

A rewind makes a session's history end at message N. The messages after N are never deleted:
first a fork holding the whole old history is written (durably, with the branch point in
``parent_id`` / ``parent_message_index`` and the rewind in ``metadata.rewind``), and only then is
the session cut, in one atomic write (``storage.rewrite``). A crash between the two steps leaves
the fork beside the untouched session: every message is in at least one session.

Undo takes back the last rewind: the session gets the fork's history again (anything added to
the session since the rewind is first kept in a fork of its own), and the fork, now a copy, is
deleted (moved to the trash where the store has one) unless other sessions hang from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from . import checks
from .cells import boundary
from .errors import StorageError, UsageError
from .ids import validate_id
from .models import FORMAT_VERSION, NAME_MAX, Message, Session, SessionSummary
from .storage.rewrite import HistoryChanged, SupportsRewrite
from .timeutil import now_iso

if TYPE_CHECKING:
    from .manager import SessionManager

Kind = Literal["rewind", "edit", "regenerate", "undo", "import"]
RECORD = "rewind"  # the metadata key of a fork made by a rewind
_LABELS = {
    "rewind": "before rewind",
    "edit": "before edit",
    "regenerate": "earlier reply",
    "undo": "undone",
    "import": "before re-import",
}


@dataclass
class Rewound:
    """What a rewind (or its undo) did.

    ``session``: the session as it is now. ``kept``: the fork that holds the path taken away
    (None when nothing was taken away). ``removed``: the id of the fork an undo folded back
    (moved to the trash, or deleted on a store without one); ``removed_name``: its name.
    """

    session: Session
    kept: Session | None = None
    removed: str | None = None
    removed_name: str | None = None


def rewind(
    manager: SessionManager,
    session_id: str,
    to: int,
    *,
    kind: Kind = "rewind",
    tail: Sequence[Message] = (),
) -> Rewound:
    """Make the session's history ``history[:to] + tail``, keeping the old one in a fork.

    Args:
        manager: the environment's manager.
        session_id: the session to rewind.
        to: how many of its first messages stay (0 to the message count; equal to the count
            only when ``tail`` adds something).
        kind: what the fork records it was for: ``rewind``, ``edit``, ``regenerate`` or
            ``import`` (a re-import whose source no longer holds the path, DESIGN section 16).
        tail: messages to add after the cut (``edit``: the changed user message).

    Returns:
        The session after the cut and the fork holding the old path.

    Raises:
        UsageError: ``to`` is out of range or nothing would change.
        HistoryChanged: another writer changed the session meanwhile (nothing was cut).
        ReadOnlyStore: a newer version wrote the session.
    """
    sid = validate_id(session_id)
    source = _writable(manager.get(sid))
    count = len(source.history)
    if isinstance(to, bool) or not isinstance(to, int) or not 0 <= to <= count:
        raise UsageError(f"the message number must be between 0 and {count}, not {to!r}")
    if to == count and not tail:
        raise UsageError(
            f"nothing to rewind: '{source.name}' has {count} messages and would keep them all"
        )
    checked = [checks.message(m) for m in tail]
    kept = _keep_path(manager, source, to, kind)
    try:
        session = _rewrite(manager, source, to, checked)
    except HistoryChanged:
        # The fork copies a state the session still holds in full: taking it back loses nothing.
        manager.backend.delete(kept.id)
        raise
    for message in checked:
        manager.host.message_appended(session_id=sid, message=message, manager=manager)
    return Rewound(session, kept)


def last_rewind(manager: SessionManager, session_id: str) -> Session | None:
    """The fork made by the session's most recent rewind still standing, or None."""
    sid = validate_id(session_id)
    found: list[Session] = []
    for summary in manager.list():
        if summary.parent_id != sid or summary.thread_type != "fork":
            continue
        try:
            child = manager.get(summary.id)
        except StorageError:
            continue
        if isinstance(child.metadata.get(RECORD), dict):
            found.append(child)
    if not found:
        return None
    return max(found, key=lambda s: (str(s.metadata[RECORD].get("made_at", "")), s.created_at))


def undo(manager: SessionManager, session_id: str) -> Rewound:
    """Take back the session's last rewind (or edit, or regenerate).

    The session's history becomes the fork's again. Messages added to the session after the
    rewind are first kept in a new fork (``kind`` undo, so a second undo swaps back).

    Raises:
        UsageError: the session has no rewind to take back, or it was cut shorter since.
        HistoryChanged: another writer changed the session meanwhile (nothing was changed).
    """
    sid = validate_id(session_id)
    current = _writable(manager.get(sid))
    fork = last_rewind(manager, sid)
    if fork is None:
        raise UsageError(f"nothing to undo: '{current.name}' has no rewind to take back")
    at = fork.parent_message_index
    if at is None or at > len(current.history) or current.history[:at] != fork.history[:at]:
        raise UsageError(
            f"cannot undo: '{current.name}' no longer starts with the messages "
            f"'{fork.name}' branched from; open that fork instead"
        )
    kept = None
    if current.history == fork.history:
        session = current  # the cut never happened (a crash between the two steps): no change
    else:
        if len(current.history) > at:
            kept = _keep_path(manager, current, at, "undo")
        try:
            session = _rewrite(manager, current, at, fork.history[at:])
        except HistoryChanged:
            if kept is not None:
                manager.backend.delete(kept.id)
            raise
    removed = None
    if not any(s.parent_id == fork.id for s in manager.list()):
        manager.delete(fork.id)  # its messages are all in the session again
        removed = fork.id
    return Rewound(session, kept, removed, fork.name if removed else None)


# ---------------------------------------------------------------------- lineage


@dataclass
class Node:
    """One session in a lineage tree and the sessions forked or delegated from it."""

    summary: SessionSummary
    children: list[Node] = field(default_factory=list)

    def walk(self, depth: int = 0) -> list[tuple[int, Node]]:
        """The tree depth first, parents before children: ``(depth, node)`` pairs."""
        found = [(depth, self)]
        for child in self.children:
            found += child.walk(depth + 1)
        return found


def lineage(manager: SessionManager, session_id: str) -> Node:
    """The tree of sessions the session belongs to (DESIGN section 14, ``/tree``): from its
    oldest ancestor still in the store down through every fork and delegation, oldest first.

    Raises:
        SessionNotFound: the session is not in the store.
    """
    sid = validate_id(session_id)
    summaries = {s.id: s for s in manager.list()}
    if sid not in summaries:
        manager.get(sid)  # raises SessionNotFound, or a damage error naming it
    top, seen = sid, {sid}
    while (parent := summaries[top].parent_id) in summaries and parent not in seen:
        top = parent
        seen.add(top)
    children: dict[str, list[SessionSummary]] = {}
    for s in summaries.values():
        if s.parent_id is not None and s.id != top:
            children.setdefault(s.parent_id, []).append(s)

    def build(summary: SessionSummary, path: frozenset[str]) -> Node:
        kids = sorted(children.get(summary.id, []), key=lambda s: (s.created_at, s.id))
        return Node(summary, [build(k, path | {k.id}) for k in kids if k.id not in path])

    return build(summaries[top], frozenset({top}))


# ---------------------------------------------------------------------- steps


def _writable(session: Session) -> Session:
    if session.format_version > FORMAT_VERSION:
        from .errors import ReadOnlyStore

        raise ReadOnlyStore(
            f"session {session.id} has format_version {session.format_version}, newer than "
            f"this program ({FORMAT_VERSION}); upgrade prompt-sessions to rewind it"
        )
    return session


def _keep_path(manager: SessionManager, source: Session, at: int, kind: Kind) -> Session:
    """Step one: a fork holding ``source``'s whole history, written durably before any cut."""
    metadata = {k: v for k, v in source.metadata.items() if k != RECORD}
    metadata[RECORD] = {"kind": kind, "at": at, "made_at": now_iso()}
    return manager.create(
        source.po_name,
        _labelled(source.name, f" ({_LABELS[kind]})"),
        source=source.source,
        metadata=metadata,
        history=list(source.history),
        thread_type="fork",
        parent_id=source.id,
        parent_message_index=at,
        tags=list(source.tags) if source.tags else None,
    )


def _rewrite(
    manager: SessionManager, source: Session, keep: int, tail: Sequence[Message]
) -> Session:
    """Step two: cut ``source`` at ``keep`` and add ``tail``, atomically where the store can."""
    backend = manager.backend
    if isinstance(backend, SupportsRewrite):
        return backend.rewrite_history(source.id, keep, tail, expect=len(source.history))
    # A store without the capability: the session is written again under its own id. A crash
    # between the two steps leaves the fork written before as the only copy, so nothing is lost.
    fresh = manager.get(source.id)
    if len(fresh.history) != len(source.history):
        raise HistoryChanged(f"session '{source.name}' changed meanwhile; try again")
    fresh.history = [*fresh.history[:keep], *tail]
    fresh.updated_at = max(now_iso(), fresh.history[-1].created_at if fresh.history else "")
    backend.delete(source.id)
    backend.create(fresh)
    return fresh


def _labelled(name: str, suffix: str) -> str:
    """``name`` with ``suffix``, cut (never inside a character cluster) to fit a name."""
    base = name.removesuffix(suffix)  # "x (before rewind) (before rewind)" helps no one
    room = boundary(base, NAME_MAX - len(suffix))
    return (base[:room].rstrip() or "Session") + suffix
