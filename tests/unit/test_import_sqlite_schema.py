"""SQLite files that are not of the schema an importer expects (DESIGN section 16): tables of the
right names with other columns, values of other types. Each gives one line naming what is
wrong, and nothing broken is imported."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from cli_runner import Run
from test_import_hostile import check_import

# format -> (a script making tables of its names with other columns, the error it gives)
WRONG_COLUMNS = {
    "llm": (
        "CREATE TABLE conversations (x); CREATE TABLE responses (id TEXT, datetime_utc TEXT);"
        "INSERT INTO responses VALUES ('r1', '2025-01-01');",
        "the responses table has no model, prompt, response, system columns: not an llm logs.db",
    ),
    "prompt-objects": (
        "CREATE TABLE sessions (id, po_name); CREATE TABLE messages (id);"
        "INSERT INTO sessions VALUES ('s1', 'po'); INSERT INTO messages VALUES (1);",
        "the sessions table has no created_at, updated_at columns: not a sessions.db",
    ),
}


def _db(path: Path, script: str) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(script)
    conn.commit()
    conn.close()
    return path


@pytest.mark.parametrize("fmt", sorted(WRONG_COLUMNS))
def test_tables_with_other_columns_are_refused_in_one_line(
    run: Run, tmp_path: Path, fmt: str
) -> None:
    """Tables named as the tool names them but without its columns: one line naming the
    missing columns, nothing imported."""
    script, said = WRONG_COLUMNS[fmt]
    db = _db(tmp_path / "other.db", script)
    code, out, err = run("import", "--format", fmt, str(db))
    assert (code, out) == (1, "")
    assert err.strip() == f"Error: {db}: {said}"
    assert run.json("list", "--json") == []


def test_llm_conversations_and_tool_tables_of_another_shape(run: Run, tmp_path: Path) -> None:
    """An llm logs.db whose conversations and tool tables lack llm's columns still imports its
    responses, unnamed and without tools."""
    db = _db(
        tmp_path / "logs.db",
        "CREATE TABLE conversations (x); CREATE TABLE tool_calls (y);"
        "CREATE TABLE responses (id, model, system, prompt, response, conversation_id);"
        "INSERT INTO responses VALUES ('r1', 'm', NULL, 'Hi?', 'Hello.', 'c1');",
    )
    code, out = check_import(run, db, "--format", "llm")
    assert code == 0 and out.startswith("Imported 'Hi? (imported)'")


def test_llm_rows_with_no_text_are_skipped_not_imported_empty(run: Run, tmp_path: Path) -> None:
    """A conversation whose rows hold blobs and numbers where llm writes text is named and
    skipped, not imported as an empty session; the readable one beside it comes in."""
    db = _db(
        tmp_path / "logs.db",
        "CREATE TABLE responses (id, model, system, prompt, response, conversation_id);"
        "INSERT INTO responses VALUES ('r1', 3, 4, X'fffe', 7, 'odd');"
        "INSERT INTO responses VALUES ('r2', 'm', NULL, 'Hi?', 'Hello.', 'good');",
    )
    code, out, err = run("import", "--format", "llm", str(db))
    assert code == 0 and out.startswith("Imported 'Hi? (imported)'")
    assert err.strip() == (
        f"Warning: {db}: skipped conversation odd: no prompt or response that can be read"
    )
    assert [s["message_count"] for s in run.json("list", "--json")] == [2]
    code, _, err = run(
        "import",
        "--format",
        "llm",
        str(
            _db(
                tmp_path / "only-odd.db",
                "CREATE TABLE responses (id, model, system, prompt, response);"
                "INSERT INTO responses VALUES (1, 2, 3, 4, 5);",
            )
        ),
    )
    assert code == 1 and "no prompt or response that can be read" in err
