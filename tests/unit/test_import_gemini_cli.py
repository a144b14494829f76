"""The gemini-cli importer: /chat save files (bare and wrapped), /restore checkpoints and
recorded sessions (older text content and newer part lists)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from cli_runner import Run
from prompt_sessions.importers.gemini_cli import GeminiCliImporter

DATA = Path(__file__).parent / "data" / "import" / "gemini-cli"
PROJECT = DATA / "tmp" / "4f2a9c"
SAVED = PROJECT / "checkpoint-docs-tour.json"
RECORDED = next((PROJECT / "chats").glob("session-*.json"))


def load(path: Path) -> list:
    return list(GeminiCliImporter().load(path.read_bytes(), str(path)))


def test_a_saved_chat() -> None:
    """A /chat save file: turns in order, a thought in metadata, a function call and its
    response as tool call and tool result; named by its tag; times from the file."""
    (session,) = load(SAVED)
    assert [(m.role, m.content) for m in session.history] == [
        ("user", "This is the Gemini CLI. Setting up the context for our chat."),
        ("assistant", "Got it. Thanks for the context!"),
        ("user", "List the markdown files here."),
        ("assistant", ""),
        ("tool", "README.md\nNOTES.md"),
        ("assistant", "There are two: README.md and NOTES.md."),
    ]
    call = session.history[3]
    assert call.tool_calls == [{"id": "glob", "name": "glob", "arguments": {"pattern": "*.md"}}]
    assert call.metadata == {"thinking": ["Looking for them."]}
    assert session.history[4].tool_results == [
        {"tool_call_id": "glob", "content": "README.md\nNOTES.md"}
    ]
    assert session.name == "docs-tour" and session.po_name == "gemini"
    assert session.metadata["import"] == {
        "source_id": "4f2a9c/checkpoint-docs-tour",
        "timed": False,
    }


def test_wrapped_saved_chat_and_restore_checkpoint() -> None:
    """Newer saves wrap the contents in {"history": ...}; a /restore checkpoint keeps them in
    clientHistory; both import."""
    (wrapped,) = load(PROJECT / "checkpoint-wrapped.json")
    assert wrapped.history[-1].content == "Hello again"
    (checkpoint,) = load(next((PROJECT / "checkpoints").glob("*.json")))
    assert checkpoint.history[0].content == "Fix the typo in NOTES.md"
    assert checkpoint.history[1].tool_calls[0]["id"] == "replace-1"


def test_a_recorded_session() -> None:
    """A recorded session: times, model, token usage, thoughts, tool calls with their results;
    info lines left out; text and part-list contents both read."""
    (session,) = load(RECORDED)
    assert [(m.role, m.content) for m in session.history] == [
        ("user", "What does make test do?"),
        ("assistant", ""),
        ("tool", "test:\n\tpytest"),
        ("assistant", "It runs pytest."),
    ]
    call = session.history[1]
    assert call.model == "gemini-2.5-pro"
    assert (call.usage.input_tokens, call.usage.output_tokens, call.usage.cached_tokens) == (
        1200,
        30,
        800,
    )
    assert call.metadata == {"thinking": ["Reading the Makefile The test target runs pytest."]}
    assert session.history[2].tool_results == [
        {"tool_call_id": "read_file-1", "content": "test:\n\tpytest"}
    ]
    assert session.history[3].created_at == "2025-09-01T07:00:12.000Z"
    assert session.metadata["import"] == {"source_id": "e4d3c2b1-a0f9-4e8d-b7c6-a5b4c3d2e1f0"}


def test_from_gemini_and_a_resaved_chat(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """import --from gemini-cli reads ~/.gemini/tmp; saving the chat again later (a new file
    time, one more turn) adds only the new turn, matched by role and text."""
    home = tmp_path / "home"
    shutil.copytree(DATA / "tmp", home / ".gemini" / "tmp")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("GEMINI_CLI_HOME", raising=False)
    code, out, err = run("import", "--from", "gemini-cli")
    assert (code, err) == (0, "") and out.count("Imported ") == 4
    saved = home / ".gemini" / "tmp" / "4f2a9c" / "checkpoint-docs-tour.json"
    saved.write_text(
        saved.read_text().rstrip().removesuffix("]")
        + ',{"role": "user", "parts": [{"text": "Thanks"}]}]'
    )
    os.utime(saved, (2_000_000_000, 2_000_000_000))
    code, out, _ = run("import", "--from", "gemini-cli")
    assert code == 0 and out.count("Unchanged ") == 3
    assert "Updated 'docs-tour (imported)'" in out and "+1 message)" in out


def test_sniff() -> None:
    """sniff() takes saved chats (bare and wrapped), checkpoints and recorded sessions, not our
    own sessions nor a ChatGPT export."""
    importer = GeminiCliImporter()
    assert importer.sniff(SAVED.read_bytes(), None)
    assert importer.sniff(RECORDED.read_bytes(), None)
    assert importer.sniff(next((PROJECT / "checkpoints").glob("*.json")).read_bytes(), None)
    assert importer.sniff((PROJECT / "checkpoint-wrapped.json").read_bytes(), None)
    assert not importer.sniff(b'{"po_name": "x", "history": [{"role": "user"}]}', None)
    chatgpt = (
        b'[{"title": "t", "mapping": {"a": {"message": {"author": {"role": "user"},'
        b' "content": {"content_type": "text", "parts": ["hi"]}}}}}]'
    )
    assert not importer.sniff(chatgpt, None)


def test_a_recorded_session_on_one_line_is_recognised_as_gemini(run: Run, tmp_path: Path) -> None:
    """A recorded session written on one line (copied through a tool that compacts JSON) is
    still recognised as Gemini CLI's, not taken for a one-line Claude Code transcript (it has a
    sessionId and message types too), and imports without --format."""
    import json

    from prompt_sessions.importers.claude_code import ClaudeCodeImporter

    compact = tmp_path / "session.json"
    compact.write_text(json.dumps(json.loads(RECORDED.read_text())))
    assert compact.read_text().count("\n") == 0
    assert not ClaudeCodeImporter().sniff(compact.read_bytes(), None)
    code, out, err = run("import", str(compact))
    assert (code, err) == (0, "") and "Imported 'What does make test do? (imported)'" in out
