"""The prompt-objects importer: the Ruby project's sessions.db at schema version 4 (threads),
with later usage/model columns, and at version 1 (before sources and threads)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from cli_runner import Run
from prompt_sessions.importers.prompt_objects import PromptObjectsImporter

ROOT = "3a1f2b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b"
CHILD = "7e8f9a0b-1c2d-4e3f-9a4b-5c6d7e8f9a0b"
V1 = """
CREATE TABLE sessions (id TEXT PRIMARY KEY, po_name TEXT NOT NULL, name TEXT,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL, metadata TEXT DEFAULT '{}');
CREATE TABLE messages (id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL
  REFERENCES sessions(id), role TEXT NOT NULL, content TEXT, from_po TEXT, tool_calls TEXT,
  tool_results TEXT, created_at TEXT NOT NULL);
"""
V4 = (
    V1
    + """
ALTER TABLE sessions ADD COLUMN source TEXT DEFAULT 'tui';
ALTER TABLE sessions ADD COLUMN source_client TEXT;
ALTER TABLE sessions ADD COLUMN last_message_source TEXT;
ALTER TABLE sessions ADD COLUMN parent_session_id TEXT;
ALTER TABLE sessions ADD COLUMN parent_message_id INTEGER;
ALTER TABLE sessions ADD COLUMN parent_po TEXT;
ALTER TABLE sessions ADD COLUMN thread_type TEXT DEFAULT 'root';
PRAGMA user_version = 4;
"""
)


def v4_db(path: Path, *, usage: bool = False, wal: bool = False) -> Path:
    conn = sqlite3.connect(path)
    if wal:
        conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(V4)
    if usage:
        conn.executescript(
            "ALTER TABLE messages ADD COLUMN usage TEXT;ALTER TABLE messages ADD COLUMN model TEXT;"
        )
    # The child is listed first: parents must still be imported before children.
    conn.execute(
        "INSERT INTO sessions (id, po_name, name, source, source_client, created_at, updated_at,"
        " metadata, parent_session_id, parent_message_id, parent_po, thread_type)"
        " VALUES (?, 'researcher', NULL, 'tui', NULL, '2025-02-01T10:00:05Z',"
        " '2025-02-01T10:00:07Z', '{}', ?, 2, 'coordinator', 'delegation')",
        (CHILD, ROOT),
    )
    conn.execute(
        "INSERT INTO sessions (id, po_name, name, source, source_client, created_at, updated_at,"
        " metadata, thread_type) VALUES (?, 'coordinator', 'Trip planning', 'mcp',"
        " 'claude-desktop', '2025-02-01T10:00:00Z', '2025-02-01T10:00:09Z',"
        " '{\"pinned\": true}', 'root')",
        (ROOT,),
    )
    call = [{"id": "call_1", "name": "researcher", "arguments": {"message": "Find trains"}}]
    result = [{"tool_call_id": "call_1", "name": "researcher", "content": "Two trains a day."}]
    rows = [
        (ROOT, "user", "Plan a trip to Bergen.", None, None, None, "2025-02-01T10:00:00Z"),
        (ROOT, "assistant", None, None, json.dumps(call), None, "2025-02-01T10:00:04Z"),
        (CHILD, "user", "Find trains", "coordinator", None, None, "2025-02-01T10:00:05Z"),
        (CHILD, "assistant", "Two trains a day.", None, None, None, "2025-02-01T10:00:07Z"),
        (ROOT, "tool", None, None, None, json.dumps(result), "2025-02-01T10:00:08Z"),
        (ROOT, "assistant", "Take the morning train.", None, None, None, "2025-02-01T10:00:09Z"),
    ]
    conn.executemany(
        "INSERT INTO messages (session_id, role, content, from_po, tool_calls, tool_results,"
        " created_at) VALUES (?,?,?,?,?,?,?)",
        rows,
    )
    if usage:
        conn.execute(
            'UPDATE messages SET usage = \'{"input_tokens": 30, "output_tokens": 7}\','
            " model = 'claude-sonnet-4' WHERE id = 6"
        )
    conn.commit()
    conn.close()
    return path


def test_sessions_threads_tools_and_parents(tmp_path: Path) -> None:
    """Each session keeps its PO, messages with tool calls, tool results and from_po; the
    delegation comes after its parent, under it, at the message that made the call."""
    root, child = PromptObjectsImporter().load(v4_db(tmp_path / "sessions.db").read_bytes(), None)
    assert (root.name, root.po_name, root.thread_type) == ("Trip planning", "coordinator", None)
    assert [(m.role, m.content) for m in root.history] == [
        ("user", "Plan a trip to Bergen."),
        ("assistant", ""),
        ("tool", ""),
        ("assistant", "Take the morning train."),
    ]
    assert root.history[1].tool_calls[0]["name"] == "researcher"
    assert root.history[2].tool_results[0]["content"] == "Two trains a day."
    assert root.metadata["prompt_objects"] == {
        "source": "mcp",
        "source_client": "claude-desktop",
        "metadata": {"pinned": True},
    }
    assert root.metadata["import"] == {"source_id": ROOT}
    assert child.thread_type == "delegation" and child.parent_id == root.id
    assert child.parent_message_index == 1
    assert child.history[0].from_po == "coordinator"
    assert child.name == "Find trains"


def test_usage_and_model_columns_and_a_wal_database(tmp_path: Path) -> None:
    """Later usage and model columns are kept on the messages; a database in WAL mode reads."""
    db = v4_db(tmp_path / "sessions.db", usage=True, wal=True)
    root, _ = PromptObjectsImporter().load(db.read_bytes(), None)
    last = root.history[-1]
    assert (last.usage.input_tokens, last.usage.output_tokens, last.model) == (
        30,
        7,
        "claude-sonnet-4",
    )


def test_the_first_schema_version(tmp_path: Path) -> None:
    """A version-1 database (no source or thread columns) imports its sessions as roots."""
    db = tmp_path / "sessions.db"
    conn = sqlite3.connect(db)
    conn.executescript(V1)
    conn.execute(
        "INSERT INTO sessions VALUES ('old-1', 'writer', NULL, '2024-11-05T08:00:00Z',"
        " '2024-11-05T08:00:01Z', NULL)"
    )
    conn.execute(
        "INSERT INTO messages (session_id, role, content, created_at)"
        " VALUES ('old-1', 'user', 'Draft a note', '2024-11-05T08:00:00Z')"
    )
    conn.commit()
    conn.close()
    (session,) = PromptObjectsImporter().load(db.read_bytes(), None)
    assert (session.name, session.po_name, session.parent_id) == ("Draft a note", "writer", None)
    assert session.metadata["import"] == {"source_id": "old-1"}


def test_from_prompt_objects_home(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """import --from prompt-objects reads every environment's sessions.db under
    $PROMPT_OBJECTS_HOME; the delegation's copy sits under the parent's copy."""
    env = tmp_path / "po-home" / "environments" / "travel"
    env.mkdir(parents=True)
    v4_db(env / "sessions.db")
    monkeypatch.setenv("PROMPT_OBJECTS_HOME", str(tmp_path / "po-home"))
    code, out, err = run("import", "--from", "prompt-objects")
    assert (code, err) == (0, "")
    sessions = {s["po_name"]: s for s in run.json("list", "--json")}
    assert sessions["researcher"]["parent_id"] == sessions["coordinator"]["id"]
    shown = run.json("show", sessions["researcher"]["id"], "--json")
    assert shown["parent_message_index"] == 1 and shown["thread_type"] == "delegation"


def test_sniff_tells_it_from_our_own_sqlite_store(tmp_path: Path) -> None:
    """sniff() takes a Ruby sessions.db, not this program's own sqlite store."""
    importer = PromptObjectsImporter()
    assert importer.sniff(v4_db(tmp_path / "sessions.db").read_bytes(), None)
    ours = tmp_path / "ours.db"
    sqlite3.connect(ours).executescript(
        "CREATE TABLE sessions (id TEXT PRIMARY KEY, po_name TEXT, head BLOB);"
        "CREATE TABLE messages (session_id TEXT, idx INTEGER, body BLOB);"
    )
    assert not importer.sniff(ours.read_bytes(), None)
