"""The catalog read from index.json and index.journal as other processes leave them.

Journal lines are trusted only as far as they prove themselves: a line without a file stamp is
checked against the file, a damaged line is skipped without losing the lines after it, and a
line naming a non-UUID is ignored. A fold or an invalidation by another process between reading
index.json and the journal never leaves a stale or broken view.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest

from prompt_sessions.models import Message, Session, SessionSummary
from prompt_sessions.storage import catalog, files
from prompt_sessions.storage.catalog import Bad, Current, Drop, Put, View
from prompt_sessions.storage.json_backend import JsonBackend
from reliability_support import (
    abandon,
    assert_at_rest,
    by_id,
    catalog_on_disk,
    open_manager,
    patch_store_os,
    rebuilt_summaries,
)

OTHER_ID = "00000000-0000-4000-8000-000000000042"


def _store(root: Path, *names: str) -> list[str]:
    """Sessions at rest (index.json, no journal), one per name."""
    mgr = open_manager(root)
    ids = [mgr.create("po", name).id for name in names]
    mgr.close()
    return ids


def _journal(root: Path, *lines: bytes) -> None:
    """Lines added to index.journal as another process would add them."""
    fd = os.open(root / "sessions" / "index.journal", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, b"".join(lines))
    finally:
        os.close(fd)


def _backend(root: Path) -> JsonBackend:
    """A backend that has not folded the journal on open, as when another process holds the lock."""
    return JsonBackend(root, lock_timeout=5.0, idle_fold_seconds=None)


def _summary(root: Path, sid: str) -> SessionSummary:
    return by_id(catalog_on_disk(root).sessions)[sid]


def test_a_put_without_a_stamp_is_checked_against_the_file(tmp_path: Path) -> None:
    """A journal entry that cannot prove it matches the file is replaced by what the file says."""
    root = tmp_path / ".prompt_objects"
    (sid,) = _store(root, "Real")
    forged = msgspec.structs.replace(_summary(root, sid), name="Forged", message_count=7)
    _journal(root, catalog.encode_change(Put(s=forged)))
    backend = _backend(root)
    [listed] = backend.list()
    assert (listed.name, listed.message_count) == ("Real", 0)
    backend.close()
    assert_at_rest(root)


def test_a_bad_entry_without_a_stamp_does_not_hide_a_healthy_session(tmp_path: Path) -> None:
    """A journal line calling a session damaged without the stamp of the file it saw is checked."""
    root = tmp_path / ".prompt_objects"
    (sid,) = _store(root, "Healthy")
    _journal(root, catalog.encode_change(Bad(id=sid, error="damaged by hearsay")))
    backend = _backend(root)
    assert [s.name for s in backend.list()] == ["Healthy"]
    assert backend.problems() == {}
    backend.close()
    assert_at_rest(root)


def test_reading_a_store_at_rest_with_a_damaged_session_writes_nothing(tmp_path: Path) -> None:
    """The catalog's stamp of a damaged file is trusted like a healthy one's: readers only read."""
    root = tmp_path / ".prompt_objects"
    healthy, damaged = _store(root, "Healthy", "Damaged")
    _replace_file(root / "sessions" / f"{damaged}.json", b'{"format_version": 1, "id": ')
    mgr = open_manager(root)
    mgr.list()  # the damage is catalogued once, and folded into index.json at close
    mgr.close()
    index = root / "sessions" / "index.json"
    before = (index.read_bytes(), os.stat(index).st_ino)
    backend = _backend(root)
    assert [s.id for s in backend.list()] == [healthy]
    assert set(backend.problems()) == {damaged}
    assert not (root / "sessions" / "index.journal").exists(), "a reader wrote the journal"
    backend.close()
    assert (index.read_bytes(), os.stat(index).st_ino) == before
    assert_at_rest(root, damaged={damaged})


def test_a_damaged_journal_line_skips_only_itself(tmp_path: Path) -> None:
    """Garbage, a line of the wrong shape and bad UTF-8 are skipped; the lines after them apply."""
    root = tmp_path / ".prompt_objects"
    first, second = _store(root, "First", "Second")
    _journal(
        root,
        catalog.encode_change(Current(po="a", id=first)),
        b"not json at all\n",
        b'{"op":"cur","po":"b"}\n',
        b'{"op":"cur","po":"\xff","id":null}\n',
        catalog.encode_change(Current(po="b", id=second)),
    )
    backend = _backend(root)
    assert (backend.get_current("a"), backend.get_current("b")) == (first, second)
    backend.close()


def test_journal_lines_naming_a_non_uuid_are_ignored(tmp_path: Path) -> None:
    """Ids from the journal become file names: a path-like id in any line changes nothing."""
    root = tmp_path / ".prompt_objects"
    (sid,) = _store(root, "Kept")
    mgr = open_manager(root)
    mgr.switch("po", sid)
    mgr.close()
    hostile = "../../outside"
    summary = msgspec.structs.replace(_summary(root, sid), id=hostile)
    _journal(
        root,
        catalog.encode_change(Put(s=summary, f=(1, 1))),
        catalog.encode_change(Bad(id=hostile, error="x", f=(1, 1))),
        catalog.encode_change(Drop(id=hostile)),
        catalog.encode_change(Current(po="po", id=hostile)),
    )
    backend = _backend(root)
    assert [s.id for s in backend.list()] == [sid]
    assert backend.problems() == {}
    assert backend.get_current("po") == sid
    backend.close()
    assert_at_rest(root)


def test_a_switch_cleared_in_the_journal_is_cleared(tmp_path: Path) -> None:
    """A current-session line with no id forgets the PO's current session."""
    root = tmp_path / ".prompt_objects"
    (sid,) = _store(root, "Was current")
    mgr = open_manager(root)
    mgr.switch("po", sid)
    mgr.close()
    _journal(root, catalog.encode_change(Current(po="po", id=None)))
    backend = _backend(root)
    assert backend.get_current("po") is None
    backend.close()


