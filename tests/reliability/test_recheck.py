"""``recheck``: the JSON store looks again at session files another program may have edited in
place, which moves no folder time, so a list that trusts the catalog would not notice them
(DESIGN section 3, "Stale"). The runtime's file watcher names the files it saw change."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from prompt_sessions.models import Message
from prompt_sessions.storage.base import SupportsRecheck
from prompt_sessions.storage.json_backend import JsonBackend
from prompt_sessions.storage.session_codec import decode_session, encode_session
from reliability_support import assert_at_rest, by_id, catalog_on_disk, open_manager

PO = "coordinator"
OTHER_ID = "00000000-0000-4000-8000-000000000042"


def _at_rest_with_one_message(root: Path) -> tuple[Any, str]:
    """A manager whose lists trust the catalog (the store folded and its folder pinned)."""
    mgr = open_manager(root)
    sid = mgr.create(PO, "kept").id
    mgr.append(sid, Message(role="user", content="first"))
    mgr.flush()
    assert by_id(mgr.list())[sid].message_count == 1
    return mgr, sid


def _edit_in_place(path: Path, sid: str) -> None:
    edited = decode_session(path.read_bytes(), sid)
    edited.history.append(Message(role="assistant", content="typed in an editor"))
    with open(path, "r+b") as f:  # the same file: the folder's time does not move
        f.write(encode_session(edited))
        f.truncate()


def test_a_file_edited_in_place_is_noticed_by_a_recheck(tmp_path: Path) -> None:
    """A list trusts the catalog while the folder keeps its time, so an in-place edit is not
    seen by it; a recheck of that session corrects the catalog, for this process and the
    next, and the folder at rest is the whole truth again."""
    mgr, sid = _at_rest_with_one_message(tmp_path)
    backend = mgr.backend
    assert isinstance(backend, JsonBackend) and isinstance(backend, SupportsRecheck)
    _edit_in_place(tmp_path / "sessions" / f"{sid}.json", sid)
    assert by_id(mgr.list())[sid].message_count == 1  # the gap a recheck closes
    backend.recheck({sid})
    assert by_id(mgr.list())[sid].message_count == 2
    mgr.close()
    other = open_manager(tmp_path)
    assert by_id(other.list())[sid].message_count == 2
    other.close()
    assert_at_rest(tmp_path)


def test_a_recheck_reads_only_files_that_changed(tmp_path: Path) -> None:
    """An unchanged file costs a stat, not a read; ids that are not sessions of the catalog,
    a file gone since and a damaged file are left to the next list, without an error."""
    mgr, sid = _at_rest_with_one_message(tmp_path)
    backend = mgr.backend
    assert isinstance(backend, JsonBackend)
    reads: list[str] = []
    real_get = backend.get

    def counting_get(session_id: str) -> Any:
        reads.append(session_id)
        return real_get(session_id)

    backend.get = counting_get  # type: ignore[method-assign]
    backend.recheck({sid, "not an id", OTHER_ID})
    assert reads == []
    gone = mgr.create(PO, "gone").id
    damaged = mgr.create(PO, "damaged").id
    (tmp_path / "sessions" / f"{gone}.json").unlink()
    (tmp_path / "sessions" / f"{damaged}.json").write_bytes(b"{ not json")
    backend.recheck({gone, damaged})
    assert reads == [damaged]
    listed = by_id(mgr.list())
    assert gone not in listed and damaged not in listed
    assert damaged in mgr.problems()
    mgr.close()


def test_a_recheck_of_a_middle_message_edited_in_place_reaches_search(tmp_path: Path) -> None:
    """An in-place edit of a message in the middle leaves the summary as it was (count, times,
    the last message's preview): the recheck that names the file (the TUI's watcher) still has
    the search cache index it again, so the new words are found and the old ones are not."""
    mgr, sid = _at_rest_with_one_message(tmp_path)
    mgr.append(sid, Message(role="assistant", content="closing remark"))
    assert [h.session.id for h in mgr.search("first")] == [sid]  # the cache is made
    path = tmp_path / "sessions" / f"{sid}.json"
    edited = decode_session(path.read_bytes(), sid)
    edited.history[0] = Message(
        role="user", content="zebrafish", created_at=edited.history[0].created_at
    )
    with open(path, "r+b") as f:  # the same file: the folder's time does not move
        f.write(encode_session(edited))
        f.truncate()
    backend = mgr.backend
    assert isinstance(backend, SupportsRecheck)
    backend.recheck({sid})
    assert [h.session.id for h in mgr.search("zebrafish")] == [sid]
    assert mgr.search("first") == []
    mgr.close()


def test_a_recheck_of_every_file_pins_the_folder_again(tmp_path: Path) -> None:
    """The folder's time moved by another program (a file made and removed), then the recheck
    of every session the commands make: it finds nothing changed and sets the folder back to
    its stamp, so the list after it trusts the catalog instead of checking every file again."""
    mgr, _sid = _at_rest_with_one_message(tmp_path)
    folder = tmp_path / "sessions"
    (folder / "notes.txt").write_text("x")
    (folder / "notes.txt").unlink()
    os.utime(folder, ns=(1, 10**18))  # a time no stamp has
    assert os.stat(folder).st_mtime_ns != catalog_on_disk(tmp_path).folder_mtime_ns
    mgr.recheck()
    assert os.stat(folder).st_mtime_ns == catalog_on_disk(tmp_path).folder_mtime_ns
    mgr.close()
    assert_at_rest(tmp_path)
