"""The idle-fold thread and ``close``: once ``close`` returns, no fold of this backend is in
flight, and none starts (DESIGN section 4, "Crash-safe"). The fold thread is a daemon, so the
interpreter stops it wherever it is when the program ends: a fold it began after ``close``
would leave its half-written catalog behind as a temp file."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from prompt_sessions.models import Message
from prompt_sessions.storage import files
from prompt_sessions.storage.json_backend import JsonBackend
from reliability_support import assert_at_rest, open_manager

FOLD_THREAD = "prompt-sessions-fold"


def _session(root: Path) -> str:
    mgr = open_manager(root)
    sid = mgr.create("po", "a").id
    mgr.close()
    return sid


def test_no_fold_starts_once_close_has_begun(tmp_path: Path, monkeypatch: Any) -> None:
    """Another process appends (its journal line appears) while this backend signs off at
    close: the fold thread, woken by close, must not fold it afterwards."""
    root = tmp_path / ".prompt_objects"
    sid = _session(root)
    # The thread is still waiting out the pause after this append when close begins.
    backend = JsonBackend(root, lock_timeout=5.0, idle_fold_seconds=0.3)
    backend.open_store()
    backend.append(sid, Message(role="user", content="mine"))
    late_folds: list[str] = []
    closing = threading.Event()
    real_write = files.atomic_write

    def watched_write(target: Path, data: Any) -> None:
        if closing.is_set() and threading.current_thread().name == FOLD_THREAD:
            late_folds.append(target.name)
        real_write(target, data)

    monkeypatch.setattr(files, "atomic_write", watched_write)
    real_sign_off = backend._sign_off

    def sign_off_while_another_process_writes() -> None:
        closing.set()
        other = JsonBackend(root, lock_timeout=5.0, idle_fold_seconds=None)
        other.open_store()
        other.append(sid, Message(role="user", content="theirs"))
        other._closed = True  # its journal line stays for the next fold, as a live process's
        other.lock.close()
        time.sleep(0.6)  # past the pause: a fold thread still running would fold now
        real_sign_off()

    monkeypatch.setattr(backend, "_sign_off", sign_off_while_another_process_writes)
    backend.close()
    thread = backend._folder_thread
    assert thread is None or not thread.is_alive()
    assert late_folds == []


def test_close_waits_for_a_fold_the_thread_is_in(tmp_path: Path, monkeypatch: Any) -> None:
    """A fold the thread began before close finishes before close returns, and the folder is
    left at rest."""
    root = tmp_path / ".prompt_objects"
    sid = _session(root)
    backend = JsonBackend(root, lock_timeout=5.0, idle_fold_seconds=0.01)
    backend.open_store()
    in_fold = threading.Event()
    real_write = files.atomic_write

    def slow_write(target: Path, data: Any) -> None:
        if threading.current_thread().name == FOLD_THREAD:
            in_fold.set()
            time.sleep(0.3)
        real_write(target, data)

    monkeypatch.setattr(files, "atomic_write", slow_write)
    backend.append(sid, Message(role="user", content="mine"))
    assert in_fold.wait(5)
    backend.close()
    thread = backend._folder_thread
    assert thread is not None and not thread.is_alive()
    assert_at_rest(root)


@pytest.mark.parametrize("folding", [False, True])
def test_a_closed_backend_starts_no_fold_thread(tmp_path: Path, folding: bool) -> None:
    root = tmp_path / ".prompt_objects"
    _session(root)
    backend = JsonBackend(root, lock_timeout=5.0, idle_fold_seconds=0.01 if folding else None)
    backend.open_store()
    backend.close()
    backend._schedule_fold()
    assert backend._folder_thread is None
