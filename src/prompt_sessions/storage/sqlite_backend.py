"""The ``sqlite`` backend: every session of an environment in one ``sessions.sqlite3`` file.

Same promises as the JSON store (DESIGN section 4), kept by SQLite itself: each write is one
transaction, committed with WAL and ``synchronous=FULL`` so an ``append`` that returned is on disk;
``BEGIN IMMEDIATE`` serialises writers across processes and ``busy_timeout`` bounds the wait;
readers see a consistent snapshot and never wait for writers. Locks are SQLite's own POSIX locks,
which the kernel drops when a process dies, so a crashed holder never blocks anyone.

Tables::

    sessions(id, po_name, created_at, updated_at, head, summary)
        head     the session's own fields as JSON, without history and updated_at
        summary  the SessionSummary as JSON, kept up to date by every write (list reads only this)
    messages(session_id, idx, body)    one row per message, body is the message as JSON
    current(po_name, session_id)       each PO's current session
    trash(id, deleted_at, ...)         deleted sessions' rows (``storage.sqlite_trash``); their
                                       messages stay in ``messages``
    search_*                           the search index (``storage.search_index``), written by
                                       the same transactions as the sessions it indexes

Bodies are the exact JSON of the session file format, so ``get`` assembles the file's bytes and
decodes them with the same strict decoder as the JSON store: damage is reported the same way.
"""

from __future__ import annotations

import builtins
import sqlite3
from collections.abc import Sequence
from typing import Any

from ..errors import CorruptSession, NotLastMessage, SessionNotFound
from ..ids import validate_id
from ..models import (
    FORMAT_VERSION,
    Message,
    Session,
    SessionSummary,
    forked,
    summary_after_append,
    summary_after_replace,
    summary_with_head,
)
from ..search import SearchHit
from ..search_query import Query
from . import rewrite, search_index, session_codec, sqlite_search, sqlite_trash
from . import sqlite_rows as rows
from .base import HealthReport, TrashedSession
from .sqlite_connection import DB_NAME, SCHEMA_VERSION
from .sqlite_health import SqliteHealth
from .sqlite_indexing import lands_without_index

__all__ = ["DB_NAME", "SCHEMA_VERSION", "SqliteBackend"]


