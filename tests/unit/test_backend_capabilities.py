"""Optional backend capabilities are declared Protocols: each built-in backend has exactly the
ones it implements, and the manager uses a capability only where it is declared."""

from __future__ import annotations

from pathlib import Path

import pytest

from prompt_sessions.manager import SessionManager
from prompt_sessions.models import Message
from prompt_sessions.plugins import PluginHost
from prompt_sessions.runtime.watcher import watch_target
from prompt_sessions.storage import base
from prompt_sessions.storage.json_backend import JsonBackend
from prompt_sessions.storage.sqlite_backend import SqliteBackend

CAPABILITIES = {
    "SupportsOpen": base.SupportsOpen,
    "SupportsFork": base.SupportsFork,
    "SupportsSearch": base.SupportsSearch,
    "SupportsRawRead": base.SupportsRawRead,
    "SupportsPaths": base.SupportsPaths,
    "SingleFileStore": base.SingleFileStore,
    "SupportsChanges": base.SupportsChanges,
    "SupportsTrash": base.SupportsTrash,
    "SupportsTrashUpdate": base.SupportsTrashUpdate,
}


@pytest.mark.parametrize(
    ("backend", "expected"),
    [
        (
            JsonBackend,
            {
                "SupportsOpen",
                "SupportsRawRead",
                "SupportsPaths",
                "SupportsSearch",
                "SupportsTrash",
                "SupportsTrashUpdate",
            },
        ),
        (
            SqliteBackend,
            {
                "SupportsFork",
                "SupportsSearch",
                "SingleFileStore",
                "SupportsTrash",
                "SupportsTrashUpdate",
            },
        ),
    ],
    ids=["json", "sqlite"],
)
def test_builtin_backends_declare_what_they_have(
    tmp_path: Path, backend: type, expected: set[str]
) -> None:
    """isinstance against each capability Protocol matches what the backend implements."""
    store = backend(tmp_path, lock_timeout=1.0)
    try:
        assert isinstance(store, base.StorageBackend)
        have = {name for name, proto in CAPABILITIES.items() if isinstance(store, proto)}
        assert have == expected
    finally:
        store.close()


def test_watcher_follows_the_database_file_of_a_single_file_store(tmp_path: Path) -> None:
    """A SingleFileStore is watched through its database file; others through sessions/."""
    sqlite = SqliteBackend(tmp_path, lock_timeout=1.0)
    json = JsonBackend(tmp_path, lock_timeout=1.0)
    try:
        folder, relevant = watch_target(sqlite, tmp_path)
        assert folder == sqlite.db_path.parent
        assert relevant(str(sqlite.db_path) + "-wal") and not relevant(str(tmp_path / "x.json"))
        assert watch_target(json, tmp_path)[0] == tmp_path / "sessions"
    finally:
        sqlite.close()
        json.close()


@pytest.mark.parametrize("backend", ["json", "sqlite"])
def test_fork_and_search_give_the_same_answers_with_or_without_native_support(
    tmp_path: Path, backend: str
) -> None:
    """Native fork and search (sqlite) and the manager's own (json) agree on the result."""
    host = PluginHost.create(entry_points=False)
    with SessionManager.open(tmp_path / backend, host=host, backend=backend, config={}) as mgr:
        session = mgr.create("po", "Source")
        for text in ("alpha one", "beta two", "alpha three"):
            mgr.append(
                session.id, Message(role="user", content=text, created_at=session.created_at)
            )
        fork = mgr.fork(session.id, at=2)
        assert [m.content for m in mgr.get(fork.id).history] == ["alpha one", "beta two"]
        assert (fork.parent_id, fork.parent_message_index, fork.thread_type) == (
            session.id,
            2,
            "fork",
        )
        hits = mgr.search("alpha")
        assert sorted((h.session.name, h.message_index) for h in hits) == [
            ("Source", 0),
            ("Source", 2),
            ("Source (fork)", 0),
        ]
        assert (mgr.session_path(session.id) is not None) == (backend == "json")
