"""The backend conformance suite against the built-in ``sqlite`` backend."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from prompt_sessions import Message, SessionManager
from prompt_sessions.errors import CorruptSession, LockTimeout, ReadOnlyStore, StorageError
from prompt_sessions.models import summarize
from prompt_sessions.plugins import PluginHost
from prompt_sessions.storage.sqlite_backend import DB_NAME, SCHEMA_VERSION, SqliteBackend
from prompt_sessions.testing.conformance import (
    BackendConformance,
    BackendFactory,
    ReplaceLastConformance,
    backend_factory_for,
    make_message,
    make_session,
)


class TestSqliteBackendConformance(BackendConformance, ReplaceLastConformance):
    """Every conformance check, on the SQLite store built as users get it (through its plugin)."""

    @pytest.fixture
    def backend_factory(self) -> BackendFactory:
        return backend_factory_for("sqlite")


# ---------------------------------------------------------------------- sqlite-specific promises


def _raw(root: Path) -> closing[sqlite3.Connection]:
    """A plain connection to the store's database, to inspect or damage it as another tool would."""
    return closing(sqlite3.connect(root / DB_NAME, isolation_level=None))


def _manager(root: Path, **kwargs: object) -> SessionManager:
    return SessionManager.open(root, host=PluginHost.create(entry_points=False), **kwargs)  # type: ignore[arg-type]


def test_selected_by_config_toml(tmp_path: Path) -> None:
    """``[storage] backend = "sqlite"`` in config.toml makes the manager use sessions.sqlite3."""
    root = tmp_path / ".prompt_objects"
    root.mkdir()
    (root / "config.toml").write_text('[storage]\nbackend = "sqlite"\n')
    with _manager(root) as mgr:
        assert mgr.backend.name == "sqlite"
        mgr.create("coordinator", "Hello")
    assert (root / DB_NAME).is_file()
    assert not (root / "sessions").exists()


def test_selected_by_open_argument(tmp_path: Path) -> None:
    """``SessionManager.open(path, backend="sqlite")`` overrides the default backend."""
    root = tmp_path / ".prompt_objects"
    with _manager(root, backend="sqlite") as mgr:
        s = mgr.create("coordinator")
        mgr.append(s.id, Message(role="user", content="hi"))
    with _manager(root, backend="sqlite") as mgr:
        assert [m.content for m in mgr.get(s.id).history] == ["hi"]


def test_private_files_wal_mode_and_nothing_else_at_rest(tmp_path: Path) -> None:
    """The database and its WAL side files are 0600, the folder 0700, the journal mode is WAL,
    and after close only the database file remains."""
    root = tmp_path / ".prompt_objects"
    backend = SqliteBackend(root)
    s = make_session()
    backend.create(s)
    backend.append(s.id, make_message("x"))
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    for name in os.listdir(root):
        assert stat.S_IMODE((root / name).stat().st_mode) == 0o600, name
    with _raw(root) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    backend.close()
    assert os.listdir(root) == [DB_NAME]


def test_stray_temp_database_is_swept_on_open(tmp_path: Path) -> None:
    """A temp database left by a creator that crashed is removed when the store is next opened."""
    root = tmp_path / ".prompt_objects"
    SqliteBackend(root).create(make_session())
    stray = root / f".{DB_NAME}.0123456789ab.tmp"
    stray.write_bytes(b"")
    backend = SqliteBackend(root)
    assert len(backend.list()) == 1
    assert not stray.exists()
    backend.close()


