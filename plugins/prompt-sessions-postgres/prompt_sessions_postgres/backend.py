"""The ``postgres`` storage backend: sessions and messages in tables of a PostgreSQL server.

The promises of DESIGN section 4 that apply to a server, kept by PostgreSQL itself:

- Every write is one transaction; a method returns only after COMMIT, so what it acknowledged
  is durable on the server. An append is one INSERT plus the summary update in one transaction.
- No lost update across machines: a writer locks the session's row (``SELECT ... FOR UPDATE``)
  before it appends or changes fields, so concurrent writers queue instead of overwriting.
- Reads never write: a store whose schema does not exist yet reads as empty; the schema is
  created (or upgraded, step by step) by the first write.
- A schema newer than this program opens read-only.
- Every change is announced (NOTIFY, by triggers) when its transaction commits, so open TUIs
  elsewhere see it (:mod:`prompt_sessions_postgres.live`).

Bodies are the exact JSON of the session file format, so ``get`` assembles the file's bytes and
decodes them with the same strict decoder as the JSON store: damage is reported the same way.
"""

from __future__ import annotations

import builtins
import functools
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from operator import attrgetter
from pathlib import Path
from typing import Any

import msgspec

from prompt_sessions.errors import (
    CorruptSession,
    NotLastMessage,
    ReadOnlyStore,
    SessionNotFound,
    StorageError,
)
from prompt_sessions.ids import validate_id
from prompt_sessions.models import (
    FORMAT_VERSION,
    Message,
    Session,
    SessionSummary,
    forked,
    make_preview,
    summarize,
    summary_after_append,
    summary_after_replace,
    summary_with_head,
)
from prompt_sessions.search import SearchHit
from prompt_sessions.search_query import Query
from prompt_sessions.storage import session_codec
from prompt_sessions.storage.base import HealthReport, TrashedSession

from . import search
from . import trash as trash_rows
from .schema import SCHEMA_VERSION, STEPS, channel, lock_key
from .settings import PostgresSettings

_KNOWN_VERSIONS = [str(v) for v in range(FORMAT_VERSION + 1)]  # as a head's JSON spells them
_encoder = msgspec.json.Encoder()
_BY_ID = attrgetter("id")
_BY_RECENT = attrgetter("updated_at", "created_at")  # most recent first, ties by id
_summary_decoder = msgspec.json.Decoder(SessionSummary)
_summaries_decoder = msgspec.json.Decoder(builtins.list[SessionSummary])
# psycopg's pool warns when it drops a connection the server closed; the failed call already
# raised one StorageError, so the warning must not reach stderr through logging's last resort.
# A program that configures logging still receives it.
logging.getLogger("psycopg").addHandler(logging.NullHandler())


