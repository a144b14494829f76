"""Built-in exporters: markdown (header, speakers) and json (full fidelity). How message content
is kept inside its section is in test_markdown_commonmark.py."""

from __future__ import annotations

import json
import re

from prompt_sessions.default_plugins.exporters import JsonExporter, MarkdownExporter
from prompt_sessions.default_plugins.importers import JsonImporter
from prompt_sessions.models import Message, Session, Usage

T = "2025-01-03T14:29:58Z"


def session(*messages: Message, **fields: object) -> Session:
    base = dict(
        id="6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11",
        name="Debug task",
        po_name="coordinator",
        created_at="2025-01-03T10:00:00Z",
        updated_at="2025-01-03T14:30:00Z",
        history=list(messages),
    )
    base.update(fields)
    return Session(**base)  # type: ignore[arg-type]


def m(role: str, content: str, **fields: object) -> Message:
    return Message(role=role, content=content, created_at=T, **fields)  # type: ignore[arg-type]


def test_markdown_header_carries_the_metadata() -> None:
    """The markdown export starts with the name and lists PO, id, times, count, source, fork, tags."""
    s = session(
        m("user", "hi"),
        source="cli",
        parent_id="0d21d4d5-e427-4f50-b89c-3db212772860",
        parent_message_index=1,
        tags=["ops", "urgent"],
    )
    text = MarkdownExporter().export(s)
    assert text.startswith("# Debug task\n")
    for piece in (
        "coordinator",
        s.id,
        "2025-01-03T10:00:00Z",
        "2025-01-03T14:30:00Z",
        "**Messages:** 1",
        "cli",
        "0d21d4d5-e427-4f50-b89c-3db212772860",
        "at message 1",
        "ops, urgent",
    ):
        assert piece in text
    assert text.endswith("\n") and not text.endswith("\n\n")


def test_markdown_labels_each_message_with_its_speaker() -> None:
    """User messages say User; assistant messages name the PO (or the PO that spoke)."""
    s = session(
        m("user", "q"),
        m("assistant", "a"),
        m("assistant", "b", from_po="reviewer"),
        m("system", "s"),
    )
    headings = re.findall(r"^## (.+)$", MarkdownExporter().export(s), re.MULTILINE)
    assert headings == ["User", "coordinator", "reviewer", "System"]


def test_markdown_marks_incomplete_replies() -> None:
    """A reply cut short is marked as incomplete."""
    text = MarkdownExporter().export(session(m("assistant", "half a", incomplete=True)))
    assert "(incomplete)" in text


def test_json_export_round_trips_through_the_importer() -> None:
    """The json export is full fidelity: importing it gives back an equal session."""
    s = session(
        m("user", 'hé "quoted"\nnew line'),
        m(
            "assistant",
            "ok",
            model="echo",
            usage=Usage(input_tokens=1, output_tokens=2),
            latency_ms=3.5,
        ),
        metadata={"k": [1, 2]},
        tags=["t"],
        pinned=True,
    )
    text = JsonExporter().export(s)
    assert isinstance(text, str)
    doc = json.loads(text)
    assert doc["format_version"] == 1
    assert JsonImporter().sniff(text.encode(), "x.json")
    assert list(JsonImporter().load(text.encode(), "x.json")) == [s]


def test_exporters_declare_name_extension_media_type() -> None:
    """Each exporter has the attributes the plugin host requires."""
    assert (JsonExporter.name, JsonExporter.extension, JsonExporter.media_type) == (
        "json",
        "json",
        "application/json",
    )
    assert (MarkdownExporter.name, MarkdownExporter.extension, MarkdownExporter.media_type) == (
        "markdown",
        "md",
        "text/markdown",
    )


def test_an_imported_session_exports_its_tool_calls_to_markdown(run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A session imported with tool_calls and tool_results keeps them in its Markdown export
    (name, arguments, result) and in its JSON export."""
    data = {
        "format_version": 1,
        "id": "6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11",
        "name": "With tools",
        "po_name": "coordinator",
        "created_at": "2025-01-03T10:00:00Z",
        "updated_at": "2025-01-03T10:00:00Z",
        "history": [
            {"role": "user", "content": "go", "created_at": "2025-01-03T10:00:00Z"},
            {
                "role": "assistant",
                "content": "",
                "created_at": "2025-01-03T10:00:01Z",
                "tool_calls": [{"id": "c1", "name": "researcher", "arguments": {"message": "q"}}],
            },
            {
                "role": "tool",
                "content": "the answer",
                "created_at": "2025-01-03T10:00:02Z",
                "tool_results": [{"tool_call_id": "c1", "content": "the answer"}],
            },
        ],
    }
    source = tmp_path / "in.json"
    source.write_text(json.dumps(data))
    (imported,) = run.json("import", str(source), "--json")
    code, markdown, _ = run("export", imported["id"])
    assert code == 0
    assert "**Tool call** `researcher` (`c1`):" in markdown
    assert '"message": "q"' in markdown
    assert "**Tool result** for `c1`:\n\n> the answer" in markdown
    code, exported, _ = run("export", imported["id"], "--format", "json")
    assert json.loads(exported)["history"][2]["tool_results"] == data["history"][2]["tool_results"]
