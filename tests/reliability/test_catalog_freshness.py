"""What ``list`` notices of files changed behind the store's back, and how cheaply.

``list`` trusts the catalog while ``sessions/`` keeps the modification time the catalog records
(the folder is pinned to it after this program's own writes): a session file another program
adds, removes, replaces by a rename, or deletes and writes again moves that time on and makes
``list`` check every file. A file rewritten in place is noticed by ``doctor`` and when that
session is read (``get``, ``show``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import filelock
import pytest

from prompt_sessions.models import Message
from prompt_sessions.storage import catalog_layout
from prompt_sessions.storage.json_backend import JsonBackend
from reliability_support import (
    abandon,
    assert_at_rest,
    catalog_on_disk,
    open_manager,
    patch_store_os,
)

SCRIPT = shutil.which("prompt-sessions") or str(Path(sys.executable).with_name("prompt-sessions"))


class _OS:
    """``os`` for the store modules with some calls replaced; the rest are the real ones."""

    def __init__(self, **replaced: Any) -> None:
        self.__dict__.update(replaced)

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)


def _store(root: Path, *names: str) -> list[str]:
    mgr = open_manager(root)
    ids = [mgr.create("po", name).id for name in names]
    mgr.close()
    return ids


def _file(root: Path, sid: str) -> Path:
    return root / "sessions" / f"{sid}.json"


def _edited(path: Path, old: bytes, new: bytes) -> bytes:
    data = path.read_bytes()
    assert old in data
    return data.replace(old, new)


def _replace_by_rename(path: Path, data: bytes) -> None:
    """As an editor, ``cp`` to a temp name then ``mv``, or a sync tool writes a file."""
    new = path.with_name(f".{path.name}.edit")
    new.write_bytes(data)
    os.chmod(new, 0o600)
    os.replace(new, path)


def _foreign_session(tmp_path: Path, name: str) -> Path:
    """A session file written by another store (as a sync tool or a copy brings one)."""
    other = tmp_path / f"elsewhere-{name}"
    (sid,) = _store(other, name)
    return _file(other, sid)


def _names_by_new_manager(root: Path) -> dict[str, str]:
    mgr = open_manager(root)
    try:
        return {s.id: s.name for s in mgr.list()}
    finally:
        mgr.close()


def _names_by_new_process(root: Path) -> dict[str, str]:
    done = subprocess.run(
        [SCRIPT, "--dir", str(root), "list", "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "PROMPT_SESSIONS_PLUGINS": ""},
        check=True,
    )
    return {s["id"]: s["name"] for s in json.loads(done.stdout)}


LISTERS = {"a new manager": _names_by_new_manager, "a new process": _names_by_new_process}


def _pinned(root: Path) -> bool:
    folder = root / "sessions"
    return os.stat(folder).st_mtime_ns == catalog_on_disk(root).folder_mtime_ns


@pytest.mark.parametrize("lister", LISTERS.values(), ids=LISTERS.keys())
def test_a_file_added_behind_the_stores_back_is_listed(tmp_path: Path, lister: Any) -> None:
    """A session file moved into the folder by another program is listed."""
    root = tmp_path / ".prompt_objects"
    (kept,) = _store(root, "kept")
    assert _pinned(root)
    source = _foreign_session(tmp_path, "arrived")
    os.replace(source, root / "sessions" / source.name)
    assert lister(root) == {kept: "kept", source.name[:-5]: "arrived"}


@pytest.mark.parametrize("lister", LISTERS.values(), ids=LISTERS.keys())
def test_a_file_removed_behind_the_stores_back_is_no_longer_listed(
    tmp_path: Path, lister: Any
) -> None:
    """A session file another program deleted is not listed."""
    root = tmp_path / ".prompt_objects"
    kept, removed = _store(root, "kept", "removed")
    _file(root, removed).unlink()
    assert lister(root) == {kept: "kept"}


@pytest.mark.parametrize("lister", LISTERS.values(), ids=LISTERS.keys())
def test_a_file_replaced_by_a_rename_is_read_again(tmp_path: Path, lister: Any) -> None:
    """A session file an editor saved (a new file renamed over it) is listed as it is now."""
    root = tmp_path / ".prompt_objects"
    (sid,) = _store(root, "before")
    path = _file(root, sid)
    _replace_by_rename(path, _edited(path, b'"name":"before"', b'"name":"after"'))
    assert lister(root) == {sid: "after"}


@pytest.mark.parametrize("lister", LISTERS.values(), ids=LISTERS.keys())
def test_a_file_deleted_and_written_again_is_read_again(tmp_path: Path, lister: Any) -> None:
    """A session file deleted and created anew (as git checks a file out), which may get the
    very inode number it had, is listed as it is now."""
    root = tmp_path / ".prompt_objects"
    (sid,) = _store(root, "before")
    path = _file(root, sid)
    data = _edited(path, b'"name":"before"', b'"name":"checked out"')
    path.unlink()
    path.write_bytes(data)
    os.chmod(path, 0o600)
    assert lister(root) == {sid: "checked out"}


def test_a_change_before_a_write_is_not_hidden_by_the_write(tmp_path: Path) -> None:
    """A file added behind the store's back, then a write of this program (which sets the
    folder's time back to the catalog's stamp): the added file is still listed, because a
    write pins the folder only when the folder was as the catalog left it."""
    root = tmp_path / ".prompt_objects"
    (sid,) = _store(root, "mine")
    source = _foreign_session(tmp_path, "arrived")
    os.replace(source, root / "sessions" / source.name)
    mgr = open_manager(root)
    mgr.rename(sid, "renamed")
    mgr.close()
    assert not _pinned(root)
    assert _names_by_new_manager(root) == {sid: "renamed", source.name[:-5]: "arrived"}
    assert _pinned(root)  # the list that found it made the catalog whole and pinned it again
    assert_at_rest(root)


def test_writes_keep_the_folder_pinned(tmp_path: Path) -> None:
    """create, rename, append, delete and the folds after them leave the folder at the
    catalog's stamp: the next list needs no look at any file."""
    root = tmp_path / ".prompt_objects"
    a, b = _store(root, "a", "b")
    assert _pinned(root)
    mgr = open_manager(root)
    c = mgr.create("po", "c").id
    mgr.rename(a, "a2")
    mgr.append(b, Message(role="user", content="hi"))
    mgr.delete(c)
    mgr.close()
    assert _pinned(root)
    assert _names_by_new_manager(root) == {a: "a2", b: "b"}


