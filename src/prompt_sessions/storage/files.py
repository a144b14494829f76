"""Durable, private file operations: atomic replace, fsync of folders, no symlinks followed.

Every write goes to a temp file in the same folder, is fsynced, renamed over the target and the
folder is fsynced, so a crash leaves either the old file or the new one, never a mix.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Sequence
from pathlib import Path

from ..errors import ReadOnlyStore, StorageError

FILE_MODE = 0o600
DIR_MODE = 0o700
TEMP_SUFFIX = ".tmp"
_NOFOLLOW = NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def describe(exc: OSError, action: str, path: Path | str) -> StorageError:
    """Turn an OSError into a one-line error of our family (a newline or an escape in the path
    shown as an escape)."""
    from ..text import visible

    path = visible(str(path), one_line=True)
    reason = exc.strerror or str(exc)
    if exc.errno == errno.ELOOP:
        reason = "it is a symbolic link, which is refused"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return ReadOnlyStore(f"cannot {action} {path}: {reason}")
    return StorageError(f"cannot {action} {path}: {reason}")


def ensure_dir(path: Path) -> None:
    """Create a private folder (and its parents) if missing."""
    if path.is_dir():
        return
    # os.mkdir rather than Path.mkdir: every file-system call of the store goes through this
    # module's ``os``, which is what the fault-injection suite intercepts.
    missing = [p for p in (path, *path.parents) if not p.is_dir()]
    try:
        for folder in reversed(missing):
            try:
                os.mkdir(folder, DIR_MODE)
            except FileExistsError:
                if not folder.is_dir():
                    raise
                continue
            os.chmod(folder, DIR_MODE)  # mkdir applies the umask; the store wants exactly 0700
    except OSError as exc:
        raise describe(exc, "create folder", path) from exc


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | _CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_all(
    fd: int,
    data: bytes | bytearray | memoryview | Sequence[bytes | memoryview],
    offset: int | None = None,
) -> None:
    """Write every byte of ``data`` at ``offset`` (None: the file position). ``data`` may be a
    sequence of pieces, written one after another, so that a catalog spliced from slices of
    the old one is never joined into a copy first (DESIGN section 10).

    Raises:
        OSError: the write failed.
        TypeError: ``data`` is neither bytes-like nor a sequence of bytes-like pieces.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        if isinstance(data, str):  # a sequence too, of itself: would recurse without end
            raise TypeError("write_all takes bytes, not str")
        for piece in data:
            write_all(fd, piece, offset)
            if offset is not None:
                offset += len(piece)
        return
    view = memoryview(data)
    pos = 0
    while pos < len(view):
        n = os.write(fd, view[pos:]) if offset is None else os.pwrite(fd, view[pos:], offset + pos)
        if n <= 0:
            raise OSError(errno.EIO, "short write")
        pos += n


def temp_path_for(target: Path) -> Path:
    return target.with_name(f".{target.name}.{os.urandom(6).hex()}{TEMP_SUFFIX}")


def folder_unwritable(folder: Path) -> bool:
    """Whether no file can be made in ``folder``: a read-only mount (whoever asks), or a folder
    this process may not write."""
    with contextlib.suppress(OSError):
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return True
    return not os.access(folder, os.W_OK)


def atomic_write(target: Path, data: bytes | Sequence[bytes | memoryview]) -> None:
    """Replace ``target`` with ``data`` (bytes, or pieces written in order) durably. On
    failure the old file is untouched."""
    tmp = temp_path_for(target)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, FILE_MODE)
    except OSError as exc:
        raise describe(exc, "write", target) from exc
    try:
        try:
            write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except OSError as exc:
        _discard(tmp)
        raise describe(exc, "write", target) from exc
    except BaseException:
        _discard(tmp)
        raise
    try:
        fsync_dir(target.parent)
    except OSError as exc:
        raise describe(exc, "sync folder", target.parent) from exc


def _discard(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def read_bytes(path: Path) -> bytes:
    """Read a whole file without following a symlink. FileNotFoundError passes through; a named
    pipe or a device put at ``path`` raises OSError (EINVAL) rather than block the reader, a
    folder IsADirectoryError."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | _NOFOLLOW | _CLOEXEC)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            code = errno.EISDIR if stat.S_ISDIR(st.st_mode) else errno.EINVAL
            raise OSError(code, os.strerror(code), os.fspath(path))
        size = st.st_size
        chunks = []
        while True:
            chunk = os.read(fd, max(size, 65536))
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_fd(fd: int) -> bytes:
    """Everything from an open file, from its start."""
    size = os.fstat(fd).st_size
    chunks = []
    offset = 0
    while True:
        chunk = os.pread(fd, max(size, 65536), offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def open_rw(path: Path | str) -> int:
    return os.open(path, os.O_RDWR | _NOFOLLOW | _CLOEXEC)


def open_append(path: Path) -> int:
    return os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | _NOFOLLOW | _CLOEXEC, FILE_MODE)


def open_existing_append(path: Path) -> int:
    """:func:`open_append` of a file that must exist already (FileNotFoundError if not)."""
    return os.open(path, os.O_RDWR | os.O_APPEND | _NOFOLLOW | _CLOEXEC)


def loose_mode(path: Path) -> tuple[int, int] | None:
    """``(mode, wanted)`` when ``path`` is a folder or regular file more open than 0700 / 0600;
    None when it is private, missing, or something else (a symlink is never followed)."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if stat.S_ISDIR(st.st_mode):
        wanted = DIR_MODE
    elif stat.S_ISREG(st.st_mode):
        wanted = FILE_MODE
    else:
        return None
    mode = stat.S_IMODE(st.st_mode)
    return (mode, wanted) if mode & 0o077 else None


def tighten(paths: list[Path]) -> list[tuple[Path, int, int]]:
    """Make each existing folder 0700 and file 0600 if it is more open (DESIGN section 4,
    "Private by default", also for files restored from a backup or a git checkout).

    Best effort: a path that cannot be changed (another owner) is left for ``doctor`` to report.
    Returns what was tightened as ``(path, old mode, new mode)``.
    """
    done = []
    for path in paths:
        found = loose_mode(path)
        if found is None:
            continue
        try:
            os.chmod(path, found[1], follow_symlinks=False)
        except (OSError, NotImplementedError):
            continue
        done.append((path, found[0], found[1]))
    return done


def entries(folder: Path) -> list[Path]:
    """The paths inside ``folder``; empty when it is missing or cannot be listed."""
    try:
        return [folder / name for name in sorted(os.listdir(folder))]
    except OSError:
        return []


def unused_path(folder: Path, stem: str, suffix: str) -> Path:
    """``folder/stem+suffix``, or ``stem.2+suffix``, ... : a name nothing uses yet, so what is
    moved aside never replaces what was moved aside before."""
    path = folder / f"{stem}{suffix}"
    n = 1
    while os.path.lexists(path):
        n += 1
        path = folder / f"{stem}.{n}{suffix}"
    return path


def put_back(fd: int, old: bytes, offset: int, old_size: int) -> None:
    """Undo a failed in-place write: ``old`` (the bytes that stood at ``offset``) back, the
    file cut to ``old_size`` bytes and synced, so it is byte-identical to before. If even that
    fails, the torn tail is repaired on the next read, keeping every whole message (DESIGN
    section 4, promise 2)."""
    try:
        write_all(fd, old, offset)
        os.ftruncate(fd, old_size)
        os.fsync(fd)
    except OSError:
        pass