# ---------------------------------------------------------------- another process mid-refresh


def _fold_by_another_process(root: Path, view_of_the_folder: Callable[[], View]) -> None:
    """What a fold elsewhere does: write index.json from its view, then drop the journal."""
    sessions = root / "sessions"
    files.atomic_write(sessions / "index.json", catalog.encode_catalog(view_of_the_folder()))
    (sessions / "index.journal").unlink(missing_ok=True)


def _view_of(root: Path, *sessions: Session) -> View:
    view = View()
    for session in sessions:
        stat = os.stat(root / "sessions" / f"{session.id}.json")
        view.apply(Put(s=session.summary(), f=(stat.st_size, stat.st_mtime_ns)))
    return view


def test_a_fold_between_index_and_journal_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading index.json, then a journal another process has just folded away, would lose its
    changes: the refresh notices index.json changed and reads it again."""
    root = tmp_path / ".prompt_objects"
    _store(root, "Old")
    mgr = open_manager(root)
    new = mgr.create("po", "New")  # in the journal only, until a fold
    everything = [mgr.get(s.id) for s in mgr.list()]
    abandon(mgr)  # its fold is done by hand below
    real_read_journal = catalog._read_journal
    folds: list[int] = []

    def read_journal_after_a_fold(view: View, journal_path: Path) -> None:
        if not folds:
            _fold_by_another_process(root, lambda: _view_of(root, *everything))
            folds.append(1)
        real_read_journal(view, journal_path)

    monkeypatch.setattr(catalog, "_read_journal", read_journal_after_a_fold)
    view = View()
    catalog.refresh(view, root / "sessions" / "index.json", root / "sessions" / "index.journal")
    assert folds == [1]
    assert set(view.sessions) == {s.id for s in everything}
    assert new.id in view.sessions


def test_refresh_gives_up_retrying_when_every_read_meets_a_fold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Folds that never stop cannot keep a reader looping: it returns the last index it read,
    and the next refresh, once the folds pause, catches up."""
    root = tmp_path / ".prompt_objects"
    (sid,) = _store(root, "Renamed again and again")
    summary = _summary(root, sid)
    real_read_journal = catalog._read_journal
    names: list[str] = []

    def renamed() -> View:
        view = View()
        view.apply(Put(s=msgspec.structs.replace(summary, name=names[-1])))
        return view

    def read_journal_after_a_fold(view: View, journal_path: Path) -> None:
        if len(names) > 50:
            raise AssertionError("refresh keeps retrying")
        names.append(f"name {len(names)}")
        _fold_by_another_process(root, renamed)
        real_read_journal(view, journal_path)

    monkeypatch.setattr(catalog, "_read_journal", read_journal_after_a_fold)
    view = View()
    paths = (root / "sessions" / "index.json", root / "sessions" / "index.journal")
    catalog.refresh(view, *paths)
    assert 1 < len(names) <= 50
    assert view.sessions[sid].name == names[-2]  # the index as it was before the last fold
    monkeypatch.undo()
    catalog.refresh(view, *paths)
    assert view.sessions[sid].name == names[-1]


