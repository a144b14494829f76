"""SQLite sources in WAL mode (DESIGN section 16): the commits a writer has not yet copied into
the main file live in ``<db>-wal``, and the llm and prompt-objects importers read them too,
without ever writing beside the source (no ``-shm`` or ``-wal`` made, a read-only folder
works)."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_runner import Run
from test_import_llm import CURRENT_SCHEMA
from test_import_prompt_objects import v4_db

from prompt_sessions.importers.llm_logs import LlmImporter
from prompt_sessions.importers.prompt_objects import PromptObjectsImporter


def _writer(db: Path) -> sqlite3.Connection:
    """A connection in WAL mode that never checkpoints: what it commits stays in the -wal
    while it is open."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    return conn


def _llm_rows(conn: sqlite3.Connection, conv: str, first: int, count: int) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO conversations VALUES (?, 'Soup ideas', 'gpt-4o-mini')", (conv,)
    )
    for n in range(first, first + count):
        conn.execute(
            "INSERT INTO responses (id, model, prompt, response, conversation_id, datetime_utc)"
            " VALUES (?, 'gpt-4o-mini', ?, ?, ?, ?)",
            (f"r{n}", f"Question {n}?", f"Answer {n}.", conv, f"2025-03-01T12:00:{n:02d}"),
        )


@pytest.fixture
def llm_db(tmp_path: Path) -> Iterator[tuple[Path, sqlite3.Connection]]:
    """A logs.db whose schema and first response were checkpointed into the main file, and
    whose next two responses are only in the -wal, its writer still holding it open."""
    folder = tmp_path / "llm-home"
    folder.mkdir()
    db = folder / "logs.db"
    conn = _writer(db)
    conn.executescript(CURRENT_SCHEMA)
    _llm_rows(conn, "c1", 1, 1)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    _llm_rows(conn, "c1", 2, 2)
    yield db, conn
    conn.close()


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir()}


def _messages(sessions: list) -> list[str]:
    return [m.content for s in sessions for m in s.history]


def test_llm_reads_the_commits_only_in_the_wal(llm_db: tuple[Path, sqlite3.Connection]) -> None:
    """The main file alone holds one response; read with its -wal, all three come in, and the
    folder holds the same files, unchanged, afterwards."""
    db, _ = llm_db
    before = _files(db.parent)
    main_only = list(LlmImporter().load(db.read_bytes(), None))
    assert _messages(main_only) == ["Question 1?", "Answer 1."]
    sessions = list(LlmImporter().load(db.read_bytes(), str(db)))
    assert _messages(sessions)[-2:] == ["Question 3?", "Answer 3."]
    assert len(sessions[0].history) == 6
    assert _files(db.parent) == before


def test_a_schema_only_in_the_wal_is_sniffed_and_read(tmp_path: Path) -> None:
    """A young database whose very tables are still in the -wal is recognised as a logs.db
    and read whole."""
    db = tmp_path / "logs.db"
    conn = _writer(db)
    try:
        conn.executescript(CURRENT_SCHEMA)
        _llm_rows(conn, "c1", 1, 1)
        assert b"responses" not in db.read_bytes()
        importer = LlmImporter()
        assert importer.sniff(db.read_bytes(), str(db))
        assert _messages(importer.load(db.read_bytes(), str(db))) == ["Question 1?", "Answer 1."]
    finally:
        conn.close()


def test_prompt_objects_reads_the_commits_only_in_the_wal(tmp_path: Path) -> None:
    """The upstream sessions.db: a message committed after the last checkpoint is imported."""
    db = v4_db(tmp_path / "sessions.db", wal=True)
    conn = _writer(db)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        session_id = conn.execute("SELECT id FROM sessions ORDER BY id LIMIT 1").fetchone()[0]
        conn.execute(
            "INSERT INTO messages (session_id, role, content, created_at)"
            " VALUES (?, 'user', 'Only in the log.', '2025-05-01 10:00:00')",
            (session_id,),
        )
        before = _files(tmp_path)
        main_only = list(PromptObjectsImporter().load(db.read_bytes(), None))
        assert "Only in the log." not in _messages(main_only)
        sessions = list(PromptObjectsImporter().load(db.read_bytes(), str(db)))
        assert "Only in the log." in _messages(sessions)
        assert _files(tmp_path) == before
    finally:
        conn.close()


@contextlib.contextmanager
def _read_only(folder: Path) -> Iterator[None]:
    """``folder`` made read-only for this process: its mode, and for root (whom modes do not
    stop) the immutable attribute as well."""
    folder.chmod(0o555)
    immutable = os.geteuid() == 0
    if immutable:
        subprocess.run(["chattr", "+i", str(folder)], check=True)
    try:
        with pytest.raises(OSError):
            (folder / "probe").write_bytes(b"")
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o755)


def test_a_read_only_folder_left_by_a_writer(
    llm_db: tuple[Path, sqlite3.Connection],
    tmp_path: Path,
    run: Run,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The db, -wal and -shm copied while the writer held them, in a folder no one may write
    to: import --from llm brings in every response, and a second import adds nothing."""
    db, _ = llm_db
    left = tmp_path / "left"
    left.mkdir()
    for suffix in ("", "-wal", "-shm"):
        shutil.copyfile(f"{db}{suffix}", left / f"logs.db{suffix}")
    monkeypatch.setenv("LLM_USER_PATH", str(left))
    before = _files(left)
    with _read_only(left):
        code, out, err = run("import", "--from", "llm")
        assert (code, err) == (0, "")
        assert out.startswith("Imported 'Soup ideas (imported)' (") and out.endswith(
            ", 6 messages)\n"
        )
        code, out, _ = run("import", "--from", "llm")
        assert (code, out.split(" ")[0]) == (0, "Unchanged")
    assert _files(left) == before
    assert len(run.json("list", "--json")) == 1


def test_a_wal_without_its_shm(llm_db: tuple[Path, sqlite3.Connection], tmp_path: Path) -> None:
    """A -wal with no -shm beside it (a writer that crashed): the log is still read and no
    -shm is made beside the source."""
    db, _ = llm_db
    left = tmp_path / "crashed"
    left.mkdir()
    for suffix in ("", "-wal"):
        shutil.copyfile(f"{db}{suffix}", left / f"logs.db{suffix}")
    copy = left / "logs.db"
    assert len(LlmImporter().load(copy.read_bytes(), str(copy))[0].history) == 6
    assert sorted(p.name for p in left.iterdir()) == ["logs.db", "logs.db-wal"]


def test_a_wal_that_is_not_one_is_passed_over(tmp_path: Path) -> None:
    """A -wal of junk beside a good database: SQLite ignores frames that fail their checksums,
    so the main file's rows come in."""
    folder = tmp_path / "junk"
    folder.mkdir()
    db = folder / "logs.db"
    conn = sqlite3.connect(db)
    conn.executescript(CURRENT_SCHEMA)
    _llm_rows(conn, "c1", 1, 1)
    conn.commit()
    conn.close()
    (folder / "logs.db-wal").write_bytes(os.urandom(5000))
    assert _messages(LlmImporter().load(db.read_bytes(), str(db))) == ["Question 1?", "Answer 1."]
