"""The built-in json importer: one session, a list, or {"sessions": [...]}; clear errors otherwise."""

from __future__ import annotations

import json

import pytest

from prompt_sessions.default_plugins.importers import JsonImporter
from prompt_sessions.errors import ImportFormatError
from prompt_sessions.importing import Skipped

SID = "6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11"


def doc(name: str = "x", **fields: object) -> dict:
    base = {
        "format_version": 1,
        "id": SID,
        "name": name,
        "po_name": "po",
        "created_at": "2025-01-01T00:00:00Z",
        "updated_at": "2025-01-01T00:00:00Z",
        "history": [{"role": "user", "content": "hi", "created_at": "2025-01-01T00:00:00Z"}],
    }
    base.update(fields)
    return base


def load(data: object) -> list:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return list(JsonImporter().load(raw, None))


def test_one_many_and_wrapped() -> None:
    """A single object, a list, and a {"sessions": [...]} wrapper all load."""
    assert [s.name for s in load(doc("a"))] == ["a"]
    assert [s.name for s in load([doc("a"), doc("b")])] == ["a", "b"]
    assert [s.name for s in load({"sessions": [doc("c")]})] == ["c"]


@pytest.mark.parametrize(
    ("data", "sniffed"),
    [
        (b'  {"po_name": "a", "history": []}', True),
        (b'[{"po_name": "a"}]', True),  # a session without messages has no history key
        (b'{"sessions": [{"po_name": "a"}]}', True),
        (b"name: yaml", False),
        (b'{"no": "session keys"}', False),
        (b'[{"title": "chat", "mapping": {}, "history": "another tool"}]', False),
        (b"", False),
    ],
)
def test_sniff(data: bytes, sniffed: bool) -> None:
    """sniff() recognises our sessions' JSON, with or without messages, and nothing else."""
    assert JsonImporter().sniff(data, None) is sniffed


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"not json", "not valid JSON"),
        (b"", "not valid JSON"),
        (b"[]", "no sessions"),
        (b"[1]", "item 0"),
        (doc(name=7), "$.name"),
        (
            doc(history=[{"role": "wizard", "content": "x", "created_at": "2025-01-01T00:00:00Z"}]),
            "wizard",
        ),
        (doc(created_at="soon"), "ISO-8601"),
    ],
)
def test_bad_input_is_an_import_format_error(data: object, words: str) -> None:
    """Each kind of bad input raises ImportFormatError with a message saying what and where."""
    with pytest.raises(ImportFormatError) as info:
        load(data)
    assert words in str(info.value)


def test_one_bad_session_among_many_is_skipped_with_where_and_why() -> None:
    """In a file of many sessions a bad one (or a non-object) becomes a Skipped entry naming it
    and the reason; the others load."""
    found = load([doc("ok"), doc(name="x" * 81), 3, doc("fine")])
    assert [s.name for s in found if not isinstance(s, Skipped)] == ["ok", "fine"]
    assert [str(s) for s in found if isinstance(s, Skipped)] == [
        "session 1: Expected `str` of length <= 80 - at `$.name`",
        "session 2: item 2 is not a session object",
    ]


@pytest.mark.parametrize("bom", [b"\xef\xbb\xbf", b"\xef\xbb\xbf \n"])
def test_a_utf8_byte_order_mark_is_sniffed_and_loaded(bom: bytes) -> None:
    """A file saved with a UTF-8 byte order mark (as Windows editors do) is recognised and
    loads like the same file without it."""
    data = bom + json.dumps(doc("bom")).encode()
    assert JsonImporter().sniff(data, None)
    assert [s.name for s in JsonImporter().load(data, None)] == ["bom"]


def test_null_fields_with_defaults_and_null_message_times_are_filled() -> None:
    """null metadata, tags, archived and format_version mean absent; a message with a null or
    missing time takes the time before it (the session's start for the first)."""
    history = [
        {"role": "user", "content": "a", "created_at": None},
        {"role": "assistant", "content": "b", "created_at": "2025-01-02T00:00:00Z"},
        {"role": "user", "content": "c"},
    ]
    fields = dict(metadata=None, tags=None, archived=None, format_version=None, history=history)
    [s] = load(doc("nulls", **fields))
    assert s.metadata == {} and s.tags is None and s.archived is False
    assert [m.created_at for m in s.history] == [
        "2025-01-01T00:00:00Z",
        "2025-01-02T00:00:00Z",
        "2025-01-02T00:00:00Z",
    ]
    [empty] = load(doc("no history", history=None))
    assert empty.history == []
