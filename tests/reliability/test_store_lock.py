"""The store lock between threads of one process, across fork, and with a holder it cannot name."""

from __future__ import annotations

import errno
import multiprocessing
import os
import threading
from pathlib import Path
from typing import Any

import filelock
import pytest

from prompt_sessions.errors import LockTimeout
from prompt_sessions.storage import holder_mark, locking
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


@pytest.mark.parametrize("keep_open", [False, True], ids=["filelock", "kept-descriptor"])
def test_a_forked_child_gets_a_lock_of_its_own(tmp_path: Path, keep_open: bool) -> None:
    """A child forked while the parent holds the lock does not hold it, cannot release the
    parent's hold, waits like any other process, and takes the lock for itself once it is free;
    also when the parent holds it through its kept descriptor, which the child inherits."""
    lock = StoreLock(_lock_path(tmp_path), timeout=5.0, keep_open=keep_open)
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
        "named_in_lock_file": f"{child.pid} {holder_mark.host()}",
        "held_after_release": False,
    }


def _hold_with_filelock(path: str, held: Any, release: Any) -> None:
    """Another program's way: a plain filelock on the same lock file."""
    lock = filelock.FileLock(path, mode=0o600)
    with lock:
        held.set()
        release.wait(60)


def _try_filelock(path: str, result: Any) -> None:
    try:
        filelock.FileLock(path).acquire(timeout=0.1)
        result.put("acquired")
    except filelock.Timeout:
        result.put("timeout")


def test_the_kept_descriptor_and_filelock_exclude_each_other(tmp_path: Path) -> None:
    """The fast path (one flock on a kept descriptor) and a plain filelock in another process
    lock the same file: each waits for the other, and the lock passes once released."""
    path = _lock_path(tmp_path)
    fork = multiprocessing.get_context("fork")
    lock = StoreLock(path, timeout=5.0, keep_open=True)
    lock.acquire()
    result = fork.Queue()
    probe = fork.Process(target=_try_filelock, args=(str(path), result))
    probe.start()
    assert result.get(timeout=60) == "timeout"
    probe.join(60)
    lock.release()
    held, release = fork.Event(), fork.Event()
    holder = fork.Process(target=_hold_with_filelock, args=(str(path), held, release))
    holder.start()
    try:
        assert held.wait(60)
        with pytest.raises(LockTimeout):
            lock.acquire(timeout=0.1)
    finally:
        release.set()
        holder.join(60)
    lock.acquire(timeout=5.0)
    assert lock.held
    lock.release()
    lock.close()


def test_a_lock_file_replaced_behind_a_kept_descriptor_is_locked_afresh(tmp_path: Path) -> None:
    """A lock file removed and made again (by a person, a sync tool) while a descriptor of the
    old one is kept: the lock is taken on the new file, so another process holding the new file
    still excludes this one."""
    path = _lock_path(tmp_path)
    lock = StoreLock(path, timeout=5.0, keep_open=True)
    lock.acquire()
    lock.release()  # the descriptor of the first file stays open
    path.unlink()
    fork = multiprocessing.get_context("fork")
    held, release = fork.Event(), fork.Event()
    holder = fork.Process(target=_hold_with_filelock, args=(str(path), held, release))
    holder.start()
    try:
        assert held.wait(60)
        with pytest.raises(LockTimeout):
            lock.acquire(timeout=0.2)  # the old inode is free, but it excludes nobody
    finally:
        release.set()
        holder.join(60)
    lock.acquire(timeout=5.0)
    lock.release()
    lock.close()


def test_a_closed_lock_keeps_no_descriptor_open(tmp_path: Path) -> None:
    """After close, holds go through filelock alone and no descriptor of the lock file stays
    open between them."""
    path = _lock_path(tmp_path)
    lock = StoreLock(path, timeout=5.0, keep_open=True)
    lock.acquire()
    lock.release()
    assert _descriptors_of(path) == 1
    lock.close()
    assert _descriptors_of(path) == 0
    lock.acquire()
    lock.release()
    assert _descriptors_of(path) == 0


def _descriptors_of(path: Path) -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == str(path):
                count += 1
        except OSError:
            continue
    return count


class _NoFlock:
    """fcntl as a file system without flock shows it to the kept descriptor."""

    LOCK_EX, LOCK_NB, LOCK_UN = 2, 4, 8

    def __init__(self) -> None:
        self.calls = 0

    def flock(self, fd: int, operation: int) -> None:
        self.calls += 1
        raise OSError(errno.ENOSYS, "Function not implemented")


def test_without_flock_the_kept_descriptor_is_given_up_for_filelock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where flock fails other than "busy", the fast path is given up for good and filelock
    (with its own fallback) takes every hold; nothing stays open."""
    path = _lock_path(tmp_path)
    fake = _NoFlock()
    monkeypatch.setattr(locking, "fcntl", fake)
    lock = StoreLock(path, timeout=5.0, keep_open=True)
    for _ in range(2):
        lock.acquire()
        assert lock.held
        lock.release()
    assert fake.calls == 1
    assert _descriptors_of(path) == 0
    assert not lock.acquire_kept()


def test_closing_a_held_lock_keeps_the_hold_until_release(tmp_path: Path) -> None:
    """close() while the lock is held through the kept descriptor does not drop the hold (the
    descriptor carries it); the hold ends at release, and the descriptor is closed then."""
    path = _lock_path(tmp_path)
    lock = StoreLock(path, timeout=5.0, keep_open=True)
    assert lock.acquire_kept()
    lock.close()
    probe = StoreLock(path, timeout=0)
    with pytest.raises(LockTimeout):
        probe.acquire()
    lock.release()
    assert _descriptors_of(path) == 0
    probe.acquire()
    probe.release()


def test_a_lock_dropped_as_the_interpreter_ends_says_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At interpreter exit a kept lock may be collected after its module's globals are gone
    (``os`` and the rest are None then): dropping it raises nothing, so nothing is printed at exit."""
    lock = StoreLock(tmp_path / ".lock", timeout=1.0, keep_open=True)
    lock.acquire()
    lock.release()
    fd = lock._fd
    assert fd is not None
    for name in ("os", "contextlib"):  # every module global the lock could reach for
        monkeypatch.setattr(locking, name, None, raising=False)
    lock.__del__()  # raises nothing
    monkeypatch.undo()
    os.close(fd)
    lock._fd = None
