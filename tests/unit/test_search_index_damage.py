"""The search index is a cache (DESIGN section 12), in the sqlite store's database and in the
JSON store's ``cache/``: an index whose tables were dropped (FTS5's own ones too) or whose rows
or pages are damaged (a hand edit, a tool that "cleaned" it) never fails a write, never answers
a search wrong without a word, and ``doctor`` reports it while ``doctor --repair`` builds it
again. The sessions themselves are never touched."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from cli_runner import Run

from prompt_sessions.errors import StorageError
from prompt_sessions.manager import SessionManager
from prompt_sessions.models import Message
from prompt_sessions.storage import search_health, search_index
from prompt_sessions.storage.search_cache import CACHE_DIR, CACHE_NAME

BACKENDS = ["json", "sqlite"]
INDEX_TABLES = ["search_fts", "search_doc", "search_session", "search_meta"]
FTS_TABLES = [f"search_fts_{s}" for s in ("data", "idx", "content", "docsize", "config")]
# Hand edits the index cannot see when it opens: SQLite or the index's own look finds them.
HIDDEN_DAMAGE = [
    "DELETE FROM search_fts_config",
    "UPDATE search_fts_data SET block = x'00ff00ff' WHERE id > 1",
    "DELETE FROM search_fts_idx",
    "DELETE FROM search_fts_data WHERE id > 10",
    "DELETE FROM search_fts_content",
    "DELETE FROM search_doc",
    "DELETE FROM search_session",
]


def _index_file(root: Path, backend: str) -> Path:
    return root / "sessions.sqlite3" if backend == "sqlite" else root / CACHE_DIR / CACHE_NAME


def _store(root: Path, backend: str, sessions: int = 2) -> list[str]:
    """Sessions about words, each with a few messages long enough to give FTS5 several pages,
    searched once so the index exists."""
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"][:sessions]
    with SessionManager.open(root, backend=backend) as manager:
        ids = []
        for word in words:
            session = manager.create("po", f"about {word}")
            for k in range(3):
                manager.append(session.id, Message(role="user", content=f"the {word} plan {k}"))
            ids.append(session.id)
        manager.search("plan")
    return ids


def _damage(path: Path, sql: str) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(sql)
    finally:
        conn.close()


def _hits(manager: SessionManager, query: str) -> list[tuple[str, int | None]]:
    found = [(h.session.name, h.message_index) for h in manager.search(query, limit=100)]
    return sorted(found, key=lambda hit: (hit[0], -1 if hit[1] is None else hit[1]))


ALL_PLANS = [(f"about {w}", k) for w in ("alpha", "bravo") for k in range(3)]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("table", INDEX_TABLES + FTS_TABLES)
def test_a_dropped_index_table_is_built_again_when_the_store_opens(
    tmp_path: Path, backend: str, table: str
) -> None:
    """With one of the index's tables gone, FTS5's own ones included (which made every
    statement on the index fail with "vtable constructor failed"), search still finds every
    message, writes still work, and ``doctor`` finds nothing wrong."""
    root = tmp_path / ".prompt_objects"
    ids = _store(root, backend)
    _damage(_index_file(root, backend), f"DROP TABLE {table}")
    with SessionManager.open(root, backend=backend) as manager:
        assert _hits(manager, "plan") == ALL_PLANS
        manager.append(ids[0], Message(role="user", content="a later golf"))
        assert _hits(manager, "golf") == [("about alpha", 3)]
        report = manager.check()
        assert (report.sessions, report.damaged) == (2, {})


@pytest.mark.parametrize("table", INDEX_TABLES + FTS_TABLES)
def test_an_index_table_dropped_while_the_store_is_open_never_fails_a_write(
    tmp_path: Path, table: str
) -> None:
    """The sqlite store keeps its index in the sessions' own transactions: with a table of it
    dropped under an open store, every kind of write still lands (the index is marked to be
    built again), and the next search builds it and finds them all."""
    root = tmp_path / ".prompt_objects"
    ids = _store(root, "sqlite")
    with SessionManager.open(root, backend="sqlite") as manager:
        assert len(_hits(manager, "plan")) == 6
        _damage(_index_file(root, "sqlite"), f"DROP TABLE {table}")
        manager.append(ids[0], Message(role="user", content="a later golf"))
        new = manager.create("po", "about hotel")
        manager.rename(ids[1], "renamed bravo")
        fork = manager.fork(ids[0], at=1, name="forked alpha")
        manager.delete(new.id)
        assert [m.content for m in manager.get(ids[0]).history][-1] == "a later golf"
        assert _hits(manager, "golf") == [("about alpha", 3)]
        assert _hits(manager, "bravo") == [("renamed bravo", None)] + [
            ("renamed bravo", k) for k in range(3)
        ]
        assert _hits(manager, "hotel") == []
        assert ("forked alpha", 0) in _hits(manager, "alpha")
        assert manager.get(fork.id).history[0].content == "the alpha plan 0"
        assert manager.check().damaged == {}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("sql", HIDDEN_DAMAGE)
def test_a_damaged_index_never_answers_wrong_and_is_built_again(
    tmp_path: Path, backend: str, sql: str
) -> None:
    """Rows of the index deleted or damaged by hand made search answer "No matches." (or
    miss hits) with no error: the next search notices, builds the index again and finds every
    message; a write before it lands."""
    root = tmp_path / ".prompt_objects"
    ids = _store(root, backend)
    _damage(_index_file(root, backend), sql)
    with SessionManager.open(root, backend=backend) as manager:
        manager.append(ids[1], Message(role="user", content="a later golf"))
        assert _hits(manager, "plan") == ALL_PLANS
        assert _hits(manager, "golf") == [("about bravo", 3)]
        assert len(manager.get(ids[1]).history) == 4


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("sql", [s for s in HIDDEN_DAMAGE if "idx" not in s and "session" not in s])
def test_doctor_reports_a_damaged_index_and_repair_builds_it_again(
    tmp_path: Path, backend: str, sql: str
) -> None:
    """``doctor`` finds the damage a search may not meet (its full check) and reports it as a
    problem under "search index", naming ``doctor --repair``, which builds the index again;
    then doctor is clean and search finds every message."""
    root = tmp_path / ".prompt_objects"
    _store(root, backend)
    _damage(_index_file(root, backend), sql)
    with SessionManager.open(root, backend=backend) as manager:
        report = manager.check()
        assert list(report.damaged) == [search_health.KEY]
        assert "`prompt-sessions doctor --repair` builds it again" in report.damaged["search index"]
        assert not report.healthy
        report = manager.check(repair=True)
        assert report.damaged == {}
        assert any(line.startswith("search index built again") for line in report.fixed)
        assert manager.check().damaged == {}
        assert _hits(manager, "plan") == ALL_PLANS


@pytest.mark.parametrize("backend", BACKENDS)
def test_doctor_catches_up_an_index_that_lost_its_sessions_records(
    tmp_path: Path, backend: str
) -> None:
    """Sessions' records deleted from the index are only a stale index: plain doctor indexes
    those sessions again (reported as fixed, not as damage)."""
    root = tmp_path / ".prompt_objects"
    _store(root, backend)
    _damage(_index_file(root, backend), "DELETE FROM search_session")
    with SessionManager.open(root, backend=backend) as manager:
        report = manager.check()
        assert report.damaged == {}
        assert "search index: 2 session(s) indexed again" in report.fixed
        assert _hits(manager, "plan") == ALL_PLANS


PAGE_TABLES = [*INDEX_TABLES[1:], *FTS_TABLES, "search_doc_by_session"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("table", PAGE_TABLES)
def test_damaged_index_pages_never_fail_a_write_and_are_built_again(
    tmp_path: Path, backend: str, table: str
) -> None:
    """A page of the index overwritten with garbage (a failing disk, a hand edit in the
    middle of the file): a write still lands, even in the sqlite store where SQLite would fail
    the whole transaction, the store still opens and lists, and the next search builds the
    index again and finds every message, the new one too."""
    root = tmp_path / ".prompt_objects"
    ids = _store(root, backend, sessions=6)
    _overwrite_page(_index_file(root, backend), table)
    with SessionManager.open(root, backend=backend) as manager:
        manager.append(ids[0], Message(role="user", content="a later golf"))
        assert len(manager.get(ids[0]).history) == 4
        assert len(manager.list()) == 6
        assert len(_hits(manager, "plan")) == 18  # 3 messages in each of 6 sessions
        assert _hits(manager, "golf") == [("about alpha", 3)]
        assert manager.check().damaged == {}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("table", ["search_fts_data", "search_meta", "search_doc"])
def test_doctor_reports_damaged_index_pages_and_repair_builds_them_again(
    tmp_path: Path, backend: str, table: str
) -> None:
    """Garbage pages in the index are the index's damage, not the store's: ``doctor`` names
    the search index (not the database file), and ``doctor --repair`` builds it again, after
    which SQLite finds the whole file sound."""
    root = tmp_path / ".prompt_objects"
    _store(root, backend, sessions=6)
    _overwrite_page(_index_file(root, backend), table)
    with SessionManager.open(root, backend=backend) as manager:
        report = manager.check()
        assert list(report.damaged) == [search_health.KEY]
        report = manager.check(repair=True)
        assert report.damaged == {} and report.sessions == 6
        assert manager.check().damaged == {}
        assert len(_hits(manager, "plan")) == 18
    conn = sqlite3.connect(_index_file(root, backend))
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        conn.close()


def _overwrite_page(path: Path, table: str) -> None:
    """Overwrite the root page of ``table`` with garbage, as a failing disk or a hand edit."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        (page,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,))
        (size,) = conn.execute("PRAGMA page_size").fetchone()
        assert page[0] > 1
    finally:
        conn.close()
    with open(path, "r+b") as f:
        f.seek((page[0] - 1) * size)
        f.write(b"\xff" * size)


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_index_that_cannot_be_built_again_is_named_in_one_line(
    tmp_path: Path, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When SQLite cannot build a damaged index again either, search fails with one line
    that says the index is damaged and names doctor, not with SQLite's bare error."""
    root = tmp_path / ".prompt_objects"
    _store(root, backend)
    _damage(_index_file(root, backend), HIDDEN_DAMAGE[1])

    def refuse(*args: object, **kwargs: object) -> None:
        raise search_health.IndexDamage("database disk image is malformed")

    monkeypatch.setattr(search_index, "put_session", refuse)
    with (
        SessionManager.open(root, backend=backend) as manager,
        pytest.raises(StorageError) as caught,
    ):
        manager.search("plan")
    message = caught.value.message
    assert "search index" in message and "damaged" in message and "doctor" in message
    assert "\n" not in message


def test_the_cli_keeps_working_with_an_fts5_table_dropped(run: Run) -> None:
    """The hostile example: `DROP TABLE search_fts_data` in the sqlite store's database made
    `search`, `send` and `doctor` fail with "vtable constructor failed"; all three work."""
    assert run("config", "set", "storage.backend", "sqlite")[0] == 0
    assert run("send", "coordinator", "hello pear")[0] == 0
    _damage(run.store / "sessions.sqlite3", "DROP TABLE search_fts_data")
    code, out, err = run("send", "coordinator", "another pear")
    assert (code, err) == (0, "")
    code, out, err = run("search", "pear")
    assert code == 0 and "another pear" in out and "hello pear" in out
    code, out, err = run("doctor")
    assert code == 0 and "No problems found." in out


def test_the_cli_doctor_exits_1_on_a_damaged_index_and_repair_mends_it(run: Run) -> None:
    """``doctor`` prints the damaged index as one DAMAGED line and exits 1; ``doctor --repair``
    builds it again and exits 0."""
    assert run("config", "set", "storage.backend", "sqlite")[0] == 0
    assert run("send", "coordinator", "hello pear")[0] == 0
    _damage(run.store / "sessions.sqlite3", HIDDEN_DAMAGE[1])
    code, out, _ = run("doctor")
    assert code == 1
    assert [line for line in out.splitlines() if line.startswith("DAMAGED")] == [
        "DAMAGED search index: it cannot be read (database disk image is malformed); "
        "`prompt-sessions doctor --repair` builds it again from the sessions"
    ]
    code, out, _ = run("doctor", "--repair")
    assert code == 0 and "fixed: search index built again (1 session(s))" in out
    assert run("doctor")[0] == 0
    code, out, _ = run("search", "pear")
    assert code == 0 and "hello pear" in out


def test_doctor_reports_an_index_a_write_marked_stale(tmp_path: Path) -> None:
    """A write that met a damaged index marks it stale and lands; doctor, run before any
    search has built it again, reports that as the index's problem and --repair builds it."""
    root = tmp_path / ".prompt_objects"
    ids = _store(root, "sqlite")
    with SessionManager.open(root, backend="sqlite") as manager:
        assert len(manager.list()) == 2  # the store is open: the drop comes under it
        _damage(_index_file(root, "sqlite"), "DROP TABLE search_fts_docsize")
        manager.append(ids[0], Message(role="user", content="a later golf"))
        assert _damage_rows(root, "SELECT value FROM search_meta") == [("stale",)]
        report = manager.check()
        assert report.damaged == {
            "search index": "a write could not update it, so it is marked to be built again; "
            "`prompt-sessions doctor --repair` builds it again from the sessions"
        }
        assert manager.check(repair=True).damaged == {}
        assert _hits(manager, "golf") == [("about alpha", 3)]


def _damage_rows(root: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(root / "sessions.sqlite3")
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_doctor_reports_a_json_cache_that_is_not_a_database(tmp_path: Path) -> None:
    """The JSON store's cache file overwritten with other bytes: doctor says SQLite finds it
    is not a database (a problem of the search index), --repair builds it again."""
    root = tmp_path / ".prompt_objects"
    _store(root, "json")
    _index_file(root, "json").write_bytes(b"not a database at all " * 400)
    with SessionManager.open(root, backend="json") as manager:
        report = manager.check()
        assert list(report.damaged) == ["search index"]
        assert report.damaged["search index"].startswith("SQLite reports damaged pages: ")
        assert "not a database" in report.damaged["search index"]
        assert manager.check(repair=True).damaged == {}
        assert _hits(manager, "plan") == ALL_PLANS
