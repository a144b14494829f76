"""Golden files for the built-in exports, stored in their own format (.md, .json) so diffs read naturally.

Update after an intended change with ``pytest tests/plugins/test_golden_formats.py --snapshot-update``
and review the diff of ``__snapshots__/`` like any other change.
"""

from __future__ import annotations

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from prompt_sessions.models import Message, Session, Usage
from prompt_sessions.plugins import PluginHost


class MarkdownSnapshot(SingleFileSnapshotExtension):
    _file_extension = "md"
    _write_mode = WriteMode.TEXT


class JsonSnapshot(SingleFileSnapshotExtension):
    _file_extension = "json"
    _write_mode = WriteMode.TEXT


def golden_session() -> Session:
    """A fixed session touching every feature an exporter must render."""
    return Session(
        id="6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11",
        name="Debug task: café ☕",
        po_name="coordinator",
        created_at="2025-01-03T10:00:00Z",
        updated_at="2025-01-03T14:31:00Z",
        metadata={"ticket": "OPS-42"},
        source="cli",
        thread_type="fork",
        parent_id="0d21d4d5-e427-4f50-b89c-3db212772860",
        parent_message_index=2,
        tags=["ops", "urgent"],
        history=[
            Message(role="system", content="Be brief.", created_at="2025-01-03T14:29:00Z"),
            Message(
                role="user",
                content="Why does this fail?\n\n```python\nimport os\nos.exit(1)",
                created_at="2025-01-03T14:29:58Z",
            ),
            Message(
                role="assistant",
                content="Use `sys.exit`:\n\n```python\nimport sys\nsys.exit(1)\n```\n\n<b>not bold</b> & done",
                created_at="2025-01-03T14:30:00Z",
                model="echo",
                usage=Usage(input_tokens=12, output_tokens=9),
                latency_ms=120.5,
            ),
            Message(
                role="assistant",
                content="Reviewer here: looks right.",
                from_po="reviewer",
                created_at="2025-01-03T14:30:30Z",
            ),
            Message(
                role="assistant",
                content="And one more thi",
                incomplete=True,
                created_at="2025-01-03T14:31:00Z",
            ),
        ],
    )


@pytest.fixture
def host() -> PluginHost:
    return PluginHost.create(entry_points=False)


def test_markdown_export_golden(host: PluginHost, snapshot: SnapshotAssertion) -> None:
    """The markdown export of a rich session matches its golden .md file."""
    text = host.exporter("markdown").export(golden_session())
    assert text == snapshot.use_extension(MarkdownSnapshot)


def test_markdown_export_of_an_empty_session_golden(
    host: PluginHost, snapshot: SnapshotAssertion
) -> None:
    """A session without messages exports as just its header."""
    s = Session(
        id="0d21d4d5-e427-4f50-b89c-3db212772860",
        name="New Session",
        po_name="writer",
        created_at="2025-01-03T10:00:00Z",
        updated_at="2025-01-03T10:00:00Z",
    )
    assert host.exporter("markdown").export(s) == snapshot.use_extension(MarkdownSnapshot)


def test_json_export_golden(host: PluginHost, snapshot: SnapshotAssertion) -> None:
    """The json export of a rich session matches its golden .json file."""
    text = host.exporter("json").export(golden_session())
    assert text == snapshot.use_extension(JsonSnapshot)


def delegation_session() -> Session:
    """A coordinator session that called a PO tool: the call, its result, the final reply."""
    return Session(
        id="2b6f7a1e-9c4d-4e8a-8f0b-5d3c2a1b0e9f",
        name="Tides",
        po_name="coordinator",
        created_at="2025-01-03T10:00:00Z",
        updated_at="2025-01-03T10:00:09Z",
        history=[
            Message(role="user", content="Find papers on tides", created_at="2025-01-03T10:00:00Z"),
            Message(
                role="assistant",
                content="Asking the researcher.",
                tool_calls=[
                    {
                        "id": "call_1",
                        "name": "researcher",
                        "arguments": {"message": "papers on ```tides```"},
                    }
                ],
                model="gpt-4o-mini",
                created_at="2025-01-03T10:00:02Z",
            ),
            Message(
                role="tool",
                content="Three papers:\n\n- Darwin 1898",
                tool_results=[
                    {"tool_call_id": "call_1", "content": "Three papers:\n\n- Darwin 1898"}
                ],
                created_at="2025-01-03T10:00:07Z",
            ),
            Message(
                role="assistant",
                content="The researcher found three papers.",
                created_at="2025-01-03T10:00:09Z",
            ),
        ],
    )


def test_markdown_export_of_tool_calls_golden(
    host: PluginHost, snapshot: SnapshotAssertion
) -> None:
    """Tool calls show their name, id and arguments (in a fence their text cannot close), and
    tool results show under the id of their call, once (not again as the message's content)."""
    text = host.exporter("markdown").export(delegation_session())
    assert text == snapshot.use_extension(MarkdownSnapshot)


def test_markdown_export_of_a_delegation_names_its_parent(host: PluginHost) -> None:
    """A delegation session's header says where it was delegated from."""
    session = delegation_session()
    session.thread_type = "delegation"
    session.parent_id = "6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11"
    session.parent_message_index = 1
    text = host.exporter("markdown").export(session)
    assert "- **Delegated from:** `6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11` at message 1" in text
