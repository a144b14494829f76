"""Searching as the user types (search_live, DESIGN sections 10 and 12): a first page of hits,
unranked and newest first, read from the index as it stands; then the ranked hits, the same as
``SessionManager.search``, which a newer query can cancel."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from prompt_sessions import search_live
from prompt_sessions.errors import UsageError
from prompt_sessions.manager import SessionManager
from prompt_sessions.models import Message
from prompt_sessions.plugins import PluginHost
from prompt_sessions.search_live import SearchCancelled
from prompt_sessions.search_query import QueryError
from prompt_sessions.storage import search_cache
from prompt_sessions.storage.session_codec import encode_session


def _keys(hits: list) -> list[tuple[str, int | None]]:
    return [(h.session.id, h.message_index) for h in hits]


def _seed(manager: SessionManager) -> tuple[str, str]:
    """An older session whose message ranks best for "walrus", and a newer one that ranks lower."""
    old = manager.create("po", "Zoo")
    manager.append(old.id, Message(role="user", content="walrus walrus walrus"))
    new = manager.create("other", "Beach")
    manager.append(
        new.id,
        Message(role="user", content="a walrus was seen on the beach among many other animals"),
    )
    manager.append(new.id, Message(role="assistant", content="no walrus here, only seals today"))
    return old.id, new.id


def test_first_page_is_none_before_any_index_exists(manager: SessionManager) -> None:
    """With no cache yet the first page has nothing to read (None, not an empty answer), and
    reading never creates the cache."""
    _seed(manager)
    assert search_live.first_page(manager, "walrus", limit=10) is None
    assert not (manager.backend.root / "cache").exists()  # type: ignore[attr-defined]


@pytest.fixture(params=["json", "sqlite"])
def store(request: pytest.FixtureRequest, root: Path, host: PluginHost) -> Iterator[SessionManager]:
    """A manager on each store that keeps a search index: the JSON store's cache, sqlite's own."""
    manager = SessionManager.open(root, host=host, backend=request.param)
    yield manager
    manager.close()


def test_first_page_finds_what_search_finds_newest_first(store: SessionManager) -> None:
    """Once indexed, the first page holds the same hits as the ranked search, newest first,
    on either store; the ranked search puts the best match first."""
    manager = store
    old, new = _seed(manager)
    ranked = manager.search("walrus")
    assert _keys(ranked)[0] == (old, 0)
    first = search_live.first_page(manager, "walrus", limit=10)
    assert first is not None
    assert set(_keys(first)) == set(_keys(ranked))
    assert _keys(first) == [(new, 1), (new, 0), (old, 0)]
    assert first[0].snippet == "no walrus here, only seals today"
    assert first[0].spans == [(3, 9)]
    assert first[0].session == manager.get(new).summary()


def test_first_page_applies_limit_filters_and_po(store: SessionManager) -> None:
    """The limit, the query's filters and ``po_name`` mean what they mean for search, on
    either store."""
    manager = store
    old, new = _seed(manager)
    manager.search("walrus")
    assert _keys(search_live.first_page(manager, "walrus", limit=1) or []) == [(new, 1)]
    both = search_live.first_page(manager, "walrus role:user", limit=10) or []
    assert _keys(both) == [(new, 0), (old, 0)]
    only = search_live.first_page(manager, "walrus", "po", limit=10) or []
    assert _keys(only) == [(old, 0)]
    assert search_live.first_page(manager, "walrus -seals", limit=10) is not None
    assert _keys(search_live.first_page(manager, "walrus -seals", limit=10) or []) == [
        (new, 0),
        (old, 0),
    ]


def test_first_page_within_a_time_bound_gives_what_it_found_by_then(
    manager: SessionManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``within`` spent (here none at all, the clock looked at every SQLite step) the
    first page is what was found by then, here nothing, instead of an error; the next page
    without a bound finds everything, so the connection was left as it was."""
    _seed(manager)
    manager.search("walrus")
    monkeypatch.setattr(search_live, "CHECK_STEPS", 1)
    assert search_live.first_page(manager, "walrus", limit=10, within=0) == []
    assert len(search_live.first_page(manager, "walrus", limit=10) or []) == 3
    assert len(search_live.first_page(manager, "walrus", limit=10, within=60) or []) == 3


