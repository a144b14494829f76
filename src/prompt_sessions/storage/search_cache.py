"""The JSON store's search index: a cache in ``.prompt_objects/cache/search.sqlite3`` (DESIGN 12).

The session files stay the truth. Each write updates the cache when it exists (a failure there
never fails the write); each search first compares every session's stamp in the cache with the
catalog's summary and indexes again the sessions that differ, so a cache that is missing, behind
(a crash between the file write and the cache, another program's edit) or of another version is
brought up to date before it answers. Deleting ``cache/`` loses nothing. A summary once found
equal to its stamp is remembered (the same object, or an equal one, is not encoded again), so an
unchanged store costs a search one comparison per session on top of the catalog's ``list()``.

The explorer's first page (``first_page``, see :mod:`prompt_sessions.search_live`) reads the
index as it stands on a connection of its own, so it never waits for a ranked search or a catch-up.

When the cache cannot be written (a read-only folder), searches build the same index in memory,
so answers have the same meaning, only slower.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from contextlib import suppress
from pathlib import Path

from ..errors import StorageError
from ..models import Message, Session, SessionSummary
from ..search import SearchHit, search_connection
from ..search_live import SearchCancelled, read_first_page
from ..search_query import Query
from . import search_health, search_index
from .base import HealthReport
from .search_catch_up import Progress, catch_up, transaction

CACHE_DIR = "cache"
CACHE_NAME = "search.sqlite3"
CANCEL_STEPS = 4000  # SQLite virtual machine steps between two looks at ``cancelled()``
Seen = tuple[sqlite3.Connection, int, dict[str, bytes], dict[str, SessionSummary]]


class SearchCache:
    """The search index of one store, kept in ``root/cache/`` (in memory only when ``root`` is
    None). ``list_sessions`` and ``load`` read the store itself."""

    def __init__(
        self,
        root: Path | None,
        list_sessions: Callable[[], list[SessionSummary]],
        load: Callable[[str], Session],
    ) -> None:
        self.path = root / CACHE_DIR / CACHE_NAME if root is not None else None
        self._list = list_sessions
        self._load = load
        self._conn: sqlite3.Connection | None = None
        self._hook_conn: sqlite3.Connection | None = None
        self._memory: sqlite3.Connection | None = None
        self._peek: sqlite3.Connection | None = None  # the first pages' connection
        # (connection, its data_version, the stamps in it, the summaries found equal to them)
        self._seen: Seen | None = None
        self._lock = threading.RLock()  # the searches' connection
        self._hook_lock = threading.Lock()  # the writes' connection
        self._peek_lock = threading.Lock()  # the first pages' connection

    # ------------------------------------------------------------------ connection

    def _open(self, create: bool) -> sqlite3.Connection | None:
        """The searches' connection; None when the cache cannot be opened for writing (or does
        not exist and ``create`` is false). A file that is not a database is replaced."""
        if self._conn is None and self.path is not None:
            try:
                self._conn = self._connect(create)
            except sqlite3.DatabaseError:
                if not create:
                    return None
                self._remove_files()
                with suppress(sqlite3.DatabaseError):
                    self._conn = self._connect(create)
        return self._conn

    def _open_for_hooks(self) -> sqlite3.Connection | None:
        """The writes' own connection. Writes hold the store's lock and then this one, searches
        hold theirs and then read the store: separate connections and locks keep the two orders
        from ever waiting on each other (SQLite's busy timeout orders the database writes)."""
        if self._hook_conn is None and self.path is not None:
            with suppress(sqlite3.DatabaseError):
                self._hook_conn = self._connect(create=False)
        return self._hook_conn

    def _connect(self, create: bool) -> sqlite3.Connection | None:
        assert self.path is not None
        if not create and not self.path.exists():
            return None
        try:
            os.makedirs(self.path.parent, mode=0o700, exist_ok=True)
            if os.path.islink(self.path):
                return None
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
            os.close(fd)
        except OSError:
            return None
        try:
            conn = sqlite3.connect(
                str(self.path), timeout=10, isolation_level=None, check_same_thread=False
            )
        except sqlite3.OperationalError:
            return None
        try:
            conn.execute("PRAGMA busy_timeout = 10000")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = OFF")  # a cache: a lost write is re-indexed
            with transaction(conn):
                current = search_index.version(conn) == search_index.VERSION
                if not current or not search_index.intact(conn):
                    search_index.create(conn)
        except sqlite3.OperationalError:
            conn.close()
            return None  # read-only, locked too long, disk full: searches use memory
        except BaseException:
            conn.close()
            raise
        return conn

    def _remove_files(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            with suppress(FileNotFoundError):
                os.unlink(f"{self.path}{suffix}")

    def close(self) -> None:
        with self._lock, self._hook_lock, self._peek_lock:
            for conn in (self._conn, self._hook_conn, self._memory, self._peek):
                if conn is not None:
                    conn.close()
            self._conn = self._hook_conn = self._memory = self._peek = None
            self._seen = None

    # ------------------------------------------------------------------ kept in step by writes

    def _hook(self, action: Callable[[sqlite3.Connection], object]) -> None:
        """Apply one write to the cache if it exists; any failure leaves a stale stamp behind,
        which the next search notices and repairs."""
        with self._hook_lock:
            conn = self._open_for_hooks()
            if conn is None:
                return
            with suppress(sqlite3.Error), transaction(conn):
                action(conn)

    def session_written(self, session: Session, summary: SessionSummary) -> None:
        """A session was created or rewritten whole."""
        self._hook(lambda c: search_index.put_session(c, session, summary))

    def head_written(self, session: Session, summary: SessionSummary) -> None:
        """A session's fields changed, its messages did not."""

        def apply(conn: sqlite3.Connection) -> None:
            if not search_index.put_head(conn, summary):
                search_index.put_session(conn, session, summary)

        self._hook(apply)

    def message_appended(self, summary: SessionSummary, message: Message) -> None:
        self._hook(lambda c: search_index.add_message(c, summary, message))

    def message_replaced(self, summary: SessionSummary, message: Message) -> None:
        """The session's last message was replaced by ``message`` (an index that was behind
        keeps its old stamp, so the next search indexes the session again)."""
        self._hook(lambda c: search_index.replace_last_message(c, summary, message))

    def session_dropped(self, session_id: str) -> None:
        self._hook(lambda c: search_index.drop_session(c, session_id))

    # ------------------------------------------------------------------ catching up

    def _catch_up(
        self,
        conn: sqlite3.Connection,
        summaries: Sequence[SessionSummary],
        progress: Progress | None,
    ) -> int:
        """Index again every session whose stamp differs from the catalog; drop the gone ones.
        Returns how many sessions were (re)indexed."""
        try:
            known, confirmed = self._known(conn)
            return catch_up(conn, known, confirmed, summaries, self._load, progress)
        except BaseException:
            self._seen = None  # what was written is uncertain: read the stamps again next time
            raise

    def _known(
        self, conn: sqlite3.Connection
    ) -> tuple[dict[str, bytes], dict[str, SessionSummary]]:
        """The cache's stamps, read again only when another connection has written since
        (SQLite's data_version), so a search of an unchanged cache does not read them all; and
        the summaries found equal to them, kept for the sessions whose stamp did not change."""
        (version,) = conn.execute("PRAGMA data_version").fetchone()
        seen = self._seen
        if seen is None or seen[0] is not conn or seen[1] != version:
            known = search_index.stamps(conn)
            confirmed: dict[str, SessionSummary] = {}
            if seen is not None and seen[0] is conn:
                before = seen[2]
                confirmed = {
                    sid: s for sid, s in seen[3].items() if known.get(sid) == before.get(sid)
                }
            seen = (conn, version, known, confirmed)
            self._seen = seen
        return seen[2], seen[3]

    def _ready(self, progress: Progress | None) -> tuple[sqlite3.Connection, list[SessionSummary]]:
        summaries = self._list()
        conn = self._open(create=True)
        if conn is not None:
            try:
                self._catch_up(conn, summaries, progress)
                return conn, summaries
            except sqlite3.Error as exc:
                if search_health.is_damage(exc):
                    raise  # the file is damaged: ``search`` builds it again
                # e.g. the folder became read-only: answer from memory instead
        if self._memory is None:
            self._memory = sqlite3.connect(":memory:", check_same_thread=False)
            self._memory.isolation_level = None
            search_index.create(self._memory)
        self._catch_up(self._memory, summaries, progress)
        return self._memory, summaries

    # ------------------------------------------------------------------ searching and health

    def search(
        self,
        query: Query,
        limit: int,
        progress: Progress | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> list[SearchHit]:
        """Hits for a parsed query, best first, at most ``limit`` (DESIGN section 12), the
        index brought up to date with the store first (``progress(done, total)`` in sessions
        while it catches up). Once ``cancelled()`` is true the ranking stops and
        SearchCancelled is raised; catching up is never stopped half way."""
        with self._lock:
            if cancelled is not None and cancelled():
                raise SearchCancelled("the search was cancelled")
            try:
                return self._search(query, limit, progress, cancelled)
            except sqlite3.DatabaseError as exc:
                if (
                    self._conn is None
                    or not search_health.is_damage(exc)
                    or (cancelled is not None and cancelled())
                ):
                    raise
                damage = str(exc)
            # The cache file cannot be read (pages damaged, a table gone): being a cache, it
            # is built again from the sessions, once.
            self.close()
            self._remove_files()
            try:
                return self._search(query, limit, progress, cancelled)
            except sqlite3.DatabaseError as exc:
                raise StorageError(
                    f"the search index {self.path} is damaged ({damage}) and could not be "
                    f"built again ({exc}); run `prompt-sessions doctor` to check the store"
                ) from exc

    def _search(
        self,
        query: Query,
        limit: int,
        progress: Progress | None,
        cancelled: Callable[[], bool] | None,
    ) -> list[SearchHit]:
        with self._lock:
            conn, summaries = self._ready(progress)
            damage = search_health.probe(conn)
            if damage is not None:
                raise search_health.IndexDamage(damage)  # built again, as SQLite's own errors are
            by_id = {s.id: s for s in summaries}
            if cancelled is not None:
                # SQLite asks every few thousand steps; a true answer interrupts the query.
                conn.set_progress_handler(lambda: 1 if cancelled() else 0, CANCEL_STEPS)
            try:
                return search_connection(
                    conn, query, lambda ids: {i: by_id[i] for i in ids if i in by_id}, limit
                )
            except sqlite3.OperationalError:
                if cancelled is not None and cancelled():
                    raise SearchCancelled("the search was cancelled") from None
                raise
            finally:
                if cancelled is not None:
                    conn.set_progress_handler(None, 0)

    def first_page(
        self, query: Query, *, limit: int, within: float | None = None
    ) -> list[SearchHit] | None:
        """Up to ``limit`` hits, newest first and not ranked, read from the index file as it
        stands (not caught up first), each with the summary its session was indexed from; the
        explorer's first results (``search_live.first_page``, DESIGN sections 10 and 12).
        ``within``: seconds the index may spend looking, then the matches found by then. None
        when there is no index file of this version to read (the next ``search`` builds it) or
        it cannot be read."""
        if self.path is None:
            return None
        with self._peek_lock:
            hits, self._peek = read_first_page(self.path, query, limit, within, self._peek)
            return hits

    def check(self, report: HealthReport, repair: bool) -> None:
        """For ``doctor``: bring an existing cache up to date and check all of it (SQLite's
        page check, then FTS5's ``integrity-check``); a damaged one is reported under
        ``search_health.KEY``. A cache this program cannot write is checked by reading it
        only. With ``repair``, build it afresh (DESIGN section 12)."""
        with self._lock:
            if self.path is None:
                return
            conn = self._open(create=False)
            damage, done = (
                self._damage(conn)
                if conn is not None
                else (search_health.file_damage_at(self.path), 0)
            )
            if not repair:
                if damage is not None:
                    report.damaged[search_health.KEY] = f"{damage}; " + (
                        search_health.UNWRITABLE
                        if conn is None and search_health.unwritable(self.path)
                        else "`prompt-sessions doctor --repair` builds it again from the sessions"
                    )
                elif done:
                    report.fixed.append(f"search index: {done} session(s) indexed again")
                return
            self.close()
            self._remove_files()
            conn = self._open(create=True)
            if conn is None:
                return  # it cannot be written here: searches index the sessions in memory
            done = self._catch_up(conn, self._list(), None)
            if damage is None:
                report.fixed.append(f"search index rebuilt ({done} sessions)")
            else:
                report.fixed.append(f"search index built again ({done} session(s)): {damage}")

    def _damage(self, conn: sqlite3.Connection) -> tuple[str | None, int]:
        """What is wrong with the cache after catching it up (None when it is sound), and how
        many sessions catching up indexed again."""
        try:
            done = self._catch_up(conn, self._list(), None)
            return search_health.file_damage(conn) or search_health.damage(conn, pages=False), done
        except sqlite3.Error as exc:
            if not search_health.is_damage(exc):
                return None, 0  # busy or read-only now: nothing to say about the cache
            return f"it cannot be read ({exc})", 0