class PostgresBackend:
    """A store in one PostgreSQL schema. Safe across threads (a connection pool) and machines.

    Args:
        root: the environment folder (holds config.toml; the data lives on the server).
        settings: where the server is and which schema to use.

    Every method raises errors of ``prompt_sessions.errors``: ``StorageError`` (one line naming
    the server) when the server cannot be reached or refuses, ``SessionNotFound``,
    ``CorruptSession`` and ``ReadOnlyStore`` as the protocol says.
    """

    name = "postgres"

    def __init__(self, root: Path | str, settings: PostgresSettings) -> None:
        self.root = Path(root)
        self.settings = settings
        self.schema = settings.schema
        self.channel = channel(settings.schema)
        self._q = f'"{settings.schema}"'  # checked_schema allows only plain identifiers
        self._pool: Any = None
        self._pool_lock = threading.Lock()
        self._schema_version: int | None = None  # None: not looked up yet; 0: no schema
        self._problems: dict[str, str] = {}

    # ------------------------------------------------------------------ connections

    def _open_pool(self) -> Any:
        with self._pool_lock:
            if self._pool is not None:
                return self._pool
            import psycopg
            from psycopg_pool import ConnectionPool

            conninfo = self.settings.conninfo()
            # One direct attempt first: a server that is down, a wrong password or a missing
            # database fails at once with libpq's own words, instead of the pool retrying
            # quietly until its timeout.
            with self._translate("connect to"):
                psycopg.connect(conninfo, autocommit=True).close()
            pool = ConnectionPool(
                conninfo,
                # A connection is checked as it is handed out, so one the server dropped (a
                # restart, an idle timeout) is replaced instead of failing the next call.
                check=ConnectionPool.check_connection,
                min_size=1,
                max_size=self.settings.pool_size,
                kwargs={"autocommit": True},
                timeout=self.settings.connect_timeout,
                open=False,
                name=f"prompt-sessions-{self.schema}",
            )
            with self._translate("connect to"):
                pool.open(wait=True, timeout=self.settings.connect_timeout)
            self._pool = pool
            return pool

    @contextmanager
    def _translate(self, action: str) -> Iterator[None]:
        """Turn psycopg errors into one-line errors of our family, naming the server."""
        import psycopg
        from psycopg_pool import PoolTimeout

        try:
            yield
        except PoolTimeout as exc:
            raise StorageError(
                f"cannot {action} {self.settings.where()}: no connection within "
                f"{self.settings.connect_timeout:g} s"
            ) from exc
        except psycopg.errors.ReadOnlySqlTransaction as exc:
            raise ReadOnlyStore(
                f"{self.settings.where()} is read-only: {_first_line(exc)}"
            ) from exc
        except psycopg.errors.InsufficientPrivilege as exc:
            raise ReadOnlyStore(
                f"cannot {action} {self.settings.where()}: {_first_line(exc)}"
            ) from exc
        except psycopg.Error as exc:
            raise StorageError(
                f"cannot {action} {self.settings.where()}: {_first_line(exc)}"
            ) from exc

    @contextmanager
    def _connection(self, action: str) -> Iterator[Any]:
        pool = self._open_pool()
        with self._translate(action), pool.connection() as conn:
            yield conn

    def _version(self, conn: Any) -> int:
        """The schema's recorded version; 0 when the schema does not exist yet."""
        if self._schema_version:
            return self._schema_version
        row = conn.execute("SELECT to_regclass(%s)", (f"{self._q}.meta",)).fetchone()
        if row[0] is None:
            return 0
        found = conn.execute(
            f"SELECT value FROM {self._q}.meta WHERE key = 'schema_version'"
        ).fetchone()
        self._schema_version = int(found[0]) if found else 0
        return self._schema_version

    @contextmanager
    def _reading(self, *, snapshot: bool = False) -> Iterator[Any | None]:
        """A connection to read with; None when the store does not exist yet.

        With ``snapshot``, every query inside sees one consistent state (a repeatable-read
        transaction); without, each query is its own snapshot, which saves three round trips
        for reads of one statement.
        """
        with self._connection("read from") as conn:
            if self._version(conn) == 0:
                yield None
                return
            if not snapshot:
                yield conn
                return
            with conn.transaction():
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                yield conn

    @contextmanager
    def _writing(self) -> Iterator[Any]:
        """A write transaction on an up-to-date schema; ReadOnlyStore for a newer schema."""
        with self._connection("write to") as conn:
            self._ready_to_write(conn)
            with conn.transaction():
                yield conn

    def _ready_to_write(self, conn: Any) -> None:
        """Upgrade an older schema; ReadOnlyStore for a newer one."""
        version = self._version(conn)
        if version < SCHEMA_VERSION:
            self._upgrade(conn)
        elif version > SCHEMA_VERSION:
            raise ReadOnlyStore(
                f"{self.settings.where()} schema {self.schema} has version {version}, newer "
                f"than this program ({SCHEMA_VERSION}); the store is read-only. "
                "Upgrade prompt-sessions-postgres."
            )

    def _upgrade(self, conn: Any) -> None:
        """Run the missing steps in one transaction, under an advisory lock."""
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(self.schema),))
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self._q}")
            self._schema_version = None
            current = self._version(conn)
            for step in range(current, SCHEMA_VERSION):
                for part in STEPS[step]:
                    if isinstance(part, str):
                        conn.execute(part.format(s=self._q))
                    else:
                        part(conn, self._q)
                conn.execute(
                    f"INSERT INTO {self._q}.meta (key, value) VALUES ('schema_version', %s) "
                    "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                    (str(step + 1),),
                )
        self._schema_version = SCHEMA_VERSION if current <= SCHEMA_VERSION else current

    # ------------------------------------------------------------------ rows

    def _head_row(self, conn: Any, sid: str, *, lock: bool = False) -> tuple[str, str, str]:
        row = conn.execute(
            f"SELECT head::text, updated_at, summary::text FROM {self._q}.sessions WHERE id = %s"
            + (" FOR UPDATE" if lock else ""),
            (sid,),
        ).fetchone()
        if row is None:
            raise SessionNotFound(sid)
        return row

    def _load(self, conn: Any, sid: str, *, history: bool = True) -> Session:
        head, updated_at, _ = self._head_row(conn, sid)
        bodies: builtins.list[str] = []
        if history:
            bodies = [
                r[0]
                for r in conn.execute(
                    f"SELECT body::text FROM {self._q}.messages WHERE session_id = %s ORDER BY idx",
                    (sid,),
                )
            ]
        return session_codec.decode_rows(
            sid, head.encode(), updated_at, [b.encode() for b in bodies]
        )

    def _check_not_newer(self, sid: str, head: str) -> None:
        """Refuse to change a session a newer version wrote (DESIGN section 4, "Versioned")."""
        version = session_codec.stored_version(head.encode())
        if version is not None and version > FORMAT_VERSION:
            raise session_codec.refuse_newer(f"session {sid} on {self.settings.where()}", version)

    def _summary(self, sid: str, data: str) -> SessionSummary:
        try:
            return _summary_decoder.decode(data)
        except (msgspec.DecodeError, msgspec.ValidationError, TypeError) as exc:
            raise CorruptSession(sid, f"its summary cannot be read ({exc})") from exc

    def _write_summary(self, conn: Any, summary: SessionSummary) -> None:
        conn.execute(
            f"UPDATE {self._q}.sessions SET summary = %s, updated_at = %s, po_name = %s "
            "WHERE id = %s",
            (_text(summary), summary.updated_at, summary.po_name, summary.id),
        )

    def _insert(self, conn: Any, session: Session, bodies: builtins.list[str]) -> SessionSummary:
        """Insert the session's row and, for each of ``bodies`` (the encoded history), its
        message row; every text's search columns with it."""
        import psycopg

        summary = summarize(session)
        try:
            with conn.transaction():  # a savepoint, so a duplicate id leaves the outer one usable
                conn.execute(
                    f"INSERT INTO {self._q}.sessions "
                    "(id, po_name, created_at, updated_at, head, summary, "
                    "folded_name, name_words, po_key, tag_keys) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (
                        session.id,
                        session.po_name,
                        session.created_at,
                        session.updated_at,
                        _text(session_codec.head_fields(session)),
                        _text(summary),
                        *search.session_columns(session.name, session.po_name, session.tags),
                    ),
                )
        except psycopg.errors.UniqueViolation:
            raise StorageError(f"session {session.id} already exists") from None
        if bodies:
            with conn.cursor() as cur:
                cur.executemany(
                    f"INSERT INTO {self._q}.messages (session_id, idx, body, folded, words) "
                    "VALUES (%s, %s, %s, %s, %s)",
                    [
                        (session.id, i, body, *search.text_columns(m.content))
                        for i, (body, m) in enumerate(zip(bodies, session.history, strict=True))
                    ],
                )
        return summary

    # ------------------------------------------------------------------ the protocol

    def create(self, session: Session) -> SessionSummary:
        validate_id(session.id)
        bodies = [_text(m) for m in session.history]
        with self._writing() as conn:
            return self._insert(conn, session, bodies)

    def list(self) -> builtins.list[SessionSummary]:
        with self._reading() as conn:
            if conn is None:
                self._problems = {}
                return []
            # The fast path: one decode for the whole list, sorted here (two stable sorts
            # cost less than the server's sort on three keys of rows this wide).
            texts = conn.execute(f"SELECT summary::text FROM {self._q}.sessions").fetchall()
            try:
                found = _summaries_decoder.decode("[" + ",".join(r[0] for r in texts) + "]")
            except (msgspec.DecodeError, msgspec.ValidationError, TypeError):
                rows = conn.execute(
                    f"SELECT id, summary::text FROM {self._q}.sessions "
                    "ORDER BY updated_at DESC, created_at DESC, id"
                ).fetchall()
            else:
                found.sort(key=_BY_ID)
                found.sort(key=_BY_RECENT, reverse=True)
                self._problems = {}
                return found
        found, problems = [], {}
        for sid, data in rows:
            try:
                found.append(self._summary(sid, data))
            except CorruptSession as exc:
                problems[sid] = exc.reason
        self._problems = problems
        return found

    def problems(self) -> dict[str, str]:
        return dict(self._problems)

    def get(self, session_id: str) -> Session:
        sid = validate_id(session_id)
        with self._reading(snapshot=True) as conn:
            if conn is None:
                raise SessionNotFound(sid)
            return self._load(conn, sid)

    def append(self, session_id: str, message: Message) -> SessionSummary:
        """One row in, one summary updated, in one statement: O(1) in the session's length.

        The statement updates the session's summary on the server (the UPDATE holds the row's
        lock, so concurrent appends queue and each counts from the one before) and inserts the
        message numbered from the new count: one round trip, committed on its own. Anything it
        does not expect (no such session, a newer or damaged one, rows that disagree with the
        summary) makes it change nothing; the append is then made step by step under the row
        lock, which reports the problem or goes by the rows.
        """
        import psycopg

        sid = validate_id(session_id)
        body = _text(message)  # fail on bad content before touching the server
        folded, words = search.text_columns(message.content)
        usage = message.usage
        with self._connection("write to") as conn:
            self._ready_to_write(conn)
            try:
                row = conn.execute(
                    self._append_sql,
                    {
                        "sid": sid,
                        "at": message.created_at,
                        "preview": make_preview(message.content),
                        "inp": usage.input_tokens if usage else 0,
                        "out": usage.output_tokens if usage else 0,
                        "versions": _KNOWN_VERSIONS,
                        "body": body,
                        "folded": folded,
                        "words": words,
                    },
                ).fetchone()
                if row is not None:
                    return self._summary(sid, row[0])
            except (psycopg.errors.UniqueViolation, psycopg.DataError):
                pass  # nothing was written: the statement failed whole
            return self._append_locked(conn, sid, message, (body, folded, words))

    @functools.cached_property
    def _append_sql(self) -> str:
        q = self._q
        return f"""
            WITH s AS (
                UPDATE {q}.sessions SET
                    summary = (summary::jsonb || jsonb_build_object(
                        'message_count', (summary->>'message_count')::int + 1,
                        'updated_at', %(at)s::text,
                        'preview', %(preview)s::text,
                        'input_tokens', coalesce((summary->>'input_tokens')::int, 0) + %(inp)s,
                        'output_tokens', coalesce((summary->>'output_tokens')::int, 0) + %(out)s
                    ))::json,
                    updated_at = %(at)s
                WHERE id = %(sid)s AND head->>'format_version' = ANY(%(versions)s)
                    AND json_typeof(summary) = 'object'
                    AND json_typeof(summary->'message_count') = 'number'
                RETURNING id, summary, (summary->>'message_count')::int - 1 AS idx
            ), i AS (
                INSERT INTO {q}.messages (session_id, idx, body, folded, words)
                SELECT id, idx, %(body)s, %(folded)s, %(words)s FROM s RETURNING idx
            )
            SELECT s.summary::text FROM s, i
        """

    def _append_locked(
        self, conn: Any, sid: str, message: Message, row: tuple[str, str, int]
    ) -> SessionSummary:
        """The append step by step under the row lock, for the cases the one statement of
        :meth:`append` leaves alone; raises SessionNotFound, NewerSession, CorruptSession."""
        with conn.transaction():
            head, _, stored = self._head_row(conn, sid, lock=True)
            self._check_not_newer(sid, head)
            summary = summary_after_append(self._summary(sid, stored), message)
            inserted = conn.execute(
                f"INSERT INTO {self._q}.messages (session_id, idx, body, folded, words) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING idx",
                (sid, summary.message_count - 1, *row),
            ).fetchone()
            if inserted is None:
                # The summary's count disagrees with the rows (edited by hand?): go by the rows.
                (last,) = conn.execute(
                    f"SELECT MAX(idx) FROM {self._q}.messages WHERE session_id = %s", (sid,)
                ).fetchone()
                conn.execute(
                    f"INSERT INTO {self._q}.messages (session_id, idx, body, folded, words) "
                    "VALUES (%s, %s, %s, %s, %s)",
                    (sid, last + 1, *row),
                )
                summary = msgspec.structs.replace(summary, message_count=last + 2)
            self._write_summary(conn, summary)
            return summary

    def replace_last(self, session_id: str, message: Message, *, index: int) -> SessionSummary:
        """The last message's row (with its search columns) and the summary rewritten in one
        transaction under the session's row lock (``storage.base.SupportsReplaceLast``): how
        the runtime checkpoints a streaming reply, O(1) however long the session is. Other
        machines hear of it through the same NOTIFY as any write.

        Raises:
            SessionNotFound, NotLastMessage (nothing written), CorruptSession, ReadOnlyStore
            or StorageError.
        """
        sid = validate_id(session_id)
        body = _text(message)  # fail on bad content before touching the server
        folded, words = search.text_columns(message.content)
        q = self._q
        with self._connection("write to") as conn:
            self._ready_to_write(conn)
            with conn.transaction():
                head, _, stored = self._head_row(conn, sid, lock=True)
                self._check_not_newer(sid, head)
                summary = self._summary(sid, stored)
                last = conn.execute(
                    f"SELECT idx, body::text FROM {q}.messages WHERE session_id = %s"
                    " ORDER BY idx DESC LIMIT 1",
                    (sid,),
                ).fetchone()
                if last is None or index < 0 or summary.message_count != index + 1:
                    raise NotLastMessage(sid, index, summary.message_count)
                try:
                    old = session_codec.decode_message(last[1].encode())
                except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                    raise CorruptSession(sid, f"its last message cannot be read ({exc})") from exc
                conn.execute(
                    f"UPDATE {q}.messages SET body = %s, folded = %s, words = %s"
                    " WHERE session_id = %s AND idx = %s",
                    (body, folded, words, sid, last[0]),
                )
                summary = summary_after_replace(summary, old, message)
                self._write_summary(conn, summary)
                return summary

    def update(self, session_id: str, **fields: Any) -> Session:
        sid = validate_id(session_id)
        session_codec.check_update(fields)
        with self._writing() as conn:
            head, _, summary_text = self._head_row(conn, sid, lock=True)
            self._check_not_newer(sid, head)
            session = self._load(conn, sid, history=False)
            for key, value in fields.items():
                setattr(session, key, value)
            # Fields this version does not know (a plugin's, a person's) survive the update.
            unknown = session_codec.unknown_fields(head.encode())
            conn.execute(
                f"UPDATE {self._q}.sessions SET head = %s, {search.SESSION_COLUMNS} WHERE id = %s",
                (
                    session_codec.encode_head(session, unknown).decode(),
                    *search.session_columns(session.name, session.po_name, session.tags),
                    sid,
                ),
            )
            self._write_summary(conn, summary_with_head(self._summary(sid, summary_text), session))
            return self._load(conn, sid)

    def delete(self, session_id: str) -> None:
        sid = validate_id(session_id)
        with self._writing() as conn:
            row = conn.execute(
                f"SELECT head::text FROM {self._q}.sessions WHERE id = %s FOR UPDATE", (sid,)
            ).fetchone()
            if row is not None:
                self._check_not_newer(sid, row[0])
            deleted = conn.execute(f"DELETE FROM {self._q}.sessions WHERE id = %s", (sid,))
            if deleted.rowcount == 0:
                raise SessionNotFound(sid)

    # The trash (DESIGN section 14), in :mod:`.trash`: rows move whole in one transaction.

    def trash(self, session_id: str) -> None:
        trash_rows.trash(self, session_id)

    def trashed(self) -> builtins.list[TrashedSession]:
        return trash_rows.trashed(self)

    def restore(self, session_id: str) -> TrashedSession:
        return trash_rows.restore(self, session_id)

    def purge(self, session_id: str) -> None:
        trash_rows.purge(self, session_id)

    def read_trashed(self, session_id: str) -> Session:
        return trash_rows.read_trashed(self, session_id)

    def put_trashed(self, session: Session, deleted_at: str) -> None:
        trash_rows.put_trashed(self, session, deleted_at)

    def update_trashed(self, session_id: str, **fields: Any) -> TrashedSession:
        return trash_rows.update_trashed(self, session_id, **fields)

    def get_current(self, po_name: str) -> str | None:
        with self._reading() as conn:
            if conn is None:
                return None
            row = conn.execute(
                f"SELECT session_id FROM {self._q}.current WHERE po_name = %s", (po_name,)
            ).fetchone()
            return row[0] if row else None

    def set_current(self, po_name: str, session_id: str | None) -> None:
        if session_id is not None:
            validate_id(session_id)
        with self._writing() as conn:
            if session_id is None:
                conn.execute(f"DELETE FROM {self._q}.current WHERE po_name = %s", (po_name,))
            else:
                conn.execute(
                    f"INSERT INTO {self._q}.current (po_name, session_id) VALUES (%s, %s) "
                    "ON CONFLICT (po_name) DO UPDATE SET session_id = EXCLUDED.session_id",
                    (po_name, session_id),
                )

    # ------------------------------------------------------------------ optional capabilities

    def fork(self, session_id: str, at: int, name: str) -> Session:
        """A new session with the first ``at`` messages, copied row for row on the server."""
        sid = validate_id(session_id)
        with self._writing() as conn:
            fork = forked(self._load(conn, sid), at, name)
            self._insert(conn, fork, [])
            conn.execute(
                f"INSERT INTO {self._q}.messages (session_id, idx, body, folded, words) "
                f"SELECT %s, idx, body, folded, words FROM {self._q}.messages "
                "WHERE session_id = %s "
                "AND idx < %s",
                (fork.id, sid, at),
            )
            return fork

    def search(self, query: Query, *, limit: int, progress: Any = None) -> builtins.list[SearchHit]:
        """Ranked hits answered by the server (DESIGN section 12; see :mod:`.search`).

        A schema older than the search columns is never upgraded by a read: its sessions are
        then indexed in memory, with the same answers.
        """
        with self._reading(snapshot=True) as conn:
            if conn is None:
                return []
            if self._version(conn) >= 2:

                def summaries(ids: builtins.list[str]) -> dict[str, SessionSummary]:
                    found = {}
                    rows = conn.execute(
                        f"SELECT id, summary::text FROM {self._q}.sessions WHERE id = ANY(%s)",
                        (ids,),
                    )
                    for sid, data in rows:
                        with suppress(CorruptSession):
                            found[sid] = self._summary(sid, data)
                    return found

                return search.search(conn, self._q, query, limit, summaries)
        from prompt_sessions.storage.search_cache import SearchCache

        memory = SearchCache(None, self.list, self.get)
        try:
            return memory.search(query, limit, progress)
        finally:
            memory.close()

    def change_watcher(self, on_change: Any, debounce_ms: int = 100) -> Any:
        """A watcher that calls ``on_change()`` (async) after other programs' commits."""
        from .live import ChangeListener

        return ChangeListener(self, on_change, debounce_ms)

    # ------------------------------------------------------------------ health

    def check(self, repair: bool = False) -> HealthReport:
        """Decode every session and fix summaries and search columns that disagree with its
        texts; with ``repair``, copy damaged sessions' rows to ``damaged/`` (every byte) and
        drop them (see :mod:`.health`)."""
        from .health import check

        report = check(self, repair)
        trash_rows.check(self, report)
        return report

    # ------------------------------------------------------------------ lifecycle

    def flush(self) -> None:
        """Nothing to fold: every write is committed before it returns."""

    def close(self) -> None:
        """Close the pool's connections; the backend reopens them if used again."""
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()


# ---------------------------------------------------------------------- helpers


def _text(value: object) -> str:
    return _encoder.encode(value).decode("utf-8")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0].strip()
