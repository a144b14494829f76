"""Searching as the user types (the explorer, DESIGN sections 8, 10 and 12): a first page of hits
found fast, then the ranked hits that replace it.

Ranking best first costs what FTS5 needs to score every match: for a word found in most of a
million messages, a second or more. The explorer's first results are due within 50 ms (DESIGN
section 10), so it first asks :func:`first_page` for the newest matches, unranked and read from
the index as it stands, shows them, then asks :func:`ranked`, whose hits are exactly
``SessionManager.search``'s and replace them. A newer keystroke cancels the older ranked search
(its ``cancelled`` callable) instead of waiting for it to finish.
"""

from __future__ import annotations

import builtins
import sqlite3
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from .errors import PromptSessionsError, UsageError
from .limits import search_limit
from .models import SessionSummary
from .search import SearchHit, collect
from .search_query import Query
from .search_query import parse as parse_query
from .text import unencodable

if TYPE_CHECKING:
    from .manager import SessionManager

Progress = Callable[[int, int], None]
CHECK_STEPS = 1000  # SQLite virtual machine steps between two looks at the clock


class SearchCancelled(PromptSessionsError):
    """A ranked search stopped because its caller no longer wanted it (``cancelled()`` became
    true); nothing was changed by stopping it."""

    title = "Search cancelled"


@runtime_checkable
class SupportsFirstPage(Protocol):
    """An index that can answer a first page unranked (the JSON store's search cache, the
    sqlite store)."""

    def first_page(
        self, query: Query, *, limit: int, within: float | None = None
    ) -> builtins.list[SearchHit] | None: ...


def first_hits(
    conn: sqlite3.Connection,
    query: Query,
    summaries: Callable[[list[str]], dict[str, SessionSummary]],
    limit: int,
    within: float | None = None,
) -> list[SearchHit]:
    """Hits from the index tables in ``conn`` (``storage.search_index``), newest first, not
    ranked, with snippets and at most ``search.HITS_PER_SESSION`` per session, as ranked hits
    are built; ``summaries(ids)`` gives the sessions' summaries (missing ones are skipped).
    With ``within`` (seconds), the matches found by then: a word in every message under a
    filter that keeps none of them would otherwise walk them all."""
    from .storage import search_index

    deadline = None if within is None else time.monotonic() + within

    def late() -> bool:
        return deadline is not None and time.monotonic() > deadline

    def rows_for(n: int | None) -> Iterable[tuple[str, int | None, str]]:
        found: list[tuple[str, int | None, str]] = []
        if deadline is not None:
            conn.set_progress_handler(late, CHECK_STEPS)  # true interrupts the query
        try:
            for r in search_index.first_rows(conn, query, n):
                found.append((r.session_id, r.message_index, r.text))
        except sqlite3.OperationalError:
            if not late():
                raise
        finally:
            if deadline is not None:
                conn.set_progress_handler(None, 0)
        return found

    return collect(rows_for, query, summaries, limit)


def read_first_page(
    path: Path,
    query: Query,
    limit: int,
    within: float | None = None,
    conn: sqlite3.Connection | None = None,
) -> tuple[list[SearchHit] | None, sqlite3.Connection | None]:
    """A first page (:func:`first_hits`) from the index tables in the SQLite file at ``path``,
    on a connection that only reads, apart from the store's own, so it never waits for a ranked
    search or a catch-up in another thread (WAL lets readers and a writer overlap). Each hit
    carries the summary its session was indexed from.

    ``conn`` is the connection a previous call returned, to reuse. Returns (hits, the
    connection to pass next time); hits are None when the file holds no index of this version
    or cannot be read, and the connection is None when it was closed (or never opened)."""
    from .storage import search_index

    try:
        if conn is None:
            if not path.is_file() or path.is_symlink():
                return None, None
            conn = sqlite3.connect(
                str(path), timeout=1, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA query_only = 1")
        if search_index.version(conn) != search_index.VERSION:
            return None, conn
        found = first_hits(
            conn, query, lambda ids: search_index.summaries_of(conn, ids), limit, within
        )
        return found, conn
    except sqlite3.Error:
        if conn is not None:
            conn.close()  # e.g. replaced as damaged: open it afresh next time
        return None, None


def _parsed(query: str | Query, po_name: str | None, limit: int) -> Query:
    """The same checks as ``SessionManager.search``."""
    if isinstance(query, str) and unencodable(query):
        raise UsageError("the search text is not valid UTF-8 text")
    search_limit(limit)
    parsed = query if isinstance(query, Query) else parse_query(query)
    return parsed.with_po(po_name)


def _index_of(manager: SessionManager) -> object:
    """The JSON store's search cache, else the backend itself."""
    backend = manager.backend
    return getattr(backend, "search_cache", None) or backend


def first_page(
    manager: SessionManager,
    query: str | Query,
    po_name: str | None = None,
    *,
    limit: int,
    within: float | None = None,
) -> list[SearchHit] | None:
    """Up to ``limit`` hits for ``query`` found fast: the newest matching messages and names,
    not ranked, read from the index as it stands (not brought up to date with the store first),
    each with its summary as indexed and a snippet. Meant to be shown at once and replaced by
    :func:`ranked`'s hits (DESIGN sections 10 and 12).

    :param query: the query text or a parsed ``search_query.Query``.
    :param po_name: only this PO's sessions (as the filter ``po:NAME``).
    :param limit: at most this many hits (a positive int).
    :param within: seconds the index may spend looking (None: no bound); then the matches
        found by then, possibly none, are the page.
    :returns: the hits, or None when there is no index to read yet (the ranked search builds
        it) or the store keeps none this way (PostgreSQL, or a store without an index: then
        only the ranked search answers).
    :raises QueryError: (a UsageError) a malformed query, with one line saying why.
    :raises UsageError: a limit that is not a positive int.
    """
    parsed = _parsed(query, po_name, limit)
    limit = search_limit(limit)
    index = _index_of(manager)
    if isinstance(index, SupportsFirstPage):
        return index.first_page(parsed, limit=limit, within=within)
    return None


def ranked(
    manager: SessionManager,
    query: str | Query,
    po_name: str | None = None,
    *,
    limit: int,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> list[SearchHit]:
    """The hits of ``SessionManager.search`` (ranked best first, the index brought up to date
    first, DESIGN section 12), stopped early once ``cancelled()`` is true.

    :param query: the query text or a parsed ``search_query.Query``.
    :param po_name: only this PO's sessions (as the filter ``po:NAME``).
    :param limit: at most this many hits (a positive int).
    :param progress: called as ``progress(done, total)`` (sessions) while the index catches up.
    :param cancelled: asked while the ranking runs; true stops it. Catching up is never
        stopped half way, so the next search does not repeat it. Stores without a search cache
        (the sqlite store ranks inside its database) run to the end.
    :raises SearchCancelled: ``cancelled()`` became true before the hits were ready.
    :raises QueryError: (a UsageError) a malformed query, with one line saying why.
    """
    from .storage.search_cache import SearchCache

    index = _index_of(manager)
    if cancelled is not None and isinstance(index, SearchCache):
        parsed = _parsed(query, po_name, limit)
        return index.search(parsed, search_limit(limit), progress, cancelled)
    return manager.search(query, po_name, limit=limit, progress=progress)