def _watch_session_files(monkeypatch: pytest.MonkeyPatch, ids: list[str]) -> list[str]:
    touched: list[str] = []

    class Watching:
        def __getattr__(self, name: str) -> Any:
            real = getattr(os, name)
            if name not in ("stat", "open", "lstat"):
                return real

            def call(path: Any, *args: Any, **kwargs: Any) -> Any:
                if any(sid in str(path) for sid in ids):
                    touched.append(f"{name} {path}")
                return real(path, *args, **kwargs)

            return call

        @staticmethod
        def listdir(path: Any) -> list[str]:
            touched.append(f"listdir {path}")
            return os.listdir(path)

        @staticmethod
        def scandir(path: Any) -> Any:
            touched.append(f"scandir {path}")
            return os.scandir(path)

    patch_store_os(monkeypatch, Watching())
    return touched


def test_list_of_an_unchanged_store_never_stats_the_session_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A list in a store at rest, and one while another writer's journal is pending, never
    stats, opens or lists the session files: its cost is the catalog's (DESIGN section 10)."""
    root = tmp_path / ".prompt_objects"
    ids = _store(root, *(f"s{i}" for i in range(20)))
    writer = JsonBackend(root, idle_fold_seconds=None)
    writer.update(ids[0], name="pending")  # in the journal, not folded yet
    touched = _watch_session_files(monkeypatch, ids)
    reader = JsonBackend(root, idle_fold_seconds=None)
    names = {s.id: s.name for s in reader.list()}
    monkeypatch.undo()
    assert touched == []
    assert len(names) == 20 and names[ids[0]] == "pending"
    reader.close()
    writer.close()