def test_native_search_and_fork_match_the_managers_own(tmp_path: Path) -> None:
    """The backend's native search returns exactly what the manager's scan returns, and its
    native fork builds the same session the manager would."""

    class Plain:
        """The same backend without its optional capabilities, so the manager falls back."""

        def __init__(self, inner: SqliteBackend) -> None:
            self._inner = inner

        def __getattr__(self, name: str) -> object:
            if name in ("search", "fork"):
                raise AttributeError(name)
            return getattr(self._inner, name)

    root = tmp_path / ".prompt_objects"
    backend = SqliteBackend(root)
    host = PluginHost.create(entry_points=False)
    native = SessionManager(root, backend, host)
    plain = SessionManager(root, Plain(backend), host)  # type: ignore[arg-type]
    words = ["apple", "Äpfel", "pear", "APPLE pie", "crumble"]
    for n in range(6):
        s = make_session(f"po{n % 2}", f"{words[n % 5]} talk", minute=n * 10)
        backend.create(s)
        for i in range(n * 5):
            backend.append(
                s.id, make_message(f"{words[(i + n) % 5]} number {i} " * (i % 3 + 1), n * 10 + 1, i)
            )
    for query, po in [
        ("apple", None),
        ("äPFEL", None),
        ("pear", "po1"),
        ("number 1", None),
        ("zzz", None),
    ]:
        for limit in (200, 7):
            assert native.search(query, po, limit=limit) == plain.search(query, po, limit=limit)
    source = backend.list()[0]
    forked = native.fork(source.id, at=3, name="Same fork")
    expected = plain.fork(source.id, at=3, name="Same fork")
    assert forked.history == expected.history
    for field in (
        "name",
        "po_name",
        "metadata",
        "source",
        "thread_type",
        "parent_id",
        "parent_message_index",
        "tags",
    ):
        assert getattr(forked, field) == getattr(expected, field), field
    backend.close()


def test_appends_from_several_processes(tmp_path: Path) -> None:
    """Three processes append to one session at once; every message lands exactly once."""
    root = tmp_path / ".prompt_objects"
    backend = SqliteBackend(root)
    s = make_session()
    backend.create(s)
    code = (
        "import sys\n"
        "from prompt_sessions import Message, SessionManager\n"
        "mgr = SessionManager.open(sys.argv[1], backend='sqlite')\n"
        "for i in range(20):\n"
        "    mgr.append(sys.argv[2], Message(role='user', content=f'{sys.argv[3]}-{i}'))\n"
        "mgr.close()\n"
    )
    env = {**os.environ, "PROMPT_SESSIONS_PLUGINS": ""}  # only the built-ins, whatever is installed
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(root), s.id, f"p{n}"], env=env)
        for n in range(3)
    ]
    assert [p.wait() for p in procs] == [0, 0, 0]
    contents = [m.content for m in backend.get(s.id).history]
    assert sorted(contents) == sorted(f"p{n}-{i}" for n in range(3) for i in range(20))
    assert backend.list()[0] == summarize(backend.get(s.id))
    backend.close()


