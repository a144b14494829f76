"""The claude-code importer reads a usual transcript in one call into typed shapes and builds
its sessions without the check through JSON and back (it says ``typed``); these tests hold that
path to what the line-by-line path and the full check give (DESIGN section 16)."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from prompt_sessions.importers import claude_code
from prompt_sessions.importers.claude_code import ClaudeCodeImporter
from prompt_sessions.importing import Skipped, checked_session

DATA = Path(__file__).parent / "data" / "import" / "claude-code"
FIXTURES = sorted(DATA.glob("*/*.jsonl"))


def _shape(sessions: list) -> list:
    """The sessions as JSON values, their run-only ids left out."""
    found = []
    for item in sessions:
        if isinstance(item, Skipped):
            found.append(str(item))
            continue
        value = msgspec.to_builtins(item)
        value.pop("id")
        value.pop("parent_id", None)
        found.append(value)
    return found


def _slow(data: bytes, filename: str) -> list:
    """The same file read line by line (the path for files with odd lines)."""
    real = claude_code.all_lines
    try:
        claude_code.all_lines = lambda data, decoder: None
        return list(ClaudeCodeImporter().load(data, filename))
    finally:
        claude_code.all_lines = real


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_the_one_call_path_gives_what_the_line_path_gives(path: Path) -> None:
    """Every fixture gives the same sessions read in one call as read line by line."""
    data = path.read_bytes()
    assert _shape(ClaudeCodeImporter().load(data, str(path))) == _shape(_slow(data, str(path)))


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_typed_sessions_pass_the_full_check_unchanged(path: Path) -> None:
    """What the importer builds passes the check through JSON and back and comes out equal:
    its ``typed`` claim holds for every fixture."""
    assert ClaudeCodeImporter.typed is True
    for session in ClaudeCodeImporter().load(path.read_bytes(), str(path)):
        assert checked_session(session, "claude-code") == session


def _line(**fields: object) -> bytes:
    base = {"sessionId": "s1", "cwd": "/w", "version": "2.0.14", "uuid": "u"}
    return json.dumps({**base, **fields}).encode() + b"\n"


def test_odd_values_are_tidied_and_still_pass_the_full_check() -> None:
    """A line with values of other types (a number as model, a string as a count, an offset
    or epoch time) is read by the lenient shapes: the odd values are dropped or converted, the
    line is kept, and the session passes the full check."""
    data = _line(
        type="user", timestamp="2025-01-02T03:04:05+01:00", message={"content": "Hi"}
    ) + _line(
        type="assistant",
        timestamp=1735787045,
        message={
            "id": "m1",
            "model": 7,
            "content": [{"type": "text", "text": "Hello"}, {"type": "text", "text": 5}],
            "usage": {"input_tokens": "many", "output_tokens": 3},
        },
    )
    (session,) = ClaudeCodeImporter().load(data, "s1.jsonl")
    assert [(m.role, m.content, m.created_at) for m in session.history] == [
        ("user", "Hi", "2025-01-02T02:04:05Z"),
        ("assistant", "Hello", "2025-01-02T03:04:05Z"),
    ]
    reply = session.history[1]
    assert reply.model is None and (reply.usage.input_tokens, reply.usage.output_tokens) == (0, 3)
    assert checked_session(session, "claude-code") == session


def test_tool_arguments_nested_too_deep_skip_their_line_only() -> None:
    """Arguments nested past the limit are found on the one-call path too: the file is read
    again line by line, that line is named and skipped, and the rest comes in."""
    deep: object = "x"
    for _ in range(70):
        deep = {"a": deep}
    data = (
        _line(type="user", timestamp="2025-01-02T03:04:05Z", message={"content": "Go"})
        + _line(
            type="assistant",
            timestamp="2025-01-02T03:04:06Z",
            message={"id": "m1", "content": [{"type": "tool_use", "id": "t", "input": deep}]},
        )
        + _line(
            type="assistant",
            timestamp="2025-01-02T03:04:07Z",
            message={"id": "m2", "content": [{"type": "text", "text": "Done"}]},
        )
    )
    session, skipped = ClaudeCodeImporter().load(data, "s1.jsonl")
    assert [m.content for m in session.history] == ["Go", "Done"]
    assert isinstance(skipped, Skipped) and skipped.where == "line 2"
    assert "nested deeper than 64" in skipped.reason


def test_blank_lines_and_crlf_line_ends() -> None:
    """Blank lines and Windows line ends are read like plain ones."""
    data = (
        _line(type="user", timestamp="2025-01-02T03:04:05Z", message={"content": "Hi"})
        + b"\n  \n"
        + _line(type="user", timestamp="2025-01-02T03:04:06Z", message={"content": "Again"})
    ).replace(b"\n", b"\r\n")
    (session,) = ClaudeCodeImporter().load(data, "s1.jsonl")
    assert [m.content for m in session.history] == ["Hi", "Again"]
