"""Writing an export where a person asked: one rule for the CLI's ``-o`` and the TUI's paths.

- ``-`` is standard output (where a frontend has one to offer).
- Anything that is not a regular file (``/dev/null``, ``/dev/stdout``, a FIFO, a terminal) is
  written to directly, never replaced: a rename over it would swap the device for a file.
- A regular file is replaced atomically (a temporary file beside it, then a rename), through
  symbolic links to it, keeping an existing file's mode; a new file gets ``0666`` less the
  umask, like any file a person's tools write. Exports are the person's files, not the store's.
- A missing parent folder is refused, not created. A path ending in ``/`` names a folder: a
  new file goes in it, and a missing one is refused, never taken as a file name.
"""

from __future__ import annotations

import errno
import os
import stat
from contextlib import suppress
from pathlib import Path
from typing import BinaryIO

from .errors import UsageError
from .path_links import link_problem
from .storage.files import fsync_dir, temp_path_for, write_all
from .text import visible

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def write_output(path: str | Path, data: bytes, *, stdout: BinaryIO | None = None) -> str:
    """Write ``data`` to ``path`` by the rule above.

    :param path: a file path (``~`` is expanded), or ``"-"`` for ``stdout``.
    :param data: the bytes to write.
    :param stdout: the stream ``"-"`` means; None where there is none (the TUI).
    :returns: where it went, for a message: ``"standard output"`` or the path.
    :raises UsageError: one line saying why the path cannot be written.
    """
    if str(path) == "-":
        if stdout is None:
            raise UsageError("'-' (standard output) is not available here: give a file name")
        stdout.write(data)
        stdout.flush()
        return "standard output"
    target = Path(path).expanduser()
    try:
        info: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise _cannot(target, exc) from exc
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise UsageError(f"cannot write {shown(target)}: it is a folder")
    if (info is not None and not stat.S_ISREG(info.st_mode)) or _names_descriptor(target):
        _write_directly(target, data)
    else:
        _replace(target, data, info)
    return str(target)


def folder_asked(raw: str | Path) -> Path | None:
    """The folder ``raw`` names, or None when it names a file: an existing folder, or a path
    written with a trailing ``/`` (``Path`` drops it, so ``raw`` is what the person typed).

    :raises UsageError: ``raw`` ends in ``/`` but names no folder.
    """
    text = str(raw)
    target = Path(text).expanduser()
    try:
        if stat.S_ISDIR(os.stat(target).st_mode):
            return target
    except (FileNotFoundError, NotADirectoryError):
        pass
    except OSError as exc:  # a name too long for the file system, a loop of links
        raise _cannot(target, exc) from exc
    if text.endswith(("/", os.sep)):
        raise UsageError(f"cannot write into {shown(text)}: no such folder")
    return None


def shown(path: str | Path) -> str:
    """A path in a one-line message: control characters (a newline, an escape) as escapes."""
    return visible(str(path), one_line=True)


def _names_descriptor(path: Path) -> bool:
    """``/dev/stdout``, ``/dev/fd/3``, ``/proc/self/fd/1``: a file some process already has open
    (a shell's redirection, say), which must be written through, not renamed over."""
    whole = os.path.abspath(path)
    real = os.path.realpath(path)
    return any(
        p in ("/dev/stdin", "/dev/stdout", "/dev/stderr") or p.startswith(("/dev/fd/", "/proc/"))
        for p in (whole, real)
    )


def _write_directly(target: Path, data: bytes) -> None:
    # O_APPEND: a file opened by a shell's ">" or ">>" keeps what is already in it.
    try:
        fd = os.open(target, os.O_WRONLY | os.O_APPEND | _CLOEXEC)
        try:
            write_all(fd, data)
        finally:
            os.close(fd)
    except OSError as exc:
        raise _cannot(target, exc) from exc


def _replace(target: Path, data: bytes, info: os.stat_result | None) -> None:
    real = Path(os.path.realpath(target))  # a symbolic link is kept; the file it names replaced
    if not real.parent.is_dir():
        raise UsageError(
            f"cannot write {shown(target)}: the folder {shown(real.parent)} does not exist"
        )
    tmp = temp_path_for(real)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _CLOEXEC, 0o666)  # less umask
        try:
            if info is not None:
                os.fchmod(fd, stat.S_IMODE(info.st_mode))
            write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, real)
    except OSError as exc:
        with suppress(OSError):
            os.unlink(tmp)
        raise _cannot(target, exc) from exc
    # The file is written and renamed; a folder that cannot be synced is not an error.
    with suppress(OSError):
        fsync_dir(real.parent)


def _cannot(target: Path, exc: OSError) -> UsageError:
    if exc.errno == errno.ELOOP and (problem := link_problem(target, dangling_ok=True)):
        return UsageError(problem)  # "Too many levels of symbolic links" names no link
    return UsageError(f"cannot write {shown(target)}: {exc.strerror or exc}")