def test_an_index_removed_between_stat_and_read_reads_as_no_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process dropping a catalog it could not keep in step (its journal write failed)
    while we open it: we read no catalog and rebuild from the session files, without an error."""
    root = tmp_path / ".prompt_objects"
    _store(root, "One", "Two")
    index = root / "sessions" / "index.json"
    real_read_bytes = files.read_bytes

    def read_after_removal(path: Path) -> bytes:
        if path == index:
            index.unlink(missing_ok=True)
        return real_read_bytes(path)

    monkeypatch.setattr(files, "read_bytes", read_after_removal)
    backend = _backend(root)
    assert by_id(backend.list()) == rebuilt_summaries(root)
    monkeypatch.undo()
    backend.close()
    assert_at_rest(root)


class _JournalReadFails:
    """``os`` for the catalog module, whose reads of an open journal fail with EIO."""

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    @staticmethod
    def pread(fd: int, size: int, offset: int) -> bytes:
        raise OSError(errno.EIO, os.strerror(errno.EIO))


def test_a_journal_that_cannot_be_read_is_rebuilt_around(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An I/O error inside the journal makes the catalog untrusted, not the store unusable: the
    view is rebuilt from the session files, and the journal's descriptor is closed."""
    root = tmp_path / ".prompt_objects"
    _store(root, "Listed")
    mgr = open_manager(root)
    mgr.create("po", "Only in the journal")
    abandon(mgr)
    view = View()
    monkeypatch.setattr(catalog, "os", _JournalReadFails())
    with pytest.raises(catalog.CatalogUnreadable):
        catalog.refresh(view, root / "sessions" / "index.json", root / "sessions" / "index.journal")
    backend = _backend(root)
    assert by_id(backend.list()) == rebuilt_summaries(root)
    assert len(backend.list()) == 2
    monkeypatch.undo()
    backend.close()
    assert_at_rest(root)


def test_a_catalog_written_by_a_newer_program_is_repaired_in_memory_only(tmp_path: Path) -> None:
    """A store whose index.json has a newer format_version is read-only: a session file the
    catalog misses is still listed, and nothing in the folder is written to record it."""
    root = tmp_path / ".prompt_objects"
    (catalogued,) = _store(root, "Catalogued")
    index = root / "sessions" / "index.json"
    doc = msgspec.json.decode(index.read_bytes())
    doc["format_version"] = 99
    index.write_bytes(msgspec.json.encode(doc))
    (copied,) = _store(tmp_path / "elsewhere", "Copied in by hand")
    target = root / "sessions" / f"{copied}.json"
    target.write_bytes((tmp_path / "elsewhere" / "sessions" / f"{copied}.json").read_bytes())
    os.chmod(target, 0o600)
    before = {p.name: p.read_bytes() for p in (root / "sessions").iterdir()}
    backend = _backend(root)
    assert {s.id for s in backend.list()} == {catalogued, copied}
    backend.close()
    assert {p.name: p.read_bytes() for p in (root / "sessions").iterdir()} == before


def test_a_write_process_folds_without_looking_at_other_session_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process that opens a store, creates, renames and appends to one session and closes
    (what a CLI write does) never stats, opens or lists the other sessions' files: its cost
    does not grow with the store (DESIGN section 10). The catalog at rest is still whole, and
    a file another program changed is still found by the next list."""
    root = tmp_path / ".prompt_objects"
    mgr = open_manager(root)
    others = [mgr.create("po", f"other {i}").id for i in range(30)]
    mgr.close()
    touched: list[str] = []

    class Watching:
        def __getattr__(self, name: str) -> Any:
            real = getattr(os, name)
            if name not in ("stat", "open", "lstat"):
                return real

            def call(path: Any, *args: Any, **kwargs: Any) -> Any:
                if any(sid in str(path) for sid in others):
                    touched.append(f"{name} {path}")
                return real(path, *args, **kwargs)

            return call

        @staticmethod
        def listdir(path: Any) -> list[str]:
            touched.append(f"listdir {path}")
            return os.listdir(path)

    backend = JsonBackend(root, idle_fold_seconds=None)
    backend.open_store()
    patch_store_os(monkeypatch, Watching())
    session = Session(
        id="00000000-0000-4000-8000-000000000077",
        name="new",
        po_name="po",
        created_at="2025-01-01T00:00:00.000Z",
        updated_at="2025-01-01T00:00:00.000Z",
    )
    backend.create(session)
    backend.update(session.id, name="renamed")
    backend.append(session.id, Message(role="user", content="hello"))
    backend.close()
    monkeypatch.undo()
    assert touched == []
    assert_at_rest(root)
    mgr = open_manager(root)
    assert len(mgr.list()) == 31
    mgr.close()


def _replace_file(path: Path, data: bytes) -> None:
    """Write ``path`` as editors, sync tools and ``cp``-then-rename do: a new file renamed
    over it (what ``list`` notices; an edit in place is noticed by ``doctor`` and ``get``)."""
    new = path.with_name(path.name + ".new")
    new.write_bytes(data)
    os.chmod(new, 0o600)
    os.replace(new, path)
