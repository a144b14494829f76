"""What lets an append skip looking every name up again (DESIGN section 10: an append costs at
most 1.5x a bare write and fsync).

An append looks up by path the catalog (for a newer version's), the lock file, the journal and
the session file, and reads the file's head for its format version: any of them may have been
replaced by another program since the last write. When this process's last append went to the
same session, one stat of ``sessions/`` stands in for those lookups. Adding, removing or
replacing a name in a folder sets the folder's change time (ctime) to the file system's clock,
and no program can set a ctime back. The folder's ctime vouches for the names only once that
clock has passed it: a modification time that this process's own earlier write got proves so
on the file system's own clock and at its own granularity (two seconds on FAT), where a margin
on this machine's clock would not (a network folder's server keeps its own).

The kept descriptors (``kept_file``) are then checked by ``fstat`` alone: the journal must end
where this process's last line ended (no other process wrote to it), the session file must have
the stamp the last append left (size, modification and change times; a ``chmod`` moves the
last), and the lock file must hold this process's mark (``StoreLock.acquire_unchanged``). The
tail is still read and recognised before the write. Otherwise the append looks everything up.
"""

from __future__ import annotations

import os
from typing import NamedTuple

FolderKey = tuple[int, int, int]  # (st_dev, st_ino, st_ctime_ns) of sessions/
FileKey = tuple[int, int, int, int]  # (st_ino, st_size, st_mtime_ns, st_ctime_ns)


class InStep(NamedTuple):
    """What this process's last append left: session ``sid``'s file with stamp ``file``, in a
    folder whose key ``folder`` vouches that no name in it changed since its names were looked
    up."""

    sid: str
    folder: FolderKey
    file: FileKey


def folder_key(path: str) -> FolderKey | None:
    """The key of the folder ``path`` (a ``str``); None when it cannot be looked up."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_ctime_ns)


def file_key(st: os.stat_result) -> FileKey:
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def after_append(
    sid: str, folder: FolderKey | None, clock_ns: int | None, st: os.stat_result
) -> InStep | None:
    """The record an append in place leaves for the next one, or None when the folder cannot
    vouch for its names.

    Args:
        sid: the session appended to.
        folder: the folder's key, read under the store lock before the append looked its names
            up (None: it could not be read).
        clock_ns: the modification time (ns) of a file in the folder that this process wrote
            before ``folder`` was read, or None when it wrote none yet.
        st: the session file's stat after the append.
    """
    if folder is None or clock_ns is None or folder[2] >= clock_ns:
        return None  # the folder changed within the clock's last tick: a change may hide in it
    return InStep(sid, folder, file_key(st))
