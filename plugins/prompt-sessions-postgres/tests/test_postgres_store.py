"""The postgres backend as users meet it: config.toml, the CLI, errors, many machines, upgrades."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
from pg_support import open_manager, schema_for, write_config
from prompt_sessions_postgres.cluster import ThrowawayCluster
from prompt_sessions_postgres.schema import SCHEMA_VERSION

from prompt_sessions import Message
from prompt_sessions.errors import ReadOnlyStore, StorageError


def _cli(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).with_name("prompt-sessions")), "--dir", str(root), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_selected_by_config_toml(tmp_path: Path, pg_dsn: str) -> None:
    """``[storage] backend = "postgres"`` with a dsn stores sessions on the server, no files."""
    root = write_config(tmp_path / "env", pg_dsn)
    with open_manager(root) as mgr:
        assert mgr.backend.name == "postgres"
        s = mgr.create("coordinator", "Hello")
        mgr.append(s.id, Message(role="user", content="hi"))
    assert not (root / "sessions").exists()
    with psycopg.connect(pg_dsn) as conn:
        schema = schema_for(root)
        (count,) = conn.execute(f'SELECT count(*) FROM "{schema}".messages').fetchone()
    assert count == 1


def test_environment_dsn_overrides_config(tmp_path: Path, pg_dsn: str) -> None:
    """``PROMPT_SESSIONS_PG_DSN`` wins over the dsn in config.toml."""
    root = write_config(tmp_path / "env", "host=/nonexistent port=1 dbname=nothing")
    result = _cli(
        root, "new", "coordinator", "--name", "Via env", env={"PROMPT_SESSIONS_PG_DSN": pg_dsn}
    )
    assert result.returncode == 0, result.stderr
    listed = _cli(root, "list", env={"PROMPT_SESSIONS_PG_DSN": pg_dsn})
    assert "Via env" in listed.stdout


def test_reading_an_empty_database_creates_nothing(tmp_path: Path, pg_dsn: str) -> None:
    """``list`` on a database without the schema prints [] and leaves no schema behind."""
    root = write_config(tmp_path / "env", pg_dsn)
    result = _cli(root, "list", "--json")
    assert result.returncode == 0 and result.stdout.strip() == "[]"
    with psycopg.connect(pg_dsn) as conn:
        row = conn.execute(
            "SELECT 1 FROM information_schema.schemata WHERE schema_name = %s",
            (schema_for(root),),
        ).fetchone()
    assert row is None


@pytest.mark.parametrize(
    "table",
    [
        'dsn = "postgresql://me:secret@localhost/db"',
        'dsn = "host=localhost password=secret"',
        'password = "secret"',
    ],
)
def test_a_password_in_config_toml_is_refused(tmp_path: Path, table: str) -> None:
    """A password in config.toml is one line saying where passwords belong; nothing runs."""
    root = tmp_path / "env"
    root.mkdir()
    (root / "config.toml").write_text(
        f'[storage]\nbackend = "postgres"\n[storage.postgres]\n{table}\n'
    )
    result = _cli(root, "list")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "~/.pgpass" in result.stderr
    assert "secret" not in result.stderr


def test_server_down_is_one_line_within_the_timeout(tmp_path: Path) -> None:
    """No server at the address: one line naming it, well within the connect timeout."""
    root = write_config(tmp_path / "env", f"host={tmp_path} port=9 dbname=x", connect_timeout=3)
    started = time.monotonic()
    result = _cli(root, "new", "coordinator")
    assert time.monotonic() - started < 3 + 5  # the process start included
    assert result.returncode == 1
    assert result.stderr.startswith("Error: cannot connect to PostgreSQL at")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_missing_database_and_unknown_role_are_one_line(
    tmp_path: Path, pg_cluster: ThrowawayCluster
) -> None:
    """A database that does not exist, a role that does not exist: libpq's reason in one line."""
    base = f"host={pg_cluster.socket_dir} port={pg_cluster.port}"
    for dsn, words in [
        (f"{base} user=postgres dbname=nosuchdb", 'database "nosuchdb" does not exist'),
        (f"{base} user=nosuchrole dbname=postgres", 'role "nosuchrole" does not exist'),
    ]:
        root = write_config(tmp_path / words.split()[1].strip('"'), dsn)
        result = _cli(root, "list")
        assert result.returncode == 1, result.stdout
        assert words in result.stderr and result.stderr.count("\n") == 1