def test_a_list_that_found_changes_pins_the_folder_so_the_next_one_is_cheap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a change behind the store's back, the first list checks every file and records
    what it found; the next list looks at no file."""
    root = tmp_path / ".prompt_objects"
    ids = _store(root, "a", "b")
    _file(root, ids[1]).unlink()
    assert not _pinned(root)
    assert set(_names_by_new_manager(root)) == {ids[0]}
    assert _pinned(root)
    touched = _watch_session_files(monkeypatch, ids)
    assert {s.id for s in JsonBackend(root).list()} == {ids[0]}
    monkeypatch.undo()
    assert touched == []


def test_a_list_that_found_nothing_changed_pins_the_folder(tmp_path: Path) -> None:
    """A folder whose time moved with no session file changed (a file of another kind added,
    ``touch``): the list finds nothing to correct and pins the folder again."""
    root = tmp_path / ".prompt_objects"
    (sid,) = _store(root, "a")
    (root / "sessions" / "notes.txt").write_text("mine")
    os.chmod(root / "sessions" / "notes.txt", 0o600)
    assert not _pinned(root)
    assert _names_by_new_manager(root) == {sid: "a"}
    assert _pinned(root)


def test_a_read_only_store_lists_changes_without_writing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where nothing may be written, list still notices a file added behind its back, and
    writes nothing (not even the folder's time)."""
    root = tmp_path / ".prompt_objects"
    (sid,) = _store(root, "a")
    source = _foreign_session(tmp_path, "arrived")
    os.replace(source, root / "sessions" / source.name)
    folder = root / "sessions"
    before = (folder / "index.json").read_bytes(), os.stat(folder).st_mtime_ns
    patch_store_os(monkeypatch, _OS(access=lambda *args, **kwargs: False))
    backend = JsonBackend(root, idle_fold_seconds=None)
    for _ in range(2):
        assert {s.id: s.name for s in backend.list()} == {sid: "a", source.name[:-5]: "arrived"}
    backend.close()
    monkeypatch.undo()
    assert ((folder / "index.json").read_bytes(), os.stat(folder).st_mtime_ns) == before
    assert not (folder / "index.journal").exists()


