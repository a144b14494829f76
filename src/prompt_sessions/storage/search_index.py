"""The search index: SQLite FTS5 tables any store can keep next to its sessions (DESIGN section 12).

The JSON store keeps these tables in a cache file, the sqlite backend inside its own database, and
both ask them the same questions through :func:`query`, so a query gives the same hits on either.

Tables (all prefixed ``search_``)::

    search_meta(key, value)          the index version: texts folded by another version are rebuilt
    search_session(id, stamp, ...)   per session: the summary it was indexed from (JSON), the
                                     fields filters use (folded PO name, flags, folded tags) and
                                     ``updated_at``, which orders hits of equal score
    search_doc(rowid, session_id, message_index, role, created_at, text)
                                     one row per message, and one for the name (message_index NULL)
    search_fts(body)                 the folded words of each doc, same rowid; unicode61 splitting
                                     on spaces only, since the words were cut by ``search_text``;
                                     nothing else, so ranking reads as little as a bare FTS5 table

Functions take an open connection; the caller owns the transaction.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import msgspec

from ..errors import StorageError
from ..models import Message, Session, SessionSummary
from ..search_query import Query
from ..search_text import FOLD_VERSION, Term, fold, index_text
from . import search_filters

VERSION = f"4/{FOLD_VERSION}"
_TOKENIZER = "unicode61 remove_diacritics 0 categories 'L* N* M* Co'"
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS search_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS search_session (
    id TEXT PRIMARY KEY,
    stamp BLOB NOT NULL,
    po_key TEXT NOT NULL,
    archived INTEGER NOT NULL,
    pinned INTEGER NOT NULL,
    thread_type TEXT,
    tags TEXT NOT NULL,
    updated_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS search_doc (
    rowid INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL,
    message_index INTEGER,
    role TEXT,
    created_at TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS search_doc_by_session ON search_doc (session_id, message_index);
CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(body, tokenize="{_TOKENIZER}");
"""
_TABLES = ("search_fts", "search_doc", "search_session", "search_meta")
# The tables FTS5 keeps for ``search_fts``: with one gone, every statement naming it fails.
_SHADOWS = tuple(f"search_fts_{s}" for s in ("data", "idx", "content", "docsize", "config"))
STALE = "stale"  # the version recorded when a write could not update the index
_encoder = msgspec.json.Encoder()
_summary_decoder = msgspec.json.Decoder(SessionSummary)


@functools.cache
def fts5_available() -> bool:
    """Whether this Python's SQLite was built with FTS5 (nearly every build is)."""
    try:
        sqlite3.connect(":memory:").execute("CREATE VIRTUAL TABLE t USING fts5(x)")
    except sqlite3.OperationalError:
        return False
    return True


def stamp_of(summary: SessionSummary) -> bytes:
    """What a session is indexed as: when a store's summary differs, the index is behind."""
    return _encoder.encode(summary)


def version(conn: sqlite3.Connection) -> str | None:
    """The index version recorded (:data:`STALE` when it is to be built again); None when the
    tables are missing or cannot be read."""
    try:
        row = conn.execute("SELECT value FROM search_meta WHERE key = 'version'").fetchone()
    except sqlite3.DatabaseError:
        return None  # no tables yet, or pages damaged: built again either way
    return row[0] if row else None


def intact(conn: sqlite3.Connection) -> bool:
    """Whether every table of the index is there, FTS5's own ones included: a database edited
    by hand, or by a tool that dropped one, has an index to build again, not to query."""
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return names.issuperset(_TABLES + _SHADOWS)


def create(conn: sqlite3.Connection, *, fresh: bool = False) -> None:
    """Make the tables (dropping any of another version, or partly gone, or all of them when
    ``fresh``) and record this version. Raises StorageError when SQLite has no FTS5."""
    if not fts5_available():
        raise StorageError(
            f"search needs SQLite's FTS5, which this Python's SQLite {sqlite3.sqlite_version} "
            "lacks; use a Python whose sqlite3 module includes it"
        )
    if fresh or version(conn) not in (None, VERSION) or not intact(conn):
        drop(conn)  # of another version, or partly gone: built again whole
    conn.executescript(_SCHEMA) if not conn.in_transaction else _run_script(conn, _SCHEMA)
    conn.execute("INSERT OR REPLACE INTO search_meta VALUES ('version', ?)", (VERSION,))


