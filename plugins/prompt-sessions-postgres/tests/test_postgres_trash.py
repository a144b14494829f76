"""The trash on PostgreSQL (DESIGN section 14): the capability, the in-place upgrade of an
older schema, live sync of a delete and a restore, the CLI, and ``migrate`` of the trash."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
from pg_support import open_manager, schema_for, write_config
from prompt_sessions_postgres.schema import SCHEMA_VERSION

from prompt_sessions import Message
from prompt_sessions.errors import StorageError
from prompt_sessions.storage.base import SupportsTrash, SupportsTrashCopy


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("prompt-sessions")), "--dir", str(root), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
    )


def _version(dsn: str, schema: str) -> str:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            f"SELECT value FROM \"{schema}\".meta WHERE key = 'schema_version'"
        ).fetchone()
    assert row is not None
    return str(row[0])


def test_the_backend_has_a_trash(tmp_path: Path, pg_dsn: str) -> None:
    """The postgres backend declares the trash and the trash copy, so delete keeps sessions
    restorable and the trash conformance cases run on it in full."""
    with open_manager(write_config(tmp_path / "env", pg_dsn)) as mgr:
        assert isinstance(mgr.backend, SupportsTrash)
        assert isinstance(mgr.backend, SupportsTrashCopy)
        s = mgr.create("coordinator", "Kept in the bin")
        mgr.append(s.id, Message(role="user", content="hello"))
        before = mgr.get(s.id)
        mgr.delete(s.id)
        assert mgr.list() == []
        assert [e.summary.id for e in mgr.trashed()] == [s.id]
        assert mgr.restore("Kept").summary.id == s.id
        assert mgr.get(s.id) == before


def _downgrade_to_version_2(dsn: str, schema: str) -> None:
    """Make the store look as version 2 left it: no trash tables."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            f'DROP TABLE "{schema}".trash_messages, "{schema}".trash;'
            f"UPDATE \"{schema}\".meta SET value = '2' WHERE key = 'schema_version'"
        )


def test_an_older_schema_is_upgraded_in_place_by_the_first_write(
    tmp_path: Path, pg_dsn: str
) -> None:
    """A version-2 store (before the trash) reads as an empty trash without being changed;
    the first delete upgrades it in place, keeping every session, and the trash then works."""
    root = write_config(tmp_path / "env", pg_dsn)
    schema = schema_for(root)
    with open_manager(root) as mgr:
        keep = mgr.create("coordinator", "Keep")
        mgr.append(keep.id, Message(role="user", content="stays"))
        drop = mgr.create("coordinator", "Drop")
        mgr.append(drop.id, Message(role="user", content="goes"))
        before = {s.id: mgr.get(s.id) for s in mgr.list()}
    _downgrade_to_version_2(pg_dsn, schema)
    with open_manager(root) as mgr:
        assert mgr.trashed() == []
        assert {s.id: mgr.get(s.id) for s in mgr.list()} == before
        assert _version(pg_dsn, schema) == "2"  # reads never write
        mgr.delete(drop.id)
        assert _version(pg_dsn, schema) == str(SCHEMA_VERSION)
        assert [s.id for s in mgr.list()] == [keep.id]
        assert mgr.get(keep.id) == before[keep.id]
        assert [e.summary.id for e in mgr.trashed()] == [drop.id]
        mgr.restore(drop.id)
        assert {s.id: mgr.get(s.id) for s in mgr.list()} == before