def test_every_returned_append_survives_kill_9(tmp_path: Path) -> None:
    """A writer killed with SIGKILL loses no append that had returned; the store stays readable."""
    root = tmp_path / ".prompt_objects"
    backend = SqliteBackend(root)
    s = make_session()
    backend.create(s)
    code = (
        "import sys\n"
        "from prompt_sessions.storage.sqlite_backend import SqliteBackend\n"
        "from prompt_sessions.models import Message\n"
        "b = SqliteBackend(sys.argv[1])\n"
        "i = 0\n"
        "while True:\n"
        "    b.append(sys.argv[2], Message(role='user', content=f'm{i}'))\n"
        "    print(i, flush=True)\n"
        "    i += 1\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(root), s.id], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    for _ in range(30):
        returned = int(proc.stdout.readline())
    proc.kill()
    proc.wait()
    again = SqliteBackend(root)
    contents = [m.content for m in again.get(s.id).history]
    assert contents[: returned + 1] == [f"m{i}" for i in range(returned + 1)]
    assert again.check().healthy
    again.close()
    backend.close()


def test_busy_store_fails_with_a_lock_timeout(tmp_path: Path) -> None:
    """While another connection holds the write lock, a write fails with LockTimeout naming the
    database instead of hanging."""
    root = tmp_path / ".prompt_objects"
    backend = SqliteBackend(root, lock_timeout=0.05)
    s = make_session()
    backend.create(s)
    raw = sqlite3.connect(root / DB_NAME, isolation_level=None)
    raw.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(LockTimeout) as info:
            backend.append(s.id, make_message("blocked"))
        assert DB_NAME in str(info.value)
        assert backend.get(s.id) == s  # readers do not wait for writers
    finally:
        raw.execute("ROLLBACK")
        raw.close()
    backend.append(s.id, make_message("after"))
    backend.close()


def test_newer_schema_opens_read_only(tmp_path: Path) -> None:
    """A database from a newer version can be read, and refuses writes with a clear message."""
    root = tmp_path / ".prompt_objects"
    SqliteBackend(root).create(s := make_session())
    with _raw(root) as raw:
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    backend = SqliteBackend(root)
    assert backend.get(s.id) == s
    with pytest.raises(ReadOnlyStore, match="newer than this program"):
        backend.append(s.id, make_message("no"))
    backend.close()


def test_damaged_session_stays_local_and_repair_moves_it_aside(tmp_path: Path) -> None:
    """A session with an unreadable message is reported, never silently dropped; the others keep
    working; check(repair=True) saves its rows to damaged/ and removes it."""
    root = tmp_path / ".prompt_objects"
    backend = SqliteBackend(root)
    good = make_session(name="good", messages=[make_message("fine")])
    bad = make_session(name="bad", messages=[make_message("doomed")])
    backend.create(good)
    backend.create(bad)
    with _raw(root) as raw:
        raw.execute(
            "UPDATE messages SET body = ? WHERE session_id = ?", (b'{"role":"robot"', bad.id)
        )
    with pytest.raises(CorruptSession):
        backend.get(bad.id)
    assert backend.get(good.id) == good
    report = backend.check()
    assert set(report.damaged) == {bad.id} and report.sessions == 1
    assert {s.id for s in backend.list()} == {good.id, bad.id}  # reported, still there
    report = backend.check(repair=True)
    (moved,) = report.moved
    assert Path(moved).parent == root / "damaged" and b"robot" in Path(moved).read_bytes()
    assert [s.id for s in backend.list()] == [good.id]
    assert backend.check().healthy
    backend.close()


def test_unreadable_summary_is_a_listed_problem(tmp_path: Path) -> None:
    """list skips a session whose summary cannot be read and names it in problems()."""
    root = tmp_path / ".prompt_objects"
    backend = SqliteBackend(root)
    good, bad = make_session(name="good"), make_session(name="bad")
    backend.create(good)
    backend.create(bad)
    with _raw(root) as raw:
        raw.execute("UPDATE sessions SET summary = ? WHERE id = ?", (b"{not json", bad.id))
    assert [s.id for s in backend.list()] == [good.id]
    assert set(backend.problems()) == {bad.id}
    report = backend.check()  # the messages are fine, so check rebuilds the summary
    assert report.healthy and any(bad.id in line for line in report.fixed)
    assert {s.id for s in backend.list()} == {good.id, bad.id}
    assert backend.problems() == {}
    backend.close()


def test_a_file_that_is_not_a_database_is_reported_and_kept(tmp_path: Path) -> None:
    """A garbage database file makes reads fail with a clear error and doctor report it; the file
    is left exactly as it was."""
    root = tmp_path / ".prompt_objects"
    root.mkdir()
    junk = b"this is not sqlite" * 100
    (root / DB_NAME).write_bytes(junk)
    backend = SqliteBackend(root)
    with pytest.raises(StorageError, match=DB_NAME):
        backend.list()
    report = backend.check(repair=True)
    assert DB_NAME in report.damaged
    assert (root / DB_NAME).read_bytes() == junk
    backend.close()


def test_symlinked_database_is_refused(tmp_path: Path) -> None:
    """The database file is never opened through a symbolic link."""
    root = tmp_path / ".prompt_objects"
    root.mkdir()
    (tmp_path / "elsewhere.db").write_bytes(b"")
    (root / DB_NAME).symlink_to(tmp_path / "elsewhere.db")
    with pytest.raises(StorageError, match="symbolic link"):
        SqliteBackend(root).list()
