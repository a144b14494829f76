"""The JSON backend when other processes, the folder or the clock get in its way.

Files vanishing between a listing and a read, listings and reads that fail, a lock held elsewhere
while a reader would repair the catalog or a torn tail, the background fold failing or meeting new
writes, and the fold at interpreter exit for a backend nobody closed.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from prompt_sessions.errors import CorruptSession, ReadOnlyStore, StorageError, StorageWarning
from prompt_sessions.models import Message, Session
from prompt_sessions.storage import json_backend
from prompt_sessions.storage.json_backend import JsonBackend
from prompt_sessions.storage.locking import StoreLock
from reliability_support import (
    abandon,
    assert_at_rest,
    open_manager,
    patch_store_os,
    rebuilt_summaries,
    snapshot,
    temp_files,
)


class _OS:
    """``os`` for the backend module with some calls replaced; the rest are the real ones."""

    def __init__(self, **replaced: Any) -> None:
        self.__dict__.update(replaced)

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)


def _eio(*args: Any, **kwargs: Any) -> Any:
    raise OSError(errno.EIO, os.strerror(errno.EIO))


def _store(root: Path, *names: str, messages: int = 0) -> list[str]:
    mgr = open_manager(root)
    ids = []
    for name in names:
        history = [Message(role="user", content=f"{name} {i}") for i in range(messages)]
        ids.append(mgr.create("po", name, history=history).id)
    mgr.close()
    return ids


def _new_session(name: str) -> Session:
    stamp = "2025-01-03T10:00:00.000Z"
    return Session(
        id=str(uuid.uuid4()), name=name, po_name="po", created_at=stamp, updated_at=stamp
    )


@contextmanager
def _lock_held_elsewhere(root: Path) -> Iterator[None]:
    """The store lock held by another writer (its own flock, as another process would have)."""
    other = StoreLock(root / "sessions" / ".lock", timeout=5.0)
    other.acquire()
    try:
        yield
    finally:
        other.release()


# ---------------------------------------------------------------- files vanishing, folders failing


def test_a_session_deleted_between_listing_and_reading_is_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process deletes a session just after our listing of the folder: list() leaves it
    out, without an error, and the catalog forgets it. (A session added behind the store's
    back makes list compare every file, the path where the listing and the reads part.)"""
    root = tmp_path / ".prompt_objects"
    kept, deleted = _store(root, "Kept", "Deleted elsewhere")
    added = _new_session("Added behind its back")
    (tmp_path / "elsewhere").mkdir()
    elsewhere = JsonBackend(tmp_path / "elsewhere", idle_fold_seconds=None)
    elsewhere.create(added)
    elsewhere.close()
    os.replace(
        tmp_path / "elsewhere" / "sessions" / f"{added.id}.json",
        root / "sessions" / f"{added.id}.json",
    )
    real_listdir = os.listdir

    def listdir_then_delete(path: Any) -> list[str]:
        names = real_listdir(path)
        (root / "sessions" / f"{deleted}.json").unlink(missing_ok=True)
        return names

    mgr = open_manager(root)
    patch_store_os(monkeypatch, _OS(listdir=listdir_then_delete))
    assert {s.id for s in mgr.list()} == {kept, added.id}
    assert mgr.problems() == {}
    monkeypatch.undo()
    mgr.close()
    assert_at_rest(root)


def test_a_folder_that_cannot_be_listed_is_an_error_for_readers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """list() cannot tell which sessions exist without the listing: a storage error naming the
    folder, not an empty store and not a bare OSError."""
    root = tmp_path / ".prompt_objects"
    _store(root, "Unlistable")
    os.utime(root / "sessions", ns=(0, 0))  # the folder changed: list must look at its files
    mgr = open_manager(root)
    patch_store_os(monkeypatch, _OS(listdir=_eio, scandir=_eio))
    with pytest.raises(StorageError, match="cannot read folder") as caught:
        mgr.list()
    assert not isinstance(caught.value, ReadOnlyStore)
    assert str(root / "sessions") in str(caught.value)
    monkeypatch.undo()
    assert len(mgr.list()) == 1
    mgr.close()


