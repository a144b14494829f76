"""The store's write lock: a filelock on a separate lock file, never on a data file.

filelock's default poll sleeps 50 ms between attempts, so a waiting process would idle ~45 ms
per handoff; we poll every millisecond. The holder writes its pid into the lock file so a
timeout can name it.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import filelock

from ..errors import LockTimeout
from .files import FILE_MODE, describe, read_bytes

POLL_INTERVAL = 0.001


class StoreLock:
    """A re-entrant, process- and thread-safe lock with a bounded wait."""

    def __init__(self, path: Path, timeout: float = 10.0) -> None:
        self.path = path
        self.timeout = timeout
        self._thread_lock = threading.RLock()
        self._file_lock = self._new_file_lock()
        self._depth = 0
        self._pid = os.getpid()
        self._inherited = 0

    def _new_file_lock(self) -> filelock.FileLock:
        return filelock.FileLock(
            str(self.path), timeout=self.timeout, mode=FILE_MODE, thread_local=False
        )

    def _after_fork(self) -> None:
        """In a forked child, forget the parent's hold instead of sharing it.

        An flock belongs to the open file description, which fork shares: a child that unlocked
        it would unlock the parent, and a child that thought it held it would write beside the
        parent. So the child gets a fresh lock of its own; the holds it inherited are the
        parent's, and releasing them in the child does nothing.
        """
        if self._pid == os.getpid():
            return
        self._pid = os.getpid()
        self._inherited = self._depth
        self._depth = 0
        self._thread_lock = threading.RLock()
        self._file_lock = self._new_file_lock()

    def acquire(self, timeout: float | None = None) -> None:
        self._after_fork()
        wait = self.timeout if timeout is None else timeout
        if not self._thread_lock.acquire(timeout=-1 if wait < 0 else max(wait, 0.0)):
            raise LockTimeout(str(self.path), wait, "another thread of this process")
        if self._depth == 0:
            try:
                self._file_lock.acquire(timeout=wait, poll_interval=POLL_INTERVAL)
            except filelock.Timeout:
                self._thread_lock.release()
                raise LockTimeout(str(self.path), wait, self._holder()) from None
            except OSError as exc:
                self._thread_lock.release()
                raise describe(exc, "lock", self.path) from exc
            self._mark_holder()
        self._depth += 1

    def release(self) -> None:
        self._after_fork()
        if self._depth == 0 and self._inherited:
            self._inherited -= 1  # the parent's hold: only the parent may release it
            return
        self._depth -= 1
        try:
            if self._depth == 0:
                self._file_lock.release()
        finally:
            self._thread_lock.release()

    @property
    def held(self) -> bool:
        self._after_fork()
        return self._depth > 0

    def _mark_holder(self) -> None:
        try:
            mark = f"{os.getpid():<12d}\n".encode()
            fd = os.open(self.path, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0))
            try:
                # Rewriting the same pid would dirty the file on every write of this process,
                # and the fsync of the write it guards would have to flush it too.
                if os.pread(fd, len(mark) + 1, 0) != mark:
                    os.pwrite(fd, mark, 0)
            finally:
                os.close(fd)
        except OSError:
            pass  # naming the holder is a courtesy; the lock itself is held

    def _holder(self) -> str | None:
        try:
            text = read_bytes(self.path).decode("ascii", "replace").strip()
        except OSError:
            return None
        return f"pid {text}" if text.isdigit() else None