async def test_other_clients_hear_a_delete_and_a_restore(tmp_path: Path, pg_dsn: str) -> None:
    """A listener on one machine is told when another deletes a session and when it restores
    it; its list and trash then show the change."""
    here_root = write_config(tmp_path / "a", pg_dsn, schema="live_trash")
    there_root = write_config(tmp_path / "b", pg_dsn, schema="live_trash")
    calls: list[int] = []

    async def on_change() -> None:
        calls.append(1)

    async def after(n: int) -> None:
        for _ in range(500):
            if len(calls) > n:
                return
            await asyncio.sleep(0.02)
        raise AssertionError("no change heard")

    with open_manager(here_root) as here, open_manager(there_root) as there:
        s = here.create("coordinator", "Shared")
        listener = here.backend.change_watcher(on_change, debounce_ms=30)
        listener.start()
        try:
            await asyncio.wait_for(listener.connected.wait(), 10)
            await asyncio.to_thread(there.delete, s.id)
            await after(0)
            assert here.list() == [] and [e.summary.id for e in here.trashed()] == [s.id]
            heard = len(calls)
            await asyncio.to_thread(there.restore, s.id)
            await after(heard)
            assert [x.id for x in here.list()] == [s.id] and here.trashed() == []
            heard = len(calls)
            await asyncio.to_thread(there.delete, s.id)
            await after(heard)
            heard = len(calls)
            await asyncio.to_thread(there.empty_trash)
            await after(heard)  # emptying the trash is announced too
            assert here.trashed() == []
        finally:
            await listener.stop()


def test_cli_delete_trash_restore_and_empty(tmp_path: Path, pg_dsn: str) -> None:
    """new, send, delete, trash, restore, trash --empty --yes through the CLI on postgres: a
    restored session shows the same messages; an emptied one is gone from the server."""
    root = write_config(tmp_path / "env", pg_dsn)
    schema = schema_for(root)
    assert _cli(root, "new", "coordinator", "--name", "Walrus plan").returncode == 0
    sent = _cli(root, "send", "coordinator", "café ☕ plans", "--session", "Walrus plan")
    assert sent.returncode == 0, sent.stderr
    shown = _cli(root, "show", "Walrus plan", "--json").stdout
    deleted = _cli(root, "delete", "Walrus plan", "--yes")
    assert deleted.returncode == 0, deleted.stderr
    assert "restore" in deleted.stdout + deleted.stderr
    assert json.loads(_cli(root, "list", "--json").stdout) == []
    (entry,) = json.loads(_cli(root, "trash", "--json").stdout)
    assert entry["name"] == "Walrus plan"
    assert _cli(root, "search", "walrus", "--json").stdout.strip() == "[]"
    restored = _cli(root, "restore", "Walrus")
    assert restored.returncode == 0, restored.stderr
    assert _cli(root, "show", "Walrus plan", "--json").stdout == shown
    assert _cli(root, "delete", "Walrus plan", "--yes").returncode == 0
    again = _cli(root, "restore", "nothing-like-it")
    assert again.returncode == 1 and again.stderr.startswith("Error:")
    emptied = _cli(root, "trash", "--empty", "--yes")
    assert emptied.returncode == 0, emptied.stderr
    assert json.loads(_cli(root, "trash", "--json").stdout) == []
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        counts = conn.execute(
            f'SELECT (SELECT count(*) FROM "{schema}".trash), '
            f'(SELECT count(*) FROM "{schema}".trash_messages), '
            f'(SELECT count(*) FROM "{schema}".messages)'
        ).fetchone()
    assert counts == (0, 0, 0)


