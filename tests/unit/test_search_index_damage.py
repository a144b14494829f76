"""The search index is a cache (DESIGN section 12), in the sqlite store's database and in the
JSON store's ``cache/``: an index whose tables were dropped or whose pages are damaged (a hand
edit, a tool that "cleaned" it) still searches, takes writes, and ``doctor`` builds it again
instead of failing. The sessions themselves are never touched."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from prompt_sessions.manager import SessionManager
from prompt_sessions.models import Message


def _store(root: Path) -> list[str]:
    with SessionManager.open(root, backend="sqlite") as manager:
        ids = []
        for word in ("alpha", "bravo"):
            session = manager.create("po", f"about {word}")
            manager.append(session.id, Message(role="user", content=f"the {word} plan"))
            ids.append(session.id)
    return ids


def _damage(root: Path, sql: str) -> None:
    conn = sqlite3.connect(root / "sessions.sqlite3", isolation_level=None)
    conn.execute(sql)
    conn.close()


def _hits(manager: SessionManager, query: str) -> list[tuple[str, int | None]]:
    return sorted((h.session.name, h.message_index) for h in manager.search(query))


@pytest.mark.parametrize("table", ["search_fts", "search_doc", "search_session", "search_meta"])
def test_a_dropped_index_table_is_built_again_when_the_store_opens(
    tmp_path: Path, table: str
) -> None:
    """With one of the index's tables gone, search still finds every message, writes still
    work, and ``doctor`` reports nothing wrong with the sessions."""
    root = tmp_path / ".prompt_objects"
    ids = _store(root)
    _damage(root, f"DROP TABLE {table}")
    with SessionManager.open(root, backend="sqlite") as manager:
        assert _hits(manager, "plan") == [("about alpha", 0), ("about bravo", 0)]
        manager.append(ids[0], Message(role="user", content="a later charlie"))
        assert _hits(manager, "charlie") == [("about alpha", 1)]
        report = manager.check()
        assert (report.sessions, report.damaged) == (2, {})


def test_damaged_index_pages_are_built_again_by_doctor(tmp_path: Path) -> None:
    """Index pages SQLite calls malformed make ``doctor`` build the index again from the
    sessions (reported as fixed) instead of failing; then search and writes work."""
    root = tmp_path / ".prompt_objects"
    ids = _store(root)
    _damage(root, "UPDATE search_fts_data SET block = x'00ff00ff' WHERE id > 1")
    with SessionManager.open(root, backend="sqlite") as manager:
        report = manager.check()
        assert any("search index built again" in line for line in report.fixed)
        assert report.damaged == {}
        assert _hits(manager, "plan") == [("about alpha", 0), ("about bravo", 0)]
        manager.append(ids[1], Message(role="user", content="a later delta"))
        assert _hits(manager, "delta") == [("about bravo", 1)]
        assert len(manager.get(ids[0]).history) == 1


@pytest.mark.parametrize(
    "table", ["search_fts", "search_doc", "search_session", "search_meta", "search_fts_data"]
)
def test_the_json_stores_cache_with_a_table_gone_is_built_again_on_search(
    tmp_path: Path, table: str
) -> None:
    """The JSON store's cache (``cache/search.sqlite3``) with one of its tables dropped, even
    a table FTS5 keeps for itself: the next search builds the cache again and finds every
    message, instead of failing with SQLite's error."""
    root = tmp_path / ".prompt_objects"
    with SessionManager.open(root) as manager:
        for word in ("alpha", "bravo"):
            session = manager.create("po", f"about {word}")
            manager.append(session.id, Message(role="user", content=f"the {word} plan"))
        assert len(_hits(manager, "plan")) == 2
    conn = sqlite3.connect(root / "cache" / "search.sqlite3", isolation_level=None)
    conn.execute(f"DROP TABLE {table}")
    conn.close()
    with SessionManager.open(root) as manager:
        assert _hits(manager, "plan") == [("about alpha", 0), ("about bravo", 0)]
        assert manager.check().fixed == []
