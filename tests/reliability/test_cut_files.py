"""A session file cut short by something other than the store's own write in flight (a bad
copy, ``head -c``, a full disk of another program) loses more than the one message a cut write
can lose: it is reported as damaged and left as it is, never "repaired" into a shorter session
that silently drops acknowledged messages (DESIGN section 4, "Crash-safe" and "Damage stays
local"). A write of the store's own that was cut (an append, a rewrite of the last message)
is still repaired on the next read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from pathlib import Path

import pytest
from reliability_support import open_manager

from prompt_sessions.errors import CorruptSession
from prompt_sessions.manager import SessionManager
from prompt_sessions.models import Message


def _session(root: Path, messages: int) -> str:
    mgr = open_manager(root)
    sid = mgr.create("po", "cut").id
    for n in range(messages):
        mgr.append(sid, Message(role="user", content=f"message number {n}"))
    mgr.close()
    return sid


def _cut_after(path: Path, whole: int) -> bytes:
    """Keep the head, ``whole`` whole messages and a few bytes of the next one."""
    data = path.read_bytes()
    lines = data.split(b"\n")
    cut = b"\n".join(lines[: 1 + whole]) + b"\n" + lines[1 + whole][:12]
    path.write_bytes(cut)
    return cut


def _fresh(root: Path) -> SessionManager:
    return open_manager(root)


def _after_list(root: Path) -> SessionManager:
    mgr = open_manager(root)
    mgr.list()  # the catalog is loaded
    return mgr


READERS: dict[str, Callable[[Path], SessionManager]] = {"fresh": _fresh, "listed": _after_list}


@pytest.mark.parametrize("reader", READERS.values(), ids=READERS.keys())
def test_a_file_cut_far_back_is_reported_and_kept(tmp_path: Path, reader: Any) -> None:
    """Four messages stored, the file cut inside the first: reading it raises a damaged-session
    error saying so, and the file is byte for byte as it was cut."""
    root = tmp_path / ".prompt_objects"
    sid = _session(root, 4)
    path = root / "sessions" / f"{sid}.json"
    cut = _cut_after(path, 0)
    mgr = reader(root)
    with pytest.raises(CorruptSession, match="cut short: 0 whole messages left of the 4 stored"):
        mgr.get(sid)
    mgr.close()
    assert path.read_bytes() == cut


def test_a_process_that_wrote_the_session_judges_by_what_it_wrote(tmp_path: Path) -> None:
    """The process that appended knows the count without the catalog."""
    root = tmp_path / ".prompt_objects"
    mgr = open_manager(root)
    sid = mgr.create("po", "cut").id
    for n in range(3):
        mgr.append(sid, Message(role="user", content=f"message number {n}"))
    path = root / "sessions" / f"{sid}.json"
    cut = _cut_after(path, 1)
    with pytest.raises(CorruptSession, match="1 whole messages left of the 3 stored"):
        mgr.get(sid)
    mgr.close()
    assert path.read_bytes() == cut


def test_doctor_reports_it_and_repair_moves_it_aside(tmp_path: Path) -> None:
    """doctor names the damage; a later read still refuses the same file (the catalog recorded
    it as damaged); doctor --repair moves it aside whole."""
    root = tmp_path / ".prompt_objects"
    sid = _session(root, 4)
    path = root / "sessions" / f"{sid}.json"
    cut = _cut_after(path, 0)
    mgr = open_manager(root)
    report = mgr.check()
    assert "cut short: 0 whole messages left of the 4 stored" in report.damaged[sid]
    mgr.close()
    mgr = open_manager(root)
    with pytest.raises(CorruptSession, match="cut short"):
        mgr.get(sid)
    mgr.check(repair=True)
    mgr.close()
    assert not path.exists()
    (aside,) = (root / "sessions" / "damaged").iterdir()
    assert aside.read_bytes() == cut


@pytest.mark.parametrize("whole", [4, 3], ids=["a cut append", "a cut rewrite of the last"])
def test_what_a_cut_write_of_the_store_leaves_is_still_repaired(tmp_path: Path, whole: int) -> None:
    """Every stored message whole (an append cut short) or all but the last (a rewrite of the
    last message cut short, which drops the provisional copy it rewrote): repaired on read."""
    root = tmp_path / ".prompt_objects"
    sid = _session(root, 4)
    path = root / "sessions" / f"{sid}.json"
    data = path.read_bytes()
    lines = data.split(b"\n")
    if whole == 4:  # the tail replaced by the first bytes of a fifth message
        cut = b"\n".join(lines[:5]) + b',\n{"role":"user","con'
    else:
        cut = _cut_after(path, 3)
    path.write_bytes(cut)
    mgr = open_manager(root)
    assert [m.content for m in mgr.get(sid).history] == [
        f"message number {n}" for n in range(whole)
    ]
    mgr.close()


def test_an_entry_found_by_id_is_enough_to_judge(tmp_path: Path) -> None:
    """A process that found the session by id prefix (its catalog entry read alone, the
    catalog not loaded) judges the cut by that entry."""
    root = tmp_path / ".prompt_objects"
    sid = _session(root, 4)
    _cut_after(root / "sessions" / f"{sid}.json", 1)
    mgr = open_manager(root)
    assert mgr.resolve(None, sid[:8]).id == sid  # found by id: the entry is peeked
    assert not mgr.backend._view.loaded  # type: ignore[attr-defined]
    with pytest.raises(CorruptSession, match="1 whole messages left of the 4 stored"):
        mgr.get(sid)
    mgr.close()
