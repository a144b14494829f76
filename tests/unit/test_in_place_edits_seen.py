"""A session file another program rewrites in place (the same file opened and overwritten, as
`>` in a shell or `cp` over it does) moves no folder time, so the JSON catalog does not notice
it by itself (DESIGN section 3, "Stale"). The commands that show or act on summaries look
again at every file first: `list`, `search` and `prune`."""

from __future__ import annotations

from pathlib import Path

from cli_runner import Run

from prompt_sessions.manager import SessionManager
from prompt_sessions.models import Message
from prompt_sessions.storage.session_codec import decode_session, encode_session

PO = "coordinator"


def _store_at_rest(store: Path, *messages: str) -> str:
    """One session with ``messages``, the store folded and closed: lists trust its catalog."""
    with SessionManager.open(store) as mgr:
        sid = mgr.create(PO, "kept").id
        for text in messages:
            mgr.append(sid, Message(role="user", content=text))
    return sid


def _edit_in_place(store: Path, sid: str, added: str) -> None:
    """Add a message to the file by overwriting it where it is: same inode, same folder time."""
    path = store / "sessions" / f"{sid}.json"
    folder_time = (store / "sessions").stat().st_mtime_ns
    edited = decode_session(path.read_bytes(), sid)
    edited.history.append(Message(role="assistant", content=added))
    with open(path, "r+b") as f:
        f.write(encode_session(edited))
        f.truncate()
    assert (store / "sessions").stat().st_mtime_ns == folder_time  # what makes it hard to see


def test_list_shows_a_file_edited_in_place(run: Run) -> None:
    """`list` and `list --json` count the message another program wrote into the file."""
    sid = _store_at_rest(run.store, "first")
    run("list")  # the catalog is folded and trusted before the edit
    _edit_in_place(run.store, sid, "typed in an editor")
    (listed,) = run.json("list", "--json")
    assert (listed["id"], listed["message_count"]) == (sid, 2)
    assert listed["preview"] == "typed in an editor"
    code, out, _ = run("list")
    (row,) = [line for line in out.splitlines() if "kept" in line]
    assert code == 0 and " 2 " in f" {row} "


def test_search_finds_words_written_into_a_file_in_place(run: Run) -> None:
    """The search cache, built before the edit, is brought up to date with the file."""
    sid = _store_at_rest(run.store, "first words")
    assert run.json("search", "--json", "first")[0]["id"] == sid  # the cache is built
    _edit_in_place(run.store, sid, "aubergine parmigiana")
    hits = run.json("search", "--json", "aubergine")
    assert [(h["id"], h["message_index"]) for h in hits] == [(sid, 1)]


def test_prune_keeps_a_session_given_a_message_in_place(run: Run) -> None:
    """A session the catalog still counts as empty, but whose file now holds a message, is not
    offered to `prune` and not moved to the trash."""
    sid = _store_at_rest(run.store)
    with SessionManager.open(run.store) as mgr:
        mgr.switch(PO, mgr.create(PO, "in use").id)  # the PO's current session, never pruned
    assert [s["id"] for s in run.json("prune", "--empty", "--json")] == [sid]
    _edit_in_place(run.store, sid, "not empty any more")
    assert run.json("prune", "--empty", "--yes", "--json") == []
    assert (run.store / "sessions" / f"{sid}.json").exists()


def test_prune_skips_a_session_written_to_after_it_was_listed(root: Path) -> None:
    """A message appended between listing the empty sessions and moving them (another
    process's `send`) keeps that session out of the trash."""
    from prompt_sessions.organise import prune as rules

    with SessionManager.open(root) as mgr:
        sid = mgr.create(PO, "empty for now").id
        mgr.switch(PO, mgr.create(PO, "current").id)
        found = rules.empty_sessions(mgr)
        assert sid in {s.id for s in found}
        mgr.append(sid, Message(role="user", content="just arrived"))
        moved = rules.prune(mgr, found)
        assert sid not in {s.id for s in moved}
        assert sid in {s.id for s in mgr.list()}
        assert mgr.get(sid).history[0].content == "just arrived"


def test_prune_leaves_a_session_damaged_after_it_was_listed(root: Path) -> None:
    """A file damaged between the listing and the move is left where it is, for `doctor` to
    report; the other empty sessions are still moved."""
    from prompt_sessions.organise import prune as rules

    with SessionManager.open(root) as mgr:
        damaged = mgr.create(PO, "damaged soon").id
        empty = mgr.create(PO, "empty").id
        mgr.switch(PO, mgr.create(PO, "current").id)
        found = rules.empty_sessions(mgr)
        (root / "sessions" / f"{damaged}.json").write_bytes(b"{ not json")
        moved = rules.prune(mgr, found)
    assert {s.id for s in moved} == {empty}
    assert (root / "sessions" / f"{damaged}.json").read_bytes() == b"{ not json"


def test_list_names_a_file_damaged_in_place_and_lists_it_again_once_mended(run: Run) -> None:
    """A file overwritten in place with bytes that do not parse is named as damaged by the
    next `list` (not shown with its old summary); once mended in place, it is listed again."""
    sid = _store_at_rest(run.store, "first")
    path = run.store / "sessions" / f"{sid}.json"
    good = path.read_bytes()
    run("list")
    with open(path, "r+b") as f:  # in place: the folder's time does not move
        f.write(b"{ not json")
        f.truncate()
    code, out, err = run("list")
    assert code == 0 and "kept" not in out
    assert f"skipped damaged session {sid}" in err
    with open(path, "r+b") as f:
        f.write(good)
        f.truncate()
    (listed,) = run.json("list", "--json")
    assert (listed["id"], listed["message_count"]) == (sid, 1)
