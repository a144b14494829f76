"""The sqlite store's connection: creating the database atomically, opening it (read-only on a
full disk), step-wise schema upgrades, and the read and write transactions every call runs in.

Each write is one ``BEGIN IMMEDIATE`` transaction committed with WAL and ``synchronous=FULL``
(DESIGN section 4, "Crash-safe and durable"); ``busy_timeout`` bounds the wait for another writer.
"""

from __future__ import annotations

import atexit
import os
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from ..errors import LockTimeout, ReadOnlyStore, StorageError
from . import files, search_health, search_index, sqlite_search

DB_NAME = "sessions.sqlite3"
# PRAGMA user_version; a newer one opens read-only. 2: the search index; 3: the trash.
SCHEMA_VERSION = 3

SCHEMA = """
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

# Deleted sessions (DESIGN section 14): the ``sessions`` row moves to ``trash`` whole, with the
# time of deletion, and its ``messages`` rows to ``trash_messages``, byte for byte.
# "IF NOT EXISTS": a store without FTS5 stays at version 1 and gains the tables on first use.
TRASH_SCHEMA = """
CREATE TABLE IF NOT EXISTS trash (
    id TEXT PRIMARY KEY,
    deleted_at TEXT NOT NULL,
    po_name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    head BLOB NOT NULL,
    summary BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS trash_messages (
    session_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (session_id, idx)
) WITHOUT ROWID;
"""


open_backends: weakref.WeakSet[SqliteConnection] = weakref.WeakSet()


class SqliteConnection:
    """One connection per store and process, shared by its threads under a mutex."""

    def __init__(self, root: Path | str, *, lock_timeout: float = 10.0) -> None:
        self.root = Path(root)
        self.db_path = self.root / DB_NAME
        self.lock_timeout = lock_timeout
        self._mutex = threading.RLock()  # one connection, shared by this process's threads
        self._conn: sqlite3.Connection | None = None
        self._reading_only = False  # _conn is the full-disk fallback, which cannot write
        self._schema_version = 0
        self._search_ready = False
        # While a write is made again after the index's damage failed its transaction
        # (``lands_without_index``): 1, it skips the index and marks it stale; 2, it skips it.
        self._index_off = 0
        self._index_failed = False  # the current write met a damaged index
        self._problems: dict[str, str] = {}
        self._tightened = False
        open_backends.add(self)

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
                if create and files.folder_unwritable(self.root):
                    # A read-only mount: a write is refused as on any read-only store, and a
                    # search whose index is damaged answers from memory instead.
                    raise ReadOnlyStore(
                        f"cannot write {self.db_path}: its folder cannot be written"
                    ) from exc
                if create:
                    raise
                if _out_of_space(exc):
                    # On a full disk SQLite cannot grow the WAL index (the -shm file) that
                    # shared access needs. Reading never needs to write: read with the index
                    # in memory.
                    conn = self._open(reading_only=True)
                elif files.folder_unwritable(self.root):
                    # A read-only mount: SQLite cannot make its -shm file there, yet the file
                    # reads as it is when no write-ahead log holds changes it lacks.
                    self._check_no_log()
                    conn = self._open(reading_only=True, immutable=True)
                else:
                    raise
                reading_only = True
        self._conn = conn
        self._reading_only = reading_only
        open_backends.add(self)  # again, if it was closed and is being used once more
        return conn

    def _open(self, *, reading_only: bool, immutable: bool = False) -> sqlite3.Connection:
        """A configured connection. ``reading_only``: the full-disk fallback, which keeps the WAL
        index in memory (exclusive locking, so no -shm is used) and refuses writes; with
        ``immutable``, the read-only-folder fallback, which reads the file without locks (no
        program can write the folder either)."""
        conn = sqlite3.connect(
            f"{self.db_path.absolute().as_uri()}?immutable=1" if immutable else str(self.db_path),
            timeout=self.lock_timeout,
            isolation_level=None,  # we issue BEGIN/COMMIT ourselves
            check_same_thread=False,
            uri=immutable,
        )
        try:
            if reading_only:
                if not immutable:
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
                (not self._search_ready or self._schema_version < SCHEMA_VERSION)
                and not reading_only
                and search_index.fts5_available()
                and os.access(self.db_path, os.W_OK)
            ):
                try:
                    self._upgrade(conn)
                except sqlite3.DatabaseError as exc:
                    if not search_health.is_damage(exc):
                        raise
                    # The index's pages are damaged: the store opens all the same, and the
                    # next search builds the index again (``sqlite_search``).
        except BaseException:
            conn.close()
            raise
        return conn

    def _check_no_log(self) -> None:
        """Raise ReadOnlyStore when the database's write-ahead log holds changes: reading the
        file without it would miss them, and SQLite needs to write in the folder to read it."""
        log = self.db_path.with_name(f"{self.db_path.name}-wal")
        with suppress(FileNotFoundError):
            if log.stat().st_size > 0:
                raise ReadOnlyStore(
                    f"cannot read {self.db_path}: its folder cannot be written, and SQLite "
                    f"must write there to read the changes in {log.name}; open it once where "
                    "it can be written"
                )

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
                    conn.executescript(SCHEMA + TRASH_SCHEMA)
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
            2 <= self._schema_version <= SCHEMA_VERSION
            and search_index.version(conn) == search_index.VERSION
            and search_index.intact(conn)
        )

    def _upgrade(self, conn: sqlite3.Connection) -> None:
        """Bring an older schema up to date in one transaction, step by step: version 2 adds the
        search index of every session already stored (an index of another version, partly gone
        or marked stale is built again); version 3 adds the trash table. An index that cannot
        be built (its pages damaged) never keeps the store from opening: searches then read
        the sessions in memory, and ``doctor`` reports it."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            self._schema_version = conn.execute("PRAGMA user_version").fetchone()[0]
            if self._schema_version > SCHEMA_VERSION:
                conn.execute("ROLLBACK")
                return  # a newer program's file: read-only, searched in memory
            ready = self._index_current(conn) or sqlite_search.build_index(conn, fresh=False)
            for statement in TRASH_SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self._schema_version = SCHEMA_VERSION
        self._search_ready = ready

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

    def _db_files(self) -> list[Path]:
        return [self.db_path, *(self.db_path.with_name(DB_NAME + x) for x in ("-wal", "-shm"))]

    def close(self) -> None:
        """Close the connection; the last one to close folds the WAL in and removes it."""
        with self._mutex:
            conn, self._conn = self._conn, None
            self._reading_only = False
            open_backends.discard(self)
            if conn is not None:
                conn.close()


def _out_of_space(exc: sqlite3.OperationalError) -> bool:
    """SQLITE_FULL, or the I/O error SQLite reports when it cannot size its -shm file."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    return code in (sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL) or "disk" in str(exc)


@atexit.register
def _close_open_backends() -> None:
    """A script that forgets close() still leaves just the database file at rest."""
    for backend in list(open_backends):
        with suppress(Exception):
            backend.close()
