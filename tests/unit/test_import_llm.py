"""The llm importer: simonw/llm's logs.db, as written by current llm (tokens, tools, resolved
models) and by older versions (the tables of its first conversations/responses design)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from cli_runner import Run
from prompt_sessions.importers.llm_logs import LlmImporter

# The tables as llm's migrations leave them, current and before m013 (usage) / m017 (tools).
OLDER_SCHEMA = """
CREATE TABLE [conversations] ([id] TEXT PRIMARY KEY, [name] TEXT, [model] TEXT);
CREATE TABLE [responses] ([id] TEXT PRIMARY KEY, [model] TEXT, [prompt] TEXT, [system] TEXT,
  [prompt_json] TEXT, [options_json] TEXT, [response] TEXT, [response_json] TEXT,
  [conversation_id] TEXT REFERENCES [conversations]([id]), [duration_ms] INTEGER,
  [datetime_utc] TEXT);
"""
CURRENT_SCHEMA = (
    OLDER_SCHEMA
    + """
ALTER TABLE responses ADD COLUMN input_tokens INTEGER;
ALTER TABLE responses ADD COLUMN output_tokens INTEGER;
ALTER TABLE responses ADD COLUMN token_details TEXT;
ALTER TABLE responses ADD COLUMN schema_id TEXT;
ALTER TABLE responses ADD COLUMN resolved_model TEXT;
CREATE TABLE [tools] ([id] INTEGER PRIMARY KEY, [hash] TEXT, [name] TEXT, [description] TEXT,
  [input_schema] TEXT, [plugin] TEXT);
CREATE TABLE [tool_calls] ([id] INTEGER PRIMARY KEY, [response_id] TEXT, [tool_id] INTEGER,
  [name] TEXT, [arguments] TEXT, [tool_call_id] TEXT);
CREATE TABLE [tool_results] ([id] INTEGER PRIMARY KEY, [response_id] TEXT, [tool_id] INTEGER,
  [name] TEXT, [output] TEXT, [tool_call_id] TEXT, [instance_id] INTEGER, [exception] TEXT);
