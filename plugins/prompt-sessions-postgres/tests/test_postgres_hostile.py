"""The postgres store met the hard way: NUL in texts, a server that restarts under an open pool,
connections killed mid-write, schema names PostgreSQL cannot carry, unreadable dsns."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import psycopg
import pytest
from pg_support import open_manager, schema_for, write_config
from prompt_sessions_postgres.cluster import ThrowawayCluster
from prompt_sessions_postgres.settings import PostgresSettings

from prompt_sessions import Message
from prompt_sessions.errors import StorageError


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).with_name("prompt-sessions")), "--dir", str(root), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


# ---------------------------------------------------------------------- NUL in texts


def test_a_message_holding_nul_leaves_search_and_doctor_working(
    tmp_path: Path, pg_dsn: str
) -> None:
    """PostgreSQL's json operators refuse a document holding ``\\u0000``: a message (and so a
    preview) with a NUL must still be found, filtered by role and flag, shown in its snippet,
    and checked by doctor, as on the file store."""
    root = write_config(tmp_path / "env", pg_dsn)
    with open_manager(root) as mgr:
        sid = mgr.create("coordinator", "Plain").id
        mgr.append(sid, Message(role="user", content="deploy \x00 tonight"))
        mgr.pin(sid)
        other = mgr.create("coordinator", "Other").id
        mgr.append(other, Message(role="assistant", content="deploy tomorrow"))
        assert {h.session.id for h in mgr.search("deploy")} == {sid, other}
        [hit] = mgr.search("deploy role:user")
        assert hit.session.id == sid and "tonight" in hit.snippet
        assert [h.session.id for h in mgr.search("deploy is:pinned")] == [sid]
        assert [h.session.id for h in mgr.search("tonight after:2000-01-01")] == [sid]
        report = mgr.check()
        assert not report.damaged and not report.fixed
        assert mgr.get(sid).history[0].content == "deploy \x00 tonight"


def test_the_search_upgrade_reads_texts_holding_nul(tmp_path: Path, pg_dsn: str) -> None:
    """The step that fills the search columns of an older store (and doctor's refolding) reads
    each text in Python, so a NUL in one message does not stop the upgrade."""
    from prompt_sessions_postgres import search

    root = write_config(tmp_path / "env", pg_dsn)
    schema = schema_for(root)
    with open_manager(root) as mgr:
        sid = mgr.create("coordinator", "Old").id
        mgr.append(sid, Message(role="user", content="alpha \x00 beta"))
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f"UPDATE \"{schema}\".messages SET folded = '', words = 0")
        conn.execute(f"UPDATE \"{schema}\".sessions SET folded_name = ''")
        with conn.transaction():
            search.backfill(conn, f'"{schema}"')
        assert (
            conn.execute(f'SELECT folded FROM "{schema}".messages').fetchone()[0]
            == (search.text_columns("alpha \x00 beta")[0])
        )
        assert conn.execute(f'SELECT folded_name FROM "{schema}".sessions').fetchone()[0] == "old"


# ---------------------------------------------------------------------- the server goes away


def test_the_pool_reconnects_after_the_server_restarts(tmp_path: Path) -> None:
    """A manager holding pooled connections across a server restart: the first append, list
    and search after it succeed on fresh connections; nothing acknowledged is lost."""
    with ThrowawayCluster(port=5491) as cluster:
        root = write_config(tmp_path / "env", cluster.dsn)
        with open_manager(root) as mgr:
            sid = mgr.create("coordinator", "Survivor").id
            mgr.append(sid, Message(role="user", content="before restart"))
            cluster.stop_server()
            cluster.start_server()
            mgr.append(sid, Message(role="user", content="after restart"))
            assert [s.id for s in mgr.list()] == [sid]
            assert {h.session.id for h in mgr.search("restart")} == {sid}
            assert [m.content for m in mgr.get(sid).history] == ["before restart", "after restart"]


async def test_the_change_feed_survives_an_outage_and_says_so_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The server is down for seconds under an open listener: one line when the feed drops,
    no more while reconnecting fails (not one a second), in a single line; once the server is back
    the listener refreshes and hears new commits again."""
    calls: list[int] = []

    async def on_change() -> None:
        calls.append(1)

    with ThrowawayCluster(port=5492) as cluster:
        root = write_config(tmp_path / "env", cluster.dsn)
        with open_manager(root) as mgr:
            mgr.create("coordinator", "Before")
            listener = mgr.backend.change_watcher(on_change, 20)
            listener.start()
            await asyncio.wait_for(listener.connected.wait(), 10)
            with caplog.at_level(logging.INFO, logger="prompt_sessions_postgres.live"):
                await asyncio.to_thread(cluster.stop_server)
                await asyncio.sleep(3.5)
                await asyncio.to_thread(cluster.start_server)
                await asyncio.wait_for(listener.connected.wait(), 15)
            loud = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
            assert len(loud) == 1 and all("\n" not in line for line in loud), loud
            await asyncio.sleep(0.3)
            refreshed = len(calls)
            assert refreshed >= 1
            mgr.create("coordinator", "After")
            for _ in range(100):
                if len(calls) > refreshed:
                    break
                await asyncio.sleep(0.05)
            assert len(calls) > refreshed
            await listener.stop()


def test_a_connection_killed_in_use_prints_no_stray_log_lines(tmp_path: Path, pg_dsn: str) -> None:
    """A long-lived program whose connection the server kills mid-write gets one StorageError;
    nothing else reaches its stderr (no pool warning with a Python repr), and the next write
    works."""
    root = write_config(tmp_path / "env", pg_dsn)
    script = textwrap.dedent(
        f"""
        import threading, time, psycopg
        from pathlib import Path
        from prompt_sessions import Message, SessionManager
        mgr = SessionManager.open(Path({str(root)!r}))
        sid = mgr.create("coordinator", "Fragile").id
        with psycopg.connect({pg_dsn!r}) as blocker:
            blocker.execute('SELECT 1 FROM "{schema_for(root)}".sessions WHERE id = %s FOR UPDATE',
                            (sid,))
            def kill():
                with psycopg.connect({pg_dsn!r}, autocommit=True) as admin:
                    for _ in range(200):
                        if admin.execute(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                            "application_name = 'prompt-sessions' AND wait_event_type = 'Lock'"
                        ).fetchall():
                            return
                        time.sleep(0.05)
            killer = threading.Thread(target=kill)
            killer.start()
            try:
                mgr.append(sid, Message(role="user", content="lost"))
            except Exception as exc:
                print("failed:", exc)
            killer.join()
            blocker.rollback()
        mgr.append(sid, Message(role="user", content="kept"))
        print([m.content for m in mgr.get(sid).history])
        mgr.close()
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].startswith("failed: cannot write to PostgreSQL at")
    assert lines[1:] == ["['kept']"]


# ---------------------------------------------------------------------- configuration


@pytest.mark.parametrize("schema", ["a" * 56, "pg_sessions", "pg_catalog", "information_schema"])
def test_schema_names_postgresql_cannot_carry_are_refused_at_once(
    tmp_path: Path, pg_dsn: str, schema: str
) -> None:
    """A schema whose change channel would pass PostgreSQL's 63-byte names, or a system
    schema: one line naming the setting, before any read or write."""
    root = write_config(tmp_path / "env", pg_dsn, schema=schema)
    for args in (("list",), ("new", "coordinator")):
        result = _cli(root, *args)
        assert result.returncode == 1, result.stdout
        assert result.stderr.startswith("Error: [storage.postgres] schema ")
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    with psycopg.connect(pg_dsn) as conn:
        assert conn.execute("SELECT to_regclass(%s)", (f'"{schema}".sessions',)).fetchone() == (
            None,
        )


def test_the_longest_schema_name_accepted_works(tmp_path: Path, pg_dsn: str) -> None:
    """A 55-character schema, the longest accepted, stores and announces like any other."""
    root = write_config(tmp_path / "env", pg_dsn, schema="b" * 55)
    created = _cli(root, "new", "coordinator", "--name", "Long")
    assert created.returncode == 0, created.stderr
    assert "Long" in _cli(root, "list").stdout


def test_an_unreadable_dsn_is_one_line() -> None:
    """libpq's own message for a dsn it cannot parse ends in a newline: still one line."""
    with pytest.raises(StorageError) as caught:
        PostgresSettings.from_table({"dsn": "nonsense string ==="})
    assert "\n" not in str(caught.value) and "cannot be read" in str(caught.value)
