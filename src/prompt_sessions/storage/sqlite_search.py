"""Searching the sqlite store: the index inside its database (DESIGN section 12), built again
from the sessions when it is stale or SQLite finds it damaged, since it is only a cache.

A search reads the index in one read transaction. When the index is marked stale (a write could
not update it), partly gone, or a statement on it fails with damage (a table dropped by hand,
pages SQLite calls malformed), the index is built again whole in one write transaction and the
search asked once more. A store this program may not write searches an index built in memory.
"""

from __future__ import annotations

import builtins
import sqlite3
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from ..errors import CorruptSession, ReadOnlyStore, StorageError
from ..models import SessionSummary, summarize
from ..search import SearchHit, search_connection
from ..search_query import Query
from . import search_health, search_index
from . import sqlite_rows as rows

if TYPE_CHECKING:
    from .sqlite_backend import SqliteBackend


def search(store: SqliteBackend, query: Query, limit: int, progress: Any) -> list[SearchHit]:
    """Ranked hits, best first, at most ``limit``.

    Raises:
        StorageError: the index is damaged and SQLite could not build it again (one line
            naming the database and ``doctor``), or the store itself cannot be read.
    """
    with store._mutex:
        if store._connect(create=False) is None:
            return []
        if not store._search_ready and not (store._may_index() and _rebuilt(store)):
            return _in_memory(store, query, limit, progress)  # e.g. a file we may not write
    try:
        hits = _ask(store, query, limit)
    except StorageError as exc:
        cause = exc.__cause__
        if not (isinstance(cause, sqlite3.Error) and search_health.is_damage(cause)):
            raise
        hits = None
        damage = str(cause)
    else:
        damage = "a write could not update it, or a table of it is gone"
    if hits is not None:
        return hits
    try:
        built = store._rebuild_index()
    except ReadOnlyStore:
        return _in_memory(store, query, limit, progress)  # reading never needs to write
    except StorageError as exc:
        damage = f"{damage}; then {exc.message}"
        built = False
    if built:
        hits = _ask(store, query, limit)
        if hits is not None:
            return hits
    raise StorageError(
        f"the search index in {store.db_path} is damaged ({damage}) and could not be built "
        "again; run `prompt-sessions doctor` to check the store"
    )


def _rebuilt(store: SqliteBackend) -> bool:
    """Build the index of a store whose index could not be built when it opened."""
    try:
        return store._rebuild_index()
    except StorageError:
        return False  # searched in memory instead


def _ask(store: SqliteBackend, query: Query, limit: int) -> list[SearchHit] | None:
    """The hits from the index as it stands; None when it is stale or partly gone."""
    with store._reading() as conn:
        assert conn is not None
        if search_index.version(conn) != search_index.VERSION or not search_index.intact(conn):
            return None
        damage = search_health.probe(conn)
        if damage is not None:
            raise search_health.IndexDamage(damage)  # built again, as SQLite's own errors are

        def summaries(ids: builtins.list[str]) -> dict[str, SessionSummary]:
            found = {}
            for sid, data in conn.execute(
                "SELECT id, summary FROM sessions WHERE id IN (SELECT value FROM json_each(?))",
                (rows.encoder.encode(ids),),
            ):
                with suppress(CorruptSession):
                    found[sid] = rows.decode_summary(sid, data)
            return found

        # Sessions deleted by another process since they were indexed have no summary here:
        # search_connection skips them.
        return search_connection(conn, query, summaries, limit)


def _in_memory(store: SqliteBackend, query: Query, limit: int, progress: Any) -> list[SearchHit]:
    from .search_cache import SearchCache

    memory = SearchCache(None, store.list, store.get)
    try:
        return memory.search(query, limit, progress)
    finally:
        memory.close()


def build_index(conn: sqlite3.Connection, *, fresh: bool) -> bool:
    """Index every readable session again, inside the caller's write transaction (all of
    the index's tables dropped first when ``fresh``). False, with the index left as it
    was, when SQLite cannot rebuild it (its pages damaged beyond dropping)."""
    with search_health.undone_on_damage(conn, "search_build") as outcome:
        search_index.create(conn, fresh=fresh)
        for (sid,) in conn.execute("SELECT id FROM sessions").fetchall():
            try:
                session = rows.load(conn, sid)
            except CorruptSession:
                continue  # doctor reports it; it is indexed once repaired
            search_index.put_session(conn, session, summarize(session))
    return outcome.error is None
