"""The store lock between threads of one process, across fork, and with a holder it cannot name."""

from __future__ import annotations

import errno
import multiprocessing
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from prompt_sessions.errors import LockTimeout
from prompt_sessions.storage import locking
from prompt_sessions.storage.locking import StoreLock


def _lock_path(tmp_path: Path) -> Path:
    folder = tmp_path / ".prompt_objects" / "sessions"
    folder.mkdir(parents=True, mode=0o700)
    os.chmod(folder.parent, 0o700)
    return folder / ".lock"


def test_a_thread_waits_for_another_threads_hold_and_then_gives_up(tmp_path: Path) -> None:
    """Two threads of one process share one flock, so the wait is on the thread lock, and its
    timeout names the other thread rather than a process."""
    lock = StoreLock(_lock_path(tmp_path), timeout=5.0)
    held, done = threading.Event(), threading.Event()

    def hold() -> None:
        lock.acquire()
        held.set()
        done.wait()
        lock.release()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(30)
        with pytest.raises(LockTimeout) as caught:
            lock.acquire(timeout=0.05)
        assert caught.value.holder == "another thread of this process"
        assert str(lock.path) in str(caught.value)
    finally:
        done.set()
        holder.join()
    lock.acquire(timeout=0)
    assert lock.held
    lock.release()
    assert not lock.held


def test_a_timeout_whose_holder_cannot_be_read_still_names_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The holder's pid is read from the lock file; when that read fails (another user's 0600 lock
    file), the timeout says which lock it waited for, without a holder."""
    path = _lock_path(tmp_path)
    holder = StoreLock(path, timeout=5.0)
    holder.acquire()
    waiter = StoreLock(path, timeout=0.05)

    def unreadable(target: Path) -> bytes:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(target))

    try:
        with pytest.raises(LockTimeout) as named:
            waiter.acquire()
        assert named.value.holder == f"pid {os.getpid()}"
        monkeypatch.setattr(locking, "read_bytes", unreadable)
        with pytest.raises(LockTimeout) as unnamed:
            waiter.acquire()
    finally:
        holder.release()
    assert unnamed.value.holder is None
    assert unnamed.value.lock_path == str(path)
    assert "held by" not in str(unnamed.value)
    waiter.acquire()
    waiter.release()


def _child(lock: StoreLock, report: Any, parent_released: Any) -> None:
    """In the forked child: what the inherited hold is worth, then a hold of its own."""
    seen: dict[str, Any] = {"held_after_fork": lock.held}
    try:
        lock.release()  # the parent's hold: releasing it here must not unlock the parent
        try:
            lock.acquire(timeout=0)
            seen["took_the_parents_lock"] = True
            lock.release()
        except LockTimeout as exc:
            seen["timeout_holder"] = exc.holder
        report.put(seen)
        seen = {}
        parent_released.wait(30)
        lock.acquire(timeout=30)
        seen["held_own"] = lock.held
        seen["named_in_lock_file"] = lock.path.read_text().strip()
        lock.release()
        seen["held_after_release"] = lock.held
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which fails the test
        seen["error"] = repr(exc)
    report.put(seen)


def test_a_forked_child_gets_a_lock_of_its_own(tmp_path: Path) -> None:
    """A child forked while the parent holds the lock does not hold it, cannot release the
    parent's hold, waits like any other process, and takes the lock for itself once it is free."""
    lock = StoreLock(_lock_path(tmp_path), timeout=5.0)
    fork = multiprocessing.get_context("fork")
    report, parent_released = fork.Queue(), fork.Event()
    lock.acquire()
    child = fork.Process(target=_child, args=(lock, report, parent_released))
    child.start()
    try:
        first = report.get(timeout=60)
        assert lock.held
        probe = StoreLock(lock.path, timeout=0)
        with pytest.raises(LockTimeout):
            probe.acquire()  # the child's release left the parent's flock in place
    finally:
        lock.release()
        parent_released.set()
    second = report.get(timeout=60)
    child.join(60)
    report.close()
    report.join_thread()
    assert child.exitcode == 0
    assert first == {"held_after_fork": False, "timeout_holder": f"pid {os.getpid()}"}
    assert second == {
        "held_own": True,
        "named_in_lock_file": str(child.pid),
        "held_after_release": False,
    }
