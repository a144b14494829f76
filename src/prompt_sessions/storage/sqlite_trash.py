"""The sqlite store's trash (DESIGN section 14): the ``trash`` table.

Deleting moves the session's ``sessions`` row into ``trash`` with the time of deletion and its
``messages`` rows into ``trash_messages``, in one transaction that also drops the session from
the search index and the current-session choices. Restoring moves the rows back and indexes the
session again.
The stored bytes never change, so a restored session is exactly the one deleted, and a crash
leaves it in one place: SQLite commits the move whole or not at all.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from ..errors import CorruptSession, SessionNotFound, StorageError
from ..ids import validate_id
from ..models import Session, summarize, summary_with_head
from ..timeutil import now_iso
from . import search_index, session_codec
from . import sqlite_rows as rows
from .base import HealthReport, TrashedSession, check_deleted_at
from .sqlite_connection import TRASH_SCHEMA

if TYPE_CHECKING:
    from .sqlite_backend import SqliteBackend

_COLUMNS = "id, po_name, created_at, updated_at, head, summary"


def _ensure_table(conn: sqlite3.Connection) -> None:
    """The trash table, in a store that has not been upgraded yet (a store without FTS5)."""
    for statement in TRASH_SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)


def _move_messages(conn: sqlite3.Connection, sid: str, source: str, target: str) -> None:
    """Move a session's message rows between ``messages`` and ``trash_messages`` unchanged."""
    conn.execute(
        f"INSERT INTO {target} (session_id, idx, body) "
        f"SELECT session_id, idx, body FROM {source} WHERE session_id = ?",
        (sid,),
    )
    conn.execute(f"DELETE FROM {source} WHERE session_id = ?", (sid,))


def _has_table(conn: sqlite3.Connection) -> bool:
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'trash'"
    ).fetchone()
    return row is not None


def trash(store: SqliteBackend, session_id: str) -> None:
    """Move the session's row to ``trash``."""
    sid = validate_id(session_id)
    with store._writing() as conn:
        row = conn.execute(
            "SELECT CAST(head AS BLOB) FROM sessions WHERE id = ?", (sid,)
        ).fetchone()
        if row is not None:
            store._check_not_newer(sid, row[0])  # read-only here (DESIGN section 4, "Versioned")
        _ensure_table(conn)
        moved = conn.execute(
            f"INSERT INTO trash (deleted_at, {_COLUMNS}) "
            f"SELECT ?, {_COLUMNS} FROM sessions WHERE id = ?",
            (now_iso(), sid),
        ).rowcount
        if moved == 0:
            raise SessionNotFound(sid)
        conn.execute("DELETE FROM sessions WHERE id = ?", (sid,))
        _move_messages(conn, sid, "messages", "trash_messages")
        conn.execute("DELETE FROM current WHERE session_id = ?", (sid,))
        store._index(conn, lambda c: search_index.drop_session(c, sid))


def trashed(store: SqliteBackend) -> list[TrashedSession]:
    """Every readable trashed session, most recently deleted first."""
    with store._reading() as conn:
        if conn is None or not _has_table(conn):
            return []
        found_rows = conn.execute(
            "SELECT id, deleted_at, CAST(summary AS BLOB) FROM trash ORDER BY deleted_at DESC, id"
        ).fetchall()
    found = []
    for sid, deleted_at, data in found_rows:
        try:
            found.append(
                TrashedSession(summary=rows.decode_summary(sid, data), deleted_at=deleted_at)
            )
        except CorruptSession:
            continue  # doctor reports it
    return found


def restore(store: SqliteBackend, session_id: str) -> TrashedSession:
    """Move the row back to ``sessions`` and index the session again."""
    sid = validate_id(session_id)
    with store._writing() as conn:
        if not _has_table(conn):
            raise SessionNotFound(sid)
        row = conn.execute(
            "SELECT deleted_at, CAST(summary AS BLOB) FROM trash WHERE id = ?", (sid,)
        ).fetchone()
        if row is None:
            raise SessionNotFound(sid)
        entry = TrashedSession(summary=rows.decode_summary(sid, row[1]), deleted_at=row[0])
        if conn.execute("SELECT 1 FROM sessions WHERE id = ?", (sid,)).fetchone():
            raise StorageError(f"a session with id {sid} exists already; the trashed one was kept")
        conn.execute(
            f"INSERT INTO sessions ({_COLUMNS}) SELECT {_COLUMNS} FROM trash WHERE id = ?", (sid,)
        )
        conn.execute("DELETE FROM trash WHERE id = ?", (sid,))
        _move_messages(conn, sid, "trash_messages", "messages")
        session = rows.load(conn, sid)
        store._index(conn, lambda c: search_index.put_session(c, session, entry.summary))
        return entry