def test_first_page_rejects_what_search_rejects(manager: SessionManager) -> None:
    """A malformed query and a bad limit get the same one-line errors as search."""
    with pytest.raises(QueryError, match="quote"):
        search_live.first_page(manager, '"open', limit=5)
    with pytest.raises(UsageError, match="limit"):
        search_live.first_page(manager, "walrus", limit=0)
    with pytest.raises(UsageError, match="UTF-8"):
        search_live.first_page(manager, "walrus \udcff", limit=5)


def test_first_page_reads_the_index_as_it_stands_and_ranked_catches_up(
    manager: SessionManager, root: Path
) -> None:
    """A file changed behind the store's back: the first page still answers from the index as
    it was; the ranked search notices the change, and the next first page shows it too."""
    old, _ = _seed(manager)
    manager.search("walrus")
    edited = manager.get(old)
    edited.history[0].content = "narwhal only"
    path = root / "sessions" / f"{old}.json"
    path.write_bytes(encode_session(edited))
    os.utime(path, ns=(1, 1))
    assert search_live.first_page(manager, "narwhal", limit=5) == []
    assert _keys(search_live.ranked(manager, "narwhal", limit=5)) == [(old, 0)]
    assert _keys(search_live.first_page(manager, "narwhal", limit=5) or []) == [(old, 0)]


def test_ranked_is_search_and_cancelled_stops_it(
    manager: SessionManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ranked hits equal SessionManager.search's; a search already cancelled raises
    SearchCancelled, and one cancelled while SQLite runs its query stops there (SQLite asks at
    every step here); neither harms the next, which still uses the cache file."""
    monkeypatch.setattr(search_cache, "CANCEL_STEPS", 1)
    _seed(manager)
    for i in range(30):
        s = manager.create("po", f"Bulk {i}")
        manager.append(s.id, Message(role="user", content=f"walrus number {i} " * 20))
    expected = manager.search("walrus", limit=7)
    assert search_live.ranked(manager, "walrus", limit=7, cancelled=lambda: False) == expected
    with pytest.raises(SearchCancelled):
        search_live.ranked(manager, "walrus", limit=7, cancelled=lambda: True)
    asked = []

    def soon() -> bool:
        asked.append(1)
        return len(asked) > 1  # false when the search starts, true once SQLite asks

    with pytest.raises(SearchCancelled):
        search_live.ranked(manager, "walrus", limit=7, cancelled=soon)
    assert len(asked) > 1
    assert search_live.ranked(manager, "walrus", limit=7) == expected
    assert manager.backend.search_cache._memory is None  # type: ignore[attr-defined]


def test_sqlite_store_ranks_as_search_and_reads_its_first_page_beside_it(
    root: Path, host: PluginHost
) -> None:
    """The sqlite store (its index inside the database) answers a first page at once, on a
    connection of its own, while its own connection is inside a read; the ranked hits are its
    search's."""
    manager = SessionManager.open(root, host=host, backend="sqlite")
    try:
        old, new = _seed(manager)
        pages: list = []
        with manager.backend._reading():  # type: ignore[attr-defined]
            # Another thread: the store's lock is held here until the page is in.
            reader = threading.Thread(
                target=lambda: pages.append(search_live.first_page(manager, "walrus", limit=5))
            )
            reader.start()
            reader.join(timeout=30)
            assert not reader.is_alive(), "the first page waited for the store's connection"
        assert _keys(pages[0] or []) == [(new, 1), (new, 0), (old, 0)]
        hits = search_live.ranked(manager, "walrus", limit=5, cancelled=lambda: False)
        assert hits == manager.search("walrus", limit=5)
        assert _keys(hits)[0] == (old, 0)
    finally:
        manager.close()
