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
    search_*                           the search index (``storage.search_index``), written by
                                       the same transactions as the sessions it indexes

Bodies are the exact JSON of the session file format, so ``get`` assembles the file's bytes and
decodes them with the same strict decoder as the JSON store: damage is reported the same way.
"""

from __future__ import annotations

import atexit
import base64
import builtins
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import msgspec

from ..errors import (
    CorruptSession,
    LockTimeout,
    NewerSession,
    ReadOnlyStore,
    SessionNotFound,
    StorageError,
)
from ..ids import validate_id
from ..models import (
    FORMAT_VERSION,
    Message,
    Session,
    SessionSummary,
    forked,
    summarize,
    summary_after_append,
    summary_with_head,
)
from ..search import SearchHit, search_connection
from ..search_query import Query
from . import files, search_index, session_codec
from .base import HealthReport, check_private

DB_NAME = "sessions.sqlite3"
SCHEMA_VERSION = 2  # PRAGMA user_version; a newer one opens read-only. 2: the search index
_FIXED_FIELDS = ("id", "history", "format_version", "created_at")

_SCHEMA = """
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    po_name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    head BLOB NOT NULL,
    summary BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_by_update ON sessions (updated_at DESC, created_at DESC);
CREATE TABLE messages (
    session_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (session_id, idx)
) WITHOUT ROWID;
CREATE TABLE current (
    po_name TEXT PRIMARY KEY,
    session_id TEXT NOT NULL
) WITHOUT ROWID;
"""

_encoder = msgspec.json.Encoder()
_summary_decoder = msgspec.json.Decoder(SessionSummary)
_summaries_decoder = msgspec.json.Decoder(list[SessionSummary])
_open_backends: weakref.WeakSet[SqliteBackend] = weakref.WeakSet()


class SqliteBackend:
    name = "sqlite"

    def __init__(self, root: Path | str, *, lock_timeout: float = 10.0) -> None:
        self.root = Path(root)
        self.db_path = self.root / DB_NAME
        self.lock_timeout = lock_timeout
        self._mutex = threading.RLock()  # one connection, shared by this process's threads
        self._conn: sqlite3.Connection | None = None
        self._reading_only = False  # _conn is the full-disk fallback, which cannot write
        self._schema_version = 0
        self._search_ready = False
        self._problems: dict[str, str] = {}
        self._tightened = False
        _open_backends.add(self)

    # ------------------------------------------------------------------ connection

    def _connect(self, create: bool) -> sqlite3.Connection | None:
        """The open connection; None when the store does not exist and ``create`` is false."""
        if self._conn is not None:
            if not (create and self._reading_only):
                return self._conn
            self.close()  # a write needs a normal connection: try one again
        if os.path.islink(self.db_path):
            raise StorageError(f"{self.db_path} is a symbolic link, which is refused")
        if not self.db_path.exists():
            if not create:
                return None  # reading a store that does not exist yet is reading an empty one
            self._create_database()
        else:
            self._sweep_temp_files()
        reading_only = False
        with self._translate("open"):
            try:
                conn = self._open(reading_only=False)
            except sqlite3.OperationalError as exc:
                if create or not _out_of_space(exc):
                    raise
                # On a full disk SQLite cannot grow the WAL index (the -shm file) that shared
                # access needs. Reading never needs to write: read with the index in memory.
                conn = self._open(reading_only=True)
                reading_only = True
        self._conn = conn
        self._reading_only = reading_only
        _open_backends.add(self)  # again, if it was closed and is being used once more
        return conn

    def _open(self, *, reading_only: bool) -> sqlite3.Connection:
        """A configured connection. ``reading_only``: the full-disk fallback, which keeps the WAL
        index in memory (exclusive locking, so no -shm is used) and refuses writes."""
        conn = sqlite3.connect(
            str(self.db_path),
            timeout=self.lock_timeout,
            isolation_level=None,  # we issue BEGIN/COMMIT ourselves
            check_same_thread=False,
        )
        try:
            if reading_only:
                conn.execute("PRAGMA locking_mode = EXCLUSIVE")  # before the file is touched
                conn.execute("PRAGMA query_only = 1")
            conn.execute(f"PRAGMA busy_timeout = {int(self.lock_timeout * 1000)}")
            conn.execute("PRAGMA synchronous = FULL")
            self._schema_version = conn.execute("PRAGMA user_version").fetchone()[0]
            if not reading_only and self._schema_version <= SCHEMA_VERSION:
                # A read-only file keeps the mode it was created with (WAL); so does a newer
                # version's database, which this one never changes.
                with suppress(sqlite3.OperationalError):
                    conn.execute("PRAGMA journal_mode = WAL")
            self._search_ready = self._index_current(conn)
            if (
                not self._search_ready
                and not reading_only
                and search_index.fts5_available()
                and os.access(self.db_path, os.W_OK)
            ):
                self._upgrade(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _create_database(self) -> None:
        """Build the schema in a temp file and link it into place, so the database file never
        exists without its tables (a crash mid-creation leaves only a temp file, swept later)."""
        files.ensure_dir(self.root)
        tmp = files.temp_path_for(self.db_path)
        fd = os.open(
            tmp,
            os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
            files.FILE_MODE,
        )
        os.close(fd)
        try:
            with self._translate("create"):
                conn = sqlite3.connect(str(tmp), isolation_level=None)
                try:
                    conn.executescript(_SCHEMA)
                    version = 1  # without FTS5, a store without a search index; upgraded later
                    if search_index.fts5_available():
                        search_index.create(conn)
                        version = SCHEMA_VERSION
                    conn.execute(f"PRAGMA user_version = {version}")
                    conn.execute("PRAGMA journal_mode = WAL")  # recorded in the file header
                finally:
                    conn.close()
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            try:
                os.link(tmp, self.db_path)  # fails if another process created it first: use theirs
            except OSError as exc:
                if not self.db_path.exists():
                    raise files.describe(exc, "create", self.db_path) from exc
            files.fsync_dir(self.root)
        finally:
            for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm"), Path(f"{tmp}-journal")):
                with suppress(OSError):
                    os.unlink(leftover)

    def _index_current(self, conn: sqlite3.Connection) -> bool:
        """Whether the database has the search index, of this program's index version."""
        return (
            self._schema_version == SCHEMA_VERSION
            and search_index.version(conn) == search_index.VERSION
        )

    def _upgrade(self, conn: sqlite3.Connection) -> None:
        """Bring an older schema up to date in one transaction: version 2 adds the search index
        of every session already stored; an index of another version is built again."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            self._schema_version = conn.execute("PRAGMA user_version").fetchone()[0]
            if self._schema_version > SCHEMA_VERSION:
                conn.execute("ROLLBACK")
                return  # a newer program's file: read-only, searched in memory
            if not self._index_current(conn):
                search_index.create(conn)
                for (sid,) in conn.execute("SELECT id FROM sessions").fetchall():
                    try:
                        session = self._load(conn, sid)
                    except CorruptSession:
                        continue  # doctor reports it; it is indexed once repaired
                    search_index.put_session(conn, session, summarize(session))
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self._schema_version = SCHEMA_VERSION
        self._search_ready = True

    def _sweep_temp_files(self) -> None:
        """Remove temp databases left by a creator that crashed; the real one exists, so no
        creator still needs them."""
        prefix = f".{DB_NAME}."
        try:
            names = os.listdir(self.root)
        except OSError:
            return
        for name in names:
            if name.startswith(prefix) and files.TEMP_SUFFIX in name:
                with suppress(OSError):
                    os.unlink(self.root / name)

    @contextmanager
    def _translate(self, action: str) -> Iterator[None]:
        """Turn sqlite3 errors into errors of our family, naming the database file."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            text = str(exc)
            if "locked" in text or "busy" in text:
                raise LockTimeout(str(self.db_path), self.lock_timeout) from exc
            if "readonly" in text or "read-only" in text:
                raise ReadOnlyStore(f"cannot {action} {self.db_path}: {text}") from exc
            raise StorageError(f"cannot {action} {self.db_path}: {text}") from exc
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"cannot {action} {self.db_path}: {exc} (run doctor)") from exc

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection | None]:
        """A read transaction: every query inside sees one consistent snapshot."""
        with self._mutex:
            conn = self._connect(create=False)
            if conn is None:
                yield None
                return
            try:
                with self._translate("read"):
                    conn.execute("BEGIN")
                    try:
                        yield conn
                    finally:
                        conn.execute("COMMIT")
            finally:
                if self._reading_only:
                    # The full-disk fallback locks the file for itself: hand it back after
                    # each read, so other processes (and a freed disk) are not kept waiting.
                    self.close()

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """A write transaction, taken up front so two writers never deadlock on an upgrade."""
        with self._mutex:
            conn = self._connect(create=True)
            assert conn is not None
            if self._schema_version > SCHEMA_VERSION:
                raise ReadOnlyStore(
                    f"{self.db_path} has schema version {self._schema_version}, newer than this "
                    f"program ({SCHEMA_VERSION}); the store is read-only. Upgrade prompt-sessions."
                )
            if not self._tightened:
                self._tighten_store()
            with self._translate("write"):
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise

    def _tighten_store(self) -> None:
        """Make the folder and the database files private, once per process: a store restored
        from a backup comes back 0644/0755 (DESIGN section 4, "Private"). SQLite creates its
        -wal and -shm files with the database file's mode, so tightening it covers new ones."""
        files.tighten([self.root, *self._db_files()])
        self._tightened = True

    def _db_files(self) -> builtins.list[Path]:
        return [self.db_path, *(self.db_path.with_name(DB_NAME + x) for x in ("-wal", "-shm"))]

    # ------------------------------------------------------------------ rows

    def _head_row(self, conn: sqlite3.Connection, sid: str) -> tuple[bytes, bytes, bytes]:
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

    def _load(self, conn: sqlite3.Connection, sid: str, *, history: bool = True) -> Session:
        head, updated_at, _ = self._head_row(conn, sid)
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

    def _check_not_newer(self, sid: str, head: object) -> None:
        """Refuse to change a session a newer version wrote (DESIGN section 4, "Versioned")."""
        version = session_codec.stored_version(head) if isinstance(head, bytes) else None
        if version is not None and version > FORMAT_VERSION:
            raise session_codec.refuse_newer(f"session {sid} in {self.db_path}", version)

    def _summary(self, sid: str, data: bytes) -> SessionSummary:
        try:
            return _summary_decoder.decode(data)
        except _UNREADABLE as exc:
            raise CorruptSession(sid, f"its summary cannot be read ({exc})") from exc

    def _write_summary(self, conn: sqlite3.Connection, summary: SessionSummary) -> None:
        conn.execute(
            "UPDATE sessions SET summary = ?, updated_at = ?, po_name = ? WHERE id = ?",
            (_encoder.encode(summary), summary.updated_at, summary.po_name, summary.id),
        )

    def _insert(
        self, conn: sqlite3.Connection, session: Session, bodies: list[bytes]
    ) -> SessionSummary:
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
                    _encoder.encode(session_codec.head_fields(session)),
                    _encoder.encode(summary),
                ),
            )
        except sqlite3.IntegrityError:
            raise StorageError(f"session {session.id} already exists") from None
        conn.executemany(
            "INSERT INTO messages (session_id, idx, body) VALUES (?, ?, ?)",
            ((session.id, i, body) for i, body in enumerate(bodies)),
        )
        search_index.put_session(conn, session, summary)
        return summary

    # ------------------------------------------------------------------ public API

    def create(self, session: Session) -> SessionSummary:
        validate_id(session.id)
        bodies = [session_codec.encode_message(m) for m in session.history]
        with self._writing() as conn:
            return self._insert(conn, session, bodies)

    def list(self) -> list[SessionSummary]:
        with self._reading() as conn:
            if conn is None:
                self._problems = {}
                return []
            rows = conn.execute(
                "SELECT id, CAST(summary AS BLOB) FROM sessions"
                " ORDER BY updated_at DESC, created_at DESC, id"
            ).fetchall()
        try:  # the fast path: one decode for the whole list
            found = _summaries_decoder.decode(b"[" + b",".join(r[1] for r in rows) + b"]")
            self._problems = {}
            return found
        except _UNREADABLE:
            pass
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
        with self._reading() as conn:
            if conn is None:
                raise SessionNotFound(sid)
            return self._load(conn, sid)

    def append(self, session_id: str, message: Message) -> SessionSummary:
        """One row in, one summary updated: O(1) however long the session is."""
        sid = validate_id(session_id)
        body = session_codec.encode_message(message)  # fail on bad content before locking
        with self._writing() as conn:
            head, _, stored_summary = self._head_row(conn, sid)
            self._check_not_newer(sid, head)
            summary = self._summary(sid, stored_summary)
            (last,) = conn.execute(
                "SELECT MAX(idx) FROM messages WHERE session_id = ?", (sid,)
            ).fetchone()
            conn.execute(
                "INSERT INTO messages (session_id, idx, body) VALUES (?, ?, ?)",
                (sid, 0 if last is None else last + 1, body),
            )
            summary = summary_after_append(summary, message)
            self._write_summary(conn, summary)
            if not search_index.add_message(conn, summary, message):
                search_index.put_session(conn, self._load(conn, sid), summary)
            return summary

    def update(self, session_id: str, **fields: Any) -> Session:
        sid = validate_id(session_id)
        with self._writing() as conn:
            head = self._head_row(conn, sid)[0]
            self._check_not_newer(sid, head)
            session = self._load(conn, sid, history=False)
            for key, value in fields.items():
                if key in _FIXED_FIELDS:
                    raise StorageError(f"field {key!r} cannot be changed")
                if key not in Session.__struct_fields__:
                    raise StorageError(f"sessions have no field {key!r}")
                setattr(session, key, value)
            summary = self._summary(sid, self._head_row(conn, sid)[2])
            # Fields this version does not know (a plugin's, a person's) survive the update.
            unknown = session_codec.unknown_fields(head)
            conn.execute(
                "UPDATE sessions SET head = ? WHERE id = ?",
                (session_codec.encode_head(session, unknown), sid),
            )
            summary = summary_with_head(summary, session)
            self._write_summary(conn, summary)
            whole = self._load(conn, sid)
            if not search_index.put_head(conn, summary):
                search_index.put_session(conn, whole, summary)
            return whole

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
            search_index.drop_session(conn, sid)

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

    # ------------------------------------------------------------------ optional capabilities

    def fork(self, session_id: str, at: int, name: str) -> Session:
        """A new session with the first ``at`` messages, copied row for row inside SQLite."""
        sid = validate_id(session_id)
        with self._writing() as conn:
            fork = forked(self._load(conn, sid), at, name)
            self._insert(conn, fork, [])
            conn.execute(
                "INSERT INTO messages (session_id, idx, body) "
                "SELECT ?, idx, body FROM messages WHERE session_id = ? "
                "ORDER BY idx LIMIT ?",
                (fork.id, sid, at),
            )
            return fork

    def search(self, query: Query, *, limit: int, progress: Any = None) -> builtins.list[SearchHit]:
        """Ranked hits from the index inside the database (DESIGN section 12)."""
        with self._mutex:
            if self._connect(create=False) is None:
                return []
            if not self._search_ready:  # a file we may not upgrade: index it in memory
                from .search_cache import SearchCache

                memory = SearchCache(None, self.list, self.get)
                try:
                    return memory.search(query, limit, progress)
                finally:
                    memory.close()
        with self._reading() as conn:
            assert conn is not None

            def summaries(ids: builtins.list[str]) -> dict[str, SessionSummary]:
                found = {}
                for sid, data in conn.execute(
                    "SELECT id, summary FROM sessions WHERE id IN (SELECT value FROM json_each(?))",
                    (_encoder.encode(ids),),
                ):
                    with suppress(CorruptSession):
                        found[sid] = self._summary(sid, data)
                return found

            # Sessions deleted by another process since they were indexed have no summary here:
            # search_connection skips them.
            return search_connection(conn, query, summaries, limit)

    # ------------------------------------------------------------------ health

    def check(self, repair: bool = False) -> HealthReport:
        """Check SQLite's pages, decode every session, fix summaries that disagree with their
        messages; with ``repair``, move damaged sessions to ``damaged/`` as JSON."""
        report = HealthReport()
        with self._mutex:
            # doctor reports loose modes as it finds them; only --repair changes them.
            tightened, self._tightened = self._tightened, True
            try:
                return self._check(report, repair)
            finally:
                self._tightened = tightened

    def _check(self, report: HealthReport, repair: bool) -> HealthReport:
        with self._mutex:
            try:
                conn = self._connect(create=False)
                if conn is None:
                    return report
                with self._translate("check"):
                    verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
                    ids = [r[0] for r in conn.execute("SELECT id FROM sessions ORDER BY id")]
            except StorageError as exc:
                # The file itself is unreadable: report it and leave it exactly as it is.
                report.damaged[DB_NAME] = exc.message
                self.close()
                self._check_modes(report, repair)
                return report
            if verdict != "ok":
                report.damaged[DB_NAME] = f"SQLite reports: {verdict}"
            healthy: dict[str, Session] = {}
            for sid in ids:
                try:
                    with self._reading() as rconn:
                        assert rconn is not None
                        session = self._load(rconn, sid)
                except NewerSession as exc:
                    report.newer[sid] = exc.reason  # not damage: never moved aside
                except CorruptSession as exc:
                    report.damaged[sid] = exc.reason
                except SessionNotFound:
                    continue  # deleted by another process while we looked
                except StorageError as exc:
                    # SQLite could not read this session's rows: it stays, reported, and the
                    # rest of the store is still checked.
                    report.unreadable[sid] = exc.message
                else:
                    healthy[sid] = session
                    if session.format_version > FORMAT_VERSION:
                        report.newer[sid] = (
                            f"format_version {session.format_version} is newer than this "
                            f"program ({FORMAT_VERSION}); it is read-only here"
                        )
            report.sessions = len(healthy)
            self._check_modes(report, repair)
            if self._schema_version > SCHEMA_VERSION:
                report.newer[str(self.db_path)] = (
                    f"schema version {self._schema_version} is newer than this program "
                    f"({SCHEMA_VERSION}); the store is read-only and was left as it is"
                )
                return report
            if not os.access(self.db_path, os.W_OK):
                return report
            self._sweep_temp_files()
            with self._writing() as wconn:
                self._fix_summaries(wconn, healthy, report)
                stale = wconn.execute(
                    "DELETE FROM current WHERE session_id NOT IN (SELECT id FROM sessions)"
                ).rowcount
                if stale:
                    report.fixed.append(
                        f"forgot {stale} current-session choice(s) of deleted sessions"
                    )
                if repair:
                    self._move_aside(wconn, [s for s in report.damaged if s != DB_NAME], report)
        return report

    def _check_modes(self, report: HealthReport, repair: bool) -> None:
        aside = self.root / "damaged"
        paths = [self.root, *self._db_files()]
        if aside.is_dir():
            paths += [aside, *files.entries(aside)]
        check_private(report, paths, repair)

    def _fix_summaries(
        self, conn: sqlite3.Connection, healthy: dict[str, Session], report: HealthReport
    ) -> None:
        for sid, session in healthy.items():
            row = conn.execute(
                "SELECT CAST(summary AS BLOB) FROM sessions WHERE id = ?", (sid,)
            ).fetchone()
            if row is None:
                continue
            expected = summarize(session)
            try:
                stored = _summary_decoder.decode(row[0])
            except _UNREADABLE:
                stored = None
            if stored != expected:
                self._write_summary(conn, expected)
                report.fixed.append(f"summary of {sid} rebuilt from its messages")
        self._fix_search_index(conn, healthy, report)

    def _fix_search_index(
        self, conn: sqlite3.Connection, healthy: dict[str, Session], report: HealthReport
    ) -> None:
        """Index again every session the index holds differently, and forget the gone ones."""
        known = search_index.stamps(conn)
        redone = 0
        for sid, session in healthy.items():
            summary = summarize(session)
            if known.get(sid) != search_index.stamp_of(summary):
                search_index.put_session(conn, session, summary)
                redone += 1
        for sid in known.keys() - healthy.keys():
            search_index.drop_session(conn, sid)
            redone += 1
        conn.execute("INSERT INTO search_fts(search_fts) VALUES ('integrity-check')")
        if redone:
            report.fixed.append(f"search index: {redone} session(s) indexed again")

    def _move_aside(
        self, conn: sqlite3.Connection, damaged: builtins.list[str], report: HealthReport
    ) -> None:
        """Keep every byte of a damaged session in a file a person can inspect, then drop it.

        Each stored value is written as text when its bytes are UTF-8, else as
        ``{"base64": ...}``, so the exact bytes of every row come back (DESIGN section 4:
        repair moves damage aside, it never loses it). The file is written (and fsynced)
        before the rows are deleted, in the same transaction.
        """
        if not damaged:
            return
        aside = self.root / "damaged"
        files.ensure_dir(aside)
        files.tighten([aside])
        stamp = time.strftime("%Y%m%dT%H%M%S")
        for sid in damaged:
            # CAST: a TEXT value that is not UTF-8 must come back as its bytes, not fail.
            row = conn.execute(
                "SELECT CAST(head AS BLOB), CAST(updated_at AS BLOB), CAST(summary AS BLOB)"
                " FROM sessions WHERE id = ?",
                (sid,),
            ).fetchone()
            if row is None:
                continue
            messages = [
                {"idx": r[0], "body": _exact(r[1])}
                for r in conn.execute(
                    "SELECT idx, CAST(body AS BLOB) FROM messages"
                    " WHERE session_id = ? ORDER BY idx",
                    (sid,),
                )
            ]
            salvage = {
                "id": sid,
                "values": "text, or {'base64': ...} for bytes that are not UTF-8",
                "head": _exact(row[0]),
                "updated_at": _exact(row[1]),
                "summary": _exact(row[2]),
                "messages": messages,
            }
            target = files.unused_path(aside, f"{sid}.{stamp}", ".json")
            files.atomic_write(target, _encoder.encode(salvage) + b"\n")
            conn.execute("DELETE FROM sessions WHERE id = ?", (sid,))
            conn.execute("DELETE FROM messages WHERE session_id = ?", (sid,))
            conn.execute("DELETE FROM current WHERE session_id = ?", (sid,))
            search_index.drop_session(conn, sid)
            report.moved.append(str(target))

    # ------------------------------------------------------------------ lifecycle

    def flush(self) -> None:
        """Copy committed transactions from the WAL into the database file, without waiting."""
        with self._mutex:
            if self._conn is not None:
                with self._translate("flush"):
                    self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def close(self) -> None:
        """Close the connection; the last one to close folds the WAL in and removes it."""
        with self._mutex:
            conn, self._conn = self._conn, None
            self._reading_only = False
            _open_backends.discard(self)
            if conn is not None:
                conn.close()


# ---------------------------------------------------------------------- helpers


# What decoding a stored value can raise: any of it is damage of that one row.
_UNREADABLE = (
    msgspec.DecodeError,
    msgspec.ValidationError,
    TypeError,
    UnicodeDecodeError,
    RecursionError,
    MemoryError,
)


def _exact(value: object) -> object:
    """A stored value as JSON that gives back its exact bytes: text when they are UTF-8 (its
    UTF-8 encoding is the stored bytes), else ``{"base64": ...}``."""
    if not isinstance(value, bytes):
        return value
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(value).decode("ascii")}


def _out_of_space(exc: sqlite3.OperationalError) -> bool:
    """SQLITE_FULL, or the I/O error SQLite reports when it cannot size its -shm file."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    return code in (sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL) or "disk" in str(exc)


@atexit.register
def _close_open_backends() -> None:
    """A script that forgets close() still leaves just the database file at rest."""
    for backend in list(_open_backends):
        with suppress(Exception):
            backend.close()
