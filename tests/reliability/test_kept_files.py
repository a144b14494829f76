"""The descriptors an append keeps open for the next one (``storage.kept_file``).

The session file last written in place and the journal stay open between writes; before each
reuse the path must still name the same file. Whatever another program does between two appends
(replace the session file, remove it, fold and remove the journal, leave a torn journal line),
the next append lands in the file the store names, and nothing acknowledged is lost. A journal
line written before the fsync is taken back when the fsync fails.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest

from prompt_sessions.errors import CorruptSession, SessionNotFound, StorageError
from prompt_sessions.models import Message
from prompt_sessions.storage import json_catalog_view, json_store_base, kept_file
from prompt_sessions.storage import locking as locking_module
from prompt_sessions.storage.json_backend import JsonBackend
from prompt_sessions.storage.locking import StoreLock
from prompt_sessions.storage.session_codec import decode_session, encode_session
from reliability_support import assert_at_rest, by_id, open_manager

PO = "coordinator"


def _say(i: int) -> Message:
    return Message(role="user", content=f"message {i}")


def _contents(path: Path) -> list[str]:
    return [m.content for m in decode_session(path.read_bytes(), path.stem).history]


def _count_seen_by_another_process(root: Path, sid: str) -> int:
    """The message count a fresh process lists for session ``sid``."""
    other = open_manager(root)
    try:
        return by_id(other.list())[sid].message_count
    finally:
        other.close()


def _backend(manager: Any) -> JsonBackend:
    backend = manager.backend
    assert isinstance(backend, JsonBackend)
    return backend


class _FailOn:
    """Looks like ``os``; ``name`` raises EIO from its ``after``-th call on."""

    def __init__(self, name: str, after: int = 1) -> None:
        self.name, self.after, self.calls = name, after, 0

    def __getattr__(self, attr: str) -> Any:
        real = getattr(os, attr)
        if attr != self.name:
            return real

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.calls >= self.after:
                raise OSError(errno.EIO, os.strerror(errno.EIO))
            return real(*args, **kwargs)

        return call


def test_an_append_after_another_program_replaced_the_file_lands_in_the_new_file(
    tmp_path: Path,
) -> None:
    """A session file replaced by rename between two appends (an editor's save) gets the next
    message; the kept descriptor of the old file is never written to."""
    mgr = open_manager(tmp_path)
    sid = mgr.create(PO, "kept").id
    mgr.append(sid, _say(1))
    path = tmp_path / "sessions" / f"{sid}.json"
    session = decode_session(path.read_bytes(), sid)
    session.history.append(Message(role="assistant", content="added by hand"))
    temp = path.with_name("edit.tmp")
    temp.write_bytes(encode_session(session))
    os.chmod(temp, 0o600)
    os.replace(temp, path)

    mgr.append(sid, _say(2))

    assert _contents(path) == ["message 1", "added by hand", "message 2"]
    assert mgr.get(sid).message_count == 3
    mgr.close()
    assert_at_rest(tmp_path)


def test_an_append_after_a_copy_was_restored_over_the_file_lands_in_the_copy(
    tmp_path: Path,
) -> None:
    """A byte-identical copy put in place by rename between two appends (a backup restored,
    a checkout): the next message goes into the file the path names now, not into the kept
    descriptor of the file it replaced."""
    mgr = open_manager(tmp_path)
    sid = mgr.create(PO, "kept").id
    mgr.append(sid, _say(1))
    path = tmp_path / "sessions" / f"{sid}.json"
    temp = path.with_name("restore.tmp")
    temp.write_bytes(path.read_bytes())
    os.chmod(temp, 0o600)
    os.replace(temp, path)

    mgr.append(sid, _say(2))

    assert _contents(path) == ["message 1", "message 2"]
    mgr.close()
    assert_at_rest(tmp_path)


def test_an_append_to_a_session_removed_by_another_process_finds_no_session(
    tmp_path: Path,
) -> None:
    """A session trashed by another process between two appends is not written through the
    kept descriptor: the append fails with SessionNotFound and the trashed copy is unchanged."""
    mgr = open_manager(tmp_path)
    sid = mgr.create(PO, "kept").id
    mgr.append(sid, _say(1))
    other = open_manager(tmp_path)
    other.delete(sid)  # to the trash
    other.close()
    trashed = next((tmp_path / "trash").glob(f"{sid}*.json"))
    before = trashed.read_bytes()

    with pytest.raises(SessionNotFound):
        mgr.append(sid, _say(2))

    assert trashed.read_bytes() == before
    mgr.close()


def test_a_journal_folded_away_by_another_process_gets_the_next_line_in_a_new_journal(
    tmp_path: Path,
) -> None:
    """Another process folds the journal and removes it between two appends; the next append's
    line goes to a new journal (not the removed file), so the catalog has it."""
    mgr = open_manager(tmp_path)
    sid = mgr.create(PO, "kept").id
    mgr.append(sid, _say(1))
    other = open_manager(tmp_path)
    other.flush()
    assert not (tmp_path / "sessions" / "index.journal").exists()

    mgr.append(sid, _say(2))

    assert _count_seen_by_another_process(tmp_path, sid) == 2
    other.close()
    mgr.close()
    assert_at_rest(tmp_path)


def test_a_torn_journal_line_left_by_another_process_is_not_joined_to_the_next(
    tmp_path: Path,
) -> None:
    """A line another process left without its newline (killed mid-write) after this process's
    last line: the next line starts on a line of its own and is read back."""
    mgr = open_manager(tmp_path)
    sid = mgr.create(PO, "kept").id
    mgr.append(sid, _say(1))
    with open(tmp_path / "sessions" / "index.journal", "ab") as journal:
        journal.write(b'{"op":"put","s":{"id"')

    mgr.append(sid, _say(2))

    assert _count_seen_by_another_process(tmp_path, sid) == 2
    mgr.close()
    assert_at_rest(tmp_path)


def test_a_failed_fsync_takes_its_journal_line_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The journal line is written before the fsync; when the fsync fails, the file is put back
    and a second line restores the old summary, so this process and the next both list the
    session as it is on disk."""
    mgr = open_manager(tmp_path)
    sid = mgr.create(PO, "kept").id
    mgr.flush()
    mgr.append(sid, _say(1))  # makes the journal again, and pins the folder's time after it
    path = tmp_path / "sessions" / f"{sid}.json"
    before = path.read_bytes()
    # Lists now trust the catalog (the folder has its pinned time); it is loaded, so the
    # journal line changes this process's view too.
    assert by_id(mgr.list())[sid].message_count == 1

    monkeypatch.setattr(json_catalog_view, "os", _FailOn("fsync"))
    with pytest.raises(StorageError):
        mgr.append(sid, _say(2))
    monkeypatch.undo()

    assert path.read_bytes() == before
    assert by_id(mgr.list())[sid].message_count == 1
    assert _count_seen_by_another_process(tmp_path, sid) == 1
    mgr.append(sid, _say(3))
    assert _contents(path) == ["message 1", "message 3"]
    mgr.close()
    assert_at_rest(tmp_path)


def test_a_journal_line_that_cannot_be_taken_back_makes_the_fold_check_the_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When even the file's stat fails after a failed fsync, the catalog cannot be put right
    line by line: the next fold checks every file, so the folder at rest is still the truth."""
    mgr = open_manager(tmp_path)
    sid = mgr.create(PO, "kept").id
    mgr.append(sid, _say(1))

    class _NoSync(_FailOn):
        def __getattr__(self, attr: str) -> Any:
            if attr == "fstat" and self.calls:  # the stat after the failed fsync
                raise OSError(errno.EIO, os.strerror(errno.EIO))
            return super().__getattr__(attr)

    monkeypatch.setattr(json_catalog_view, "os", _NoSync("fsync"))
    with pytest.raises(StorageError):
        mgr.append(sid, _say(2))
    monkeypatch.undo()

    assert _backend(mgr)._journal_missed
    mgr.close()
    assert_at_rest(tmp_path)
    assert _count_seen_by_another_process(tmp_path, sid) == 1


def test_a_session_file_that_cannot_be_stated_after_opening_is_one_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stat of a session file just opened fails: the append is refused with the file named,
    nothing is written and no descriptor is left open."""
    mgr = open_manager(tmp_path)
    sid = mgr.create(PO, "kept").id
    path = tmp_path / "sessions" / f"{sid}.json"
    before = path.read_bytes()
    monkeypatch.setattr(json_catalog_view, "os", _FailOn("fstat"))
    with pytest.raises(StorageError, match=f"cannot open .*{sid}.json"):
        mgr.append(sid, _say(1))
    monkeypatch.undo()
    assert path.read_bytes() == before
    mgr.append(sid, _say(2))
    assert _contents(path) == ["message 2"]
    mgr.close()


def test_a_journal_that_cannot_be_stated_after_opening_is_written_by_the_fallback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The journal opens but its stat fails: the write goes on, its change reaches the journal
    through a fresh open, and the catalog has it."""
    mgr = open_manager(tmp_path)
    sid = mgr.create(PO, "kept").id
    _backend(mgr)._kept_journal.close()  # the next write opens the journal again
    monkeypatch.setattr(json_store_base, "os", _FailOn("fstat"))
    mgr.append(sid, _say(1))
    monkeypatch.undo()
    assert _count_seen_by_another_process(tmp_path, sid) == 1
    mgr.close()
    assert_at_rest(tmp_path)


def test_a_journal_write_that_fails_closes_the_kept_journal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A journal line that cannot be written leaves the append on disk (the fold checks the
    files) and the journal closed, to be opened afresh by the next write."""
    mgr = open_manager(tmp_path)
    sid = mgr.create(PO, "kept").id
    backend = _backend(mgr)
    real_write = os.write

    def failing_write(fd: int, data: Any) -> int:
        if fd == backend._kept_journal.fd:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(json_store_base.files.os, "write", failing_write)
    mgr.append(sid, _say(1))
    monkeypatch.undo()
    assert backend._kept_journal.fd is None and backend._journal_missed
    mgr.append(sid, _say(2))
    assert backend._kept_journal.fd is not None
    mgr.close()
    assert_at_rest(tmp_path)
    assert _count_seen_by_another_process(tmp_path, sid) == 2


def test_where_nothing_may_be_kept_open_every_append_opens_and_closes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a system where open files cannot be replaced (Windows), the descriptors are closed
    when each write ends, and appends still land."""
    monkeypatch.setattr(kept_file, "KEEP_OPEN", False)
    mgr = open_manager(tmp_path)
    sid = mgr.create(PO, "kept").id
    backend = _backend(mgr)
    for i in range(3):
        mgr.append(sid, _say(i))
        assert backend._kept_session.fd is None and backend._kept_journal.fd is None
    assert _contents(tmp_path / "sessions" / f"{sid}.json") == [f"message {i}" for i in range(3)]
    mgr.close()
    assert_at_rest(tmp_path)


def test_a_write_that_replaces_files_lets_the_kept_session_file_go(tmp_path: Path) -> None:
    """A write that may replace or remove session files (here a rename) closes the session
    file kept from the last append, so a removed file's data is not held on disk."""
    mgr = open_manager(tmp_path)
    sid = mgr.create(PO, "kept").id
    mgr.append(sid, _say(1))
    backend = _backend(mgr)
    assert backend._kept_session.fd is not None
    mgr.rename(sid, "renamed")
    assert backend._kept_session.fd is None
    mgr.close()


def test_the_fold_after_writes_pause_lets_every_kept_file_go(tmp_path: Path) -> None:
    """Once writes pause, the fold (here run at once) closes the kept session file and the
    journal it removes: an idle program holds no session file open."""
    mgr = open_manager(tmp_path)
    sid = mgr.create(PO, "kept").id
    mgr.append(sid, _say(1))
    backend = _backend(mgr)
    assert backend._kept_session.fd is not None and backend._kept_journal.fd is not None
    mgr.flush()
    assert backend._kept_session.fd is None and backend._kept_journal.fd is None
    mgr.close()


def test_closing_a_store_whose_folder_was_removed_makes_no_folder_again(
    tmp_path: Path,
) -> None:
    """The whole store folder moved away and removed while a manager holds it open: closing
    the manager does not make an empty store folder again (nor one open to others) just to
    mark its lock file."""
    root = tmp_path / ".prompt_objects"
    mgr = open_manager(root)
    sid = mgr.create(PO, "kept").id
    mgr.append(sid, _say(1))
    root.rename(tmp_path / "moved")
    shutil.rmtree(tmp_path / "moved")

    mgr.close()

    assert not root.exists()


def test_a_fold_that_finds_the_folder_gone_still_lets_every_kept_file_go(
    tmp_path: Path,
) -> None:
    """The whole store folder moved away and removed between an append and the fold that
    follows: the fold has nothing to fold, and still closes the kept session file and journal,
    so an idle program does not keep the removed messages on disk."""
    root = tmp_path / ".prompt_objects"
    mgr = open_manager(root)
    sid = mgr.create(PO, "kept").id
    mgr.append(sid, _say(1))
    backend = _backend(mgr)
    assert backend._kept_session.fd is not None and backend._kept_journal.fd is not None
    root.rename(tmp_path / "moved")
    shutil.rmtree(tmp_path / "moved")

    mgr.flush()

    assert backend._kept_session.fd is None and backend._kept_journal.fd is None
    mgr.close()


def test_a_fold_from_inside_a_write_keeps_the_files_that_write_uses(tmp_path: Path) -> None:
    """A fold started while this thread's write is still under way (a write that reached the
    fold's line count) leaves the kept session file open for that write; the next fold after
    it closes it."""
    mgr = open_manager(tmp_path)
    sid = mgr.create(PO, "kept").id
    mgr.append(sid, _say(1))
    backend = _backend(mgr)
    with backend._writing(in_place=True):
        mgr.flush()
        assert backend._kept_session.fd is not None
    mgr.flush()
    assert backend._kept_session.fd is None
    mgr.append(sid, _say(2))
    mgr.close()
    assert _count_seen_by_another_process(tmp_path, sid) == 2
    assert_at_rest(tmp_path)


def test_a_dropped_store_gives_its_kept_descriptors_back(tmp_path: Path) -> None:
    """A KeptFile collected without close closes its descriptor (the hygiene check after each
    test sees every descriptor back)."""
    kept = kept_file.KeptFile()
    path = tmp_path / "file"
    path.write_bytes(b"x")
    fd = os.open(path, os.O_RDONLY)
    kept.keep(str(path), fd, os.fstat(fd))
    assert kept.reuse(str(tmp_path / "another")) is None  # another path: the old one is closed
    with pytest.raises(OSError):
        os.fstat(fd)
    fd = os.open(path, os.O_RDONLY)
    kept.keep(str(path), fd, os.fstat(fd))
    second = os.open(path, os.O_RDONLY)
    kept.keep(str(path), second, os.fstat(second))  # keeping another closes the first
    with pytest.raises(OSError):
        os.fstat(fd)
    del kept  # __del__ closes the second


def test_closing_a_kept_descriptor_already_gone_is_quiet(tmp_path: Path) -> None:
    """A kept descriptor closed behind the KeptFile's back (EBADF) closes quietly, and a
    KeptFile whose close fails at interpreter exit says nothing either."""
    path = tmp_path / "file"
    path.write_bytes(b"x")
    kept = kept_file.KeptFile()
    fd = os.open(path, os.O_RDONLY)
    kept.keep(str(path), fd, os.fstat(fd))
    os.close(fd)
    kept.close()
    assert kept.fd is None

    def gone() -> None:
        raise AttributeError("'NoneType' object has no attribute 'close'")  # os at exit

    kept.close = gone  # type: ignore[method-assign]
    kept.__del__()


def test_a_write_whose_start_fails_gives_the_lock_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that fails as it starts (after the lock is taken) or as it ends (pinning the
    folder's time) releases the store lock and the mutex: the next write works, from this
    process and from another."""
    mgr = open_manager(tmp_path)
    sid = mgr.create(PO, "kept").id
    backend = _backend(mgr)

    def broken(*args: Any) -> None:
        raise StorageError("broken on purpose")

    monkeypatch.setattr(backend, "_begin_write", broken)
    with pytest.raises(StorageError, match="broken on purpose"):
        mgr.append(sid, _say(1))
    monkeypatch.undo()
    assert not backend.lock.held and backend._write_depth == 0
    monkeypatch.setattr(backend, "_pin_folder", broken)
    backend._folder_ok = True
    with pytest.raises(StorageError, match="broken on purpose"), backend._writing():
        backend._folder_ok = True  # as a write that renamed a file in would leave it
    monkeypatch.undo()
    assert not backend.lock.held and backend._write_depth == 0
    other = open_manager(tmp_path)
    other.append(sid, _say(2))
    other.close()
    mgr.append(sid, _say(3))
    assert _contents(tmp_path / "sessions" / f"{sid}.json") == ["message 2", "message 3"]
    mgr.close()


def test_a_lock_file_that_cannot_be_stated_after_opening_falls_back_to_filelock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast path's descriptor opens but cannot be stated: it is closed and filelock takes
    the lock, which still excludes other processes."""
    lock = StoreLock(tmp_path / ".lock", timeout=1.0, keep_open=True)
    monkeypatch.setattr(locking_module, "os", _FailOn("fstat"))
    lock.acquire()
    monkeypatch.undo()
    assert lock._fd is None and lock.held
    lock.release()
    lock.close()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX only: named pipes")
@pytest.mark.parametrize("write", ["append", "replace_last"])
def test_a_session_file_turned_into_a_pipe_between_two_writes_is_one_clear_error(
    tmp_path: Path, write: str
) -> None:
    """A session file another program replaced by a named pipe between two writes of one
    manager is reported as a damaged session (not a bare OSError) and the pipe is left as it
    is; put back, the file takes the next message with every earlier one kept."""
    mgr = open_manager(tmp_path)
    sid = mgr.create(PO, "piped").id
    mgr.append(sid, _say(0))
    path = tmp_path / "sessions" / f"{sid}.json"
    aside = path.with_name("aside")
    path.rename(aside)
    os.mkfifo(path)
    with pytest.raises(CorruptSession, match="not a regular file"):
        if write == "append":
            mgr.append(sid, _say(1))
        else:
            _backend(mgr).replace_last(sid, _say(1), index=0)
    assert stat.S_ISFIFO(os.lstat(path).st_mode)
    path.unlink()
    aside.rename(path)
    mgr.append(sid, _say(2))
    mgr.close()
    assert _contents(path) == ["message 0", "message 2"]
    assert_at_rest(tmp_path)