def test_wrong_password_is_one_line(tmp_path: Path, pg_cluster: ThrowawayCluster) -> None:
    """A role that must give a password, given a wrong one through PGPASSWORD: one line."""
    with psycopg.connect(pg_cluster.dsn, autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS pwuser")
        conn.execute("CREATE ROLE pwuser LOGIN PASSWORD 'right'")
        hba = pg_cluster.data / "pg_hba.conf"
        text = hba.read_text()
        if "pwuser" not in text:
            hba.write_text("local all pwuser scram-sha-256\n" + text)
        conn.execute("SELECT pg_reload_conf()")
    time.sleep(0.3)
    dsn = f"host={pg_cluster.socket_dir} port={pg_cluster.port} user=pwuser dbname=postgres"
    root = write_config(tmp_path / "env", dsn)
    wrong = _cli(root, "list", env={"PGPASSWORD": "wrong"})
    assert wrong.returncode == 1
    assert "password authentication failed" in wrong.stderr and wrong.stderr.count("\n") == 1
    assert "wrong" not in wrong.stderr.replace("password authentication failed", "")
    right = _cli(root, "list", "--json", env={"PGPASSWORD": "right"})
    assert right.returncode == 0, right.stderr


def test_two_machines_share_one_database(tmp_path: Path, pg_dsn: str) -> None:
    """Two environment folders on one database and schema: what one creates, the other sees."""
    a = write_config(tmp_path / "laptop", pg_dsn, schema="team")
    b = write_config(tmp_path / "desktop", pg_dsn, schema="team")
    assert _cli(a, "new", "coordinator", "--name", "Shared plan").returncode == 0
    assert (
        _cli(b, "send", "coordinator", "from the desktop", "--session", "Shared plan").returncode
        == 0
    )
    shown = _cli(a, "show", "Shared plan", "--json")
    assert '"from the desktop"' in shown.stdout


APPENDER = """
import sys
from prompt_sessions import Message, SessionManager
root, sid, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with SessionManager.open(root) as mgr:
    for i in range(10):
        mgr.append(sid, Message(role="user", content=f"p{n}-{i}"))
"""


def test_eight_processes_append_to_one_session(tmp_path: Path, pg_dsn: str) -> None:
    """Eight processes append ten messages each to one session: every message present once,
    each process's in its order, the count in the summary right, each found by search."""
    root = write_config(tmp_path / "env", pg_dsn)
    with open_manager(root) as mgr:
        sid = mgr.create("coordinator", "Busy").id
    procs = [
        subprocess.Popen([sys.executable, "-c", APPENDER, str(root), sid, str(n)]) for n in range(8)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0] * 8
    with open_manager(root) as mgr:
        contents = [m.content for m in mgr.get(sid).history]
        assert sorted(contents) == sorted(f"p{n}-{i}" for n in range(8) for i in range(10))
        for n in range(8):
            assert [c for c in contents if c.startswith(f"p{n}-")] == [
                f"p{n}-{i}" for i in range(10)
            ]
        assert mgr.list()[0].message_count == 80
        for n in range(8):  # each append's search words were written with it
            assert sorted(h.message_index for h in mgr.search(f"p{n}")) == sorted(
                k for k, c in enumerate(contents) if c.startswith(f"p{n}-")
            )


def test_a_newer_schema_opens_read_only(tmp_path: Path, pg_dsn: str) -> None:
    """A schema version newer than this program: reads work, writes are refused in one line,
    and nothing rewrites the version."""
    root = write_config(tmp_path / "env", pg_dsn)
    with open_manager(root) as mgr:
        s = mgr.create("coordinator", "Old")
    schema = schema_for(root)
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(
            f"UPDATE \"{schema}\".meta SET value = %s WHERE key = 'schema_version'",
            (str(SCHEMA_VERSION + 1),),
        )
    with open_manager(root) as mgr:
        assert [x.name for x in mgr.list()] == ["Old"]
        with pytest.raises(ReadOnlyStore, match="newer than this program"):
            mgr.append(s.id, Message(role="user", content="refused"))
        mgr.check(repair=True)
    with psycopg.connect(pg_dsn) as conn:
        (value,) = conn.execute(
            f"SELECT value FROM \"{schema}\".meta WHERE key = 'schema_version'"
        ).fetchone()
        (count,) = conn.execute(f'SELECT count(*) FROM "{schema}".messages').fetchone()
    assert value == str(SCHEMA_VERSION + 1) and count == 0


def test_a_role_that_may_only_read_gets_doctor_by_reading_only(tmp_path: Path, pg_dsn: str) -> None:
    """A SELECT-only role: ``doctor`` checks by reading only and names what a writer would fix
    (exit 0, nothing written); ``doctor --repair`` is refused in one line; the owner's
    ``doctor`` then fixes it."""
    root = write_config(tmp_path / "env", pg_dsn)
    with open_manager(root) as mgr:
        s = mgr.create("coordinator", "Kept")
        mgr.append(s.id, Message(role="user", content="hello"))
    schema = schema_for(root)
    role = f"reader_{schema}"
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(
            f'UPDATE "{schema}".sessions '
            "SET summary = jsonb_set(summary::jsonb, '{preview}', '\"edited by hand\"')"
        )
        conn.execute(f"UPDATE \"{schema}\".messages SET folded = 'stale words'")
        conn.execute(f"CREATE ROLE {role} LOGIN")
        conn.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO {role}')
        conn.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO {role}')
    reader = {"PROMPT_SESSIONS_PG_DSN": pg_dsn.replace("user=postgres", f"user={role}")}

    checked = _cli(root, "doctor", env=reader)
    assert checked.returncode == 0, checked.stderr
    assert f"STALE summary of {s.id} disagrees with its messages" in checked.stdout
    assert f"STALE search words of {s.id} disagree with its texts" in checked.stdout
    assert "where the store may be written" in checked.stdout
    refused = _cli(root, "doctor", "--repair", env=reader)
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1 and "this role may not write there" in refused.stderr
    with psycopg.connect(pg_dsn) as conn:
        (preview,) = conn.execute(
            f"SELECT summary->>'preview' FROM \"{schema}\".sessions"
        ).fetchone()
    assert preview == "edited by hand"

    fixed = _cli(root, "doctor")
    assert fixed.returncode == 0 and f"fixed: summary of {s.id}" in fixed.stdout
    assert f"fixed: search words of {s.id}" in fixed.stdout
    assert "STALE" not in _cli(root, "doctor", env=reader).stdout


def test_a_connection_lost_mid_write_leaves_nothing_half_written(
    tmp_path: Path, pg_dsn: str
) -> None:
    """An append waiting on a row lock has its connection killed: one clear error, no message
    stored, and the next append works on a fresh connection."""
    root = write_config(tmp_path / "env", pg_dsn)
    schema = schema_for(root)
    mgr = open_manager(root)
    sid = mgr.create("coordinator", "Fragile").id
    errors: list[BaseException] = []
    with psycopg.connect(pg_dsn) as blocker:
        blocker.execute(f'SELECT 1 FROM "{schema}".sessions WHERE id = %s FOR UPDATE', (sid,))

        def append() -> None:
            try:
                mgr.append(sid, Message(role="user", content="lost"))
            except BaseException as exc:
                errors.append(exc)

        writer = threading.Thread(target=append)
        writer.start()
        with psycopg.connect(pg_dsn, autocommit=True) as admin:
            for _ in range(100):
                killed = admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = 'prompt-sessions' AND wait_event_type = 'Lock'"
                ).fetchall()
                if killed:
                    break
                time.sleep(0.05)
        writer.join(timeout=30)
        blocker.rollback()
    assert len(errors) == 1 and isinstance(errors[0], StorageError)
    assert str(errors[0]).startswith("cannot write to PostgreSQL at")
    assert "\n" not in str(errors[0])
    mgr.append(sid, Message(role="user", content="after"))
    assert [m.content for m in mgr.get(sid).history] == ["after"]
    mgr.close()


