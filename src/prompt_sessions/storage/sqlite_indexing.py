"""Keeping the sqlite store's search index in step with its sessions, and building it again,
so that the index, a cache (DESIGN section 12), never fails a write of the sessions, the truth.

Each write updates the index inside a savepoint of its transaction (:meth:`SqliteIndexing._index`);
a write whose whole transaction SQLite fails on the index's damaged pages is made again without
it (:func:`lands_without_index`). Searches and ``doctor --repair`` build a stale or damaged index
again (:meth:`SqliteIndexing._rebuild_index`).
"""

from __future__ import annotations

import functools
import os
import sqlite3
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from ..errors import StorageError
from . import search_health, search_index, sqlite_search
from .sqlite_connection import SCHEMA_VERSION, SqliteConnection

P = ParamSpec("P")
R = TypeVar("R")


class SqliteIndexing(SqliteConnection):
    """The search index's upkeep inside the store's transactions."""

    def _may_index(self) -> bool:
        """Whether this program may build the search index in this database: FTS5 is there,
        the file is writable and of a schema version it knows."""
        return (
            not self._reading_only
            and self._schema_version <= SCHEMA_VERSION
            and search_index.fts5_available()
            and os.access(self.db_path, os.W_OK)
        )

    def _rebuild_index(self) -> bool:
        """Build the search index again whole from the sessions, in a write transaction of
        its own. Pages of the index too damaged for SQLite to drop its tables are cut out of
        the file first (:meth:`_cut_out_index`). False when SQLite still could not build it.

        Raises StorageError (LockTimeout, ReadOnlyStore) when the store cannot be written.
        """
        try:
            with self._writing() as conn:
                built = sqlite_search.build_index(conn, fresh=True)
        except StorageError as exc:
            if not damage_cause(exc):
                raise
            built = False
        if not built:
            self._cut_out_index()  # reopening the store indexes it anew, as a missing index
            with self._writing() as conn:
                built = self._index_current(conn) or sqlite_search.build_index(conn, fresh=True)
        self._search_ready = built
        return built

    def _cut_out_index(self) -> None:
        """Remove every table of the search index from the schema without reading their
        pages (which DROP TABLE must do, and cannot when they are damaged), then VACUUM, which
        copies the sessions' tables into a fresh file and so frees the index's old pages.
        Nothing of the sessions is touched: their tables are copied whole, in one transaction.
        """
        with self._mutex, self._translate("repair"):
            conn = self._connect(create=True)
            assert conn is not None
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute("PRAGMA writable_schema = ON")
                conn.execute(
                    "DELETE FROM sqlite_master WHERE tbl_name LIKE 'search\\_%' ESCAPE '\\'"
                )
                (cookie,) = conn.execute("PRAGMA schema_version").fetchone()
                conn.execute(f"PRAGMA schema_version = {cookie + 1}")  # others read it anew
                conn.execute("PRAGMA writable_schema = OFF")
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            self.close()  # forget what this connection knew of the old tables
            conn = self._connect(create=True)
            assert conn is not None
            conn.execute("VACUUM")

    def _index(
        self, conn: sqlite3.Connection, action: Callable[[sqlite3.Connection], object]
    ) -> None:
        """Apply ``action`` to the search index inside the caller's write transaction.

        The index is a cache and the sessions the truth (DESIGN section 12): an index marked
        stale is left for the rebuild before the next search; one that cannot be written (a
        table dropped, pages damaged by hand) is marked stale, and the sessions' write lands
        all the same. Only a busy, read-only, full or failing store fails the write.
        """
        if self._index_off:
            # The index's damage failed a whole transaction just now: written without it.
            if self._index_off == 1:
                self._index_failed = True  # marking it can fail the COMMIT too
                search_health.mark_stale(conn)
            return
        self._index_failed = True  # until it is known the index did not fail the write
        found = search_index.version(conn)
        if found != search_index.VERSION:
            # None here (no FTS5), or stale: built again whole before it answers. None may
            # also be damage SQLite met reading it, which can fail the transaction's COMMIT.
            self._index_failed = found is None
            return
        if not search_index.intact(conn):
            # Checked first: FTS5 without one of its tables can fail the whole transaction.
            search_health.mark_stale(conn)
            return
        conn.execute("SAVEPOINT search_index")
        try:
            action(conn)
            # FTS5 writes out what it buffered when a savepoint begins: here, where a failure
            # can still be rolled back alone, rather than at COMMIT, where it would fail it all.
            conn.execute("SAVEPOINT search_flush")
            conn.execute("RELEASE search_flush")
            conn.execute("RELEASE search_index")
            self._index_failed = False
        except sqlite3.DatabaseError as exc:
            if not (search_health.is_damage(exc) and conn.in_transaction):
                raise
            conn.execute("ROLLBACK TO search_index")
            conn.execute("RELEASE search_index")
            search_health.mark_stale(conn)


def damage_cause(exc: StorageError) -> bool:
    """Whether ``exc`` was raised for SQLite's error on a damaged index."""
    cause = exc.__cause__
    return isinstance(cause, sqlite3.Error) and search_health.is_damage(cause)


def lands_without_index(method: Callable[P, R]) -> Callable[P, R]:
    """Decorate a write of the sqlite store so that a search index damaged badly enough to
    fail its whole transaction (FTS5 meeting damaged pages while it writes) never fails it:
    the write is made again, rolled back as it was, without the index, which is marked stale
    (or, when even that fails, left for the next search to find damaged). DESIGN section 12:
    the sessions are the truth and the index a cache."""

    @functools.wraps(method)
    def write(*args: P.args, **kwargs: P.kwargs) -> R:
        store = args[0]
        assert isinstance(store, SqliteIndexing)
        with store._mutex:  # the flags are the store's: one write at a time sets them
            try:
                for off in (0, 1):
                    store._index_off, store._index_failed = off, False
                    try:
                        return method(*args, **kwargs)
                    except StorageError as exc:
                        if not (store._index_failed and damage_cause(exc)):
                            raise
                store._index_off = 2
                return method(*args, **kwargs)
            finally:
                store._index_off, store._index_failed = 0, False

    return write
