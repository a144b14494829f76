"""The durable write underneath every change: what it leaves when the system misbehaves.

A write that stops making progress, an interrupt in the middle, a temp file that cannot be removed
after a failure, a file where the store's folder should be, and a folder created by someone else
at the same moment.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest

from prompt_sessions.errors import ReadOnlyStore, StorageError
from prompt_sessions.storage import files
from reliability_support import assert_at_rest, open_manager, session_files, snapshot, temp_files


class _OS:
    """``os`` for the files module with some calls replaced; the rest are the real ones."""

    def __init__(self, **replaced: Any) -> None:
        self.__dict__.update(replaced)

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)


def _store(root: Path) -> str:
    mgr = open_manager(root)
    sid = mgr.create("po", "Before").id
    mgr.close()
    return sid


def test_a_write_that_makes_no_progress_fails_instead_of_spinning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """write() returning 0 would loop for ever: it is an I/O error, and the old file stays."""
    root = tmp_path / ".prompt_objects"
    sid = _store(root)
    before = snapshot(root)
    mgr = open_manager(root)
    monkeypatch.setattr(files, "os", _OS(write=lambda fd, data: 0))
    with pytest.raises(StorageError, match="short write"):
        mgr.rename(sid, "After")
    monkeypatch.undo()
    assert snapshot(root) == before
    assert temp_files(root) == []
    assert mgr.get(sid).name == "Before"
    mgr.close()
    assert_at_rest(root)


def test_an_interrupt_mid_write_removes_the_temp_file_and_propagates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C during the fsync of a new file version: the interrupt goes on, the old file stays."""
    root = tmp_path / ".prompt_objects"
    sid = _store(root)
    before = snapshot(root)
    mgr = open_manager(root)

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(files, "os", _OS(fsync=interrupted))
    with pytest.raises(KeyboardInterrupt):
        mgr.rename(sid, "After")
    monkeypatch.undo()
    assert snapshot(root) == before
    assert temp_files(root) == []
    assert not mgr.backend.lock.held  # type: ignore[attr-defined]
    mgr.close()
    assert_at_rest(root)


def test_a_temp_file_that_cannot_be_removed_keeps_the_first_error_and_is_swept_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk fails the write and a failing unlink leaves the temp file: the error reported
    is the write's, and the next open sweeps the leftover."""
    root = tmp_path / ".prompt_objects"
    sid = _store(root)
    before = snapshot(root)
    mgr = open_manager(root)

    def no_space(fd: int, data: Any) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def cannot_unlink(path: Any) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(files, "os", _OS(write=no_space, unlink=cannot_unlink))
    with pytest.raises(StorageError, match=os.strerror(errno.ENOSPC)) as caught:
        mgr.rename(sid, "After")
    monkeypatch.undo()
    assert not isinstance(caught.value, ReadOnlyStore)
    assert snapshot(root) == before
    assert len(temp_files(root)) == 1
    mgr.close()
    open_manager(root).close()
    assert temp_files(root) == []
    assert_at_rest(root)


def test_a_file_where_the_store_folder_should_be_is_an_error(tmp_path: Path) -> None:
    """The environment folder's path is taken by a plain file: writing fails and changes nothing."""
    root = tmp_path / ".prompt_objects"
    root.write_bytes(b"not a folder")
    os.chmod(root, 0o600)
    mgr = open_manager(root)
    with pytest.raises(StorageError, match="cannot create folder") as caught:
        mgr.create("po", "Nowhere to go")
    assert not isinstance(caught.value, ReadOnlyStore)
    assert root.read_bytes() == b"not a folder"
    mgr.close()


def test_a_folder_created_by_another_process_meanwhile_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes creating the store at once: the one that loses the mkdir race goes on."""
    root = tmp_path / ".prompt_objects"
    real_mkdir = os.mkdir

    def mkdir_after_another_process(path: Any, mode: int = 0o777) -> None:
        if not os.path.isdir(path):
            real_mkdir(path, 0o700)  # the other process got there first
        real_mkdir(path, mode)

    monkeypatch.setattr(files, "os", _OS(mkdir=mkdir_after_another_process))
    mgr = open_manager(root)
    sid = mgr.create("po", "Created anyway").id
    monkeypatch.undo()
    assert set(session_files(root)) == {sid}
    mgr.close()
    assert_at_rest(root)
