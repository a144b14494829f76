"""A SIGKILL can cut a multi-page append short: the file must still read as its last whole state."""

from __future__ import annotations

from pathlib import Path

import pytest

from prompt_sessions import Message
from prompt_sessions.errors import CorruptSession
from prompt_sessions.manager import SessionManager
from prompt_sessions.plugins import PluginHost
from prompt_sessions.storage import session_codec


def _manager(root: Path) -> SessionManager:
    return SessionManager.open(root, host=PluginHost.create(entry_points=False), config={})


@pytest.mark.parametrize("cut", [1, 2, 4096, 8191])
def test_append_cut_at_a_page_boundary_reads_as_before(tmp_path: Path, cut: int) -> None:
    """Bytes of a big append cut at any point read back as the session before that append."""
    root = tmp_path / ".prompt_objects"
    mgr = _manager(root)
    s = mgr.create("po", "torn")
    mgr.append(s.id, Message(role="user", content="kept"))
    before = mgr.get(s.id)
    mgr.close()
    path = root / "sessions" / f"{s.id}.json"
    data = path.read_bytes()
    found = session_codec.find_tail(data[-session_codec.TAIL_PROBE :])
    assert found is not None
    big = Message(role="assistant", content="x" * 10_000)
    payload = session_codec.append_bytes(
        session_codec.encode_message(big), first=False, updated_at=big.created_at
    )
    offset = len(data) - found.length
    torn = data[:offset] + payload[:cut] + data[offset + cut :]
    path.write_bytes(torn)

    as_it_lies = session_codec.decode_session(torn, s.id)
    assert [m.content for m in as_it_lies.history] == ["kept"]
    with pytest.raises(CorruptSession):
        session_codec.decode_session(torn, s.id, allow_torn=False)

    mgr = _manager(root)
    assert [m.content for m in mgr.get(s.id).history] == [m.content for m in before.history]
    mgr.append(s.id, Message(role="user", content="after"))
    assert [m.content for m in mgr.get(s.id).history] == ["kept", "after"]
    mgr.close()
    session_codec.decode_session(path.read_bytes(), s.id, allow_torn=False)


def test_damage_in_the_middle_is_not_mistaken_for_a_torn_tail(tmp_path: Path) -> None:
    """A flipped byte inside an earlier message is still reported as damage."""
    root = tmp_path / ".prompt_objects"
    mgr = _manager(root)
    s = mgr.create("po", "damaged")
    for text in ("one", "two", "three"):
        mgr.append(s.id, Message(role="user", content=text))
    mgr.close()
    path = root / "sessions" / f"{s.id}.json"
    data = path.read_bytes()
    broken = data.replace(b'"content":"two"', b'"content":"two', 1)
    with pytest.raises(CorruptSession):
        session_codec.decode_session(broken, s.id)
