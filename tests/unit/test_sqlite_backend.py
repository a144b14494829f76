"""The sqlite store beyond the conformance suite: its own refusals, rows another tool damaged,
doctor on a store it may not change, errors translated into the project's, and the exit hook."""

from __future__ import annotations

import errno
import os
import sqlite3
import weakref
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from prompt_sessions.errors import (
    CorruptSession,
    LockTimeout,
    ReadOnlyStore,
    StorageError,
    UsageError,
)
from prompt_sessions.search import HITS_PER_SESSION
from prompt_sessions.search_query import parse
from prompt_sessions.storage import search_index, sqlite_connection
from prompt_sessions.storage.sqlite_backend import (
    DB_NAME,
    SCHEMA_VERSION,
    SqliteBackend,
)
from prompt_sessions.testing.conformance import make_message, make_session


class _OS:
    """``os`` for the sqlite module with some calls replaced; the rest are the real ones."""

    def __init__(self, **replaced: Any) -> None:
        self.__dict__.update(replaced)

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)


def _raw(root: Path) -> closing[sqlite3.Connection]:
    """A plain connection to the store's database, as another tool would open it."""
    return closing(sqlite3.connect(root / DB_NAME, isolation_level=None))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / ".prompt_objects"


@pytest.fixture
def backend(root: Path) -> Iterator[SqliteBackend]:
    store = SqliteBackend(root)
    yield store
    store.close()


def test_update_refuses_a_field_sessions_do_not_have(backend: SqliteBackend) -> None:
    """An unknown field is an error naming it, and the session is unchanged."""
    session = make_session(name="Fixed")
    backend.create(session)
    with pytest.raises(StorageError, match="sessions have no field 'colour'"):
        backend.update(session.id, colour="red")
    assert backend.get(session.id) == session


def test_fork_point_beyond_the_history_is_refused(backend: SqliteBackend) -> None:
    """A fork point past the last message is a usage error; nothing is created."""
    session = make_session(messages=[make_message("one"), make_message("two")])
    backend.create(session)
    with pytest.raises(UsageError, match="between 0 and 2, not 3"):
        backend.fork(session.id, at=3, name="Too far")
    assert [s.id for s in backend.list()] == [session.id]


def test_search_of_a_po_without_sessions_finds_nothing(backend: SqliteBackend) -> None:
    """No sessions for the PO: no hits."""
    backend.create(make_session("coordinator", messages=[make_message("needle")]))
    assert backend.search(parse("needle po:nobody"), limit=10) == []
    assert len(backend.search(parse("needle"), limit=10)) == 1


def test_search_caps_the_hits_of_one_session_like_the_manager(backend: SqliteBackend) -> None:
    """A session matching by name and in many messages gives at most HITS_PER_SESSION hits,
    the name first (the best match), then the latest of the equally good messages."""
    session = make_session(
        name="needle list", messages=[make_message(f"needle {i}") for i in range(30)]
    )
    backend.create(session)
    hits = backend.search(parse("needle"), limit=100)
    assert len(hits) == HITS_PER_SESSION
    assert [h.message_index for h in hits] == [None, *range(29, 29 - HITS_PER_SESSION + 1, -1)]


@pytest.mark.parametrize(
    ("statement", "reason"),
    [
        (
            "UPDATE sessions SET head = X'6e6f74206a736f6e' WHERE id = ?",
            "its stored fields are not a JSON object",
        ),
        (
            # Read as its bytes (a TEXT value need not be UTF-8), which are not a message.
            "UPDATE messages SET body = 'a text, not a blob' WHERE session_id = ?",
            "not valid JSON",
        ),
        (
            "UPDATE messages SET body = 42 WHERE session_id = ?",
            "Expected `object`, got `int`",
        ),
    ],
    ids=["head", "body type", "body number"],
)
def test_rows_of_the_wrong_shape_are_damage(
    root: Path, backend: SqliteBackend, statement: str, reason: str
) -> None:
    """Rows another tool wrote in the wrong shape make the session damaged, with the reason."""
    session = make_session(messages=[make_message("kept")])
    other = make_session(name="untouched")
    backend.create(session)
    backend.create(other)
    with _raw(root) as raw:
        raw.execute(statement, (session.id,))
    with pytest.raises(CorruptSession, match=reason):
        backend.get(session.id)
    assert backend.get(other.id) == other
    damaged = backend.check().damaged
    assert list(damaged) == [session.id] and reason in damaged[session.id]


