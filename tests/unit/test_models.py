"""Session, Message and SessionSummary: strict decoding of files and imports, name rules."""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from prompt_sessions.errors import CorruptSession, InvalidName
from prompt_sessions.models import (
    NAME_MAX,
    Message,
    Session,
    Usage,
    clean_name,
    clean_po_name,
    make_preview,
    summarize,
)
from prompt_sessions.storage.session_codec import decode_session, encode_session

SID = "6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11"


def seed_doc() -> dict[str, Any]:
    """The example session file of DESIGN section 3."""
    return {
        "format_version": 1,
        "id": SID,
        "name": "Default",
        "po_name": "coordinator",
        "created_at": "2025-01-03T10:00:00Z",
        "updated_at": "2025-01-03T14:30:00Z",
        "metadata": {},
        "history": [
            {"role": "user", "content": "Hello", "created_at": "2025-01-03T14:29:58Z"},
            {
                "role": "assistant",
                "content": "Hi there!",
                "created_at": "2025-01-03T14:30:00Z",
                "model": "echo",
                "usage": {"input_tokens": 3, "output_tokens": 2},
            },
        ],
    }


def decode(doc: dict[str, Any]) -> Session:
    return decode_session(json.dumps(doc).encode(), SID)


def test_seed_example_decodes_with_fields_as_attributes() -> None:
    """The design's example file decodes and exposes its fields as attributes."""
    session = decode(seed_doc())
    assert session.name == "Default"
    assert session.po_name == "coordinator"
    assert session.history[0].content == "Hello"
    assert session.history[1].role == "assistant"
    assert session.history[1].usage == Usage(input_tokens=3, output_tokens=2)
    assert session.message_count == 2


def test_key_order_does_not_matter() -> None:
    """Readers never depend on key order: a file with keys reversed decodes the same."""
    doc = seed_doc()
    reversed_doc = dict(reversed(list(doc.items())))
    reversed_doc["history"] = [dict(reversed(list(m.items()))) for m in doc["history"]]
    assert decode(reversed_doc) == decode(doc)


def test_optional_fields_round_trip() -> None:
    """Optional session and message fields survive encode and decode unchanged."""
    doc = seed_doc()
    doc.update(
        source="cli",
        thread_type="fork",
        parent_id="0d21d4d5-e427-4f50-b89c-3db212772860",
        parent_message_index=1,
        archived=True,
        pinned=True,
        tags=["a", "b"],
    )
    doc["history"][1].update(
        from_po="reviewer",
        tool_calls=[{"name": "x"}],
        tool_results=[{"ok": True}],
        latency_ms=12.5,
        source="tui",
        incomplete=True,
        metadata={"k": 1},
    )
    session = decode(doc)
    assert decode_session(encode_session(session), SID) == session
    assert session.thread_type == "fork"
    assert session.history[1].incomplete is True


def _set(path: str, value: Any) -> dict[str, Any]:
    doc = seed_doc()
    node: Any = doc
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node[part]
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return doc


BAD_FILES = [
    # (what is changed, the value, words the error must contain)
    ("name", 42, ["$.name", "str"]),
    ("name", "x" * (NAME_MAX + 1), ["$.name", "80"]),
    ("name", "bad\x01name", ["$.name", "control characters"]),
    ("name", "trailing newline\n", ["$.name", "control characters"]),
    ("name", "   ", ["$.name"]),
    ("name", "", ["$.name"]),
    ("po_name", ["coordinator"], ["$.po_name"]),
    ("po_name", "../etc", ["$.po_name"]),
    ("created_at", "yesterday", ["$.created_at", "ISO-8601"]),
    ("created_at", "2025-13-03T10:00:00Z", ["$.created_at", "ISO-8601"]),
    ("created_at", "2025-01-03T10:00:00+01:00", ["$.created_at", "ISO-8601"]),
    ("updated_at", "2025-01-03T10:00:00Z\n", ["$.updated_at", "ISO-8601"]),
    # Digits of other scripts are digits to a regular expression's \d, not to ISO 8601.
    ("created_at", "\u0662\u0660\u0662\u0665-01-03T10:00:00Z", ["$.created_at", "ISO-8601"]),
    ("history.0.created_at", "2025-01-03T1\uff10:00:00Z", ["$.history[0].created_at", "ISO-8601"]),
    ("updated_at", 1735900000, ["$.updated_at", "str"]),
    ("id", "not-a-uuid", ["$.id", "UUID"]),
    ("parent_id", "../../x", ["$.parent_id", "UUID"]),
    ("metadata", [], ["$.metadata", "object"]),
    ("history", {}, ["$.history", "array"]),
    ("history.0.role", "robot", ["$.history[0].role", "robot"]),
    ("history.0.content", 5, ["$.history[0].content", "str"]),
    ("history.0.created_at", "2025-01-03 14:29:58", ["$.history[0].created_at", "ISO-8601"]),
    ("history.1.usage", {"input_tokens": "three"}, ["$.history[1].usage.input_tokens", "int"]),
    ("thread_type", "spiral", ["$.thread_type"]),
    ("archived", "yes", ["$.archived", "bool"]),
    ("tags", "one", ["$.tags", "array"]),
]


