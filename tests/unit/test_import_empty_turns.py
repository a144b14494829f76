"""An importer never stores a conversation with nothing in it, nor a reply with nothing in it
(DESIGN section 16: it takes every conversation it can and says what it could not).

A transcript whose lines name a turn but carry no text (an empty ``content``, a reply streamed
with no block) holds nothing to read: the file is refused as holding no conversation, and the
store stays as it was. Each importer of another tool's transcripts is held to it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_runner import Run


def _lines(*records: dict[str, Any]) -> str:
    return "".join(json.dumps(record) + "\n" for record in records)


def _cc(kind: str, message: dict[str, Any] | None, at: str) -> dict[str, Any]:
    line: dict[str, Any] = {"type": kind, "sessionId": "empty-1", "timestamp": at}
    if message is not None:
        line["message"] = message
    return line


def _codex(role: str, content: list[dict[str, str]], at: str) -> dict[str, Any]:
    body = {"type": "message", "role": role, "content": content}
    return {"type": "response_item", "timestamp": at, "payload": body}


CODEX_META = {
    "type": "session_meta",
    "payload": {"id": "c-empty", "timestamp": "2025-01-01T00:00:00Z"},
}

# Files with turns but no text at all: (format, file name, contents).
NOTHING = [
    (
        "claude-code",
        "empty-text.jsonl",
        _lines(_cc("user", {"role": "user", "content": ""}, "2025-01-01T00:00:00Z")),
    ),
    (
        "claude-code",
        "no-message.jsonl",
        _lines(
            _cc("user", None, "2025-01-01T00:00:00Z"),
            _cc("assistant", {"id": "m1", "content": []}, "2025-01-01T00:00:01Z"),
        ),
    ),
    (
        "codex",
        "rollout-empty.jsonl",
        _lines(CODEX_META, _codex("user", [], "2025-01-01T00:00:00Z")),
    ),
    ("gemini-cli", "checkpoint-empty.json", json.dumps([{"role": "user", "parts": []}])),
    (
        "open-webui",
        "chat-export.json",
        json.dumps([{"id": "w1", "title": "t", "chat": {"messages": []}}]),
    ),
]


@pytest.mark.parametrize(("fmt", "name", "text"), NOTHING, ids=[f"{f}-{n}" for f, n, _ in NOTHING])
def test_a_file_of_empty_turns_is_refused_and_stores_nothing(
    run: Run, tmp_path: Path, fmt: str, name: str, text: str
) -> None:
    """A transcript whose turns carry no text is refused on one line; no session is made."""
    source = tmp_path / name
    source.write_text(text)
    code, out, err = run("import", "--format", fmt, str(source))
    assert code == 1, out
    assert err.startswith("Error: ") and err.count("\n") == 1, err
    assert run.json("list", "--json", "--all") == []


# Files with one real turn beside an empty reply: the empty reply is left out.
EMPTY_REPLY = [
    (
        "claude-code",
        "reply.jsonl",
        _lines(
            _cc("user", {"role": "user", "content": "hi"}, "2025-01-01T00:00:00Z"),
            _cc("assistant", {"id": "m9", "content": []}, "2025-01-01T00:00:01Z"),
        ),
    ),
    (
        "claude-code",
        "reply-text.jsonl",
        _lines(
            _cc("user", {"role": "user", "content": "hi"}, "2025-01-01T00:00:00Z"),
            _cc("assistant", {"id": "m9", "content": ""}, "2025-01-01T00:00:01Z"),
        ),
    ),
    (
        "codex",
        "rollout-reply.jsonl",
        _lines(
            CODEX_META,
            _codex("user", [{"type": "input_text", "text": "hi"}], "2025-01-01T00:00:00Z"),
            _codex("assistant", [], "2025-01-01T00:00:01Z"),
            _codex("assistant", [{"type": "output_text", "text": ""}], "2025-01-01T00:00:02Z"),
        ),
    ),
    (
        "gemini-cli",
        "checkpoint-reply.json",
        json.dumps(
            [
                {"role": "user", "parts": [{"text": "hi"}]},
                {"role": "model", "parts": []},
                {"role": "model", "parts": [{"text": ""}]},
            ]
        ),
    ),
    (
        "open-webui",
        "chat-reply.json",
        json.dumps(
            [
                {
                    "id": "w2",
                    "title": "t",
                    "chat": {
                        "messages": [
                            {"role": "user", "content": "hi", "timestamp": 1},
                            {"role": "assistant", "content": "", "timestamp": 2},
                        ]
                    },
                }
            ]
        ),
    ),
]


@pytest.mark.parametrize(
    ("fmt", "name", "text"), EMPTY_REPLY, ids=[f"{f}-{n}" for f, n, _ in EMPTY_REPLY]
)
def test_an_empty_reply_is_left_out(
    run: Run, tmp_path: Path, fmt: str, name: str, text: str
) -> None:
    """A reply with no text, no tool call and no thought is not stored as an empty message;
    the turns around it are."""
    source = tmp_path / name
    source.write_text(text)
    (summary,) = run.json("import", "--format", fmt, "--json", str(source))
    session = run.json("show", summary["id"], "--json")
    assert [(m["role"], m["content"]) for m in session["history"]] == [("user", "hi")]
