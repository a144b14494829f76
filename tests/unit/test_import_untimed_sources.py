"""A conversation whose source gives no time at all (an Open WebUI chat exported without
timestamps, a transcript or recording without them, llm rows without a datetime): its messages
take the time of the import, which the next import does not give again, so it is matched by
role and text as Gemini CLI's saved chats are (DESIGN section 16): importing it again is
'unchanged', a grown one gains only its new messages, and one rewound and continued is
followed with its old path kept in a fork."""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from prompt_sessions.importers import common
from prompt_sessions.importing import ImportRun
from prompt_sessions.manager import SessionManager

Turns = list[tuple[str, str]]  # (role: "user" or "assistant", text)
START: Turns = [("user", "u1"), ("assistant", "a1"), ("user", "u2"), ("assistant", "a2")]
GROWN: Turns = [*START, ("user", "u3"), ("assistant", "a3")]
REWOUND: Turns = [("user", "u1"), ("assistant", "a1"), ("user", "u9"), ("assistant", "a9")]


def open_webui(turns: Turns, tmp: Path) -> bytes:
    messages = [{"role": role, "content": said} for role, said in turns]
    return json.dumps([{"id": "c1", "title": "T", "chat": {"messages": messages}}]).encode()


def gemini_recording(turns: Turns, tmp: Path) -> bytes:
    messages = [
        {"type": "user" if role == "user" else "gemini", "content": said} for role, said in turns
    ]
    return json.dumps({"sessionId": "s1", "projectHash": "p", "messages": messages}).encode()


def claude_code(turns: Turns, tmp: Path) -> bytes:
    lines = []
    for number, (role, said) in enumerate(turns, start=1):
        message: dict[str, Any] = {"role": role, "content": said}
        if role == "assistant":
            message = {
                "id": f"m{number}",
                "role": role,
                "content": [{"type": "text", "text": said}],
            }
        lines.append(
            {
                "type": role,
                "sessionId": "s1",
                "uuid": f"u{number}",
                "parentUuid": f"u{number - 1}" if number > 1 else None,
                "message": message,
            }
        )
    return "\n".join(json.dumps(line) for line in lines).encode()


def codex(turns: Turns, tmp: Path) -> bytes:
    kind = {"user": "input_text", "assistant": "output_text"}
    lines: list[dict[str, Any]] = [{"type": "session_meta", "payload": {"id": "s1"}}]
    for role, said in turns:
        content = [{"type": kind[role], "text": said}]
        payload = {"type": "message", "role": role, "content": content}
        lines.append({"type": "response_item", "payload": payload})
    return "\n".join(json.dumps(line) for line in lines).encode()


def llm(turns: Turns, tmp: Path) -> bytes:
    from test_import_llm import CURRENT_SCHEMA

    path = tmp / f"logs-{len(list(tmp.iterdir()))}.db"
    conn = sqlite3.connect(path)
    conn.executescript(CURRENT_SCHEMA)
    conn.execute("INSERT INTO conversations VALUES ('c1', 'T', 'm')")
    pairs = list(zip(turns[::2], turns[1::2], strict=True))
    for number, ((_, prompt), (_, reply)) in enumerate(pairs):
        conn.execute(
            "INSERT INTO responses (id, model, prompt, response, conversation_id, datetime_utc)"
            " VALUES (?, 'm', ?, ?, 'c1', NULL)",
            (f"r{number}", prompt, reply),
        )
    conn.commit()
    conn.close()
    return path.read_bytes()


SOURCES: dict[str, tuple[str, Callable[[Turns, Path], bytes], str | None]] = {
    "open-webui": ("open-webui", open_webui, None),
    "gemini-cli recording": ("gemini-cli", gemini_recording, "session-s1.json"),
    "claude-code": ("claude-code", claude_code, "s1.jsonl"),
    "codex": ("codex", codex, "rollout-s1.jsonl"),
    "llm": ("llm", llm, None),
}


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The importers' clock a second later at each reading, as imports made apart see it (in
    the past: the forks a re-import makes are stamped by the store's own clock, later)."""
    seconds = itertools.count()

    def now() -> str:
        second = next(seconds)
        return f"2020-01-01T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}Z"

    monkeypatch.setattr(common, "now_iso", now)


@pytest.fixture(params=["json", "sqlite"])
def manager(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    with SessionManager.open(tmp_path / ".prompt_objects", backend=request.param) as opened:
        yield opened


def _texts(manager: SessionManager, session_id: str) -> list[str]:
    return [m.content for m in manager.get(session_id).history]


@pytest.mark.parametrize("case", sorted(SOURCES))
def test_a_source_without_times_is_matched_by_role_and_text(
    manager: SessionManager, tmp_path: Path, case: str
) -> None:
    """Imported again unchanged: 'unchanged', nothing written, no fork. Grown: only the new
    messages. Rewound and continued: followed, the old path kept in one fork."""
    format, make, filename = SOURCES[case]
    inputs = tmp_path / "inputs"
    inputs.mkdir()

    def add(turns: Turns) -> list[tuple[str, int]]:
        report = ImportRun(manager).add(make(turns, inputs), format, filename)
        assert report.skipped == []
        return [(o.action, o.added) for o in report.outcomes]

    assert add(START) == [("new", 4)]
    (copy,) = manager.list()
    assert manager.get(copy.id).metadata["import"].get("timed") is None  # the core's stamp
    assert add(START) == [("unchanged", 0)]
    assert len(manager.list()) == 1
    assert add(GROWN) == [("updated", 2)]
    assert _texts(manager, copy.id) == ["u1", "a1", "u2", "a2", "u3", "a3"]
    assert add(REWOUND) == [("updated", 2)]
    assert _texts(manager, copy.id) == ["u1", "a1", "u9", "a9"]
    (fork,) = [s for s in manager.list() if s.parent_id == copy.id]
    assert _texts(manager, fork.id) == ["u1", "a1", "u2", "a2", "u3", "a3"]
    assert add(REWOUND) == [("unchanged", 0)]


def test_a_source_with_times_keeps_matching_by_time(tmp_path: Path) -> None:
    """A conversation with its times is not marked untimed: the importer's stamp says nothing
    of times, so a message said twice at two times is two messages."""
    from prompt_sessions.importers.open_webui import OpenWebUiImporter

    messages = [{"role": "user", "content": "yes", "timestamp": 1_700_000_000}]
    data = json.dumps([{"id": "c1", "title": "T", "chat": {"messages": messages}}]).encode()
    (session,) = OpenWebUiImporter().load(data, None)
    assert "timed" not in session.metadata["import"]