def test_migrate_copies_the_trash_to_and_from_postgres(tmp_path: Path, pg_dsn: str) -> None:
    """json -> postgres -> sqlite -> json through the CLI with trashed sessions: each trash
    holds the same sessions with the same deletion times and contents, a re-run copies none
    twice, and a session restored at the end equals the one deleted at the start."""
    src = tmp_path / "json"
    src.mkdir()
    (src / "config.toml").write_text('[storage.postgres]\nschema = "trash_trip"\n')
    assert _cli(src, "new", "coordinator", "--name", "Live").returncode == 0
    assert _cli(src, "new", "coordinator", "--name", "Binned").returncode == 0
    assert _cli(src, "send", "coordinator", "ünï \x1b[2J", "--session", "Binned").returncode == 0
    shown = _cli(src, "show", "Binned", "--json").stdout
    assert _cli(src, "delete", "Binned", "--yes").returncode == 0
    trash = json.loads(_cli(src, "trash", "--json").stdout)

    to_pg = _cli(src, "migrate", "--to", "postgres", "--dsn", pg_dsn)
    assert to_pg.returncode == 0, to_pg.stdout + to_pg.stderr
    assert "1 in the trash: 1 copied to the trash, 0 already there" in to_pg.stdout
    again = _cli(src, "migrate", "--to", "postgres", "--dsn", pg_dsn)
    assert "1 in the trash: 0 copied to the trash, 1 already there" in again.stdout

    pg_env = write_config(tmp_path / "pg", pg_dsn, schema="trash_trip")
    assert json.loads(_cli(pg_env, "trash", "--json").stdout) == trash
    sqlite_dir = tmp_path / "sqlite"
    to_sqlite = _cli(pg_env, "migrate", "--to", "sqlite", "--to-dir", str(sqlite_dir))
    assert to_sqlite.returncode == 0, to_sqlite.stdout + to_sqlite.stderr
    (sqlite_dir / "config.toml").write_text('[storage]\nbackend = "sqlite"\n')
    assert json.loads(_cli(sqlite_dir, "trash", "--json").stdout) == trash
    back = tmp_path / "back"
    assert _cli(sqlite_dir, "migrate", "--to", "json", "--to-dir", str(back)).returncode == 0
    assert json.loads(_cli(back, "trash", "--json").stdout) == trash
    for env in (pg_env, back):
        assert _cli(env, "restore", "Binned").returncode == 0
        assert _cli(env, "show", "Binned", "--json").stdout == shown


def _cut_while_waiting(dsn: str, lock_sql: str, lock_args: tuple[object, ...], act) -> list:  # type: ignore[no-untyped-def]
    """Run ``act`` in a thread while another connection holds a row lock it needs, kill the
    waiting connection from the server side, and return what ``act`` raised."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            act()
        except BaseException as exc:
            errors.append(exc)

    with psycopg.connect(dsn) as blocker:
        blocker.execute(lock_sql, lock_args)
        worker = threading.Thread(target=run)
        worker.start()
        with psycopg.connect(dsn, autocommit=True) as admin:
            for _ in range(200):
                killed = admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = 'prompt-sessions' AND wait_event_type = 'Lock'"
                ).fetchall()
                if killed:
                    break
                time.sleep(0.05)
        worker.join(timeout=30)
        blocker.rollback()
    return errors


def test_a_connection_lost_mid_move_leaves_the_session_whole_in_one_place(
    tmp_path: Path, pg_dsn: str
) -> None:
    """A delete and a restore whose connections die mid-transaction fail with one line and
    leave the session whole where it was (live, then trashed); the next try works."""
    root = write_config(tmp_path / "env", pg_dsn)
    schema = schema_for(root)
    with open_manager(root) as mgr:
        s = mgr.create("coordinator", "Fragile")
        mgr.append(s.id, Message(role="user", content="keep me"))
        before = mgr.get(s.id)
        errors = _cut_while_waiting(
            pg_dsn,
            f'SELECT 1 FROM "{schema}".sessions WHERE id = %s FOR UPDATE',
            (s.id,),
            lambda: mgr.backend.trash(s.id),
        )
        assert len(errors) == 1 and isinstance(errors[0], StorageError)
        assert "\n" not in str(errors[0])
        assert mgr.get(s.id) == before and mgr.trashed() == []
        mgr.delete(s.id)
        errors = _cut_while_waiting(
            pg_dsn,
            f'SELECT 1 FROM "{schema}".trash WHERE id = %s FOR UPDATE',
            (s.id,),
            lambda: mgr.backend.restore(s.id),
        )
        assert len(errors) == 1 and isinstance(errors[0], StorageError)
        assert mgr.list() == [] and [e.summary.id for e in mgr.trashed()] == [s.id]
        assert mgr.backend.read_trashed(s.id) == before
        mgr.restore(s.id)
        assert mgr.get(s.id) == before