def _run_script(conn: sqlite3.Connection, script: str) -> None:
    # executescript() would commit the caller's transaction first.
    for statement in script.split(";\n"):
        if statement.strip():
            conn.execute(statement)


def drop(conn: sqlite3.Connection) -> None:
    """Drop every table of the index, even one FTS5 can no longer open."""
    try:
        conn.execute("DROP TABLE IF EXISTS search_fts")
    except sqlite3.DatabaseError:
        # FTS5 opens its table to drop it, and cannot when one of its own tables is gone or
        # unreadable: put fresh empty ones in their place, as FTS5 made them, then drop it.
        _replace_shadows(conn)
        conn.execute("DROP TABLE search_fts")
    for table in (*_TABLES[1:], *_SHADOWS):
        conn.execute(f"DROP TABLE IF EXISTS {table}")


def _replace_shadows(conn: sqlite3.Connection) -> None:
    """Give ``search_fts`` the empty tables of a new FTS5 table of the same definition."""
    (definition,) = conn.execute(
        "SELECT sql FROM sqlite_master WHERE name = 'search_fts'"
    ).fetchone()
    fresh = sqlite3.connect(":memory:")
    try:
        fresh.execute(definition)
        for table in _SHADOWS:
            conn.execute(f"DROP TABLE IF EXISTS {table}")
            found = fresh.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,))
            for (sql,) in found.fetchall():
                conn.execute(sql)
                for row in fresh.execute(f"SELECT * FROM {table}").fetchall():
                    conn.execute(f"INSERT INTO {table} VALUES ({', '.join('?' * len(row))})", row)
    finally:
        fresh.close()


def _tags_key(tags: list[str] | None) -> str:
    return search_filters.tags_key(tags)


def _put_head(conn: sqlite3.Connection, summary: SessionSummary) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO search_session VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            summary.id,
            stamp_of(summary),
            fold(summary.po_name),
            int(summary.archived),
            int(summary.pinned),
            summary.thread_type,
            _tags_key(summary.tags),
            summary.updated_at,
        ),
    )


def _add_doc(
    conn: sqlite3.Connection,
    sid: str,
    index: int | None,
    role: str | None,
    created_at: str,
    text: str,
) -> None:
    cur = conn.execute(
        "INSERT INTO search_doc (session_id, message_index, role, created_at, text) "
        "VALUES (?, ?, ?, ?, ?)",
        (sid, index, role, created_at, text),
    )
    conn.execute(
        "INSERT INTO search_fts (rowid, body) VALUES (?, ?)", (cur.lastrowid, index_text(text))
    )


def put_session(conn: sqlite3.Connection, session: Session, summary: SessionSummary) -> None:
    """Index (or index again) a whole session: its name and every message."""
    drop_session(conn, session.id)
    _put_head(conn, summary)
    sid = session.id
    docs: list[tuple[int | None, str | None, str, str]] = [
        (None, None, session.created_at, session.name)
    ]
    docs += [(i, m.role, m.created_at, m.content) for i, m in enumerate(session.history)]
    (last,) = conn.execute("SELECT coalesce(max(rowid), 0) FROM search_doc").fetchone()
    conn.executemany(
        "INSERT INTO search_doc (rowid, session_id, message_index, role, created_at, text) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        ((last + 1 + k, sid, *doc) for k, doc in enumerate(docs)),
    )
    conn.executemany(
        "INSERT INTO search_fts (rowid, body) VALUES (?, ?)",
        ((last + 1 + k, index_text(doc[3])) for k, doc in enumerate(docs)),
    )


def put_head(conn: sqlite3.Connection, summary: SessionSummary) -> bool:
    """Index a session's changed fields (name, flags, tags), its messages unchanged.
    False when the index does not hold the session as it was (index it whole instead)."""
    row = conn.execute("SELECT stamp FROM search_session WHERE id = ?", (summary.id,)).fetchone()
    if row is None or msgspec.json.decode(row[0]).get("message_count") != summary.message_count:
        return False
    conn.execute(
        "DELETE FROM search_fts WHERE rowid IN (SELECT rowid FROM search_doc "
        "WHERE session_id = ? AND message_index IS NULL)",
        (summary.id,),
    )
    conn.execute(
        "DELETE FROM search_doc WHERE session_id = ? AND message_index IS NULL", (summary.id,)
    )
    _put_head(conn, summary)
    _add_doc(conn, summary.id, None, None, summary.created_at, summary.name)
    return True


