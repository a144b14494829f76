"""Every cut point of an append reads back as the history before it or after it, never a third.

A kill -9 or power loss during an append leaves the old file with a prefix of the new tail
written over its ending: ``old[:offset] + payload[:k] + old[offset + k:]`` while the write is
shorter than the old tail it covers, ``old[:offset] + payload[:k]`` once it is longer (or if the
file was cut there). The same holds for the catalog journal: a line cut short by a kill never
swallows the line the next process appends.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from reliability_support import abandon, assert_at_rest, catalog_on_disk, host, open_manager

from prompt_sessions.manager import SessionManager
from prompt_sessions.models import Message, Session
from prompt_sessions.storage import catalog, session_codec
from prompt_sessions.storage.catalog import Current, Put
from prompt_sessions.storage.json_backend import JsonBackend

REPLY = Message(
    role="assistant", content="Reply", created_at="2025-01-03T14:31:00.000Z", model="echo"
)
SHAPES = {
    "reply with a model": REPLY,
    "one-letter user message": Message(
        role="user", content="x", created_at="2025-01-03T14:31:00.000Z"
    ),
    "reply with latency": Message(
        role="assistant",
        content="a",
        created_at="2025-01-03T14:31:00.000Z",
        model="e",
        latency_ms=1.5,
    ),
    "long text": Message(role="user", content="y" * 300, created_at="2025-01-03T14:31:00.000Z"),
}
HISTORY = [
    Message(role="user", content="Hello", created_at="2025-01-03T14:29:58.000Z"),
    Message(role="assistant", content="Hi there!", created_at="2025-01-03T14:30:00.000Z"),
]


def _cuts(old: bytes, message: Message) -> list[tuple[int, str, bytes]]:
    """Every (k, model, bytes) a cut append of ``message`` to ``old`` can leave."""
    found = session_codec.find_tail(old[-session_codec.TAIL_PROBE :])
    assert found is not None
    offset = len(old) - found.length
    payload = session_codec.append_bytes(
        session_codec.encode_message(message), first=found.empty, updated_at=message.created_at
    )
    cuts = []
    for k in range(1, len(payload)):
        cuts.append((k, "over the old tail", old[:offset] + payload[:k] + old[offset + k :]))
        cuts.append((k, "file ends at the cut", old[:offset] + payload[:k]))
    return cuts


def _session_bytes(sid: str, history: list[Message]) -> bytes:
    return session_codec.encode_session(
        Session(
            id=sid,
            name="Torn",
            po_name="po",
            created_at="2025-01-03T14:29:00.000Z",
            updated_at=history[-1].created_at if history else "2025-01-03T14:29:00.000Z",
            metadata={},
            history=list(history),
        )
    )


SID = "00000000-0000-4000-8000-000000000001"


@pytest.mark.parametrize("history", [HISTORY, []], ids=["two messages", "empty session"])
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_cut_decodes_as_the_old_or_the_new_history(
    shape: str, history: list[Message]
) -> None:
    """The store's reader turns every cut point into the old history or the new one, never
    into a message nobody wrote (such as 'Re' + the old tail's '0.000Z')."""
    message = SHAPES[shape]
    old = _session_bytes(SID, history)
    for k, model, torn in _cuts(old, message):
        got = session_codec.decode_session(torn, SID).history
        assert got in (history, [*history, message]), (k, model, got[-1:])


def test_get_and_doctor_never_write_a_made_up_message(tmp_path: Path) -> None:
    """At each cut point of the example (a 'Reply' from 'echo' after two messages), ``get``
    reads the old or new history and ``doctor`` leaves a whole file holding one of them."""
    root = tmp_path / ".prompt_objects"
    mgr = open_manager(root)
    sid = mgr.create("po", "Torn", history=HISTORY).id
    mgr.close()
    path = root / "sessions" / f"{sid}.json"
    old = path.read_bytes()
    before = open_manager(root).get(sid).history
    after = [*before, REPLY]
    for k, model, torn in _cuts(old, REPLY):
        path.write_bytes(torn)
        mgr = open_manager(root)
        assert mgr.get(sid).history in (before, after), (k, model)
        mgr.check()
        mgr.close()
        on_disk = session_codec.decode_session(path.read_bytes(), sid, allow_torn=False)
        assert on_disk.history in (before, after), (k, model)
        assert_at_rest(root)


def _journal_path(root: Path) -> Path:
    return root / "sessions" / "index.journal"


def _add_to_journal(root: Path, data: bytes) -> None:
    """Bytes added to index.journal as a killed writer leaves them (0600, as the store makes it)."""
    fd = os.open(_journal_path(root), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def _unfolded(root: Path) -> SessionManager:
    """A manager whose open did not fold the journal, as when another process held the lock."""
    backend = JsonBackend(root, lock_timeout=5.0, idle_fold_seconds=None)
    return SessionManager(root, backend, host(), {})


def test_a_torn_journal_line_never_swallows_the_next_switch(tmp_path: Path) -> None:
    """For every cut point of a journal line, a switch the next process appends after it is read
    by the process after that (from the journal, then from the folded catalog)."""
    root = tmp_path / ".prompt_objects"
    mgr = open_manager(root)
    a, b = mgr.create("po", "a"), mgr.create("po", "b")
    line = catalog.encode_change(Put(s=mgr.list()[0], f=(1, 2)))
    mgr.close()
    for k in range(1, len(line) - 1):
        target = (a, b)[k % 2].id
        _add_to_journal(root, line[:k])  # a writer killed mid-line
        mgr = _unfolded(root)
        assert mgr.switch("po", target).id == target
        abandon(mgr)  # killed too, before its fold: only the journal holds the switch
        reader = _unfolded(root)
        assert reader.backend.get_current("po") == target, k
        reader.close()
        assert catalog_on_disk(root).current == {"po": target}, k
        assert_at_rest(root)


def test_the_journal_reader_keeps_the_line_after_a_torn_one(tmp_path: Path) -> None:
    """Journal bytes 'torn line' + newline + 'switch line' apply the switch and skip the cut."""
    root = tmp_path / ".prompt_objects"
    mgr = open_manager(root)
    sid = mgr.create("po", "a").id
    mgr.close()
    cut = catalog.encode_change(Current(po="po", id=None))[:-5]
    _add_to_journal(root, cut + b"\n" + catalog.encode_change(Current(po="po", id=sid)))
    view = catalog.View()
    catalog.refresh(view, root / "sessions" / "index.json", _journal_path(root))
    assert view.current == {"po": sid}


def test_a_writer_ends_a_torn_line_before_its_own(tmp_path: Path) -> None:
    """The writer after a kill starts its journal line on a line of its own: the file holds the
    torn bytes, a newline, then the whole new line."""
    root = tmp_path / ".prompt_objects"
    mgr = open_manager(root)
    a = mgr.create("po", "a").id
    abandon(mgr)
    cut = b'{"op":"cur","po":"po","id":"'
    _add_to_journal(root, cut)
    backend = JsonBackend(root, lock_timeout=5.0, idle_fold_seconds=None)  # not folded on open
    backend.set_current("po", a)
    data = _journal_path(root).read_bytes()
    backend.close()
    assert data.endswith(cut + b"\n" + catalog.encode_change(Current(po="po", id=a)))
    assert catalog_on_disk(root).current == {"po": a}
    assert_at_rest(root)
