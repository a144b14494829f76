"""Where the torn-tail repair stops: it restores what a cut append leaves, and nothing else.

A cut first append restores the empty session; a whole message followed by a lost page reads as
before that append. Damage anywhere but the tail, a damaged head, or a file that claims another
session's id is reported as damage and left on disk byte for byte.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from prompt_sessions.errors import CorruptSession
from prompt_sessions.models import Message, Session
from prompt_sessions.storage import session_codec
from reliability_support import assert_at_rest, open_manager


def _session_file(root: Path, sid: str) -> Path:
    return root / "sessions" / f"{sid}.json"


def _cut_append(data: bytes, message: Message, keep: int, filler: bytes = b"") -> bytes:
    """``data`` with the first ``keep`` bytes of an append of ``message`` written over its tail,
    then ``filler`` (a page the power loss never wrote)."""
    found = session_codec.find_tail(data[-session_codec.TAIL_PROBE :])
    assert found is not None
    offset = len(data) - found.length
    payload = session_codec.append_bytes(
        session_codec.encode_message(message), first=found.empty, updated_at=message.created_at
    )
    return data[:offset] + payload[:keep] + filler


def _store(root: Path, contents: list[str]) -> tuple[str, Session]:
    mgr = open_manager(root)
    session = mgr.create("po", "Torn", history=[Message(role="user", content=c) for c in contents])
    before = mgr.get(session.id)
    mgr.close()
    return session.id, before


def _assert_reported_and_kept(root: Path, sid: str, data: bytes) -> None:
    mgr = open_manager(root)
    with pytest.raises(CorruptSession):
        mgr.get(sid)
    mgr.list()
    assert sid in mgr.problems()
    mgr.close()
    assert _session_file(root, sid).read_bytes() == data
    assert_at_rest(root, damaged={sid})


def test_a_cut_first_append_restores_the_empty_session(tmp_path: Path) -> None:
    """Power loss during the first append of an empty session: it reads as the empty session."""
    root = tmp_path / ".prompt_objects"
    sid, before = _store(root, [])
    path = _session_file(root, sid)
    old = path.read_bytes()
    first = Message(role="user", content="never acknowledged")
    for keep in (1, 2, 10):
        path.write_bytes(_cut_append(old, first, keep))
        mgr = open_manager(root)
        assert mgr.get(sid) == before, keep
        mgr.list()
        mgr.close()
        assert path.read_bytes() == old, keep
        assert_at_rest(root)


def test_a_whole_message_followed_by_a_lost_page_reads_as_before_its_append(tmp_path: Path) -> None:
    """The new message reached the disk but the page after it did not (zeros): that append never
    returned, so the session is as it was before it."""
    root = tmp_path / ".prompt_objects"
    sid, before = _store(root, ["one", "two"])
    path = _session_file(root, sid)
    old = path.read_bytes()
    late = Message(role="assistant", content="whole, but its tail was lost")
    whole = len(b",\n" + session_codec.encode_message(late))
    path.write_bytes(_cut_append(old, late, whole, filler=b"\x00" * 64))
    mgr = open_manager(root)
    assert mgr.get(sid).history == before.history
    mgr.list()
    mgr.close()
    assert (
        session_codec.decode_session(path.read_bytes(), sid, allow_torn=False).history
        == before.history
    )
    assert_at_rest(root)


def test_damage_mid_file_with_a_cut_tail_is_reported(tmp_path: Path) -> None:
    """A flipped byte early in the file and a cut tail: cutting back to the damage would lose the
    whole messages after it, so the file is damaged, not repaired."""
    root = tmp_path / ".prompt_objects"
    sid, _ = _store(root, ["one", "two", "three"])
    path = _session_file(root, sid)
    data = path.read_bytes().replace(b'"content":"one"', b'"content":"one', 1)[:-20]
    _replace_file(path, data)
    _assert_reported_and_kept(root, sid, data)


def test_a_damaged_head_with_a_cut_tail_is_reported(tmp_path: Path) -> None:
    """The first line (the session's own fields) is no longer JSON: nothing can be rebuilt."""
    root = tmp_path / ".prompt_objects"
    sid, _ = _store(root, ["one"])
    path = _session_file(root, sid)
    data = path.read_bytes().replace(b'"name":"Torn"', b'"name":"Torn', 1)[:-20]
    _replace_file(path, data)
    _assert_reported_and_kept(root, sid, data)


def test_a_cut_file_claiming_another_id_is_reported(tmp_path: Path) -> None:
    """A cut file saved under another session's name is not rebuilt under that name."""
    root = tmp_path / ".prompt_objects"
    sid, _ = _store(root, ["mine"])
    other, _ = _store(root, ["theirs"])
    path = _session_file(root, other)
    data = _session_file(root, sid).read_bytes()[:-20]
    _replace_file(path, data)
    _assert_reported_and_kept(root, other, data)


def _replace_file(path: Path, data: bytes) -> None:
    """Write ``path`` as editors, sync tools and ``cp``-then-rename do: a new file renamed
    over it (what ``list`` notices; an edit in place is noticed by ``doctor`` and ``get``)."""
    new = path.with_name(path.name + ".new")
    new.write_bytes(data)
    os.chmod(new, 0o600)
    os.replace(new, path)