def test_a_folder_whose_time_cannot_be_set_only_costs_full_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder whose modification time this user may not set (another owner's): writes and
    lists work, and a file added behind the store's back is still listed."""
    root = tmp_path / ".prompt_objects"
    (sid,) = _store(root, "a")

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise PermissionError(1, "Operation not permitted")

    patch_store_os(monkeypatch, _OS(utime=refuse))
    mgr = open_manager(root)
    mgr.rename(sid, "b")
    mgr.close()
    source = _foreign_session(tmp_path, "arrived")
    os.replace(source, root / "sessions" / source.name)
    assert _names_by_new_manager(root) == {sid: "b", source.name[:-5]: "arrived"}
    monkeypatch.undo()
    assert_at_rest(root)


# ------------------------------------------------------------------ edits in place


def test_an_edit_in_place_is_found_by_doctor(tmp_path: Path) -> None:
    """A file rewritten in place (its inode kept; the folder's time does not move) is found
    by doctor, which corrects the catalog."""
    root = tmp_path / ".prompt_objects"
    (sid,) = _store(root, "before")
    path = _file(root, sid)
    path.write_bytes(_edited(path, b'"name":"before"', b'"name":"edited in place"'))
    mgr = open_manager(root)
    mgr.check(repair=False)
    mgr.close()
    assert {s.id: s.name for s in catalog_on_disk(root).sessions} == {sid: "edited in place"}
    assert _names_by_new_manager(root) == {sid: "edited in place"}


def test_an_edit_in_place_is_found_when_the_session_is_read(tmp_path: Path) -> None:
    """Reading a session whose file was rewritten in place corrects its catalog entry: the
    same manager's next list, and a new manager's, show it as it is now."""
    root = tmp_path / ".prompt_objects"
    sid, other = _store(root, "before", "other")
    mgr = open_manager(root)
    mgr.list()
    path = _file(root, sid)
    path.write_bytes(_edited(path, b'"name":"before"', b'"name":"edited in place"'))
    assert mgr.get(sid).name == "edited in place"
    assert mgr.get(other).name == "other"  # an unchanged one: nothing to correct
    assert {s.id: s.name for s in mgr.list()}[sid] == "edited in place"
    mgr.close()
    assert _names_by_new_manager(root)[sid] == "edited in place"
    assert_at_rest(root)


def test_show_in_a_new_process_corrects_an_edit_in_place(tmp_path: Path) -> None:
    """``show`` (which finds the session through the catalog) reads a file edited in place
    and corrects the catalog for the next ``list``."""
    root = tmp_path / ".prompt_objects"
    (sid,) = _store(root, "before")
    path = _file(root, sid)
    path.write_bytes(_edited(path, b'"name":"before"', b'"name":"edited in place"'))
    env = {**os.environ, "PROMPT_SESSIONS_PLUGINS": ""}
    subprocess.run(
        [SCRIPT, "--dir", str(root), "show", sid],
        env=env,
        check=True,
        text=True,
        capture_output=True,
    )
    assert _names_by_new_process(root) == {sid: "edited in place"}


def test_reading_a_file_edited_in_place_in_a_read_only_store_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where nothing may be written, the corrected entry is used in memory only."""
    root = tmp_path / ".prompt_objects"
    (sid,) = _store(root, "before")
    path = _file(root, sid)
    patch_store_os(monkeypatch, _OS(access=lambda *args, **kwargs: False))
    backend = JsonBackend(root, idle_fold_seconds=None)
    backend.list()
    path.write_bytes(_edited(path, b'"name":"before"', b'"name":"edited in place"'))
    index = (root / "sessions" / "index.json").read_bytes()
    backend.get(sid)
    assert [s.name for s in backend.list()] == ["edited in place"]
    backend.close()
    monkeypatch.undo()
    assert (root / "sessions" / "index.json").read_bytes() == index


def test_a_correction_that_cannot_be_recorded_is_used_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store lock cannot be had (another writer holds it too long): reading still
    answers, and the corrected entry is used in memory."""
    root = tmp_path / ".prompt_objects"
    (sid,) = _store(root, "before")
    backend = JsonBackend(root, idle_fold_seconds=None, lock_timeout=0.05)
    backend.list()
    path = _file(root, sid)
    path.write_bytes(_edited(path, b'"name":"before"', b'"name":"edited in place"'))
    other = filelock.FileLock(str(root / "sessions" / ".lock"), mode=0o600)
    with other:  # another program's hold, through a descriptor of its own
        assert backend.get(sid).name == "edited in place"
        assert [s.name for s in backend.list_known()] == ["edited in place"]
    backend.close()


def test_a_file_changed_again_while_read_is_left_for_the_next_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file changes again between the read and the correction: no entry is recorded
    from the older read (it would be stale at once)."""
    root = tmp_path / ".prompt_objects"
    (sid,) = _store(root, "before")
    backend = JsonBackend(root, idle_fold_seconds=None)
    backend.list()
    path = _file(root, sid)
    path.write_bytes(_edited(path, b'"name":"before"', b'"name":"first edit"'))
    real = backend._stamp

    def changed_meanwhile(name: str) -> Any:
        path.write_bytes(_edited(path, b'"name":"first edit"', b'"name":"second edit!"'))
        return real(name)

    monkeypatch.setattr(backend, "_stamp", changed_meanwhile)
    assert backend.get(sid).name == "first edit"
    monkeypatch.undo()
    journal = root / "sessions" / "index.journal"
    assert b"first edit" not in (journal.read_bytes() if journal.exists() else b"")
    backend.close()


def test_a_fresh_session_read_by_a_process_without_the_catalog_is_only_read(
    tmp_path: Path,
) -> None:
    """A process that has not loaded the catalog reads a session without loading it (that
    would cost O(sessions)); the catalog is left as it was."""
    root = tmp_path / ".prompt_objects"
    (sid,) = _store(root, "before")
    index = (root / "sessions" / "index.json").read_bytes()
    backend = JsonBackend(root, idle_fold_seconds=None)
    assert backend.get(sid).name == "before"
    backend.close()
    assert (root / "sessions" / "index.json").read_bytes() == index


# ------------------------------------------------------------------ crashes


def test_an_append_cut_off_before_its_journal_line_is_found_at_the_next_open(
    tmp_path: Path,
) -> None:
    """A process killed after writing an append in place but before its journal line: the
    journal it made before writing is left, so the next open checks every file and the
    catalog counts the message."""
    root = tmp_path / ".prompt_objects"
    (sid,) = _store(root, "s")
    other = tmp_path / "copy"
    shutil.copytree(root, other)
    mgr = open_manager(other)
    mgr.append(sid, Message(role="user", content="kept"))
    mgr.close()
    # What the killed process left: the file with the message, an empty journal, no entry.
    _file(root, sid).write_bytes(_file(other, sid).read_bytes())
    (root / "sessions" / "index.journal").write_bytes(b"")
    mgr = open_manager(root)
    assert [s.message_count for s in mgr.list()] == [1]
    mgr.close()
    assert_at_rest(root)


def test_a_catalog_without_a_folder_stamp_gets_one(tmp_path: Path) -> None:
    """A catalog written before the folder stamp existed (or by a person) is read, and the
    next fold gives it a stamp; lists are cheap from then on."""
    root = tmp_path / ".prompt_objects"
    (sid,) = _store(root, "a")
    index = root / "sessions" / "index.json"
    doc = json.loads(index.read_bytes())
    del doc["folder_mtime_ns"]
    index.write_bytes(json.dumps(doc).encode())
    assert catalog_layout.peek_folder(index) is None
    assert catalog_layout.peek_folder(tmp_path / "no such catalog") is None
    (tmp_path / "a folder").mkdir()  # opens, but cannot be read
    assert catalog_layout.peek_folder(tmp_path / "a folder") is None
    mgr = open_manager(root)
    mgr.rename(sid, "b")
    mgr.close()
    assert catalog_layout.peek_folder(index) is not None
    assert _names_by_new_manager(root) == {sid: "b"}
    assert _pinned(root)


def _count_listings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    listed: list[str] = []

    def listdir(path: Any = ".") -> list[str]:
        listed.append(str(path))
        return os.listdir(path)

    patch_store_os(monkeypatch, _OS(listdir=listdir))
    return listed


def test_opening_a_store_at_rest_does_not_list_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The folder as this program's last write left it holds no crash's leftovers: opening the
    store, writing and closing list no folder (a listing costs O(sessions))."""
    root = tmp_path / ".prompt_objects"
    _store(root, "a", "b")
    assert _pinned(root)
    listed = _count_listings(monkeypatch)
    mgr = open_manager(root)
    mgr.create("po", "c")
    mgr.close()
    monkeypatch.undo()
    assert listed == []
    assert set(_names_by_new_manager(root).values()) == {"a", "b", "c"}
    assert_at_rest(root)


def test_a_journal_left_in_a_pinned_folder_is_folded_on_open(tmp_path: Path) -> None:
    """A process killed after a write that pinned the folder leaves its journal behind: the
    next open still finds it (without a listing) and folds it."""
    root = tmp_path / ".prompt_objects"
    (sid,) = _store(root, "a")
    killed = open_manager(root)
    killed.rename(sid, "renamed")
    abandon(killed)
    assert _pinned(root) and (root / "sessions" / "index.journal").exists()
    open_manager(root).close()
    assert_at_rest(root)
    assert json.loads((root / "sessions" / "index.json").read_text())["sessions"][0]["name"] == (
        "renamed"
    )


def test_a_temp_file_left_by_a_killed_write_is_swept_on_open(tmp_path: Path) -> None:
    """A write killed after making its temp file never pinned the folder back: the folder's
    time moved, so the open lists it and sweeps the temp file."""
    root = tmp_path / ".prompt_objects"
    (sid,) = _store(root, "a")
    leftover = root / "sessions" / f".{sid}.json.0123456789ab.tmp"
    os.close(os.open(leftover, os.O_WRONLY | os.O_CREAT, 0o600))
    assert not _pinned(root)
    open_manager(root).close()
    assert not leftover.exists()
    assert_at_rest(root)


def test_an_append_looks_at_no_folder_and_keeps_it_pinned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An append changes one file in place: with the journal already open for business it
    looks at neither the folder's time nor its listing, the folder stays pinned, and other
    processes' lists see the new message through the journal."""
    root = tmp_path / ".prompt_objects"
    (sid,) = _store(root, "a")
    mgr = open_manager(root)
    mgr.append(sid, Message(role="user", content="first"))  # makes the journal
    folder = str(root / "sessions")
    looked: list[str] = []

    def stat(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        if str(path).rstrip("/") == folder:
            looked.append(str(path))
        return os.stat(path, *args, **kwargs)

    patch_store_os(monkeypatch, _OS(stat=stat, listdir=lambda *a: looked.append("listdir")))
    mgr.append(sid, Message(role="user", content="second"))
    monkeypatch.undo()
    assert looked == []
    assert _pinned(root)
    other = open_manager(root)
    assert [(s.id, s.message_count) for s in other.list()] == [(sid, 2)]
    other.close()
    mgr.close()
    assert_at_rest(root)


def test_a_fold_whose_catalog_cannot_be_stat_ed_afterwards_still_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After its fold a process notes the catalog it wrote (one stat); when that stat fails the
    fold still completes, and the catalog is simply read again when next needed."""
    from prompt_sessions.storage import json_store_base

    root = tmp_path / ".prompt_objects"
    (sid,) = _store(root, "a")
    mgr = open_manager(root)
    mgr.rename(sid, "renamed")
    index = str(root / "sessions" / "index.json")

    def stat(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        if str(path) == index:
            raise OSError(5, "Input/output error")
        return os.stat(path, *args, **kwargs)

    monkeypatch.setattr(json_store_base, "os", _OS(stat=stat))
    mgr.flush()
    monkeypatch.undo()
    assert mgr.backend._version_key is None  # type: ignore[attr-defined]
    assert [s.name for s in mgr.list()] == ["renamed"]
    mgr.close()
    assert _names_by_new_manager(root) == {sid: "renamed"}
    assert_at_rest(root)