def purge(store: SqliteBackend, session_id: str) -> None:
    """Delete the trashed session's row and its messages for good."""
    sid = validate_id(session_id)
    with store._writing() as conn:
        if not _has_table(conn):
            raise SessionNotFound(sid)
        if conn.execute("DELETE FROM trash WHERE id = ?", (sid,)).rowcount == 0:
            raise SessionNotFound(sid)
        conn.execute("DELETE FROM trash_messages WHERE session_id = ?", (sid,))


def update_trashed(store: SqliteBackend, session_id: str, **fields: Any) -> TrashedSession:
    """Change the trashed session's row in one transaction, its deletion time and messages
    kept (``SupportsTrashUpdate.update_trashed``); unknown fields survive, as in ``update``."""
    sid = validate_id(session_id)
    session_codec.check_update(fields)
    with store._writing() as conn:
        if not _has_table(conn):
            raise SessionNotFound(sid)
        row = conn.execute(
            "SELECT deleted_at, CAST(head AS BLOB), CAST(summary AS BLOB) FROM trash WHERE id = ?",
            (sid,),
        ).fetchone()
        if row is None:
            raise SessionNotFound(sid)
        store._check_not_newer(sid, row[1])
        session = _load(conn, sid)
        for key, value in fields.items():
            setattr(session, key, value)
        summary = summary_with_head(rows.decode_summary(sid, row[2]), session)
        conn.execute(
            "UPDATE trash SET po_name = ?, head = ?, summary = ? WHERE id = ?",
            (
                session.po_name,
                session_codec.encode_head(session, session_codec.unknown_fields(row[1])),
                rows.encoder.encode(summary),
                sid,
            ),
        )
        return TrashedSession(summary=summary, deleted_at=row[0])


def _load(conn: sqlite3.Connection, sid: str) -> Session:
    """The trashed session ``sid`` decoded from its rows; SessionNotFound, CorruptSession."""
    row = conn.execute(
        "SELECT CAST(head AS BLOB), CAST(updated_at AS BLOB) FROM trash WHERE id = ?", (sid,)
    ).fetchone()
    if row is None:
        raise SessionNotFound(sid)
    bodies = [
        r[0]
        for r in conn.execute(
            "SELECT CAST(body AS BLOB) FROM trash_messages WHERE session_id = ? ORDER BY idx",
            (sid,),
        )
    ]
    return session_codec.decode_rows(sid, row[0], row[1], bodies)


def read_trashed(store: SqliteBackend, session_id: str) -> Session:
    """The whole trashed session (``SupportsTrashCopy.read_trashed``)."""
    sid = validate_id(session_id)
    with store._reading() as conn:
        if conn is None or not _has_table(conn):
            raise SessionNotFound(sid)
        return _load(conn, sid)


def put_trashed(store: SqliteBackend, session: Session, deleted_at: str) -> None:
    """Write ``session`` straight into the trash, deleted at ``deleted_at``
    (``SupportsTrashCopy.put_trashed``); StorageError when the trash holds its id already."""
    sid = validate_id(session.id)
    check_deleted_at(deleted_at)
    bodies = [session_codec.encode_message(m) for m in session.history]
    with store._writing() as conn:
        _ensure_table(conn)
        if conn.execute("SELECT 1 FROM trash WHERE id = ?", (sid,)).fetchone():
            raise StorageError(f"the trash holds a session with id {sid} already; nothing written")
        conn.execute(
            f"INSERT INTO trash (deleted_at, {_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                deleted_at,
                sid,
                session.po_name,
                session.created_at,
                session.updated_at,
                rows.encoder.encode(session_codec.head_fields(session)),
                rows.encoder.encode(summarize(session)),
            ),
        )
        conn.executemany(
            "INSERT INTO trash_messages (session_id, idx, body) VALUES (?, ?, ?)",
            ((sid, i, body) for i, body in enumerate(bodies)),
        )


def check(store: SqliteBackend, report: HealthReport) -> None:
    """Report trashed sessions whose rows cannot be read, as ``trash/<id>``; they stay where
    they are (the trash is already out of the way, and only a person empties it)."""
    with store._reading() as conn:
        if conn is None or not _has_table(conn):
            return
        ids = [r[0] for r in conn.execute("SELECT id FROM trash ORDER BY id")]
        for sid in ids:
            try:
                _load(conn, sid)
            except CorruptSession as exc:
                report.damaged[f"trash/{sid}"] = exc.reason
                continue
            (summary,) = conn.execute(
                "SELECT CAST(summary AS BLOB) FROM trash WHERE id = ?", (sid,)
            ).fetchone()
            gap = rows.mismatch(conn, sid, summary, table="trash_messages")
            if gap is not None:
                report.damaged[f"trash/{sid}"] = gap
