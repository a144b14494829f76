"""The codex importer: Codex CLI rollout files in the current {timestamp, type, payload} shape
and the older one (a bare session line, bare response items, state lines)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cli_runner import Run
from prompt_sessions.importers.codex import CodexImporter

DATA = Path(__file__).parent / "data" / "import" / "codex"
NEWER = next((DATA / "2025" / "09" / "14").glob("rollout-*.jsonl"))
OLDER = next(DATA.glob("rollout-*.jsonl"))


def load(path: Path) -> list:
    return list(CodexImporter().load(path.read_bytes(), str(path)))


def test_current_rollout_messages_calls_outputs_and_usage() -> None:
    """Messages, function and custom tool calls with their outputs come in order; Codex's
    environment context is a system message; the reply carries the turn's model, the last
    token count and the reasoning summary."""
    (session,) = load(NEWER)
    assert [(m.role, m.content) for m in session.history] == [
        ("system", "<environment_context>\n  <cwd>/home/ana/recipes</cwd>\n</environment_context>"),
        ("user", "How many recipes use lentils?"),
        ("assistant", ""),
        ("tool", '{"output":"./soup.md\\n./dal.md\\n","metadata":{"exit_code":0}}'),
        ("assistant", ""),
        ("tool", "Done!"),
        ("assistant", "Two recipes use lentils: soup.md and dal.md."),
    ]
    call = session.history[2]
    assert call.tool_calls == [
        {
            "id": "call_a1",
            "name": "shell",
            "arguments": {"command": ["grep", "-l", "lentil", "-r", "."]},
        }
    ]
    assert session.history[5].tool_results == [{"tool_call_id": "call_a2", "content": "Done!"}]
    reply = session.history[-1]
    assert reply.model == "gpt-5-codex"
    assert (reply.usage.input_tokens, reply.usage.output_tokens, reply.usage.cached_tokens) == (
        500,
        40,
        200,
    )
    assert reply.metadata == {"thinking": ["**Searching the recipe files**"]}
    assert session.created_at == "2025-09-14T08:30:00.050Z"
    assert session.metadata["cwd"] == "/home/ana/recipes"
    assert session.metadata["codex"]["cli_version"] == "0.36.0"
    assert session.metadata["import"] == {"source_id": "0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"}
    assert session.name == "How many recipes use lentils?"


def test_the_older_shape() -> None:
    """An older rollout (bare session line and items, state lines, an output object) reads the
    same way; a message without a time takes the session's start."""
    (session,) = load(OLDER)
    assert [(m.role, m.content) for m in session.history] == [
        ("user", "Rename notes.txt to notes.md"),
        ("assistant", ""),
        ("tool", ""),
        ("assistant", "Renamed."),
    ]
    assert session.history[1].tool_calls[0]["arguments"] == {
        "command": ["mv", "notes.txt", "notes.md"]
    }
    assert {m.created_at for m in session.history} == {"2025-05-02T17:05:11.204Z"}
    assert session.metadata["import"]["source_id"] == "5f2a9c1e-3b4d-4e6f-9a8b-7c6d5e4f3a2b"


def test_sniff() -> None:
    """sniff() takes both shapes (the older by its file name) and refuses others."""
    importer = CodexImporter()
    assert importer.sniff(NEWER.read_bytes(), None)
    assert importer.sniff(OLDER.read_bytes(), OLDER.name)
    assert not importer.sniff(OLDER.read_bytes(), "notes.jsonl")
    assert not importer.sniff(b'{"type": "user", "sessionId": "x"}', None)


def test_from_codex_home(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    """import --from codex reads $CODEX_HOME/sessions/**/rollout-*.jsonl, both shapes."""
    home = Path(run.store).parent / "codex-home"
    shutil.copytree(DATA, home / "sessions")
    monkeypatch.setenv("CODEX_HOME", str(home))
    code, out, err = run("import", "--from", "codex")
    assert (code, err) == (0, "")
    assert sorted(line.split(" (imported)")[0] for line in out.splitlines()) == [
        "Imported 'How many recipes use lentils?",
        "Imported 'Rename notes.txt to notes.md",
    ]
