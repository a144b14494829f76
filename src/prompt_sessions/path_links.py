"""What a path's symbolic links do wrong, said in one line.

The operating system's words for them mislead: a link to itself (``ln -s loop loop``) is "Too
many levels of symbolic links", or "No such file" where a check asked whether the path exists,
and a link to nothing is "No such file" although the name is right there in ``ls``. Every
command that takes a path (``import``, ``export -o``, ``backup -o``, ``restore-backup``,
``--dir`` and ``PROMPT_OBJECTS_DIR``, ``migrate --to-dir``) names the link and what is wrong
with it instead (DESIGN section 6: one line ``Error: ...``).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from .text import visible


def link_problem(path: str | os.PathLike[str], *, dangling_ok: bool = False) -> str | None:
    """The one line saying what is wrong with the symbolic links on ``path``, or None.

    Each part of ``path`` is looked at in turn, so a loop in a folder of it is named too
    (``loop/file``: "loop is a symbolic link loop").

    :param path: as the person gave it (it is shown so).
    :param dangling_ok: a link to nothing at the end of ``path`` is fine (a file about to be
        written through it, as a shell's ``>`` does).
    :returns: ``"<part> is a symbolic link loop"``, or ``"<part> is a symbolic link to
        <target>, which does not exist"``; None when the links on ``path`` resolve (or there
        are none).
    """
    whole = Path(path).expanduser()
    parts = [*reversed(whole.parents[: len(whole.parents) - 1]), whole] if whole.parts else []
    for part in parts:
        fault = link_fault(part, dangling_ok=dangling_ok and part == whole)
        if fault is not None:
            return f"{_shown(part)} is {fault}"
    return None


def link_fault(path: Path, *, dangling_ok: bool = False) -> str | None:
    """What is wrong with ``path`` itself as a symbolic link, without its name: ``"a symbolic
    link loop"`` or ``"a symbolic link to <target>, which does not exist"`` (unless
    ``dangling_ok``); None when it is no link, it resolves, or it cannot be looked at."""
    try:
        if not path.is_symlink():
            return None
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a symbolic link loop"
        if exc.errno == errno.ENOENT and not dangling_ok:
            try:
                target = os.readlink(path)
            except OSError:
                return None
            return f"a symbolic link to {_shown(target)}, which does not exist"
    return None


def _shown(path: str | os.PathLike[str]) -> str:
    return visible(str(path), one_line=True)
