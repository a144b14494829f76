"""How sound the search index is (DESIGN section 12, "The index is a cache"): telling damage
from a busy or failing store, the quick look every search takes, and ``doctor``'s full check.

A damaged index is never an error of the store: writes mark it stale and land
(``SqliteConnection._index``), searches build it again, ``doctor`` reports it under :data:`KEY`
and ``doctor --repair`` builds it again.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import msgspec

from ..search_text import index_text
from . import files
from .search_index import _SHADOWS, _TABLES, STALE, VERSION, intact, version

# What SQLite says when the index itself is wrong (a table gone, pages or values damaged), as
# against the store being busy, read-only, full or failing (the primary result codes).
_DAMAGE_CODES = frozenset(
    {
        sqlite3.SQLITE_ERROR,
        sqlite3.SQLITE_CORRUPT,
        sqlite3.SQLITE_MISMATCH,
        sqlite3.SQLITE_CONSTRAINT,
        sqlite3.SQLITE_FORMAT,
        sqlite3.SQLITE_RANGE,
        sqlite3.SQLITE_NOTADB,
    }
)
KEY = "search index"  # how doctor names the index among its findings
# What doctor says after the index's damage on a store it cannot write (it checked by reading).
UNWRITABLE = (
    "the store cannot be written here; `prompt-sessions doctor --repair` builds it again from "
    "the sessions where it can be written"
)
DOCTOR_SAMPLES = 200  # texts doctor looks up by their words (a search looks up three)


def is_damage(exc: sqlite3.Error) -> bool:
    """Whether ``exc``, raised by a statement on the index, says the index is damaged (a
    table gone, pages or values that do not read), so that building it again is the cure;
    False for a busy, read-only, full or failing store, which a rebuild would not mend."""
    if isinstance(exc, IndexDamage):
        return True
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:  # not SQLite's: Python's own failure to read a value
        return str(exc).startswith("Could not decode")
    return code & 0xFF in _DAMAGE_CODES


class Undone:
    """What :func:`undone_on_damage` found: the damage that undid the block, or None."""

    error: sqlite3.DatabaseError | None = None


@contextmanager
def undone_on_damage(conn: sqlite3.Connection, name: str) -> Iterator[Undone]:
    """Run a block of index writes inside savepoint ``name`` of the caller's transaction,
    with FTS5's buffered writes flushed at its end. When SQLite reports damage to the index
    (:func:`is_damage`), the block's writes are rolled back to the savepoint and the error is
    kept in the yielded :class:`Undone` instead of raised; any other error propagates."""
    outcome = Undone()
    conn.execute(f"SAVEPOINT {name}")
    try:
        yield outcome
        conn.execute("SAVEPOINT search_flush")  # FTS5 writes out what it buffered
        conn.execute("RELEASE search_flush")
    except sqlite3.DatabaseError as exc:
        if not (is_damage(exc) and conn.in_transaction):
            raise
        conn.execute(f"ROLLBACK TO {name}")
        outcome.error = exc
    conn.execute(f"RELEASE {name}")


class IndexDamage(sqlite3.DatabaseError):
    """The index answers wrong without SQLite noticing (found by :func:`probe`)."""


def mark_stale(conn: sqlite3.Connection) -> None:
    """Record, inside the caller's transaction, that the index is to be built again before it
    answers (a write could not update it). When even that cannot be written, the next search
    meets the damage itself and builds the index again then."""
    with suppress(sqlite3.DatabaseError):
        conn.execute("INSERT OR REPLACE INTO search_meta VALUES ('version', ?)", (STALE,))


def damage(conn: sqlite3.Connection, *, pages: bool = True, fts: bool = True) -> str | None:
    """The full check for ``doctor`` (slow on a big index: it reads all of it): what is wrong
    with the index, in a few words, or None when it is sound. With ``pages``, SQLite's page
    check of each of its tables first; then, with ``fts``, FTS5's own ``integrity-check``,
    which compares the words indexed with the texts (an INSERT: a connection that only reads
    goes without it); then the counts of texts, words and messages, and :func:`probe`.
    Raises sqlite3.Error when the store fails otherwise."""
    found = version(conn)
    if found != VERSION or not intact(conn):
        if found == STALE:
            return "a write could not update it, so it is marked to be built again"
        return "it is missing tables or cannot be read"
    try:
        for table in (*_TABLES[1:], *_SHADOWS) if pages else ():
            verdict = conn.execute(f"PRAGMA quick_check({table})").fetchone()[0]
            if verdict != "ok":
                return f"SQLite reports damaged pages in {table}: {verdict.splitlines()[-1]}"
        if fts:
            conn.execute("INSERT INTO search_fts(search_fts) VALUES ('integrity-check')")
        return _counts_differ(conn) or probe(conn, samples=DOCTOR_SAMPLES)
    except sqlite3.DatabaseError as exc:
        if not is_damage(exc):
            raise
        return f"it cannot be read ({exc})"


def _counts_differ(conn: sqlite3.Connection) -> str | None:
    """Whether the texts, the words and the sessions' message counts disagree (rows deleted
    from one table of the index and not the others)."""
    (texts,) = conn.execute("SELECT count(*) FROM search_doc").fetchone()
    (words,) = conn.execute("SELECT count(*) FROM search_fts_docsize").fetchone()
    if texts != words:
        return f"it holds {texts} texts but the words of {words}"
    expected = 0
    for (stamp,) in conn.execute("SELECT stamp FROM search_session"):
        try:
            expected += 1 + msgspec.json.decode(stamp).get("message_count", 0)
        except (msgspec.DecodeError, AttributeError, TypeError):
            return "a session's record in it cannot be read"
    if expected != texts:
        return f"its sessions count {expected} texts but it holds {texts}"
    return None


def probe(conn: sqlite3.Connection, samples: int = 3) -> str | None:
    """A quick look for an index that answers wrong without an error (pages or rows damaged
    so that FTS5 finds nothing, or finds words whose texts are gone): the first and last
    rowids of the words and of the texts must agree, and ``samples`` texts spread over the
    index must each be found by their first and last words, in a session the index knows.
    What is wrong, in a few words, or None. A few point lookups: cheap enough for every search.
    All of them read one snapshot (in a read transaction of their own when ``conn`` is in
    none): another process writing the index meanwhile must not look like damage.
    Raises sqlite3.DatabaseError when SQLite cannot read the index."""
    if conn.in_transaction:
        return _probe(conn, samples)
    conn.execute("BEGIN")
    try:
        return _probe(conn, samples)
    finally:
        conn.execute("COMMIT")  # it only read: nothing to keep or undo


def _probe(conn: sqlite3.Connection, samples: int) -> str | None:
    # Apart: SQLite reads only the b-tree's ends for a lone min() or max(), all rows for both.
    ends = tuple(
        conn.execute(f"SELECT {end}(rowid) FROM search_doc").fetchone()[0] for end in ("min", "max")
    )
    fts = [
        conn.execute(f"SELECT rowid FROM search_fts ORDER BY rowid {way} LIMIT 1").fetchone()
        for way in ("ASC", "DESC")
    ]
    if tuple(r[0] if r else None for r in fts) != ends:
        return "its words and its texts do not cover the same messages"
    if ends[0] is None:
        return None  # empty
    low, high = ends
    for k in range(samples):
        at = low + (high - low) * k // max(samples - 1, 1)
        row = conn.execute(
            "SELECT d.rowid, d.text, s.id FROM search_doc d "
            "LEFT JOIN search_session s ON s.id = d.session_id "
            "WHERE d.rowid >= ? ORDER BY d.rowid LIMIT 1",
            (at,),
        ).fetchone()
        rowid, text, known = row  # rows from low to high exist: one snapshot
        if known is None:
            return "it holds texts of a session it does not list"
        words = index_text(text).split()
        for word in {words[0], words[-1]} if words else ():
            found = conn.execute(
                "SELECT 1 FROM search_fts WHERE search_fts MATCH ? AND rowid = ?",
                (f'"{word}"', rowid),
            ).fetchone()
            if found is None:
                return "it does not find the words of the texts it holds"
    return None


def file_damage(conn: sqlite3.Connection) -> str | None:
    """SQLite's page check of the whole file ``conn`` has open (the JSON store's cache, all
    of it the index): what it found, in a line, or None when it is sound."""
    try:
        verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        if not is_damage(exc):
            raise
        verdict = str(exc)
    return None if verdict == "ok" else f"SQLite reports damaged pages: {verdict.splitlines()[-1]}"


def unwritable(path: Path) -> bool:
    """Whether the SQLite file at ``path`` cannot be written here: its folder is read-only
    (SQLite makes its -wal and -shm files there) or the file itself is."""
    return files.folder_unwritable(path.parent) or (path.exists() and not os.access(path, os.W_OK))


def open_read_only(path: Path) -> sqlite3.Connection | None:
    """A connection that only reads the SQLite file at ``path`` (doctor on a store it cannot
    write: reading never needs to write). In a folder that cannot be written SQLite cannot
    make the -shm file shared reading needs, so the file is read as immutable, which is
    exact only while no write-ahead log holds changes. None when there is no file, a log
    holds changes there, or SQLite cannot open it."""
    if not path.is_file() or path.is_symlink():
        return None
    frozen = files.folder_unwritable(path.parent)
    if frozen:
        with suppress(FileNotFoundError):
            if path.with_name(f"{path.name}-wal").stat().st_size > 0:
                return None
    try:
        conn = sqlite3.connect(
            f"{path.absolute().as_uri()}?{'immutable=1' if frozen else 'mode=ro'}",
            uri=True,
            isolation_level=None,
        )
    except sqlite3.Error:
        return None
    try:
        conn.execute("PRAGMA query_only = 1")
    except sqlite3.Error:
        conn.close()
        return None
    return conn


def read_only_damage(conn: sqlite3.Connection, *, pages: bool) -> str | None:
    """:func:`damage` for a store this program cannot write, read only (without FTS5's
    ``integrity-check``, which writes): what is wrong with the index, or None when it is
    sound, of another version (built again where the store can be written, as any search
    there does), absent, or cannot be read for another reason than damage (busy, say)."""
    if version(conn) not in (VERSION, STALE):
        return None
    try:
        return damage(conn, pages=pages, fts=False)
    except sqlite3.Error:
        return None


def file_damage_at(path: Path) -> str | None:
    """What is wrong with the index in the SQLite file at ``path`` (the JSON store's cache,
    all of it the index), read only: SQLite's page check of the file, then
    :func:`read_only_damage`. None when it is sound or cannot be opened (see
    :func:`open_read_only`)."""
    conn = open_read_only(path)
    if conn is None:
        return None
    try:
        return file_damage(conn) or read_only_damage(conn, pages=False)
    except sqlite3.Error:
        return None
    finally:
        conn.close()
