"""Replacing the end of a session's history in one atomic write: what rewind, edit, regenerate
and their undo need from a store (DESIGN section 14, "Rewind without loss").

A backend offers it by having a ``rewrite_history`` method (:class:`SupportsRewrite`); the
built-in ones implement it here, each inside its own write lock or transaction, so a session is
found after a crash either as it was or as rewritten, never half of each. The caller keeps the
messages it drops somewhere else first (a fork): this operation alone would lose them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ..errors import StorageError, UsageError
from ..ids import validate_id
from ..models import Message, Session, summarize
from ..timeutil import now_iso
from . import files, session_codec

if TYPE_CHECKING:
    from .json_backend import JsonBackend
    from .sqlite_backend import SqliteBackend


class HistoryChanged(StorageError):
    """The session gained or lost messages since the caller read it: nothing was rewritten."""

    title = "Session changed"


@runtime_checkable
class SupportsRewrite(Protocol):
    """A session's history cut at a point and given a new end, in one atomic write."""

    def rewrite_history(
        self, session_id: str, keep: int, tail: Sequence[Message], *, expect: int
    ) -> Session:
        """Make the history ``history[:keep] + tail``; ``updated_at`` becomes now.

        Args:
            session_id: the session (a validated id).
            keep: how many of the first messages stay, 0 to ``expect``.
            tail: messages (already checked) added after them.
            expect: the message count the caller read; another count means another writer
                changed the session since, and nothing is written.

        Returns:
            The session as rewritten.

        Raises:
            SessionNotFound: no session has that id.
            HistoryChanged: the session does not hold ``expect`` messages.
            UsageError: ``keep`` is out of range.
        """


def _rewritten(session: Session, keep: int, tail: Sequence[Message], expect: int) -> Session:
    """``session`` with its new history, after the checks every backend makes."""
    have = len(session.history)
    if have != expect:
        raise HistoryChanged(
            f"session '{session.name}' now has {have} messages, not {expect}: it changed "
            "meanwhile; nothing was rewritten, try again"
        )
    if isinstance(keep, bool) or not isinstance(keep, int) or not 0 <= keep <= have:
        raise UsageError(f"the cut must be between 0 and {have}, not {keep!r}")
    session.history = [*session.history[:keep], *tail]
    now = now_iso()
    last = session.history[-1].created_at if session.history else now
    session.updated_at = max(now, last)
    return session


def rewrite_json(
    backend: JsonBackend, session_id: str, keep: int, tail: Sequence[Message], expect: int
) -> Session:
    """The JSON store's rewrite: the whole file replaced atomically under the store lock, the
    fields this version does not know kept (as ``update`` does)."""
    sid = validate_id(session_id)
    path = backend.dir / f"{sid}.json"
    with backend._writing():
        session, _, data = backend._load_with_bytes(sid)
        session_codec.check_writable(path, session)
        session = _rewritten(session, keep, tail, expect)
        unknown = session_codec.unknown_fields(data) if data else None
        if unknown is not None:  # kept by position: only the kept messages still have theirs
            unknown = session_codec.Unknown(unknown.head, unknown.messages[:keep])
        files.atomic_write(path, session_codec.encode_session(session, unknown))
        summary = backend._after_write(sid, summarize(session))
        backend._indexed("session_written", session, summary)
        return session


def rewrite_sqlite(
    backend: SqliteBackend, session_id: str, keep: int, tail: Sequence[Message], expect: int
) -> Session:
    """The sqlite store's rewrite: one transaction drops the rows after ``keep`` (the kept rows
    stay byte for byte), inserts the tail, and updates the summary and the search index."""
    from . import search_index  # here: the JSON store's commands never import sqlite3
    from . import sqlite_rows as rows

    sid = validate_id(session_id)
    bodies = [session_codec.encode_message(m) for m in tail]  # bad content fails before locking
    with backend._writing() as conn:
        backend._check_not_newer(sid, rows.head_row(conn, sid)[0])
        session = _rewritten(rows.load(conn, sid), keep, tail, expect)
        conn.execute(
            "DELETE FROM messages WHERE session_id = ? AND idx NOT IN "
            "(SELECT idx FROM messages WHERE session_id = ? ORDER BY idx LIMIT ?)",
            (sid, sid, keep),
        )
        (last,) = conn.execute(
            "SELECT MAX(idx) FROM messages WHERE session_id = ?", (sid,)
        ).fetchone()
        start = 0 if last is None else last + 1
        conn.executemany(
            "INSERT INTO messages (session_id, idx, body) VALUES (?, ?, ?)",
            ((sid, start + i, body) for i, body in enumerate(bodies)),
        )
        summary = summarize(session)
        rows.write_summary(conn, summary)
        backend._index(conn, lambda c: search_index.put_session(c, session, summary))
        return session