class SqliteBackend(SqliteHealth):
    """The sqlite store of one environment folder (``root``), backend name ``sqlite``."""

    name = "sqlite"

    def _check_not_newer(self, sid: str, head: object) -> None:
        """Refuse to change a session a newer version wrote (DESIGN section 4, "Versioned")."""
        version = session_codec.stored_version(head) if isinstance(head, bytes) else None
        if version is not None and version > FORMAT_VERSION:
            raise session_codec.refuse_newer(f"session {sid} in {self.db_path}", version)

    @lands_without_index
    def create(self, session: Session) -> SessionSummary:
        validate_id(session.id)
        bodies = [session_codec.encode_message(m) for m in session.history]
        with self._writing() as conn:
            summary = rows.insert(conn, session, bodies)
            self._index(conn, lambda c: search_index.put_session(c, session, summary))
            return summary

    def list(self) -> list[SessionSummary]:
        with self._reading() as conn:
            if conn is None:
                self._problems = {}
                return []
            found_rows = conn.execute(
                "SELECT id, CAST(summary AS BLOB) FROM sessions"
                " ORDER BY updated_at DESC, created_at DESC, id"
            ).fetchall()
        try:  # the fast path: one decode for the whole list
            found = rows.summaries_decoder.decode(b"[" + b",".join(r[1] for r in found_rows) + b"]")
            self._problems = {}
            return found
        except rows.UNREADABLE:
            pass
        found, problems = [], {}
        for sid, data in found_rows:
            try:
                found.append(rows.decode_summary(sid, data))
            except CorruptSession as exc:
                problems[sid] = exc.reason
        self._problems = problems
        return found

    def problems(self) -> dict[str, str]:
        return dict(self._problems)

    def get(self, session_id: str) -> Session:
        sid = validate_id(session_id)
        with self._reading() as conn:
            if conn is None:
                raise SessionNotFound(sid)
            return rows.load(conn, sid)

    @lands_without_index
    def append(self, session_id: str, message: Message) -> SessionSummary:
        """One row in, one summary updated: O(1) however long the session is."""
        sid = validate_id(session_id)
        body = session_codec.encode_message(message)  # fail on bad content before locking
        with self._writing() as conn:
            head, _, stored_summary = rows.head_row(conn, sid)
            self._check_not_newer(sid, head)
            summary = rows.decode_summary(sid, stored_summary)
            (last,) = conn.execute(
                "SELECT MAX(idx) FROM messages WHERE session_id = ?", (sid,)
            ).fetchone()
            conn.execute(
                "INSERT INTO messages (session_id, idx, body) VALUES (?, ?, ?)",
                (sid, 0 if last is None else last + 1, body),
            )
            summary = summary_after_append(summary, message)
            rows.write_summary(conn, summary)

            def reindex(c: sqlite3.Connection) -> None:
                if not search_index.add_message(c, summary, message):
                    search_index.put_session(c, rows.load(c, sid), summary)

            self._index(conn, reindex)
            return summary

    @lands_without_index
    def replace_last(self, session_id: str, message: Message, *, index: int) -> SessionSummary:
        """The last message's row and the summary rewritten in one transaction
        (``storage.base.SupportsReplaceLast``): O(1) however long the session is.

        Raises:
            SessionNotFound, NotLastMessage, CorruptSession, ReadOnlyStore or StorageError.
        """
        sid = validate_id(session_id)
        body = session_codec.encode_message(message)  # fail on bad content before locking
        with self._writing() as conn:
            head, _, stored_summary = rows.head_row(conn, sid)
            self._check_not_newer(sid, head)
            summary = rows.decode_summary(sid, stored_summary)
            last = conn.execute(
                "SELECT idx, CAST(body AS BLOB) FROM messages WHERE session_id = ?"
                " ORDER BY idx DESC LIMIT 1",
                (sid,),
            ).fetchone()
            if last is None or index < 0 or summary.message_count != index + 1:
                raise NotLastMessage(sid, index, summary.message_count)
            old = rows.decode_message(sid, last[1])
            conn.execute(
                "UPDATE messages SET body = ? WHERE session_id = ? AND idx = ?",
                (body, sid, last[0]),
            )
            summary = summary_after_replace(summary, old, message)
            rows.write_summary(conn, summary)

            def reindex(c: sqlite3.Connection) -> None:
                if not search_index.replace_last_message(c, summary, message):
                    search_index.put_session(c, rows.load(c, sid), summary)

            self._index(conn, reindex)
            return summary

    @lands_without_index
    def update(self, session_id: str, **fields: Any) -> Session:
        sid = validate_id(session_id)
        session_codec.check_update(fields)
        with self._writing() as conn:
            head = rows.head_row(conn, sid)[0]
            self._check_not_newer(sid, head)
            session = rows.load(conn, sid, history=False)
            for key, value in fields.items():
                setattr(session, key, value)
            summary = rows.decode_summary(sid, rows.head_row(conn, sid)[2])
            # Fields this version does not know (a plugin's, a person's) survive the update.
            unknown = session_codec.unknown_fields(head)
            conn.execute(
                "UPDATE sessions SET head = ? WHERE id = ?",
                (session_codec.encode_head(session, unknown), sid),
            )
            summary = summary_with_head(summary, session)
            rows.write_summary(conn, summary)
            whole = rows.load(conn, sid)

            def reindex(c: sqlite3.Connection) -> None:
                if not search_index.put_head(c, summary):
                    search_index.put_session(c, whole, summary)

            self._index(conn, reindex)
            return whole

    @lands_without_index
    def rewrite_history(
        self, session_id: str, keep: int, tail: Sequence[Message], *, expect: int
    ) -> Session:
        """Rewind's atomic cut (``storage.rewrite``, DESIGN section 14)."""
        return rewrite.rewrite_sqlite(self, session_id, keep, tail, expect)

    @lands_without_index
    def delete(self, session_id: str) -> None:
        sid = validate_id(session_id)
        with self._writing() as conn:
            row = conn.execute(
                "SELECT CAST(head AS BLOB) FROM sessions WHERE id = ?", (sid,)
            ).fetchone()
            if row is not None:
                self._check_not_newer(sid, row[0])
            if conn.execute("DELETE FROM sessions WHERE id = ?", (sid,)).rowcount == 0:
                raise SessionNotFound(sid)
            conn.execute("DELETE FROM messages WHERE session_id = ?", (sid,))
            conn.execute("DELETE FROM current WHERE session_id = ?", (sid,))
            self._index(conn, lambda c: search_index.drop_session(c, sid))

    # The trash (DESIGN section 14), in ``sqlite_trash``: a row moves whole in one transaction.

    def check(self, repair: bool = False) -> HealthReport:
        """The store's health (DESIGN section 4), the trashed sessions' rows included."""
        report = super().check(repair)
        if DB_NAME not in report.damaged:  # a file SQLite cannot read is reported once, above
            sqlite_trash.check(self, report)
        return report

    @lands_without_index
    def trash(self, session_id: str) -> None:
        sqlite_trash.trash(self, session_id)

    def trashed(self) -> builtins.list[TrashedSession]:
        return sqlite_trash.trashed(self)

    @lands_without_index
    def restore(self, session_id: str) -> TrashedSession:
        return sqlite_trash.restore(self, session_id)

    def purge(self, session_id: str) -> None:
        sqlite_trash.purge(self, session_id)

    def read_trashed(self, session_id: str) -> Session:
        return sqlite_trash.read_trashed(self, session_id)

    def put_trashed(self, session: Session, deleted_at: str) -> None:
        sqlite_trash.put_trashed(self, session, deleted_at)

    def update_trashed(self, session_id: str, **fields: Any) -> TrashedSession:
        return sqlite_trash.update_trashed(self, session_id, **fields)

    def get_current(self, po_name: str) -> str | None:
        with self._reading() as conn:
            if conn is None:
                return None
            row = conn.execute(
                "SELECT c.session_id FROM current c JOIN sessions s ON s.id = c.session_id "
                "WHERE c.po_name = ?",
                (po_name,),
            ).fetchone()
            return row[0] if row else None

    def set_current(self, po_name: str, session_id: str | None) -> None:
        if session_id is not None:
            validate_id(session_id)
        with self._writing() as conn:
            if session_id is None:
                conn.execute("DELETE FROM current WHERE po_name = ?", (po_name,))
            else:
                conn.execute(
                    "INSERT OR REPLACE INTO current (po_name, session_id) VALUES (?, ?)",
                    (po_name, session_id),
                )

    @lands_without_index
    def fork(self, session_id: str, at: int, name: str) -> Session:
        """A new session with the first ``at`` messages, copied row for row inside SQLite."""
        sid = validate_id(session_id)
        with self._writing() as conn:
            fork = forked(rows.load(conn, sid), at, name)
            summary = rows.insert(conn, fork, [])
            self._index(conn, lambda c: search_index.put_session(c, fork, summary))
            conn.execute(
                "INSERT INTO messages (session_id, idx, body) "
                "SELECT ?, idx, body FROM messages WHERE session_id = ? "
                "ORDER BY idx LIMIT ?",
                (fork.id, sid, at),
            )
            return fork

    def search(self, query: Query, *, limit: int, progress: Any = None) -> builtins.list[SearchHit]:
        """Ranked hits from the index inside the database (DESIGN section 12), built again
        first when it is stale or damaged (``storage.sqlite_search``)."""
        return sqlite_search.search(self, query, limit, progress)

    def first_page(
        self, query: Query, *, limit: int, within: float | None = None
    ) -> builtins.list[SearchHit] | None:
        """The explorer's first page (``search_live.first_page``, DESIGN sections 10 and 12):
        the newest hits, unranked, read on a connection of its own, so it never waits behind a
        ranked search; None when the database holds no index of this version."""
        from ..search_live import read_first_page

        hits, conn = read_first_page(self.db_path, query, limit, within)
        if conn is not None:
            conn.close()
        return hits

    def flush(self) -> None:
        """Copy committed transactions from the WAL into the database file, without waiting."""
        with self._mutex:
            if self._conn is not None:
                with self._translate("flush"):
                    self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
