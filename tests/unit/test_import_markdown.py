"""The markdown importer reads the Markdown exporter's output back: roles, speakers, texts,
times, tool calls and results, and the session's fields."""

from __future__ import annotations

import pytest

from prompt_sessions.default_plugins.exporters import MarkdownExporter
from prompt_sessions.errors import ImportFormatError
from prompt_sessions.importers.markdown import MarkdownImporter
from prompt_sessions.importing import ImportRun
from prompt_sessions.models import Message, Session

SID = "6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11"
PARENT = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


def session(history: list[Message], **fields: object) -> Session:
    base: dict = {
        "id": SID,
        "name": "Trip planning",
        "po_name": "coordinator",
        "created_at": "2025-02-01T10:00:00Z",
        "updated_at": "2025-02-01T10:05:00.250Z",
        "history": history,
    }
    base.update(fields)
    return Session(**base)


def round_trip(original: Session) -> Session:
    exported = MarkdownExporter().export(original).encode()
    assert MarkdownImporter().sniff(exported, "trip.md")
    (back,) = MarkdownImporter().load(exported, "trip.md")
    return back


TRICKY = [
    "plain",
    "two\n\nparagraphs\n",
    "a rule inside\n\n---\n\n## not a heading of ours\n\nstill the same message",
    "```python\nprint('fenced')\n```",
    "ends with a heading\n\n## User",
    "**Tool call** `looks like one`:\n\nbut is text",
    "Café ☕ and emoji 🎒",
]


@pytest.mark.parametrize("content", TRICKY)
def test_message_texts_come_back_exactly(content: str) -> None:
    """Texts with rules, headings, fences, tool-like lines and non-ASCII come back as they were
    (trailing line breaks included), with role and time."""
    original = session(
        [
            Message(role="user", content=content, created_at="2025-02-01T10:00:01Z"),
            Message(role="assistant", content=content, created_at="2025-02-01T10:00:02.500Z"),
        ]
    )
    back = round_trip(original)
    assert [(m.role, m.content, m.created_at) for m in back.history] == [
        (m.role, m.content, m.created_at) for m in original.history
    ]


def test_tools_speakers_and_fields_round_trip() -> None:
    """Tool calls (name, id, arguments), tool results, a delegated PO's reply, an incomplete
    reply, a system message, tags and the parent all come back."""
    call = {"id": "call_1", "name": "researcher", "arguments": {"message": "Find trains\n`now`"}}
    history = [
        Message(role="system", content="Be brief.", created_at="2025-02-01T10:00:00Z"),
        Message(role="user", content="Plan Bergen.", created_at="2025-02-01T10:00:01Z"),
        Message(
            role="assistant",
            content="Asking.",
            created_at="2025-02-01T10:00:02Z",
            tool_calls=[call],
        ),
        Message(
            role="tool",
            content="Two trains.\n\nBoth early.",
            created_at="2025-02-01T10:00:03Z",
            tool_results=[{"tool_call_id": "call_1", "content": "Two trains.\n\nBoth early."}],
        ),
        Message(
            role="assistant",
            content="From the researcher",
            from_po="researcher",
            created_at="2025-02-01T10:00:04Z",
        ),
        Message(
            role="assistant",
            content="Take the mor",
            incomplete=True,
            created_at="2025-02-01T10:00:05Z",
        ),
    ]
    original = session(
        history,
        tags=["travel", "norway"],
        thread_type="fork",
        parent_id=PARENT,
        parent_message_index=3,
    )
    back = round_trip(original)
    assert [(m.role, m.content, m.from_po, m.incomplete) for m in back.history] == [
        (m.role, m.content, m.from_po, m.incomplete) for m in history
    ]
    assert back.history[2].tool_calls == [call]
    assert back.history[3].tool_results == history[3].tool_results
    assert (back.name, back.po_name, back.tags) == (
        "Trip planning",
        "coordinator",
        ["travel", "norway"],
    )
    assert (back.created_at, back.updated_at) == (original.created_at, original.updated_at)
    assert back.thread_type == "fork" and back.parent_message_index == 3
    assert back.metadata["import"] == {"source_id": SID, "parent_source_id": PARENT}


def test_reimporting_an_export_adds_only_new_messages(session_manager) -> None:
    """An export imported twice is one copy; exported again after a new message, the import
    adds that message to the copy."""
    first = session([Message(role="user", content="hi", created_at="2025-02-01T10:00:01Z")])
    data = MarkdownExporter().export(first).encode()
    made = ImportRun(session_manager).add(data, "markdown").outcomes[0]
    assert ImportRun(session_manager).add(data).outcomes[0].action == "unchanged"
    first.history.append(
        Message(role="assistant", content="hello", created_at="2025-02-01T10:00:02Z")
    )
    again = ImportRun(session_manager).add(MarkdownExporter().export(first).encode())
    assert [(o.action, o.added) for o in again.outcomes] == [("updated", 1)]
    assert [m.content for m in session_manager.get(made.session.id).history] == ["hi", "hello"]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"\xff\xfe# broken", "not UTF-8"),
        (b"no heading", "starts with '# <name>'"),
        (b"# Name\n\n- **Session:** `x`\n", "names no PO"),
    ],
)
def test_refusals_are_one_line(data: bytes, words: str) -> None:
    """Input that is not a Markdown export is refused with a one-line reason."""
    with pytest.raises(ImportFormatError, match=words.replace("(", r"\(").replace(")", r"\)")):
        list(MarkdownImporter().load(data, None))
