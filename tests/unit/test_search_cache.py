"""The JSON store's search index is a cache (DESIGN section 12): built when missing, kept in step
by writes, caught up when stale or of another version, checked by doctor, never needed."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from prompt_sessions.errors import StorageError
from prompt_sessions.manager import SessionManager
from prompt_sessions.models import Message
from prompt_sessions.storage import search_index
from prompt_sessions.storage.search_cache import CACHE_DIR, CACHE_NAME
from prompt_sessions.storage.session_codec import encode_session


def _cache(root: Path) -> Path:
    return root / CACHE_DIR / CACHE_NAME


def _rows(root: Path, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(_cache(root))) as conn:
        return conn.execute(sql).fetchall()


def _found(manager: SessionManager, query: str) -> set[tuple[str, int | None]]:
    return {(h.session.id, h.message_index) for h in manager.search(query)}


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_first_search_builds_a_private_cache_and_deleting_it_loses_nothing(
    manager: SessionManager, root: Path
) -> None:
    """The first search builds cache/search.sqlite3 (mode 0600); with cache/ deleted the next
    search builds it again and answers the same."""
    s = manager.create("po", "Walrus notes")
    manager.append(s.id, Message(role="user", content="the walrus sings"))
    assert not _cache(root).exists()
    first = manager.search("walrus")
    assert {(h.session.id, h.message_index) for h in first} == {(s.id, None), (s.id, 0)}
    assert stat.S_IMODE(os.stat(_cache(root)).st_mode) == 0o600
    manager.backend.search_cache.close()  # type: ignore[attr-defined]
    for path in (root / CACHE_DIR).iterdir():
        path.unlink()
    (root / CACHE_DIR).rmdir()
    assert manager.search("walrus") == first
    assert _cache(root).exists()


def test_writes_update_an_existing_cache(manager: SessionManager, root: Path) -> None:
    """Create, append, rename and delete change the cache as they write, not at the next search."""
    (root / "sessions").mkdir(parents=True, mode=0o700)  # a store, empty: search makes a cache
    manager.search("anything")  # builds the (empty) cache
    s = manager.create("po", "First name")
    manager.append(s.id, Message(role="user", content="hello there"))
    manager.rename(s.id, "Second name")
    assert sorted(_rows(root, "SELECT message_index, text FROM search_doc"), key=str) == sorted(
        [(None, "Second name"), (0, "hello there")], key=str
    )
    stamp = _rows(root, "SELECT stamp FROM search_session")[0][0]
    assert stamp == search_index.stamp_of(manager.list()[0])
    manager.delete(s.id)
    assert _rows(root, "SELECT count(*) FROM search_doc") == [(0,)]


def test_a_file_changed_by_another_program_is_indexed_again(
    manager: SessionManager, root: Path
) -> None:
    """A session file rewritten behind the store's back is noticed (its summary differs from
    the cache's stamp): the search finds the new text, not the old."""
    s = manager.create("po", "Notes")
    manager.append(s.id, Message(role="user", content="old words"))
    assert _found(manager, "old") == {(s.id, 0)}
    edited = manager.get(s.id)
    edited.history[0].content = "new words"
    edited.history.append(Message(role="assistant", content="more new words"))
    path = root / "sessions" / f"{s.id}.json"
    _replace_file(path, encode_session(edited))
    os.utime(path, ns=(1, 1))  # a different mtime, whatever the clock's resolution
    assert _found(manager, "old") == set()
    assert _found(manager, "new") == {(s.id, 0), (s.id, 1)}


