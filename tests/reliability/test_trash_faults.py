"""The JSON store's trash when the file system refuses: every refusal is one StorageError (or
SessionNotFound) naming the file, and the session stays whole in exactly one place."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from reliability_support import assert_at_rest, open_manager, patch_store_os

from prompt_sessions.errors import SessionNotFound, StorageError
from prompt_sessions.storage import json_trash
from prompt_sessions.storage.json_backend import JsonBackend


class _OS:
    """``os`` with some calls replaced; the rest are the real ones."""

    def __init__(self, **replaced: Any) -> None:
        self.__dict__.update(replaced)

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)


def _failing(err: int, wanted: Callable[..., Any], when: Callable[[Any], bool]) -> Any:
    def call(target: Any, *args: Any, **kwargs: Any) -> Any:
        if when(target):
            raise OSError(err, os.strerror(err), str(target))
        return wanted(target, *args, **kwargs)

    return call


@pytest.fixture
def store(tmp_path: Path) -> tuple[Path, str, JsonBackend]:
    root = tmp_path / ".prompt_objects"
    mgr = open_manager(root)
    sid = mgr.create("po", "Precious").id
    mgr.close()
    backend = JsonBackend(root, lock_timeout=5.0, idle_fold_seconds=None)
    return root, sid, backend


def _places(root: Path, sid: str) -> list[str]:
    return [folder for folder in ("sessions", "trash") if (root / folder / f"{sid}.json").exists()]


def test_a_session_file_that_cannot_be_examined_is_not_trashed(store, monkeypatch) -> None:
    """stat of the session file fails (EIO): StorageError, the file stays live."""
    root, sid, backend = store
    stat = _failing(errno.EIO, os.stat, lambda p: str(p).endswith(f"sessions/{sid}.json"))
    patch_store_os(monkeypatch, _OS(stat=stat))
    with pytest.raises(StorageError, match="read"):
        json_trash.trash(backend, sid)
    monkeypatch.undo()
    assert _places(root, sid) == ["sessions"]
    backend.close()


def test_a_time_stamp_the_file_system_refuses_leaves_the_session_live(store, monkeypatch) -> None:
    """Marking the deletion time fails (EPERM): StorageError naming the delete; nothing moved."""
    root, sid, backend = store
    patch_store_os(monkeypatch, _OS(utime=_failing(errno.EPERM, os.utime, lambda p: True)))
    with pytest.raises(StorageError, match="delete"):
        json_trash.trash(backend, sid)
    monkeypatch.undo()
    assert _places(root, sid) == ["sessions"]
    backend.close()
    assert_at_rest(root)


@pytest.mark.parametrize(
    ("err", "raised"),
    [(errno.EXDEV, StorageError), (errno.ENOENT, SessionNotFound)],
    ids=["refused", "gone meanwhile"],
)
def test_a_rename_that_fails_moves_nothing(store, monkeypatch, err: int, raised: type) -> None:
    """The rename into the trash fails: one error, and the session is still in one place."""
    root, sid, backend = store
    patch_store_os(monkeypatch, _OS(rename=_failing(err, os.rename, lambda p: True)))
    with pytest.raises(raised):
        json_trash.trash(backend, sid)
    monkeypatch.undo()
    assert _places(root, sid) == ["sessions"]
    backend.close()


def test_a_trash_entry_in_the_way_is_never_replaced(store) -> None:
    """A file already at trash/<id>.json (put there by hand) is never overwritten: the delete
    is refused and both files stay as they were."""
    root, sid, backend = store
    (root / "trash").mkdir(mode=0o700)
    (root / "trash" / f"{sid}.json").write_bytes(b"a person's file")
    (root / "trash" / f"{sid}.json").chmod(0o600)
    with pytest.raises(StorageError, match="exists already"):
        json_trash.trash(backend, sid)
    assert (root / "trash" / f"{sid}.json").read_bytes() == b"a person's file"
    assert backend.get(sid).name == "Precious"
    backend.close()


def test_emptying_a_trash_entry_the_folder_refuses_keeps_it(store, monkeypatch) -> None:
    """Deleting a trashed file for good fails (EACCES): StorageError, still in the trash."""
    root, sid, backend = store
    json_trash.trash(backend, sid)
    patch_store_os(monkeypatch, _OS(unlink=_failing(errno.EACCES, os.unlink, lambda p: True)))
    with pytest.raises(StorageError, match="delete"):
        json_trash.purge(backend, sid)
    monkeypatch.undo()
    assert _places(root, sid) == ["trash"]
    backend.close()
