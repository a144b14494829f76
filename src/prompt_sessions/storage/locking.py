"""The store's write lock: a filelock on a separate lock file, never on a data file.

filelock's default poll sleeps 50 ms between attempts, so a waiting process would idle ~45 ms
per handoff; we poll every millisecond. The holder writes its pid into the lock file so a
timeout can name it, and a later holder can tell a process killed with the store open
(``holder_mark``).

An uncontended acquire takes a fast path: one ``flock`` on a descriptor of the lock file the
process keeps open. filelock locks the same file with the same ``flock`` (its Unix lock), so
the two exclude each other across processes; a whole filelock acquire and release costs more
than the fsync of the append it guards (DESIGN section 10). When the lock is taken, filelock
does the waiting, with its timeout.
"""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

import filelock

from ..errors import LockTimeout
from . import holder_mark
from .files import FILE_MODE, describe, read_bytes

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: filelock alone
    fcntl = None  # type: ignore[assignment]

POLL_INTERVAL = 0.001
_BUSY = frozenset({errno.EACCES, errno.EAGAIN, errno.EWOULDBLOCK})
# Forks of this process so far, as the child sees them: a lock compares it with the count it
# last saw instead of asking for its pid on every hold (a system call each).
_forks = 0


def _count_fork() -> None:  # pragma: no cover - runs in forked children (test_store_lock)
    global _forks
    _forks += 1


if hasattr(os, "register_at_fork"):  # pragma: no branch - POSIX, the only place a process forks
    os.register_at_fork(after_in_child=_count_fork)