def replace_last_message(
    conn: sqlite3.Connection, summary: SessionSummary, message: Message
) -> bool:
    """Index ``message`` in place of the session's last one (number ``summary.message_count
    - 1``). False when the index did not hold the session's messages as they were."""
    index = summary.message_count - 1
    row = conn.execute("SELECT stamp FROM search_session WHERE id = ?", (summary.id,)).fetchone()
    if row is None or msgspec.json.decode(row[0]).get("message_count") != summary.message_count:
        return False
    conn.execute(
        "DELETE FROM search_fts WHERE rowid IN (SELECT rowid FROM search_doc "
        "WHERE session_id = ? AND message_index = ?)",
        (summary.id, index),
    )
    conn.execute(
        "DELETE FROM search_doc WHERE session_id = ? AND message_index = ?", (summary.id, index)
    )
    _put_head(conn, summary)
    _add_doc(conn, summary.id, index, message.role, message.created_at, message.content)
    return True


def add_message(conn: sqlite3.Connection, summary: SessionSummary, message: Message) -> bool:
    """Index one appended message (number ``summary.message_count - 1``). False when the index
    did not hold every earlier message (the session then needs indexing whole)."""
    index = summary.message_count - 1
    row = conn.execute("SELECT stamp FROM search_session WHERE id = ?", (summary.id,)).fetchone()
    if row is None or msgspec.json.decode(row[0]).get("message_count") != index:
        return False
    _put_head(conn, summary)
    _add_doc(conn, summary.id, index, message.role, message.created_at, message.content)
    return True


def drop_session(conn: sqlite3.Connection, sid: str) -> None:
    conn.execute(
        "DELETE FROM search_fts WHERE rowid IN (SELECT rowid FROM search_doc WHERE session_id = ?)",
        (sid,),
    )
    conn.execute("DELETE FROM search_doc WHERE session_id = ?", (sid,))
    conn.execute("DELETE FROM search_session WHERE id = ?", (sid,))


def stamps(conn: sqlite3.Connection) -> dict[str, bytes]:
    """Each indexed session's stamp (see :func:`stamp_of`)."""
    return dict(conn.execute("SELECT id, stamp FROM search_session"))


# ---------------------------------------------------------------------- asking


@dataclass(frozen=True)
class Row:
    session_id: str
    message_index: int | None
    text: str
    rank: float


def _phrase(term: Term) -> str:
    return '"' + " ".join(term.words) + '"' + (" *" if term.prefix else "")


def match_expression(query: Query) -> str:
    """The FTS5 MATCH text for the query's words (the words are letters and digits only)."""
    expr = " AND ".join(_phrase(t) for t in query.include)
    if query.exclude:
        # One NOT of one OR group: FTS5's parser nests each NOT, and overflows its stack at
        # about a hundred of them; an OR group is flat at any length.
        expr = f"({expr}) NOT ({' OR '.join(_phrase(t) for t in query.exclude)})"
    return expr


_FILTERS = search_filters.FilterSql(
    mark="?",
    find="instr",
    po_key="s.po_key",
    role="coalesce(d.role, '')",
    created="d.created_at",
    tags="s.tags",
    flag="s.{flag} = 1",
    thread_type="coalesce(s.thread_type, '')",
    is_name="d.message_index IS NULL",
)


def _conditions(query: Query) -> tuple[list[str], list[object]]:
    """SQL conditions over ``d`` (search_doc) and ``s`` (search_session) for the filters."""
    return search_filters.conditions(query, _FILTERS)


# Equal scores, most recent first: the session updated last, its name, then its later messages
# first; sessions updated at the same instant in id order, so every store lists them alike.
_RANKED = (
    "f.rank, s.updated_at DESC, d.session_id, d.message_index IS NOT NULL, d.message_index DESC"
)


def query(conn: sqlite3.Connection, q: Query, limit: int | None = None) -> Iterator[Row]:
    """Matching docs, best first (BM25); equal scores most recent first (the session's
    ``updated_at``, then the later message; DESIGN section 12), then in session id order, so
    every store lists them alike. ``limit`` bounds the rows read (None: all)."""
    where, params = _conditions(q)
    if limit is not None and not where:
        yield from _best(conn, match_expression(q), limit)
        return
    sql, args = _matching(q, where, params, ", f.rank", _RANKED, limit, join="LEFT JOIN")
    for sid, index, text, rank in conn.execute(sql, args):
        yield Row(sid, index, text, rank)


