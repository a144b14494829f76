"""SQLite sources (DESIGN section 16): a tool's database read whole, the commits still in its
write-ahead log (``<db>-wal``) included, without ever writing beside it.

Everything here reads untrusted input; nothing raises but ``ImportFormatError``.
"""

from __future__ import annotations

import codecs
import functools
from pathlib import Path
from typing import Any

from .. import limits
from ..errors import ImportFormatError

SQLITE_HEADER = b"SQLite format 3\x00"
_LENIENT = "prompt_sessions.import_text"


def _replaced(error: UnicodeError) -> tuple[str, int]:
    """A text column's bytes that are not UTF-8 read as U+FFFD: a lone surrogate written in
    UTF-8's form (``ED A0..BF 80..BF``, which some writers let through) as one, as a lone
    surrogate escape in JSON reads (DESIGN section 16), any other bad byte as one each."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    at = error.start
    bad = error.object[at : at + 3]
    if len(bad) == 3 and bad[0] == 0xED and 0xA0 <= bad[1] <= 0xBF and 0x80 <= bad[2] <= 0xBF:
        return "\ufffd", at + 3
    return "\ufffd", error.end


codecs.register_error(_LENIENT, _replaced)
# Text columns decoded in C as usual; only a value that is not UTF-8 calls the handler, so one
# odd row never makes the whole database unreadable.
_TEXT = functools.partial(str, encoding="utf-8", errors=_LENIENT)


def sqlite_wal(filename: str | None) -> Path | None:
    """The write-ahead log beside the database file ``filename`` (``<db>-wal``), when there is
    one holding anything: commits a writer has not yet copied into the main file live there."""
    if not filename:
        return None
    wal = Path(f"{filename}-wal")
    try:
        return wal if wal.is_file() and wal.stat().st_size > 0 else None
    except OSError:
        return None


def sqlite_head(data: bytes, filename: str | None, size: int = 1_000_000) -> bytes:
    """The first ``size`` bytes of a database file and of its ``-wal``, for ``sniff``: a young
    database in WAL mode keeps its very schema in the WAL alone."""
    wal = sqlite_wal(filename)
    if wal is None:
        return data[:size]
    try:
        with wal.open("rb") as f:
            return data[:size] + f.read(size)
    except OSError:
        return data[:size]


def open_sqlite(data: bytes, filename: str | None = None) -> Any:
    """An in-memory, read-only copy of a SQLite database: ``data`` (the main file's bytes) and,
    when ``filename`` names the file and a ``<filename>-wal`` lies beside it, the commits that
    log alone holds (DESIGN section 16). Nothing is ever written beside the source: the two
    files are copied to a private temporary folder and read there, so a read-only folder
    works and no ``-shm`` or ``-wal`` appears next to it.

    :raises ImportFormatError: ``data`` is not a SQLite database, or the files changed while
        they were read, three times over.
    """
    import sqlite3

    if not data.startswith(SQLITE_HEADER) or len(data) < 100:
        raise ImportFormatError("not a SQLite database")
    wal = sqlite_wal(filename)
    try:
        conn = _in_memory(data) if wal is None else _with_wal(data, Path(str(filename)), wal)
        conn.execute("PRAGMA query_only = ON")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as exc:
        raise ImportFormatError(f"not a readable SQLite database ({exc})") from exc
    conn.row_factory = sqlite3.Row
    conn.text_factory = _TEXT
    return conn


def _in_memory(data: bytes) -> Any:
    import sqlite3

    raw = bytearray(data)
    if raw[18] == 2 or raw[19] == 2:
        # WAL mode is recorded in the header; an in-memory copy cannot use a WAL, so it is
        # read as a rollback-journal database.
        raw[18] = raw[19] = 1
    conn = sqlite3.connect(":memory:")
    try:
        conn.deserialize(bytes(raw))
    except sqlite3.Error:
        conn.close()
        raise
    return conn


def _with_wal(data: bytes, path: Path, wal: Path, attempts: int = 3) -> Any:
    """The database as a reader sees it: ``data`` with ``wal``'s commits, copied into memory
    through SQLite's backup from a private copy of the two files (SQLite rebuilds the WAL
    index, the ``-shm``, from the log itself). A writer may checkpoint between the reads of
    the two files; a copy that then fails SQLite's quick check is read again from disk."""
    import shutil
    import sqlite3
    import tempfile

    try:
        logged = wal.stat().st_size
    except OSError:
        return _in_memory(data)
    if len(data) + logged > limits.MAX_IMPORT_BYTES:
        raise ImportFormatError(
            f"the database and its -wal are {len(data) + logged:,} bytes; "
            f"the limit is {limits.MAX_IMPORT_BYTES:,} bytes"
        )
    for attempt in range(attempts):
        if attempt:
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise ImportFormatError(f"cannot read it again: {exc.strerror}") from exc
        with tempfile.TemporaryDirectory(prefix="prompt-sessions-sqlite-") as tmp:
            copy = Path(tmp) / "source.db"
            copy.write_bytes(data)
            try:
                shutil.copyfile(wal, f"{copy}-wal")
            except OSError:
                return _in_memory(data)  # the log went away: checkpointed into the main file
            source = sqlite3.connect(copy)  # the private copy: SQLite may write its -shm there
            memory = sqlite3.connect(":memory:")
            try:
                source.backup(memory)
                healthy = memory.execute("PRAGMA quick_check").fetchone()[0] == "ok"
            except sqlite3.DatabaseError:
                healthy = False
            finally:
                source.close()
            if healthy:
                return memory
            memory.close()
    raise ImportFormatError(
        "the database and its -wal do not agree (changed while read, or damaged)"
    )


def columns(conn: Any, table: str) -> set[str]:
    """The columns ``table`` has (empty when there is no such table): older versions of a
    tool's database lack the columns later migrations added."""
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table!r})")}


def require_columns(conn: Any, tables: dict[str, set[str]], what: str) -> None:
    """Refuse a database whose ``tables`` lack the columns the importer reads (every version
    of the tool's schema has them), naming what is missing.

    :param tables: table name -> the columns it must have.
    :param what: the file it should be, for the message (``"an llm logs.db"``).
    :raises ImportFormatError: a table or a column is missing.
    """
    for table, needed in tables.items():
        have = columns(conn, table)
        if not have:
            raise ImportFormatError(f"no {table} table: not {what}")
        if missing := sorted(needed - have):
            raise ImportFormatError(
                f"the {table} table has no {', '.join(missing)} column"
                f"{'s' if len(missing) > 1 else ''}: not {what}"
            )