class StoreLock:
    """A re-entrant, process- and thread-safe lock with a bounded wait.

    Args:
        path: the lock file (created on first use; never a data file).
        timeout: how long an acquire waits by default, in seconds.
        keep_open: keep a descriptor of the lock file open between holds, so an uncontended
            acquire is one ``flock``; :meth:`close` gives it back.
    """

    def __init__(self, path: Path, timeout: float = 10.0, *, keep_open: bool = False) -> None:
        self.path = path
        self._name = os.fspath(path)
        self.timeout = timeout
        self._thread_lock = threading.RLock()
        self._file_lock = self._new_file_lock()
        self._depth = 0
        self._pid = os.getpid()
        self._forks = _forks
        self._inherited = 0
        self._fd: int | None = None  # the fast path's descriptor, kept open between holds
        self._fd_key = (0, 0)  # its (device, inode): fixed while it is open
        self._fast = keep_open and fcntl is not None  # off once closed or flock is missing
        self._held_fast = False
        self._crashed: int | None = None  # see take_crashed

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
        if self._forks == _forks:
            return
        self._forks = _forks
        self._pid = os.getpid()
        self._inherited = self._depth
        self._depth = 0
        self._thread_lock = threading.RLock()
        self._file_lock = self._new_file_lock()
        # The inherited descriptor shares the parent's open file description (and its flock):
        # never lock or unlock through it; closing the child's copy leaves the parent's hold.
        if self._fd is not None:
            os.close(self._fd)
        self._fd = None
        self._held_fast = False

    def acquire(self, timeout: float | None = None) -> None:
        """Take the lock, waiting at most ``timeout`` seconds (default: the lock's).

        Raises:
            LockTimeout: another process or thread held it all that time (named if known).
            StorageError: the lock file cannot be opened or locked.
        """
        self._acquire(timeout, wait=True)

    def acquire_kept(self) -> bool:
        """Take the lock through the kept descriptor only, waiting for no other process.

        Returns False (holding nothing) when no descriptor is kept, the lock file was replaced
        or removed since, or another process holds the lock: then :meth:`acquire` waits.
        """
        return self._acquire(None, wait=False)

    def acquire_unchanged(self) -> bool:
        """Take the lock through the kept descriptor without looking its path up again, when
        no other thread or process holds it and the lock file still carries this process's own
        mark: no other process took the lock since this one last held it.

        Only for a caller that knows the path still names the kept file (an append that finds
        the store's folder unchanged, ``in_step``). Returns False, holding nothing, otherwise;
        the caller then takes the lock the usual way.
        """
        self._after_fork()
        fd = self._fd
        if fd is None or not self._fast or not self.marked:
            return False
        if not self._thread_lock.acquire(blocking=False):
            return False  # another thread holds it
        if self._depth:  # this thread holds it already: the caller is inside a write
            self._thread_lock.release()
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._thread_lock.release()
            return False
        try:
            mark = os.pread(fd, holder_mark.MAX_BYTES, 0)
        except OSError:
            mark = b""
        if mark != holder_mark.live(self._pid):
            fcntl.flock(fd, fcntl.LOCK_UN)
            self._thread_lock.release()
            return False
        self._held_fast = True
        self._depth = 1
        return True

    @property
    def held_kept(self) -> bool:
        """Whether the lock is held through the kept descriptor, whose path was looked up as
        it was taken (or by a caller of :meth:`acquire_unchanged`)."""
        return self._held_fast

    def _acquire(self, timeout: float | None, *, wait: bool) -> bool:
        self._after_fork()
        limit = self.timeout if timeout is None else timeout
        if not self._thread_lock.acquire(timeout=-1 if limit < 0 else max(limit, 0.0)):
            raise LockTimeout(str(self.path), limit, "another thread of this process")
        if self._depth == 0:
            try:
                self._held_fast = self._try_fast()
                if not self._held_fast:
                    if not wait:
                        self._thread_lock.release()
                        return False
                    self._file_lock.acquire(timeout=limit, poll_interval=POLL_INTERVAL)
            except filelock.Timeout:
                self._thread_lock.release()
                raise LockTimeout(str(self.path), limit, self._holder()) from None
            except OSError as exc:
                self._thread_lock.release()
                raise describe(exc, "lock", self.path) from exc
            self._mark_holder()
        self._depth += 1
        return True

    def release(self) -> None:
        self._after_fork()
        if self._depth == 0 and self._inherited:
            self._inherited -= 1  # the parent's hold: only the parent may release it
            return
        self._depth -= 1
        try:
            if self._depth == 0:
                if self._held_fast:
                    self._held_fast = False
                    assert self._fd is not None and fcntl is not None
                    fcntl.flock(self._fd, fcntl.LOCK_UN)
                    if not self._fast:  # closed while held: the descriptor goes now
                        self._drop_fd()
                else:
                    self._file_lock.release()
        finally:
            self._thread_lock.release()

    def close(self) -> None:
        """Close the kept descriptor; later holds take filelock's way (nothing kept open)."""
        self._fast = False
        fd = getattr(self, "_fd", None)  # None too when __init__ did not finish
        if fd is not None and not self._held_fast and self._pid == os.getpid():
            self._fd = None
            os.close(fd)

    def __del__(self) -> None:
        # At interpreter exit module globals may be gone (``contextlib`` too): no helper here.
        try:  # noqa: SIM105 - contextlib.suppress may be gone
            self.close()
        except Exception:
            pass  # nothing to tell at exit: the kernel closes the descriptor

    @property
    def held(self) -> bool:
        self._after_fork()
        return self._depth > 0

    def _try_fast(self) -> bool:
        """Take the lock without waiting through the kept descriptor; False when another
        process holds it (or the fast path is off), and filelock is to wait for it."""
        if not self._fast or fcntl is None:
            return False
        if self._fd is None:
            try:
                fd = os.open(
                    self._name, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), FILE_MODE
                )
            except OSError:
                return False  # filelock reports what is wrong with the path
            try:
                held = os.fstat(fd)
            except OSError:
                os.close(fd)
                return False
            self._fd, self._fd_key = fd, (held.st_dev, held.st_ino)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in _BUSY:  # no flock on this file system: filelock's own fallback
                self._fast = False
                self._drop_fd()
            return False
        if self._same_file():
            return True
        # The lock file was removed or replaced since it was opened: a lock on the old inode
        # excludes nobody. Open the path afresh next time; filelock takes this one.
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._drop_fd()
        return False

    def _same_file(self) -> bool:
        """Whether the lock file's path still names the file the kept descriptor holds."""
        try:
            named = os.stat(self._name, follow_symlinks=False)
        except OSError:
            return False
        return (named.st_dev, named.st_ino) == self._fd_key

    def _drop_fd(self) -> None:
        assert self._fd is not None
        fd, self._fd = self._fd, None
        os.close(fd)

    def _mark_holder(self) -> None:
        self._write_mark(holder_mark.live(self._pid), notice=True)
        self.marked = True

    marked = False  # this process wrote its mark: it owes a done mark when it closes the store

    def mark_done(self) -> None:
        """Record, while holding the lock, that this process is done with the store: the next
        holder then knows it did not end in the middle of a write (``holder_mark``)."""
        self._write_mark(holder_mark.done(self._pid), notice=False)

    def take_crashed(self) -> int | None:
        """The pid of a process found, as this one last took the lock, to have ended without
        closing the store (perhaps in the middle of a write); None if none. Cleared by the
        call."""
        pid, self._crashed = self._crashed, None
        return pid

    def _write_mark(self, mark: bytes, *, notice: bool) -> None:
        try:
            if self._held_fast and self._fd is not None:
                self._replace_mark(self._fd, mark, notice)
                return
            fd = os.open(self.path, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0))
            try:
                self._replace_mark(fd, mark, notice)
            finally:
                os.close(fd)
        except OSError:
            pass  # the mark is a courtesy and a hint; the lock itself is held

    def _replace_mark(self, fd: int, mark: bytes, notice: bool) -> None:
        # Rewriting the same mark would dirty the file on every write of this process, and the
        # fsync of the write it guards would have to flush it too.
        found = os.pread(fd, holder_mark.MAX_BYTES, 0)
        if found == mark:
            return
        previous = holder_mark.parse(found)
        if notice and previous is not None and holder_mark.crashed(previous, self._pid):
            self._crashed = previous.pid
        os.pwrite(fd, mark, 0)
        if len(found) > len(mark):
            os.ftruncate(fd, len(mark))

    def _holder(self) -> str | None:
        try:
            mark = holder_mark.parse(read_bytes(self.path)[: holder_mark.MAX_BYTES])
        except OSError:
            return None
        return f"pid {mark.pid}" if mark is not None and not mark.done else None