def first_rows(conn: sqlite3.Connection, q: Query, limit: int | None) -> Iterator[Row]:
    """Matching docs newest indexed first, not ranked (``rank`` 0): FTS5 walks its matches in
    rowid order and stops at the ``limit``-th, so a word found in every message costs about
    what a rare one does. The explorer's first page (DESIGN sections 10 and 12); the ranked
    :func:`query` replaces it."""
    where, params = _conditions(q)
    sql, args = _matching(q, where, params, "", "f.rowid DESC", limit, join="")
    for sid, index, text in conn.execute(sql, args):
        yield Row(sid, index, text, 0.0)


def _matching(
    q: Query,
    where: list[str],
    params: list[object],
    extra: str,
    order: str,
    limit: int | None,
    *,
    join: str,
) -> tuple[str, list[object]]:
    """The statement (and its arguments) reading the docs that match ``q`` and its filters
    ``where``: session id, message number, text and ``extra`` columns, in ``order``. ``join``:
    how ``order`` reads the session's row ``s`` ("LEFT JOIN", or "" when it does not); the
    filters always need it."""
    join = "JOIN" if where else join
    sql = (
        f"SELECT d.session_id, d.message_index, d.text{extra} FROM search_fts f "
        "JOIN search_doc d ON d.rowid = f.rowid "
        + (f"{join} search_session s ON s.id = d.session_id " if join else "")
        + "WHERE search_fts MATCH ? "
        + "".join(f"AND {c} " for c in where)
        + f"ORDER BY {order}"
        + (" LIMIT ?" if limit is not None else "")
    )
    args: list[object] = [match_expression(q), *params]
    if limit is not None:
        args.append(limit)
    return sql, args


def summaries_of(conn: sqlite3.Connection, ids: list[str]) -> dict[str, SessionSummary]:
    """The summaries these sessions were indexed from (their stamps), without asking the store;
    ids not indexed are left out."""
    found = {}
    for sid, stamp in conn.execute(
        "SELECT id, stamp FROM search_session WHERE id IN (SELECT value FROM json_each(?))",
        (_encoder.encode(ids),),
    ):
        try:
            found[sid] = _summary_decoder.decode(stamp)
        except msgspec.DecodeError:
            continue  # written by a program with another summary shape: caught up later
    return found


def _best(conn: sqlite3.Connection, expr: str, limit: int) -> Iterator[Row]:
    """The best ``limit`` rows without filters: FTS5 ranks alone, as fast as a bare query, then
    only the winners are read. Rows tied with the last winner are all fetched, so the tie-break
    (as in :data:`_RANKED`) picks the same rows on every store."""
    fetch = limit + 16
    while True:
        ranked = conn.execute(
            "SELECT rowid, rank FROM search_fts WHERE search_fts MATCH ? ORDER BY rank LIMIT ?",
            (expr, fetch),
        ).fetchall()
        if len(ranked) < fetch or limit == 0:
            break  # every match is here
        boundary = ranked[limit - 1][1]
        if ranked[-1][1] != boundary:
            ranked = [r for r in ranked if r[1] <= boundary]  # the ties at the cut, and no more
            break
        fetch *= 4
    rank_of = dict(ranked)
    found = conn.execute(
        "SELECT d.rowid, d.session_id, d.message_index, d.text, s.updated_at FROM search_doc d "
        "LEFT JOIN search_session s ON s.id = d.session_id "
        "WHERE d.rowid IN (SELECT value FROM json_each(?))",
        (_encoder.encode(list(rank_of)),),
    ).fetchall()
    # _RANKED's order, one key at a time from the last (each sort keeps the order of ties).
    found.sort(key=lambda r: (r[1], r[2] is not None, -(r[2] or 0)))
    found.sort(key=lambda r: r[4] or "", reverse=True)  # no session row: as SQL's NULL, last
    found.sort(key=lambda r: rank_of[r[0]])
    for rowid, sid, index, text, _ in found[:limit]:
        yield Row(sid, index, text, rank_of[rowid])


def sessions_in(conn: sqlite3.Connection) -> Iterable[str]:
    return [r[0] for r in conn.execute("SELECT id FROM search_session")]