def test_a_write_whose_cache_update_failed_is_caught_up(
    manager: SessionManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cache failure never fails the write; the next search notices the stale stamp."""
    s = manager.create("po", "Notes")
    manager.search("notes")

    def broken(*args: object) -> bool:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(search_index, "add_message", broken)
    manager.append(s.id, Message(role="user", content="a walrus appears"))
    monkeypatch.undo()
    assert _found(manager, "walrus") == {(s.id, 0)}


def test_an_index_of_another_version_is_rebuilt(manager: SessionManager, root: Path) -> None:
    """A cache written by another index version (or Unicode database) is dropped and rebuilt."""
    s = manager.create("po", "Walrus")
    manager.search("walrus")
    manager.backend.search_cache.close()  # type: ignore[attr-defined]
    with closing(sqlite3.connect(_cache(root))) as conn:
        conn.execute("UPDATE search_meta SET value = 'older' WHERE key = 'version'")
        conn.execute("DELETE FROM search_fts")
        conn.commit()
    assert _found(manager, "walrus") == {(s.id, None)}
    assert _rows(root, "SELECT value FROM search_meta") == [(search_index.VERSION,)]


def test_a_cache_that_cannot_be_written_falls_back_to_memory(
    manager: SessionManager, root: Path
) -> None:
    """When cache/ cannot be made (here a file is in its place) searches index in memory with
    the same answers, and the store itself is not written by reading."""
    s = manager.create("po", "Walrus")
    manager.append(s.id, Message(role="user", content="crème brûlée"))
    manager.flush()
    (root / CACHE_DIR).write_text("not a folder")
    before = _tree(root)
    assert _found(manager, "creme") == {(s.id, 0)}
    assert _found(manager, "walrus") == {(s.id, None)}
    assert _tree(root) == before


def test_progress_is_reported_while_catching_up(manager: SessionManager) -> None:
    """A search that indexes sessions reports (done, total) until done == total; one with
    nothing to index reports nothing."""
    for i in range(3):
        manager.create("po", f"Session {i}")
    seen: list[tuple[int, int]] = []
    manager.search("session", progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1] == (3, 3)
    seen.clear()
    manager.search("session", progress=lambda done, total: seen.append((done, total)))
    assert seen == []


def test_another_process_sees_writes(open_manager: Callable[[], SessionManager]) -> None:
    """Two managers on one folder: each one's writes are found by the other's next search."""
    a, b = open_manager(), open_manager()
    s = a.create("po", "Shared")
    assert _found(b, "shared") == {(s.id, None)}
    a.append(s.id, Message(role="user", content="walrus"))
    assert _found(b, "walrus") == {(s.id, 0)}
    b.append(s.id, Message(role="user", content="narwhal"))
    assert _found(a, "narwhal") == {(s.id, 1)}


def test_a_cache_made_by_another_process_is_kept_in_step_within_a_second(
    open_manager: Callable[[], SessionManager], root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process that found no cache looks again at most once a second: its appends in that
    second miss a cache another process has just made, that process's next search catches them
    up, and once the second is over the appends update the cache as they write."""
    from prompt_sessions.storage import json_backend

    clock = [1000.0]
    monkeypatch.setattr(json_backend.time, "monotonic", lambda: clock[0])
    a, b = open_manager(), open_manager()
    s = a.create("po", "Shared")
    a.append(s.id, Message(role="user", content="walrus"))  # no cache: a stops looking for it
    assert _found(b, "walrus") == {(s.id, 0)}  # b's search makes the cache
    a.append(s.id, Message(role="user", content="narwhal"))
    assert _rows(root, "SELECT count(*) FROM search_doc WHERE text = 'narwhal'") == [(0,)]
    assert _found(b, "narwhal") == {(s.id, 1)}  # caught up before answering
    clock[0] += json_backend.SEARCH_CACHE_LOOK_SECONDS
    a.append(s.id, Message(role="user", content="beluga"))
    assert _rows(root, "SELECT count(*) FROM search_doc WHERE text = 'beluga'") == [(1,)]


def test_doctor_brings_the_cache_up_to_date_and_repair_rebuilds_it(
    manager: SessionManager, root: Path
) -> None:
    """doctor indexes what the cache is missing; doctor --repair builds it afresh."""
    s = manager.create("po", "Walrus")
    manager.search("walrus")
    with closing(sqlite3.connect(_cache(root))) as conn:
        conn.execute("DELETE FROM search_session")
        conn.commit()
    report = manager.check()
    assert "search index: 1 session(s) indexed again" in report.fixed
    report = manager.check(repair=True)
    assert "search index rebuilt (1 sessions)" in report.fixed
    assert _found(manager, "walrus") == {(s.id, None)}


def test_a_cache_file_that_is_not_a_database_is_replaced(
    manager: SessionManager, root: Path
) -> None:
    """Garbage in place of the cache is thrown away and the cache built again."""
    s = manager.create("po", "Walrus")
    (root / CACHE_DIR).mkdir()
    _cache(root).write_bytes(b"this is not a database, just bytes " * 100)
    assert _found(manager, "walrus") == {(s.id, None)}
    assert _rows(root, "SELECT count(*) FROM search_session") == [(1,)]


def test_searching_while_another_thread_writes_does_not_deadlock(manager: SessionManager) -> None:
    """A search thread (the explorer's worker) and a writing thread share one manager: the
    cache's locks never wait on each other in a cycle."""
    import threading

    s = manager.create("po", "Walrus")
    manager.search("walrus")
    stop = threading.Event()
    errors: list[BaseException] = []

    def searcher() -> None:
        try:
            while not stop.is_set():
                manager.search("walrus")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=searcher)
    thread.start()
    for i in range(60):
        manager.append(s.id, Message(role="user", content=f"walrus {i}"))
    stop.set()
    thread.join(timeout=30)
    assert not thread.is_alive() and errors == []
    assert len(manager.search("walrus", limit=500)) == 20  # the name and 19 messages: the cap


def test_commands_that_never_search_do_not_load_the_cache(root: Path) -> None:
    """The JSON store finds its cache where SearchCache keeps it, and makes no cache object
    until a write meets an existing cache or a search runs."""
    from prompt_sessions.storage.json_backend import JsonBackend
    from prompt_sessions.storage.search_cache import SearchCache

    backend = JsonBackend(root)
    try:
        assert backend._search_cache_file == SearchCache(root, list, print).path
        backend.create(corpus_session())
        assert backend._search_cache is None and not _cache(root).exists()
    finally:
        backend.close()


def corpus_session():  # a small session for the store-level tests above
    from prompt_sessions.testing.conformance import make_message, make_session

    return make_session(messages=[make_message("hello")])


def test_without_fts5_search_says_so_in_one_line(
    manager: SessionManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Python whose SQLite lacks FTS5 gets a storage error naming what is missing, and
    writes still work."""
    monkeypatch.setattr(search_index, "fts5_available", lambda: False)
    s = manager.create("po", "Walrus")
    manager.append(s.id, Message(role="user", content="still stored"))
    with pytest.raises(StorageError, match="search needs SQLite's FTS5"):
        manager.search("walrus")
    assert [m.content for m in manager.get(s.id).history] == ["still stored"]


def _replace_file(path: Path, data: bytes) -> None:
    """Write ``path`` as editors, sync tools and ``cp``-then-rename do: a new file renamed
    over it (what ``list`` notices; an edit in place is noticed by ``doctor`` and ``get``)."""
    new = path.with_name(path.name + ".new")
    new.write_bytes(data)
    os.chmod(new, 0o600)
    os.replace(new, path)