"""
)


def current_db(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(CURRENT_SCHEMA)
    conn.execute("INSERT INTO conversations VALUES ('01jx0conv1', 'Soup ideas', 'gpt-4o-mini')")
    conn.execute("INSERT INTO conversations VALUES ('01jx0conv2', NULL, 'claude-3.5-haiku')")
    rows = [
        (
            "01jx0r1",
            "gpt-4o-mini",
            "Suggest a lentil soup.",
            "You are a cook.",
            "Red lentil soup.",
            "01jx0conv1",
            812,
            "2025-03-01T12:00:00.123456",
            20,
            5,
            '{"prompt_tokens_details": {"cached_tokens": 4}}',
            "gpt-4o-mini-2024-07-18",
        ),
        (
            "01jx0r2",
            "gpt-4o-mini",
            "How long to cook?",
            "You are a cook.",
            "",
            "01jx0conv1",
            300,
            "2025-03-01T12:01:00",
            30,
            8,
            None,
            None,
        ),
        (
            "01jx0r3",
            "gpt-4o-mini",
            "",
            "You are a cook.",
            "About 25 minutes.",
            "01jx0conv1",
            200,
            "2025-03-01T12:01:02",
            40,
            6,
            None,
            None,
        ),
        (
            "01jx0r4",
            "claude-3.5-haiku",
            "Name a herb.",
            None,
            "Thyme.",
            "01jx0conv2",
            150,
            "2025-03-02T08:00:00",
            None,
            None,
            None,
            None,
        ),
    ]
    conn.executemany(
        "INSERT INTO responses (id, model, prompt, system, response, conversation_id, duration_ms,"
        " datetime_utc, input_tokens, output_tokens, token_details, resolved_model)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )
    conn.execute(
        "INSERT INTO tool_calls VALUES (1, '01jx0r2', NULL, 'timer', '{\"minutes\": 25}', 'call_1')"
    )
    conn.execute(
        "INSERT INTO tool_results VALUES (1, '01jx0r3', NULL, 'timer', 'set', 'call_1', NULL, NULL)"
    )
    conn.commit()
    conn.close()
    return path


def older_db(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(OLDER_SCHEMA)
    conn.execute(
        "INSERT INTO conversations VALUES ('01h0old', 'Haiku about rain', 'gpt-3.5-turbo')"
    )
    conn.execute(
        "INSERT INTO responses VALUES ('01h0r1', 'gpt-3.5-turbo', 'Write a haiku about rain.',"
        " NULL, NULL, '{}', 'Soft rain on the roof', NULL, '01h0old', 1200,"
        " '2023-07-12T09:15:30.500000')"
    )
    conn.commit()
    conn.close()
    return path


def test_conversations_with_usage_tools_and_systems(tmp_path: Path) -> None:
    """One session per conversation: the system prompt once, prompts and replies in order, the
    resolved model, token usage with cached tokens, duration, tool calls and the results sent
    with the next prompt."""
    found = list(LlmImporter().load(current_db(tmp_path / "logs.db").read_bytes(), None))
    soup, herb = found
    assert soup.name == "Soup ideas" and soup.po_name == "llm"
    assert [(m.role, m.content) for m in soup.history] == [
        ("system", "You are a cook."),
        ("user", "Suggest a lentil soup."),
        ("assistant", "Red lentil soup."),
        ("user", "How long to cook?"),
        ("assistant", ""),
        ("tool", "set"),
        ("assistant", "About 25 minutes."),
    ]
    first = soup.history[2]
    assert first.model == "gpt-4o-mini-2024-07-18"
    assert (first.usage.input_tokens, first.usage.output_tokens, first.usage.cached_tokens) == (
        20,
        5,
        4,
    )
    assert first.latency_ms == 812.0
    assert first.created_at == "2025-03-01T12:00:00.123Z"
    assert soup.history[4].tool_calls == [
        {"id": "call_1", "name": "timer", "arguments": {"minutes": 25}}
    ]
    assert soup.history[5].tool_results == [{"tool_call_id": "call_1", "content": "set"}]
    assert soup.metadata["import"] == {"source_id": "01jx0conv1"}
    assert herb.name == "Name a herb." and herb.history[-1].usage is None


def test_an_older_database_without_usage_or_tool_tables(tmp_path: Path) -> None:
    """A logs.db from before llm recorded tokens and tools still imports its conversations."""
    (session,) = LlmImporter().load(older_db(tmp_path / "logs.db").read_bytes(), None)
    assert [(m.role, m.content, m.model) for m in session.history] == [
        ("user", "Write a haiku about rain.", None),
        ("assistant", "Soft rain on the roof", "gpt-3.5-turbo"),
    ]
    assert session.created_at == "2023-07-12T09:15:30.500Z"


def test_sniff_and_refusals(tmp_path: Path) -> None:
    """sniff() takes a logs.db only; another SQLite file or bytes that are not one are refused
    with one line."""
    importer = LlmImporter()
    assert importer.sniff(current_db(tmp_path / "logs.db").read_bytes(), None)
    other = tmp_path / "other.db"
    sqlite3.connect(other).executescript("CREATE TABLE notes (id INTEGER);")
    assert not importer.sniff(other.read_bytes(), None)
    from prompt_sessions.errors import ImportFormatError

    with pytest.raises(ImportFormatError, match="no responses table"):
        list(importer.load(other.read_bytes(), None))
    with pytest.raises(ImportFormatError, match="not a SQLite database"):
        list(importer.load(b"\x00\x01binary", None))


def test_from_llm_user_path_and_again(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """import --from llm reads $LLM_USER_PATH/logs.db; after llm logs one more response the
    next import adds it to the earlier copy only."""
    folder = tmp_path / "llm-home"
    folder.mkdir()
    db = current_db(folder / "logs.db")
    monkeypatch.setenv("LLM_USER_PATH", str(folder))
    code, out, err = run("import", "--from", "llm")
    assert (code, err) == (0, "") and out.count("Imported ") == 2
    conn = sqlite3.connect(db)
    conn.execute(
        "INSERT INTO responses (id, model, prompt, response, conversation_id, datetime_utc)"
        " VALUES ('01jx0r5', 'claude-3.5-haiku', 'Another?', 'Basil.', '01jx0conv2',"
        " '2025-03-02T08:05:00')"
    )
    conn.commit()
    conn.close()
    code, out, _ = run("import", "--from", "llm")
    assert code == 0
    assert sorted(line.split(" ")[0] for line in out.splitlines()) == ["Unchanged", "Updated"]
    assert "+2 messages" in out
    assert len(run.json("list", "--json")) == 2