def test_a_sweep_that_cannot_list_the_folder_does_not_fail_the_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sweeping crash leftovers is housekeeping: when the listing fails, the write goes on and
    the leftover is swept by a later open."""
    root = tmp_path / ".prompt_objects"
    (sid,) = _store(root, "Swept later")
    leftover = root / "sessions" / f".{sid}.json.0123456789ab.tmp"
    os.close(os.open(leftover, os.O_WRONLY | os.O_CREAT, 0o600))
    mgr = JsonBackend(root, lock_timeout=5.0, idle_fold_seconds=None)  # not opened: no sweep yet
    patch_store_os(monkeypatch, _OS(listdir=_eio))
    mgr.update(sid, name="Written")
    monkeypatch.undo()
    assert mgr.get(sid).name == "Written"
    assert leftover.exists()
    mgr.close()
    open_manager(root).close()
    assert not leftover.exists()
    assert_at_rest(root)


def test_a_leftover_that_cannot_be_removed_does_not_fail_the_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash's temp file we may not delete stays; the write that found it succeeds."""
    root = tmp_path / ".prompt_objects"
    (sid,) = _store(root, "Leftover stays")
    leftover = root / "sessions" / f".{sid}.json.0123456789ab.tmp"
    os.close(os.open(leftover, os.O_WRONLY | os.O_CREAT, 0o600))
    real_unlink = os.unlink

    def unlink_refusing_leftovers(path: Any, *args: Any, **kwargs: Any) -> None:
        if str(path).endswith(".tmp"):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
        real_unlink(path, *args, **kwargs)

    mgr = JsonBackend(root, lock_timeout=5.0, idle_fold_seconds=None)
    patch_store_os(monkeypatch, _OS(unlink=unlink_refusing_leftovers))
    mgr.update(sid, name="Written")
    monkeypatch.undo()
    assert leftover.exists()
    assert mgr.get(sid).name == "Written"
    mgr.close()
    open_manager(root).close()
    assert temp_files(root) == []


def test_a_read_error_inside_a_session_file_is_not_damage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """EIO while reading an open session file is a storage error, never a damaged session."""
    root = tmp_path / ".prompt_objects"
    (sid,) = _store(root, "Unreadable for a moment", messages=2)
    mgr = open_manager(root)
    patch_store_os(monkeypatch, _OS(pread=_eio))
    with pytest.raises(StorageError, match="cannot read") as caught:
        mgr.get(sid)
    assert not isinstance(caught.value, CorruptSession)
    monkeypatch.undo()
    assert len(mgr.get(sid).history) == 2
    mgr.close()


