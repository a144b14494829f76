"""A file kept open from one write to the next while its path still names it.

An append that finds its session file and the journal already open saves an open, a close and a
stat of each (DESIGN section 10: an append costs at most 1.5x a bare write and fsync). Before
each reuse the path is looked up again and must name the same file (device and inode): a file
another process replaced, renamed or removed meanwhile is closed and opened afresh, so no write
ever lands in a file the store no longer names. While a descriptor is kept its inode cannot be
reused, so the comparison cannot be fooled by a new file that got the old number.

Kept only while writes go on: the fold that follows once they pause (a write that may replace
or remove files) lets both go, so an idle program holds no session file open.

Kept only on POSIX: Windows refuses to replace or remove a file another process holds open, which
would turn this process's idle descriptor into other processes' errors.
"""

from __future__ import annotations

import os

KEEP_OPEN = os.name == "posix"


class KeptFile:
    """At most one open descriptor of a file named by its path (``str``, as the store writes it)."""

    def __init__(self) -> None:
        self.fd: int | None = None
        self.path = ""
        self._key = (0, 0)
        # For a journal: the size at which the file last ended with a line this process wrote
        # whole, so the next line needs no look at the last byte (None: not known).
        self.end: int | None = None

    def reuse(self, path: str) -> os.stat_result | None:
        """``path``'s ``lstat`` when the kept descriptor is still the file ``path`` names, else
        None, with nothing kept any more (the caller opens the path itself).

        Never raises: a path that cannot be looked up is left to the caller's open to report.
        """
        if self.fd is None:
            return None
        if path == self.path:
            try:
                st = os.stat(path, follow_symlinks=False)
            except OSError:
                st = None
            if st is not None and (st.st_dev, st.st_ino) == self._key:
                return st
        self.close()
        return None

    def keep(self, path: str, fd: int, st: os.stat_result) -> None:
        """Keep ``fd``, just opened on ``path`` and ``fstat``-ed as ``st``; whatever was kept
        before is closed."""
        if self.fd is not None and self.fd != fd:
            self.close()
        self.fd, self.path, self._key, self.end = fd, path, (st.st_dev, st.st_ino), None

    def done(self) -> None:
        """The write that used the descriptor is over; where nothing may be kept, it is closed."""
        if not KEEP_OPEN:
            self.close()

    def close(self) -> None:
        fd, self.fd, self.end = self.fd, None, None
        if fd is not None:
            try:  # noqa: SIM105 - a descriptor that cannot be closed is gone all the same
                os.close(fd)
            except OSError:
                pass

    def __del__(self) -> None:
        # A store dropped without close gives its descriptors back; at interpreter exit module
        # globals may be gone, and the kernel closes them anyway.
        try:  # noqa: SIM105
            self.close()
        except Exception:
            pass
