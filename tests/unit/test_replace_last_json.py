"""``replace_last`` on the JSON store: the file it leaves, byte for byte, and every way the
file can differ from the layout the fast path expects (DESIGN sections 3 and 4)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import msgspec
import pytest

from prompt_sessions.errors import CorruptSession, NotLastMessage, ReadOnlyStore
from prompt_sessions.models import FORMAT_VERSION, Message, Session, summarize
from prompt_sessions.storage import session_codec
from prompt_sessions.storage.json_backend import JsonBackend
from prompt_sessions.storage.json_replace import line_start
from prompt_sessions.testing.conformance import make_message, make_session


@pytest.fixture
def store(tmp_path: Path) -> JsonBackend:
    backend = JsonBackend(tmp_path / ".prompt_objects")
    yield backend
    backend.close()


def seeded(store: JsonBackend, *texts: str) -> Session:
    s = make_session(messages=[make_message(t, 1, i) for i, t in enumerate(texts)])
    store.create(s)
    return s


def test_the_file_is_exactly_the_canonical_layout_after_a_rewrite(store: JsonBackend) -> None:
    """After rewrites that grow and shrink the last message the file is byte for byte what
    writing the session whole would give, so appends and readers see our layout."""
    s = seeded(store, "ask", "draft")
    for text in ("longer draft " * 50, "short"):
        new = make_message(text, 2, role="assistant", incomplete=True)
        store.replace_last(s.id, new, index=1)
        s.history[-1] = new
        s.updated_at = new.created_at
        assert store.path_for(s.id).read_bytes() == session_codec.encode_session(s)


def test_the_first_message_can_be_the_last(store: JsonBackend) -> None:
    """A session of one message has it replaced (the line after ``[``, not after a comma)."""
    s = seeded(store, "only")
    store.replace_last(s.id, make_message("replaced", 2), index=0)
    assert [m.content for m in store.get(s.id).history] == ["replaced"]


def test_a_message_longer_than_the_read_back_chunk(store: JsonBackend) -> None:
    """A last message of several 64 KiB chunks is found by reading back from the tail."""
    s = seeded(store, "ask", "y" * 200_000)
    store.replace_last(s.id, make_message("z" * 150_000, 3), index=1)
    assert [len(m.content) for m in store.get(s.id).history] == [3, 150_000]


def test_line_start_of_a_file_without_newline() -> None:
    """Reading back to the file's start without a newline gives offset 0."""
    with tempfile.TemporaryFile() as f:
        f.write(b"x" * 70_000)
        f.flush()
        assert line_start(f.fileno(), 70_000) == 0
        f.seek(0)
        f.write(b"ab\ncd")
        f.flush()
        assert line_start(f.fileno(), 5) == 3


def test_a_hand_edited_layout_is_rewritten_whole_keeping_unknown_fields(
    store: JsonBackend,
) -> None:
    """A pretty-printed file (not our layout) is rewritten canonically; fields this version
    does not know survive, at the top and on earlier messages, but not on the message
    replaced."""
    s = seeded(store, "ask", "draft")
    path = store.path_for(s.id)
    doc = msgspec.json.decode(path.read_bytes())
    doc["plugin_field"] = {"kept": True}
    doc["history"][0]["mood"] = "curious"
    doc["history"][1]["mood"] = "gone with its message"
    path.write_bytes(msgspec.json.format(msgspec.json.encode(doc), indent=2))
    summary = store.replace_last(s.id, make_message("reply", 3), index=1)
    data = path.read_bytes()
    again = msgspec.json.decode(data)
    assert again["plugin_field"] == {"kept": True}
    assert again["history"][0]["mood"] == "curious"
    assert "mood" not in again["history"][1]
    assert session_codec.find_tail(data[-session_codec.TAIL_PROBE :]) is not None
    assert summary == summarize(store.get(s.id))
    assert [m.content for m in store.get(s.id).history] == ["ask", "reply"]


def test_a_hand_edited_layout_without_unknown_fields(store: JsonBackend) -> None:
    """A pretty-printed file with only known fields is rewritten whole and canonically."""
    s = seeded(store, "ask", "draft")
    path = store.path_for(s.id)
    path.write_bytes(msgspec.json.format(path.read_bytes(), indent=2))
    new = make_message("reply", 3)
    store.replace_last(s.id, new, index=1)
    s.history[-1] = new
    s.updated_at = new.created_at
    assert path.read_bytes() == session_codec.encode_session(s)


def test_a_last_line_that_does_not_decode_is_refused_and_left_alone(store: JsonBackend) -> None:
    """Damage inside the last line that keeps the file's size and time (so the catalog still
    vouches for it) is found when the line is read back: CorruptSession, nothing written."""
    s = seeded(store, "ask", "draft")
    path = store.path_for(s.id)
    before = os.stat(path)
    data = path.read_bytes()
    damaged = data.replace(b'"content":"draft"', b'"content":"draft\x01', 1)
    assert len(damaged) == len(data)
    path.write_bytes(damaged)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    with pytest.raises(CorruptSession):
        store.replace_last(s.id, make_message("reply", 3), index=1)
    assert path.read_bytes() == damaged


def test_a_session_from_a_newer_version_is_never_rewritten(store: JsonBackend) -> None:
    """A newer format_version is refused (ReadOnlyStore) in our layout and in any other."""
    s = seeded(store, "ask", "draft")
    path = store.path_for(s.id)
    newer = path.read_bytes().replace(
        b'{"format_version":1,', f'{{"format_version":{FORMAT_VERSION + 1},'.encode(), 1
    )
    path.write_bytes(newer)
    with pytest.raises(ReadOnlyStore):
        store.replace_last(s.id, make_message("reply", 3), index=1)
    pretty = msgspec.json.format(newer, indent=2)
    path.write_bytes(pretty)
    with pytest.raises(ReadOnlyStore):
        store.replace_last(s.id, make_message("reply", 3), index=1)
    assert path.read_bytes() == pretty


def test_a_file_restored_with_loose_modes_is_made_private(store: JsonBackend) -> None:
    """A session file that came back 0644 (from git or a backup) is 0600 after a rewrite."""
    s = seeded(store, "ask", "draft")
    path = store.path_for(s.id)
    path.chmod(0o644)
    store.replace_last(s.id, make_message("reply", 3), index=1)
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_second_instance_uses_the_catalog_then_the_file(tmp_path: Path) -> None:
    """An instance that has not read the session trusts the catalog's entry; after another
    instance changed the file it reads the file again. Either way the right count is used."""
    root = tmp_path / ".prompt_objects"
    one, two = JsonBackend(root), JsonBackend(root)
    try:
        s = seeded(one, "ask", "draft")
        two.replace_last(s.id, make_message("from two", 3), index=1)
        one.append(s.id, make_message("more", 4))
        two.replace_last(s.id, make_message("two again", 5), index=2)
        assert [m.content for m in one.get(s.id).history] == ["ask", "from two", "two again"]
        assert one.list() == [summarize(one.get(s.id))]
    finally:
        one.close()
        two.close()


def test_a_message_that_cannot_be_encoded_fails_before_anything_is_written(
    store: JsonBackend,
) -> None:
    """Text with a lone surrogate cannot be stored as UTF-8: refused before the file is
    opened."""
    s = seeded(store, "ask", "draft")
    before = store.path_for(s.id).read_bytes()
    with pytest.raises(UnicodeEncodeError):
        store.replace_last(s.id, Message(role="assistant", content="\ud800"), index=1)
    assert store.path_for(s.id).read_bytes() == before


def test_the_whole_file_judges_when_what_was_known_of_it_is_wrong(store: JsonBackend) -> None:
    """When this process's note of a file (size, time and count) vouches for a count the file
    does not have, the rewrite of the whole file goes by the file: NotLastMessage, nothing
    written."""
    s = seeded(store, "ask")
    path = store.path_for(s.id)
    path.write_bytes(msgspec.json.format(path.read_bytes(), indent=2))
    st = os.stat(path)
    state = store._load_state(s.id)
    state.summary = msgspec.structs.replace(state.summary, message_count=2)
    store._files[s.id] = state
    assert (state.size, state.mtime_ns) == (st.st_size, st.st_mtime_ns)
    before = path.read_bytes()
    with pytest.raises(NotLastMessage):
        store.replace_last(s.id, make_message("reply", 3), index=1)
    assert path.read_bytes() == before