def test_migrate_json_to_postgres_to_sqlite_to_json_round_trip(tmp_path: Path, pg_dsn: str) -> None:
    """json -> postgres -> sqlite -> json through the CLI: every session equal at the end, a
    re-run copies nothing twice, and each source is left as it was."""
    src = tmp_path / "json"
    src.mkdir()
    (src / "config.toml").write_text('[storage.postgres]\nschema = "round_trip"\n')
    assert _cli(src, "new", "coordinator", "--name", "Plan").returncode == 0
    assert (
        _cli(src, "send", "coordinator", "café \u2615 and \x1b[2J", "--session", "Plan").returncode
        == 0
    )
    assert _cli(src, "new", "writer", "--name", "Draft").returncode == 0
    original = _cli(src, "list", "--json").stdout

    to_pg = _cli(src, "migrate", "--to", "postgres", "--dsn", pg_dsn)
    assert to_pg.returncode == 0, to_pg.stderr
    assert to_pg.stdout.startswith("2 sessions in json: 2 copied")
    again = _cli(src, "migrate", "--to", "postgres", "--dsn", pg_dsn)
    assert "0 copied, 0 brought up to date, 2 already there" in again.stdout

    pg_env = write_config(tmp_path / "pg", pg_dsn, schema="round_trip")
    assert _cli(pg_env, "list", "--json").stdout == original
    sqlite_dir = tmp_path / "sqlite"
    to_sqlite = _cli(pg_env, "migrate", "--to", "sqlite", "--to-dir", str(sqlite_dir))
    assert to_sqlite.returncode == 0, to_sqlite.stderr
    (sqlite_dir / "config.toml").write_text('[storage]\nbackend = "sqlite"\n')
    back = tmp_path / "back"
    assert _cli(sqlite_dir, "migrate", "--to", "json", "--to-dir", str(back)).returncode == 0
    assert _cli(back, "list", "--json").stdout == original
    for name in ("Plan", "Draft"):
        assert _cli(back, "show", name, "--json").stdout == _cli(src, "show", name, "--json").stdout


