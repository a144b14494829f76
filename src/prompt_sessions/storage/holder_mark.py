"""The lock file's holder mark: which process last took the store lock, and whether it let go
of the store cleanly (DESIGN section 4, "Crash-safe" and "Many processes, one store").

A process writes ``<pid> <host>`` into the lock file when it takes the lock and the mark is not
already its own, and ``<pid> <host> done`` when it closes the store. So a process that takes
the lock and finds the mark of another process of this machine that no longer runs, without
``done``, knows that process was killed, perhaps in the middle of a write that reached a
session file but not the journal. The mark also names the holder in a lock timeout's message.
Marks of another machine (a shared network folder) or of an older version are never taken for
a crash: a mark proves a crash only where its process can be looked up.
"""

from __future__ import annotations

import functools
import os
from typing import NamedTuple

_DONE = "done"
MAX_BYTES = 160  # a mark is read whole with one pread of this size


class Mark(NamedTuple):
    pid: int
    host: str | None  # None in the marks of versions that wrote the pid alone
    done: bool


@functools.cache
def host() -> str:
    """This machine's name as marks carry it: one word, at most 64 characters."""
    name = "".join(
        c if c.isascii() and c.isprintable() and c != " " else "_" for c in os.uname().nodename
    )
    return name[:64] or "-"


@functools.lru_cache(maxsize=4)
def live(pid: int) -> bytes:
    """The mark of process ``pid`` while it has the store open."""
    return f"{pid} {host()}\n".encode()


def done(pid: int) -> bytes:
    """The mark of process ``pid`` once it closed the store cleanly."""
    return f"{pid} {host()} {_DONE}\n".encode()


def parse(data: bytes) -> Mark | None:
    """The mark in ``data`` (the lock file's first bytes); None when it holds none."""
    words = data.decode("ascii", "replace").split()
    if not words or not words[0].isdigit() or len(words) > 3:
        return None
    return Mark(int(words[0]), words[1] if len(words) > 1 else None, words[2:] == [_DONE])


def crashed(previous: Mark, pid: int) -> bool:
    """Whether ``previous``, found by process ``pid`` as it took the lock, is the mark of a
    process of this machine that ended without closing the store."""
    if previous.done or previous.host != host() or previous.pid == pid:
        return False
    return not running(previous.pid)


def running(pid: int) -> bool:
    """Whether process ``pid`` exists and has not ended (a zombie has ended)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process, say: it exists
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            state = stat.read().rpartition(b")")[2].split()[:1]
    except OSError:  # no /proc here: the signal's answer stands
        return True
    return state != [b"Z"]