def test_a_write_whose_final_stat_fails_reports_it_and_the_next_list_finds_the_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The session file is written but cannot be stat'ed for the catalog: the call fails with a
    storage error, and the file, which is the truth, is listed afterwards."""
    root = tmp_path / ".prompt_objects"
    mgr = open_manager(root)
    patch_store_os(monkeypatch, _OS(stat=_eio))
    with pytest.raises(StorageError, match="cannot read"):
        mgr.create("po", "Written, not catalogued")
    monkeypatch.undo()
    assert [s.name for s in mgr.list()] == ["Written, not catalogued"]
    mgr.close()
    assert_at_rest(root)


def test_the_current_session_of_a_deleted_file_is_none(tmp_path: Path) -> None:
    """A current session whose file was removed by hand is no current session."""
    root = tmp_path / ".prompt_objects"
    (sid,) = _store(root, "Removed by hand")
    mgr = open_manager(root)
    mgr.switch("po", sid)
    (root / "sessions" / f"{sid}.json").unlink()
    assert mgr.backend.get_current("po") is None
    assert mgr.peek_current("po") is None
    mgr.close()
    assert_at_rest(root)


# ---------------------------------------------------------------- the lock held elsewhere


def test_a_reader_repairs_the_catalog_in_memory_while_another_process_writes(
    tmp_path: Path,
) -> None:
    """A session file the catalog misses is listed even when the catalog cannot be written now."""
    root = tmp_path / ".prompt_objects"
    (catalogued,) = _store(root, "Catalogued")
    (copied,) = _store(tmp_path / "elsewhere", "Copied in by hand")
    target = root / "sessions" / f"{copied}.json"
    target.write_bytes((tmp_path / "elsewhere" / "sessions" / f"{copied}.json").read_bytes())
    os.chmod(target, 0o600)
    before = snapshot(root), (root / "sessions" / "index.json").read_bytes()
    with _lock_held_elsewhere(root):
        mgr = open_manager(root, lock_timeout=0.05)
        assert {s.id for s in mgr.list()} == {catalogued, copied}
        assert (snapshot(root), (root / "sessions" / "index.json").read_bytes()) == before
        assert not (root / "sessions" / "index.journal").exists()
        abandon(mgr)
    mgr = open_manager(root)
    mgr.list()  # the first reader that may write records the repair
    mgr.close()
    assert_at_rest(root)


def test_a_torn_tail_read_while_another_process_writes_is_read_but_not_rewritten(
    tmp_path: Path,
) -> None:
    """Without the lock the repair cannot be written: the file reads as before the cut append
    and stays as it lies until a writer can rewrite it."""
    root = tmp_path / ".prompt_objects"
    (sid,) = _store(root, "Torn", messages=2)
    path = root / "sessions" / f"{sid}.json"
    torn = path.read_bytes()[:-20]
    path.write_bytes(torn)
    with _lock_held_elsewhere(root):
        mgr = open_manager(root, lock_timeout=0.05)
        assert [m.content for m in mgr.get(sid).history] == ["Torn 0", "Torn 1"]
        assert path.read_bytes() == torn
        abandon(mgr)
    mgr = open_manager(root)
    assert [m.content for m in mgr.get(sid).history] == ["Torn 0", "Torn 1"]
    assert path.read_bytes() != torn  # rewritten whole once a writer may
    mgr.list()
    mgr.close()
    assert_at_rest(root)


def test_an_open_that_finds_the_lock_held_leaves_the_journal_to_its_writer(tmp_path: Path) -> None:
    """A journal belongs to whoever is writing now: opening beside it folds nothing, and reading
    still sees what the journal says."""
    root = tmp_path / ".prompt_objects"
    (sid,) = _store(root, "Journalled")
    writer = open_manager(root)
    writer.rename(sid, "Renamed in the journal")
    abandon(writer)
    before = {p.name: p.read_bytes() for p in (root / "sessions").iterdir() if p.is_file()}
    with _lock_held_elsewhere(root):
        reader = open_manager(root, lock_timeout=0.05)
        after = {p.name: p.read_bytes() for p in (root / "sessions").iterdir() if p.is_file()}
        assert after == before
        assert "index.journal" in after
        assert [s.name for s in reader.list()] == ["Renamed in the journal"]
        abandon(reader)
    open_manager(root).close()
    assert_at_rest(root)


def test_an_open_that_cannot_list_the_folder_leaves_it_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opening only tidies up after crashes; when the folder cannot be listed it does nothing."""
    root = tmp_path / ".prompt_objects"
    (sid,) = _store(root, "Untidied")
    leftover = root / "sessions" / f".{sid}.json.0123456789ab.tmp"
    os.close(os.open(leftover, os.O_WRONLY | os.O_CREAT, 0o600))
    backend = JsonBackend(root, lock_timeout=5.0, idle_fold_seconds=None)
    patch_store_os(monkeypatch, _OS(listdir=_eio))
    backend.open_store()
    monkeypatch.undo()
    assert leftover.exists()
    backend.close()
    open_manager(root).close()
    assert_at_rest(root)


# ---------------------------------------------------------------- the background fold