def test_append_after_a_summary_edited_by_hand_goes_by_the_rows(
    tmp_path: Path, pg_dsn: str
) -> None:
    """A summary whose message count disagrees with the rows (edited with SQL): the append
    still lands after the last row, and the count follows the rows."""
    root = write_config(tmp_path / "env", pg_dsn)
    with open_manager(root) as mgr:
        s = mgr.create("coordinator", "Edited")
        mgr.append(s.id, Message(role="user", content="one"))
        mgr.append(s.id, Message(role="user", content="two"))
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            conn.execute(
                f'UPDATE "{schema_for(root)}".sessions '
                "SET summary = json_build_object('id', id, 'name', 'Edited', 'po_name', po_name,"
                " 'message_count', 0, 'created_at', created_at, 'updated_at', updated_at) "
                "WHERE id = %s",
                (s.id,),
            )
        mgr.append(s.id, Message(role="user", content="three"))
        assert [m.content for m in mgr.get(s.id).history] == ["one", "two", "three"]
        assert mgr.list()[0].message_count == 3


def test_doctor_reports_a_message_row_deleted_by_hand(tmp_path: Path, pg_dsn: str) -> None:
    """A message row deleted with SQL was lost silently: doctor reports the session as damaged
    in one line (as the sqlite store does), leaves its summary as it was, and ``--repair``
    moves it aside; the other session stays healthy."""
    root = write_config(tmp_path / "env", pg_dsn)
    with open_manager(root) as mgr:
        kept = mgr.create("coordinator", "Kept")
        hurt = mgr.create("coordinator", "Hurt")
        for text in ("one", "two", "three"):
            mgr.append(kept.id, Message(role="user", content=text))
            mgr.append(hurt.id, Message(role="user", content=text))
        schema = schema_for(root)
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            conn.execute(
                f'DELETE FROM "{schema}".messages WHERE session_id = %s AND idx = 1', (hurt.id,)
            )
            (before,) = conn.execute(
                f'SELECT summary::text FROM "{schema}".sessions WHERE id = %s', (hurt.id,)
            ).fetchone()
        report = mgr.check()
        assert report.damaged == {
            hurt.id: "its messages do not match what the session recorded: "
            "message 2 of 3 is missing"
        }
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            (after,) = conn.execute(
                f'SELECT summary::text FROM "{schema}".sessions WHERE id = %s', (hurt.id,)
            ).fetchone()
        assert after == before
        report = mgr.check(repair=True)
        assert len(report.moved) == 1
        assert mgr.check().damaged == {}
        assert [m.content for m in mgr.get(kept.id).history] == ["one", "two", "three"]
