"""Rows of the sqlite store: a session's head, messages and summary, read and written inside a
transaction the caller holds. Bodies are the exact JSON of the session file format (DESIGN
section 3), decoded by the same strict decoder as the JSON store, so damage reads the same."""

from __future__ import annotations

import base64
import sqlite3

import msgspec

from ..errors import CorruptSession, SessionNotFound, StorageError
from ..models import Message, Session, SessionSummary, summarize
from . import message_rows, session_codec

encoder = msgspec.json.Encoder()
summary_decoder = msgspec.json.Decoder(SessionSummary)
summaries_decoder = msgspec.json.Decoder(list[SessionSummary])

# What decoding a stored value can raise: any of it is damage of that one row.
UNREADABLE = (
    msgspec.DecodeError,
    msgspec.ValidationError,
    TypeError,
    UnicodeDecodeError,
    RecursionError,
    MemoryError,
)


def exact(value: object) -> object:
    """A stored value as JSON that gives back its exact bytes: text when they are UTF-8 (its
    UTF-8 encoding is the stored bytes), else ``{"base64": ...}``."""
    if not isinstance(value, bytes):
        return value
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(value).decode("ascii")}


def head_row(conn: sqlite3.Connection, sid: str) -> tuple[bytes, bytes, bytes]:
    """``(head, updated_at, summary)`` of session ``sid`` as stored bytes.

    Raises :class:`SessionNotFound` when there is no such row.
    """
    # As bytes: a TEXT value that is not UTF-8 (written by another tool) would otherwise fail
    # the whole query instead of being reported as damage of this one session.
    row = conn.execute(
        "SELECT CAST(head AS BLOB), CAST(updated_at AS BLOB), CAST(summary AS BLOB)"
        " FROM sessions WHERE id = ?",
        (sid,),
    ).fetchone()
    if row is None:
        raise SessionNotFound(sid)
    return row


def load(conn: sqlite3.Connection, sid: str, *, history: bool = True) -> Session:
    """Session ``sid`` decoded from its rows (without messages when ``history`` is false).

    Raises :class:`SessionNotFound`, or :class:`CorruptSession` when a row does not decode.
    """
    head, updated_at, _ = head_row(conn, sid)
    bodies: list[bytes] = []
    if history:
        bodies = [
            r[0]
            for r in conn.execute(
                "SELECT CAST(body AS BLOB) FROM messages WHERE session_id = ? ORDER BY idx",
                (sid,),
            )
        ]
    return session_codec.decode_rows(sid, head, updated_at, bodies)


def decode_summary(sid: str, data: bytes) -> SessionSummary:
    """The stored summary of ``sid``; :class:`CorruptSession` when it does not decode."""
    try:
        return summary_decoder.decode(data)
    except UNREADABLE as exc:
        raise CorruptSession(sid, f"its summary cannot be read ({exc})") from exc


def decode_message(sid: str, body: bytes) -> Message:
    """One stored message body; :class:`CorruptSession` when it does not decode."""
    try:
        return session_codec.decode_message(body)
    except UNREADABLE as exc:
        raise CorruptSession(sid, f"a message cannot be read ({exc})") from exc


def write_summary(conn: sqlite3.Connection, summary: SessionSummary) -> None:
    """Store ``summary`` and the columns ``list`` sorts and filters by."""
    conn.execute(
        "UPDATE sessions SET summary = ?, updated_at = ?, po_name = ? WHERE id = ?",
        (encoder.encode(summary), summary.updated_at, summary.po_name, summary.id),
    )


def insert(conn: sqlite3.Connection, session: Session, bodies: list[bytes]) -> SessionSummary:
    """Add ``session`` with its encoded messages ``bodies`` (the caller indexes it for search).

    Raises :class:`StorageError` when a session with its id exists.
    """
    summary = summarize(session)
    try:
        conn.execute(
            "INSERT INTO sessions (id, po_name, created_at, updated_at, head, summary) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                session.id,
                session.po_name,
                session.created_at,
                session.updated_at,
                encoder.encode(session_codec.head_fields(session)),
                encoder.encode(summary),
            ),
        )
    except sqlite3.IntegrityError:
        raise StorageError(f"session {session.id} already exists") from None
    conn.executemany(
        "INSERT INTO messages (session_id, idx, body) VALUES (?, ?, ?)",
        ((session.id, i, body) for i, body in enumerate(bodies)),
    )
    return summary


def mismatch(
    conn: sqlite3.Connection, sid: str, summary: bytes, *, table: str = "messages"
) -> str | None:
    """How the message rows of ``sid`` (in ``table``) disagree with what the session recorded
    (``message_rows.mismatch``); None when they agree."""
    positions = [
        r[0]
        for r in conn.execute(
            f"SELECT idx FROM {table} WHERE session_id = ? ORDER BY idx",
            (sid,),
        )
    ]
    return message_rows.mismatch(positions, summary)
