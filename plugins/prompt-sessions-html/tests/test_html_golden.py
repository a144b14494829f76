"""Golden pages for the html exporter, stored as .html files so a diff reads like the page.

Update after an intended change with
``python -m pytest plugins/prompt-sessions-html/tests --snapshot-update`` and review the diff of
``__snapshots__/`` like any other change.
"""

from __future__ import annotations

from prompt_sessions_html import HtmlExporter
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from prompt_sessions import Message, Session
from prompt_sessions.models import Usage


class HtmlSnapshot(SingleFileSnapshotExtension):
    _file_extension = "html"
    _write_mode = WriteMode.TEXT


def rich_session() -> Session:
    """A fixed session touching everything the page renders."""
    return Session(
        id="6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11",
        name="Debug task: café ☕",
        po_name="coordinator",
        created_at="2025-01-03T10:00:00Z",
        updated_at="2025-01-03T14:31:00.250Z",
        metadata={"ticket": "OPS-42", "limits": {"retries": 3}},
        source="cli",
        thread_type="fork",
        parent_id="0d21d4d5-e427-4f50-b89c-3db212772860",
        parent_message_index=2,
        tags=["ops", "urgent"],
        pinned=True,
        history=[
            Message(role="system", content="Be brief.", created_at="2025-01-03T14:29:00Z"),
            Message(
                role="user",
                content=(
                    "Why does this fail?\nIt exits at once.\n\n~~~py\nimport os\nos.exit(1)\n~~~"
                ),
                created_at="2025-01-03T14:29:58Z",
            ),
            Message(
                role="assistant",
                content=(
                    "Use `sys.exit`:\n\n```python\nimport sys\nsys.exit(1)\n```\n\n"
                    "<b>not bold</b> & done"
                ),
                created_at="2025-01-03T14:30:00.125Z",
                model="echo",
                usage=Usage(input_tokens=12, output_tokens=9),
                latency_ms=120.5,
                tool_calls=[{"name": "run", "arguments": {"cmd": "python -c 'import sys'"}}],
            ),
            Message(
                role="tool",
                content="exit status 1",
                created_at="2025-01-03T14:30:10Z",
                tool_results=[{"status": 1}],
            ),
            Message(
                role="assistant",
                content="Reviewer here: ``a ` b`` and `x<y` look right.",
                from_po="reviewer",
                created_at="2025-01-03T14:30:30Z",
                metadata={"confidence": "high"},
            ),
            Message(
                role="assistant",
                content='And one more thi\n\n```python\nprint("cut off',
                incomplete=True,
                created_at="2025-01-03T14:31:00Z",
            ),
        ],
    )


def test_rich_session_golden(snapshot: SnapshotAssertion) -> None:
    """The html export of a rich session matches its golden .html file."""
    assert HtmlExporter().export(rich_session()) == snapshot.use_extension(HtmlSnapshot)


def test_empty_session_golden(snapshot: SnapshotAssertion) -> None:
    """A session without messages is a header and a 'No messages yet.' note."""
    session = Session(
        id="0d21d4d5-e427-4f50-b89c-3db212772860",
        name="New Session",
        po_name="writer",
        created_at="2025-01-03T10:00:00Z",
        updated_at="2025-01-03T10:00:00Z",
    )
    assert HtmlExporter().export(session) == snapshot.use_extension(HtmlSnapshot)