def test_doctor_forgets_current_choices_of_sessions_that_are_gone(
    root: Path, backend: SqliteBackend
) -> None:
    """A current-session row naming a session no longer stored is removed and reported."""
    session = make_session("coordinator")
    backend.create(session)
    backend.set_current("coordinator", session.id)
    with _raw(root) as raw:
        raw.execute(
            "INSERT INTO current (po_name, session_id) VALUES ('writer', ?)", (make_session().id,)
        )
    report = backend.check()
    assert "forgot 1 current-session choice(s) of deleted sessions" in report.fixed
    with _raw(root) as raw:
        rows = raw.execute("SELECT po_name, session_id FROM current").fetchall()
    assert rows == [("coordinator", session.id)]


def test_doctor_on_a_newer_schema_reports_without_writing(root: Path) -> None:
    """A store from a newer program is checked and reported, but nothing in it is changed."""
    store = SqliteBackend(root)
    store.create(session := make_session(messages=[make_message("one")]))
    store.close()
    with _raw(root) as raw:
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        raw.execute("UPDATE sessions SET summary = X'7b7d' WHERE id = ?", (session.id,))
    before = (root / DB_NAME).read_bytes()
    store = SqliteBackend(root)
    report = store.check(repair=True)
    store.close()
    assert (report.sessions, report.damaged, report.fixed, report.moved) == (1, {}, [], [])
    assert (root / DB_NAME).read_bytes() == before