def test_a_failed_background_fold_is_left_for_close(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The idle fold thread swallows a failing fold and ends; close() folds the journal."""
    root = tmp_path / ".prompt_objects"
    backend = JsonBackend(root, lock_timeout=5.0, idle_fold_seconds=0.01)
    attempts = []

    def failing_flush() -> None:
        attempts.append(1)
        raise StorageError("cannot write index.json: No space left on device")

    monkeypatch.setattr(backend, "flush", failing_flush)
    backend.create(_new_session("Folded at close"))
    thread = backend._folder_thread
    assert thread is not None
    thread.join(60)
    assert not thread.is_alive()
    assert attempts == [1]
    assert (root / "sessions" / "index.journal").exists()
    monkeypatch.undo()
    backend.close()
    assert_at_rest(root)


def test_writes_during_a_background_fold_are_folded_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that lands while the idle thread folds makes it wait and fold again, so the
    folder is at rest once writes pause, without a close."""
    root = tmp_path / ".prompt_objects"
    backend = JsonBackend(root, lock_timeout=5.0, idle_fold_seconds=0.01)
    session = _new_session("Written to during a fold")
    real_flush = backend.flush
    folds = []

    def flush_meeting_a_write() -> None:
        real_flush()
        folds.append(1)
        if len(folds) == 1:
            backend.append(session.id, Message(role="user", content="during the fold"))

    monkeypatch.setattr(backend, "flush", flush_meeting_a_write)
    backend.create(session)
    thread = backend._folder_thread
    assert thread is not None
    thread.join(60)
    assert not thread.is_alive()
    assert len(folds) == 2
    assert_at_rest(root)
    assert [m.content for m in backend.get(session.id).history] == ["during the fold"]
    monkeypatch.undo()
    backend.close()


# ---------------------------------------------------------------- at interpreter exit


def test_backends_left_open_are_folded_at_exit_even_if_one_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The exit hook closes every open backend; one whose fold fails (a warning) or whose close
    breaks (an unexpected error) does not stop the rest."""
    failing_root, root = tmp_path / "failing" / ".prompt_objects", tmp_path / ".prompt_objects"
    broken_root = tmp_path / "broken" / ".prompt_objects"
    failing = JsonBackend(failing_root, lock_timeout=5.0, idle_fold_seconds=None)
    failing.create(_new_session("Stays in the journal"))
    broken = JsonBackend(broken_root, lock_timeout=5.0, idle_fold_seconds=None)
    broken.create(_new_session("Stays in the journal too"))
    backend = JsonBackend(root, lock_timeout=5.0, idle_fold_seconds=None)
    backend.create(_new_session("Folded at exit"))

    def full_disk() -> None:
        raise StorageError("cannot write index.json: No space left on device")

    def bug() -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(failing, "flush", full_disk)
    monkeypatch.setattr(broken, "flush", bug)
    monkeypatch.setattr(json_backend, "_open_backends", weakref.WeakSet([failing, broken, backend]))
    with pytest.warns(StorageWarning, match="your changes are saved"):
        json_backend._flush_open_backends()  # the failed fold is a warning, not an error
    assert list(json_backend._open_backends) == []
    assert (failing_root / "sessions" / "index.journal").exists()
    assert (broken_root / "sessions" / "index.journal").exists()
    assert_at_rest(root)
    monkeypatch.undo()
    failing.flush()
    broken.flush()
    assert_at_rest(failing_root)
    assert_at_rest(broken_root)


def test_a_script_that_forgets_close_leaves_the_folder_at_rest(tmp_path: Path) -> None:
    """The exit hook is registered for real: a process that never closes its manager leaves
    index.json whole and no journal behind."""
    root = tmp_path / ".prompt_objects"
    script = (
        "import sys\n"
        "from prompt_sessions import Message\n"
        "from prompt_sessions.manager import SessionManager\n"
        "from prompt_sessions.plugins import PluginHost\n"
        "mgr = SessionManager.open(sys.argv[1], host=PluginHost.create(entry_points=False))\n"
        "session = mgr.create('po', 'Never closed')\n"
        "mgr.append(session.id, Message(role='user', content='kept'))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(root)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert_at_rest(root)
    assert [s.message_count for s in rebuilt_summaries(root).values()] == [1]


def test_a_delete_the_folder_refuses_is_a_storage_error_and_keeps_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A delete for good (emptying the trash, an import's rollback) that the file system
    refuses names the file in a StorageError; the session is still there and still listed."""
    root = tmp_path / ".prompt_objects"
    (sid,) = _store(root, "Kept")
    backend = JsonBackend(root, lock_timeout=5.0, idle_fold_seconds=None)
    real_unlink = os.unlink

    def refusing(path: Any, *args: Any, **kwargs: Any) -> None:
        if str(path).endswith(f"{sid}.json"):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
        real_unlink(path, *args, **kwargs)

    patch_store_os(monkeypatch, _OS(unlink=refusing))
    with pytest.raises(StorageError, match="delete"):
        backend.delete(sid)
    monkeypatch.undo()
    assert backend.get(sid).name == "Kept"
    assert [s.id for s in backend.list()] == [sid]
    backend.close()
    assert_at_rest(root)


def test_a_store_folder_removed_while_a_backend_runs_is_made_again_on_its_next_write(
    tmp_path: Path,
) -> None:
    """The lock keeps its file open between writes and so stands in for checking the folders
    on each one: when a person removes the whole store meanwhile, the next write still makes
    the folders again and lands, under a lock on the new lock file."""
    root = tmp_path / ".prompt_objects"
    backend = JsonBackend(root, lock_timeout=5.0, idle_fold_seconds=None)
    backend.create(_new_session("before"))
    shutil.rmtree(root)
    session = _new_session("after")
    backend.create(session)
    backend.append(session.id, Message(role="user", content="still written"))
    assert [m.content for m in backend.get(session.id).history] == ["still written"]
    assert (root / "sessions" / ".lock").exists()
    probe = StoreLock(root / "sessions" / ".lock", timeout=5.0)
    backend.lock.acquire()
    try:
        with pytest.raises(StorageError):  # the backend holds the new lock file, not the old
            probe.acquire(timeout=0.05)
    finally:
        backend.lock.release()
    backend.close()
    assert_at_rest(root)
