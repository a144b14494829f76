"""The postgres store's trash (DESIGN section 14): the ``trash`` and ``trash_messages`` tables.

Deleting moves the session's row, with its search columns, into ``trash`` with the time of
deletion and its message rows into ``trash_messages``, in one transaction under the session's
row lock; the current-session choices that named it go with the live row (a foreign key).
Restoring moves the rows back the same way. The stored JSON never changes, so a restored
session is exactly the one deleted, and a crash or a dropped connection leaves it in one place:
the server commits the move whole or not at all. The triggers on ``sessions`` and ``trash``
announce both moves to every listener (:mod:`.live`).

A schema older than the trash (version 3) reads as an empty trash; the first write upgrades it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from prompt_sessions.errors import CorruptSession, NewerSession, SessionNotFound, StorageError
from prompt_sessions.ids import validate_id
from prompt_sessions.models import Session, summarize, summary_with_head
from prompt_sessions.storage import session_codec
from prompt_sessions.storage.base import HealthReport, TrashedSession, check_deleted_at
from prompt_sessions.timeutil import now_iso

from . import search

if TYPE_CHECKING:
    from .backend import PostgresBackend

TRASH_VERSION = 3  # the schema version that made the tables
_COLUMNS = (
    "id, po_name, created_at, updated_at, head, summary, folded_name, name_words, po_key, tag_keys"
)
_MESSAGE_COLUMNS = "session_id, idx, body, folded, words"
_encoder = msgspec.json.Encoder()


def _kept_elsewhere(sid: str) -> StorageError:
    return StorageError(f"the trash holds a session with id {sid} already; nothing was moved")


def trash(backend: PostgresBackend, session_id: str) -> None:
    """Move a live session's rows to the trash (``SupportsTrash.trash``).

    Raises:
        SessionNotFound: no live session has that id.
        StorageError: the trash holds that id already (nothing moved); the server failed.
        ReadOnlyStore: a newer version wrote the session or the schema.
    """
    sid = validate_id(session_id)
    q = backend._q
    with backend._writing() as conn:
        row = conn.execute(
            f"SELECT head::text FROM {q}.sessions WHERE id = %s FOR UPDATE", (sid,)
        ).fetchone()
        if row is None:
            raise SessionNotFound(sid)
        backend._check_not_newer(sid, row[0])  # read-only here (DESIGN section 4, "Versioned")
        moved = conn.execute(
            f"INSERT INTO {q}.trash (deleted_at, {_COLUMNS}) "
            f"SELECT %s, {_COLUMNS} FROM {q}.sessions WHERE id = %s ON CONFLICT (id) DO NOTHING",
            (now_iso(), sid),
        ).rowcount
        if moved == 0:
            raise _kept_elsewhere(sid)
        conn.execute(
            f"INSERT INTO {q}.trash_messages ({_MESSAGE_COLUMNS}) "
            f"SELECT {_MESSAGE_COLUMNS} FROM {q}.messages WHERE session_id = %s",
            (sid,),
        )
        # Its messages and the current-session choices naming it go too (ON DELETE CASCADE).
        conn.execute(f"DELETE FROM {q}.sessions WHERE id = %s", (sid,))


def trashed(backend: PostgresBackend) -> list[TrashedSession]:
    """Every readable trashed session, most recently deleted first (``SupportsTrash.trashed``);
    one whose summary cannot be read is left out (``check`` reports it)."""
    with backend._reading() as conn:
        if conn is None or backend._version(conn) < TRASH_VERSION:
            return []
        rows = conn.execute(
            f"SELECT id, deleted_at, summary::text FROM {backend._q}.trash "
            "ORDER BY deleted_at DESC, id"
        ).fetchall()
    found = []
    for sid, deleted_at, data in rows:
        try:
            found.append(TrashedSession(summary=backend._summary(sid, data), deleted_at=deleted_at))
        except CorruptSession:
            continue
    return found


def restore(backend: PostgresBackend, session_id: str) -> TrashedSession:
    """Move the trashed session's rows back, unchanged (``SupportsTrash.restore``).

    Raises:
        SessionNotFound: the trash holds no session with that id.
        StorageError: a live session has that id (both are kept); the server failed.
        CorruptSession: the trashed summary cannot be read (nothing moved).
    """
    sid = validate_id(session_id)
    q = backend._q
    with backend._writing() as conn:
        row = conn.execute(
            f"SELECT deleted_at, summary::text FROM {q}.trash WHERE id = %s FOR UPDATE", (sid,)
        ).fetchone()
        if row is None:
            raise SessionNotFound(sid)
        entry = TrashedSession(summary=backend._summary(sid, row[1]), deleted_at=row[0])
        moved = conn.execute(
            f"INSERT INTO {q}.sessions ({_COLUMNS}) SELECT {_COLUMNS} FROM {q}.trash "
            "WHERE id = %s ON CONFLICT (id) DO NOTHING",
            (sid,),
        ).rowcount
        if moved == 0:
            raise StorageError(f"a session with id {sid} exists already; the trashed one was kept")
        conn.execute(
            f"INSERT INTO {q}.messages ({_MESSAGE_COLUMNS}) "
            f"SELECT {_MESSAGE_COLUMNS} FROM {q}.trash_messages WHERE session_id = %s",
            (sid,),
        )
        conn.execute(f"DELETE FROM {q}.trash WHERE id = %s", (sid,))  # its messages with it
        return entry


def purge(backend: PostgresBackend, session_id: str) -> None:
    """Delete a trashed session for good (``SupportsTrash.purge``); SessionNotFound when the
    trash does not hold it."""
    sid = validate_id(session_id)
    with backend._writing() as conn:
        gone = conn.execute(f"DELETE FROM {backend._q}.trash WHERE id = %s", (sid,)).rowcount
        if gone == 0:
            raise SessionNotFound(sid)


def read_trashed(backend: PostgresBackend, session_id: str) -> Session:
    """The whole trashed session, decoded as ``get`` decodes a live one
    (``SupportsTrashCopy.read_trashed``).

    Raises:
        SessionNotFound: the trash holds no session with that id.
        CorruptSession: its rows cannot be read.
    """
    sid = validate_id(session_id)
    with backend._reading(snapshot=True) as conn:
        if conn is None or backend._version(conn) < TRASH_VERSION:
            raise SessionNotFound(sid)
        return _load(backend, conn, sid)


def _load(backend: PostgresBackend, conn: Any, sid: str) -> Session:
    q = backend._q
    row = conn.execute(
        f"SELECT head::text, updated_at FROM {q}.trash WHERE id = %s", (sid,)
    ).fetchone()
    if row is None:
        raise SessionNotFound(sid)
    bodies = [
        r[0].encode()
        for r in conn.execute(
            f"SELECT body::text FROM {q}.trash_messages WHERE session_id = %s ORDER BY idx",
            (sid,),
        )
    ]
    return session_codec.decode_rows(sid, row[0].encode(), row[1], bodies)


def put_trashed(backend: PostgresBackend, session: Session, deleted_at: str) -> None:
    """Write ``session`` straight into the trash, deleted at ``deleted_at`` (ISO-8601 UTC with
    ``Z``), as ``migrate`` copies a trash (``SupportsTrashCopy.put_trashed``).

    Raises:
        StorageError: the trash holds that id already, or ``deleted_at`` is not such a time.
    """
    sid = validate_id(session.id)
    check_deleted_at(deleted_at)
    bodies = [_text(m) for m in session.history]  # fail on bad content before the server
    q = backend._q
    with backend._writing() as conn:
        added = conn.execute(
            f"INSERT INTO {q}.trash (deleted_at, {_COLUMNS}) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING",
            (
                deleted_at,
                sid,
                session.po_name,
                session.created_at,
                session.updated_at,
                _text(session_codec.head_fields(session)),
                _text(summarize(session)),
                *search.session_columns(session.name, session.po_name, session.tags),
            ),
        ).rowcount
        if added == 0:
            raise _kept_elsewhere(sid)
        if bodies:
            with conn.cursor() as cur:
                cur.executemany(
                    f"INSERT INTO {q}.trash_messages ({_MESSAGE_COLUMNS}) "
                    "VALUES (%s, %s, %s, %s, %s)",
                    [
                        (sid, i, body, *search.text_columns(m.content))
                        for i, (body, m) in enumerate(zip(bodies, session.history, strict=True))
                    ],
                )


def update_trashed(backend: PostgresBackend, session_id: str, **fields: Any) -> TrashedSession:
    """Change a trashed session's row and its search columns in one transaction, its deletion
    time and messages kept (``SupportsTrashUpdate.update_trashed``); unknown fields survive.

    Raises:
        SessionNotFound: the trash holds no session with that id.
        StorageError: a field sessions keep for life or do not have (nothing changed).
        ReadOnlyStore: a newer version wrote the session.
    """
    sid = validate_id(session_id)
    session_codec.check_update(fields)
    q = backend._q
    with backend._writing() as conn:
        if backend._version(conn) < TRASH_VERSION:
            raise SessionNotFound(sid)
        row = conn.execute(
            f"SELECT deleted_at, head::text, summary::text FROM {q}.trash WHERE id = %s FOR UPDATE",
            (sid,),
        ).fetchone()
        if row is None:
            raise SessionNotFound(sid)
        backend._check_not_newer(sid, row[1])
        session = _load(backend, conn, sid)
        for key, value in fields.items():
            setattr(session, key, value)
        summary = summary_with_head(backend._summary(sid, row[2]), session)
        unknown = session_codec.unknown_fields(row[1].encode())
        conn.execute(
            f"UPDATE {q}.trash SET po_name = %s, head = %s, summary = %s, "
            f"{search.SESSION_COLUMNS} WHERE id = %s",
            (
                session.po_name,
                session_codec.encode_head(session, unknown).decode(),
                _text(summary),
                *search.session_columns(session.name, session.po_name, session.tags),
                sid,
            ),
        )
        return TrashedSession(summary=summary, deleted_at=row[0])


def check(backend: PostgresBackend, report: HealthReport) -> None:
    """Report trashed sessions whose rows cannot be read, as ``trash/<id>``; they stay where
    they are (the trash is already out of the way, and only a person empties it)."""
    with backend._reading(snapshot=True) as conn:
        if conn is None or backend._version(conn) < TRASH_VERSION:
            return
        ids = [r[0] for r in conn.execute(f"SELECT id FROM {backend._q}.trash ORDER BY id")]
        for sid in ids:
            try:
                _load(backend, conn, sid)
            except NewerSession:
                continue  # not damage: a newer version's session, read-only here
            except CorruptSession as exc:
                report.damaged[f"trash/{sid}"] = exc.reason
            except SessionNotFound:
                continue


def _text(value: object) -> str:
    return _encoder.encode(value).decode("utf-8")