def test_a_store_that_cannot_be_linked_into_place_is_not_created(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database is built in a temp file and hard-linked into place; where that link fails
    (a file system without hard links), creating fails with the reason and leaves nothing."""

    def no_links(source: Any, target: Any) -> None:
        raise OSError(errno.EPERM, os.strerror(errno.EPERM))

    monkeypatch.setattr(sqlite_connection, "os", _OS(link=no_links))
    store = SqliteBackend(root)
    with pytest.raises(StorageError, match=f"cannot create {root / DB_NAME}"):
        store.create(make_session())
    monkeypatch.undo()
    store.close()
    assert sorted(os.listdir(root)) == []


def test_opening_when_the_folder_cannot_be_listed_still_works(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sweep of crash leftovers on open is housekeeping: a failed listing skips it."""
    store = SqliteBackend(root)
    store.create(session := make_session())
    store.close()

    def unlistable(path: Any) -> list[str]:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(sqlite_connection, "os", _OS(listdir=unlistable))
    store = SqliteBackend(root)
    assert store.get(session.id) == session
    store.close()


@pytest.mark.parametrize(
    ("error", "expected", "text"),
    [
        (sqlite3.OperationalError("database is locked"), LockTimeout, "could not lock"),
        (
            sqlite3.OperationalError("attempt to write a readonly database"),
            ReadOnlyStore,
            "cannot write",
        ),
        (sqlite3.OperationalError("disk I/O error"), StorageError, "cannot write"),
        (sqlite3.DatabaseError("database disk image is malformed"), StorageError, "(run doctor)"),
    ],
    ids=["busy", "read-only", "I/O", "malformed"],
)
def test_sqlite_errors_become_the_projects_own(
    root: Path, backend: SqliteBackend, error: sqlite3.Error, expected: type[Exception], text: str
) -> None:
    """Each SQLite error maps to the error a user can act on, naming the database file."""
    with pytest.raises(expected, match=text) as caught, backend._translate("write"):
        raise error
    assert str(root / DB_NAME) in str(caught.value)


def test_backends_left_open_are_closed_at_exit_even_if_one_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The exit hook closes every open store, so only the database file is left at rest; one
    failing to close does not stop the others."""
    failing_root, root = tmp_path / "failing", tmp_path / "store"
    failing, store = SqliteBackend(failing_root), SqliteBackend(root)
    failing.create(make_session())
    store.create(make_session())

    def broken_close() -> None:
        raise StorageError("cannot close")

    monkeypatch.setattr(failing, "close", broken_close)
    monkeypatch.setattr(sqlite_connection, "open_backends", weakref.WeakSet([failing, store]))
    sqlite_connection._close_open_backends()
    assert sorted(os.listdir(root)) == [DB_NAME]
    monkeypatch.undo()
    failing.close()
    assert sorted(os.listdir(failing_root)) == [DB_NAME]


def test_a_version_1_database_gets_its_search_index(root: Path) -> None:
    """Opening a store of schema version 1 (before the search index) for writing upgrades it in
    one transaction, step by step: every session is indexed, the trash table added, and
    user_version becomes 3."""
    old = SqliteBackend(root)
    session = make_session(name="Walrus", messages=[make_message("crème brûlée")])
    old.create(session)
    old.close()
    with closing(sqlite3.connect(root / DB_NAME, isolation_level=None)) as conn:
        search_index.drop(conn)
        conn.execute("PRAGMA user_version = 1")
    upgraded = SqliteBackend(root)
    try:
        hits = upgraded.search(parse("creme"), limit=10)
        assert [(h.session.id, h.message_index) for h in hits] == [(session.id, 0)]
        with closing(sqlite3.connect(root / DB_NAME)) as conn:
            assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
            assert conn.execute("SELECT count(*) FROM trash").fetchone()[0] == 0
    finally:
        upgraded.close()


def test_search_index_written_in_the_same_transaction(
    backend: SqliteBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When indexing fails because the store does (an I/O error, not a damaged index), the
    write it belongs to is rolled back: the two never disagree."""
    session = make_session(messages=[make_message("one")])
    backend.create(session)

    def broken(*args: object) -> bool:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(search_index, "add_message", broken)
    with pytest.raises(StorageError):
        backend.append(session.id, make_message("two"))
    monkeypatch.undo()
    assert [m.content for m in backend.get(session.id).history] == ["one"]
    assert backend.search(parse("two"), limit=10) == []


def test_doctor_indexes_again_what_the_index_lost(backend: SqliteBackend, root: Path) -> None:
    """doctor compares the index with the sessions and indexes again what differs."""
    session = make_session(name="Walrus")
    backend.create(session)
    with closing(sqlite3.connect(root / DB_NAME, isolation_level=None)) as conn:
        conn.execute("DELETE FROM search_session")
    report = backend.check()
    assert "search index: 1 session(s) indexed again" in report.fixed
    assert [h.session.id for h in backend.search(parse("walrus"), limit=10)] == [session.id]


def test_a_version_1_database_that_may_not_be_upgraded_is_searched_in_memory(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A version-1 file this process may not write is left as it is and searched through an
    index built in memory, with the same answers."""
    old = SqliteBackend(root)
    session = make_session(name="Walrus", messages=[make_message("crème brûlée")])
    old.create(session)
    old.close()
    with closing(sqlite3.connect(root / DB_NAME, isolation_level=None)) as conn:
        search_index.drop(conn)
        conn.execute("PRAGMA user_version = 1")
    monkeypatch.setattr(sqlite_connection.os, "access", lambda path, mode: False)
    store = SqliteBackend(root)
    try:
        hits = store.search(parse("creme"), limit=10)
        assert [(h.session.id, h.message_index) for h in hits] == [(session.id, 0)]
        with closing(sqlite3.connect(root / DB_NAME)) as conn:
            assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    finally:
        store.close()


def test_an_index_of_another_version_is_built_again_on_open(root: Path) -> None:
    """A database whose search index was made by another index version is indexed again when
    it is opened for writing, in one transaction."""
    first = SqliteBackend(root)
    session = make_session(name="Walrus", messages=[make_message("narwhal")])
    first.create(session)
    first.close()
    with closing(sqlite3.connect(root / DB_NAME, isolation_level=None)) as conn:
        conn.execute("UPDATE search_meta SET value = 'older' WHERE key = 'version'")
        conn.execute("DELETE FROM search_fts")
    again = SqliteBackend(root)
    try:
        assert [h.message_index for h in again.search(parse("narwhal"), limit=10)] == [0]
        with closing(sqlite3.connect(root / DB_NAME)) as conn:
            assert search_index.version(conn) == search_index.VERSION
    finally:
        again.close()
