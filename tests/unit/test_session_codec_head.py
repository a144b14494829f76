"""The head of a session file is derived from the Session model, so no field is ever dropped."""

from __future__ import annotations

import msgspec

from prompt_sessions.models import Session
from prompt_sessions.storage import session_codec


def make(model: type[Session] = Session, **fields: object) -> Session:
    return model(
        id="0b5f3c1e-8d2a-4c6b-9e7f-1a2b3c4d5e6f",
        name="Plan",
        po_name="coordinator",
        created_at="2025-01-03T14:30:00.000Z",
        updated_at="2025-01-03T14:31:00.000Z",
        **fields,  # type: ignore[arg-type]
    )


def test_head_holds_every_model_field_but_history_and_updated_at() -> None:
    """With every optional field set, the head has exactly the model's fields minus the tail."""
    session = make(
        source="cli",
        thread_type="fork",
        parent_id="0b5f3c1e-8d2a-4c6b-9e7f-1a2b3c4d5e70",
        parent_message_index=0,
        archived=True,
        pinned=True,
        tags=[],
        metadata={"k": 1},
        auto_named=True,
    )
    names = {f.encode_name for f in msgspec.structs.fields(Session)}
    head = session_codec.head_fields(session)
    assert set(head) == names - {"history", "updated_at"}
    assert next(iter(head)) == "format_version"
    assert head["parent_message_index"] == 0 and head["tags"] == []


def test_defaults_are_left_out_but_version_and_metadata_stay() -> None:
    """A plain session's head states its version, identity, times and metadata, nothing else."""
    assert session_codec.head_fields(make()) == {
        "format_version": 1,
        "id": "0b5f3c1e-8d2a-4c6b-9e7f-1a2b3c4d5e6f",
        "name": "Plan",
        "po_name": "coordinator",
        "created_at": "2025-01-03T14:30:00.000Z",
        "metadata": {},
    }


class Extended(Session, kw_only=True, omit_defaults=True):
    """The model with one more field, as a later version might add."""

    color: str | None = None


def test_a_field_added_to_the_model_is_kept() -> None:
    """A new model field is written into the head and survives a round trip through the file."""
    session = make(Extended, color="red")
    assert session_codec.head_fields(session)["color"] == "red"
    decoded = msgspec.json.decode(session_codec.encode_session(session), type=Extended)
    assert decoded == session
    assert "color" not in session_codec.head_fields(make(Extended))