@pytest.mark.parametrize(
    ("path", "value", "words"), BAD_FILES, ids=[f"{p}={v!r}"[:40] for p, v, _ in BAD_FILES]
)
def test_bad_field_is_refused_with_an_error_naming_it(
    path: str, value: Any, words: list[str]
) -> None:
    """Each wrong type, unknown role, bad timestamp or bad name gives a clear error naming the field."""
    with pytest.raises(CorruptSession) as info:
        decode(_set(path, value))
    for word in words:
        assert word in str(info.value)
    assert "matching regex" not in str(info.value), (
        "regexes are replaced by words a person can act on"
    )


def test_missing_required_field_is_named() -> None:
    """A file without a required field says which one."""
    doc = seed_doc()
    del doc["po_name"]
    with pytest.raises(CorruptSession, match="po_name"):
        decode(doc)


def test_file_whose_id_differs_from_its_name_is_refused() -> None:
    """A file claiming another id than its file name is damaged, not silently trusted."""
    doc = seed_doc()
    doc["id"] = "0d21d4d5-e427-4f50-b89c-3db212772860"
    with pytest.raises(CorruptSession, match="0d21d4d5"):
        decode(doc)


@pytest.mark.parametrize("data", [b"", b"{", b"null", b"[]", b'"text"'])
def test_non_object_files_are_damaged(data: bytes) -> None:
    """Empty, truncated or non-object files are reported as damaged, not crashes."""
    with pytest.raises(CorruptSession):
        decode_session(data, SID)


def test_newer_format_version_is_explained() -> None:
    """A file from a newer program that fails to decode says its format_version is too new."""
    doc = seed_doc()
    doc["format_version"] = 99
    doc["history"][0]["role"] = "narrator"
    with pytest.raises(CorruptSession, match="format_version 99"):
        decode(doc)


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("  Debug task  ", "Debug task"),
        ("x" * NAME_MAX, "x" * NAME_MAX),
        ("Ünïcødé 名前", "Ünïcødé 名前"),
    ],
)
def test_clean_name_trims_and_accepts_up_to_the_limit(given: str, kept: str) -> None:
    """Names are trimmed; up to 80 characters of any printable text are accepted."""
    assert clean_name(given) == kept


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ("", "empty"),
        ("   \t ", "empty"),
        ("x" * (NAME_MAX + 1), "81 characters"),
        ("tab\tinside", "control"),
        ("bell\x07", "control"),
        ("del\x7f", "control"),
        (None, "text"),
        (12, "text"),
    ],
)
def test_clean_name_refuses_bad_names(given: object, words: str) -> None:
    """Blank, too long, control characters and non-text names raise InvalidName saying why."""
    with pytest.raises(InvalidName, match=words):
        clean_name(given)


@pytest.mark.parametrize("bad", ["", "a/b", "a\\b", "new\nline", 3])
def test_clean_po_name_refuses_paths_and_control_characters(bad: object) -> None:
    """PO names never contain slashes or control characters."""
    with pytest.raises(InvalidName):
        clean_po_name(bad)


def test_summary_counts_messages_tokens_and_previews_the_last_message() -> None:
    """A summary carries the count, token totals and the last words of the last message."""
    session = decode(seed_doc())
    summary = summarize(session)
    assert summary.message_count == 2
    assert (summary.input_tokens, summary.output_tokens) == (3, 2)
    assert summary.preview == "Hi there!"
    assert summary.updated_at == "2025-01-03T14:30:00Z"


def test_preview_is_one_line_and_bounded() -> None:
    """Previews flatten whitespace and keep the end of long messages."""
    text = "first line\n\n  second\tline " + "word " * 100 + "THE END"
    preview = make_preview(text)
    assert "\n" not in preview and "\t" not in preview
    assert len(preview) <= 80
    assert preview.endswith("THE END")
    assert preview.startswith("…")


def test_message_gets_a_utc_timestamp_by_default() -> None:
    """A message built in code gets a valid Z timestamp that later messages never precede."""
    first, second = Message(role="user", content="a"), Message(role="user", content="b")
    for m in (first, second):
        msgspec.convert(msgspec.to_builtins(m), Message)  # valid under strict rules
        assert m.created_at.endswith("Z")
    assert second.created_at > first.created_at


def test_clean_name_refuses_lone_surrogates() -> None:
    """Text that cannot be stored as UTF-8 is an invalid name, refused before any write."""
    with pytest.raises(InvalidName, match="Unicode"):
        clean_name("half \ud83d emoji")


@given(
    st.text(
        alphabet=st.sampled_from("ab \t\n\r\x0b\x0c\x1c\x85\xa0\u2000\u2028\u3000é"), max_size=400
    )
)
def test_preview_flattens_every_unicode_whitespace_run_to_one_space(text: str) -> None:
    """Any run of Unicode whitespace (as a regular expression's \\s matches it) becomes one
    space, and none is left at either end."""
    flat = re.sub(r"\s+", " ", text[-320:]).strip()
    expected = flat if len(flat) <= 80 else "…" + flat[-79:].lstrip()
    assert make_preview(text) == expected
