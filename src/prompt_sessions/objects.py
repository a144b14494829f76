"""Prompt objects: ``objects/<po>.md`` files with YAML front matter and a Markdown system prompt."""

from __future__ import annotations

import os
import stat
from contextlib import suppress
from pathlib import Path
from typing import Any

import msgspec

from .errors import InvalidName, PromptSessionsError
from .models import clean_po_name
from .text import visible

MAX_PO_FILE = 1_000_000
# Front matter holds a few settings: more values or deeper nesting than this is a file made to
# hurt (YAML aliases repeat a list a billion times in a few lines), refused before any use.
MAX_FRONT_VALUES = 10_000
MAX_FRONT_DEPTH = 32


class PromptObjectError(PromptSessionsError):
    title = "Bad prompt object"


class PromptObject(msgspec.Struct):
    """One PO. A bare PO (no file) has no system prompt and uses the default responder."""

    name: str
    description: str = ""
    capabilities: list[str] = msgspec.field(default_factory=list)
    responder: str | None = None
    options: dict[str, Any] = msgspec.field(default_factory=dict)
    system_prompt: str = ""
    path: Path | None = None

    @property
    def bare(self) -> bool:
        return self.path is None


def parse_prompt_object(text: str, fallback_name: str, path: Path | None = None) -> PromptObject:
    where = _shown(path or fallback_name)  # one line even for a name holding a newline
    front: dict[str, Any] = {}
    body = text
    if text.startswith("---"):
        end = text.find("\n---", 3)
        if end < 0:
            raise PromptObjectError(f"{where}: front matter is not closed with ---")
        import yaml

        too_deep = False
        try:
            loaded = yaml.safe_load(text[3:end])
        except yaml.YAMLError as exc:
            raise PromptObjectError(
                f"{where}: invalid YAML front matter{_yaml_problem(exc)}"
            ) from exc
        except RecursionError:
            loaded, too_deep = None, True
        if too_deep or _oversized(loaded):
            raise PromptObjectError(
                f"{where}: front matter holds more than {MAX_FRONT_VALUES:,} "
                f"values or nests deeper than {MAX_FRONT_DEPTH} levels"
            )
        if loaded is not None and not isinstance(loaded, dict):
            raise PromptObjectError(f"{where}: front matter must be a mapping")
        front = loaded or {}
        body = text[end + 4 :].lstrip("\n")
    name = front.get("name", fallback_name)
    if not isinstance(name, str) or not name.strip():
        raise PromptObjectError(f"{where}: 'name' must be text")
    try:
        # The same rule as sessions' po_name, so every PO that loads can hold sessions.
        name = clean_po_name(name)
    except InvalidName as exc:
        raise PromptObjectError(f"{where}: {exc}") from exc
    caps = front.get("capabilities") or []
    if not isinstance(caps, list) or not all(isinstance(c, str) for c in caps):
        raise PromptObjectError(f"{where}: 'capabilities' must be a list of names")
    responder = front.get("responder")
    if responder is not None and not isinstance(responder, str):
        raise PromptObjectError(f"{where}: 'responder' must be a name")
    known = {"name", "description", "capabilities", "responder"}
    options = {k: v for k, v in front.items() if k not in known}
    return PromptObject(
        name=name.strip(),
        description=str(front.get("description") or ""),
        capabilities=list(caps),
        responder=responder,
        options=options,
        system_prompt=body,
        path=path,
    )


def _shown(path: Path | str) -> str:
    """A file name in a one-line message: a newline or an escape in it shown as an escape."""
    return visible(str(path), one_line=True)


def _yaml_problem(exc: Exception) -> str:
    """PyYAML's multi-line message as one line: where in the file (the text PyYAML reads starts
    at the end of the file's first line, ``---``) and what is wrong."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    what = visible(" ".join(str(problem or exc).split()), one_line=True)
    return f"{where}: {what}"


def _oversized(value: object) -> bool:
    """Whether ``value`` (loaded YAML) holds more than ``MAX_FRONT_VALUES`` values or nests
    deeper than ``MAX_FRONT_DEPTH``, counted as a walk would meet them (a list an alias
    repeats counts each time); the count stops at the limit, so a bomb costs no more."""
    stack: list[tuple[object, int]] = [(value, 0)]
    seen = 0
    while stack:
        item, depth = stack.pop()
        seen += 1
        if seen > MAX_FRONT_VALUES or depth > MAX_FRONT_DEPTH:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
            stack.extend((k, depth + 1) for k in item)
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False


def po_bytes(path: Path) -> bytes:
    """A PO file's bytes, read as a regular file only: a symbolic link, a folder, a FIFO or a
    device named ``x.md`` is refused before a read that could block or never end, and the read
    stops one byte past ``MAX_PO_FILE`` (a file that grows after it was looked at).

    Raises:
        PromptObjectError: not a regular file, or larger than ``MAX_PO_FILE``.
        OSError: the file cannot be opened or read.
    """
    if not stat.S_ISREG(os.lstat(path).st_mode):
        raise PromptObjectError(f"{_shown(path)}: refused (symbolic link or not a regular file)")
    # O_NONBLOCK: a FIFO put in its place since the lstat opens at once (then is refused).
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    with os.fdopen(os.open(path, flags), "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            raise PromptObjectError(
                f"{_shown(path)}: refused (symbolic link or not a regular file)"
            )
        data = file.read(MAX_PO_FILE + 1)
    if len(data) > MAX_PO_FILE:
        raise PromptObjectError(f"{_shown(path)}: refused (larger than 1 MB)")
    return data


def po_text(path: Path) -> str:
    """A PO file's text (``po_bytes``). A UTF-8 byte-order mark (some editors write one) is
    dropped: it must not hide the front matter.

    Raises:
        PromptObjectError: not a regular file, or larger than ``MAX_PO_FILE``.
        OSError: the file cannot be read.
        UnicodeDecodeError: it is not UTF-8.
    """
    return po_bytes(path).decode("utf-8-sig")


def read_po_file(path: Path) -> PromptObject | None:
    """The PO of file ``path``; None when the file is gone (removed since it was listed).

    Raises:
        PromptObjectError: the file cannot be used, as one line naming it.
    """
    try:
        return parse_prompt_object(po_text(path), path.stem, path)
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise PromptObjectError(f"cannot read {_shown(path)}: {_os_problem(exc)}") from exc


def _os_problem(exc: Exception) -> str:
    """An OSError without the file name it repeats (the line names the file already)."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)


ObjectsStamp = tuple[tuple[str, int, int, int], ...]


def objects_stamp(root: Path) -> ObjectsStamp:
    """What changes when a PO file of ``root/objects/`` is added, removed, replaced or edited:
    (file name, inode, size, modification time in ns) per ``*.md``, sorted. One listing and a
    stat per file; a folder that cannot be read has the empty stamp."""
    found = []
    try:
        with os.scandir(root / "objects") as entries:
            for entry in entries:
                if not entry.name.endswith(".md"):
                    continue
                with suppress(OSError):  # gone between the listing and the stat
                    st = entry.stat(follow_symlinks=False)
                    found.append((entry.name, st.st_ino, st.st_size, st.st_mtime_ns))
    except OSError:
        return ()
    return tuple(sorted(found))


def load_prompt_objects(
    root: Path, warn: Any = None, problems: dict[str, str] | None = None
) -> dict[str, PromptObject]:
    """Every readable PO of the environment, by name. Bad files are reported (``warn`` gets a
    line naming the file, ``problems`` maps its file name to that line), not fatal."""
    folder = root / "objects"
    try:
        paths = sorted(folder.glob("*.md"))
    except OSError:
        return {}
    read: dict[str, PromptObject | str] = {}
    for path in paths:
        try:
            po = read_po_file(path)
        except PromptObjectError as exc:
            read[path.name] = str(exc)
            continue
        if po is not None:
            read[path.name] = po
    return gather(read, warn, problems)


def gather(
    read: dict[str, PromptObject | str], warn: Any = None, problems: dict[str, str] | None = None
) -> dict[str, PromptObject]:
    """The POs by name from ``read`` (file name -> its PO, or the line saying why it cannot be
    used). Two files naming one PO are both refused: which prompt the PO answers with must
    never depend on the order files are listed in. Each refused file's line goes to ``warn``
    and to ``problems`` under its file name, and a PO named twice also under ``<po>.md``, so
    that sending to it fails in that line instead of answering as a bare PO."""
    found: dict[str, PromptObject] = {}
    files_of: dict[str, list[str]] = {}
    for file_name in sorted(read):
        item = read[file_name]
        if isinstance(item, str):
            _bad_file(file_name, item, warn, problems)
        else:
            files_of.setdefault(item.name, []).append(file_name)
            found[item.name] = item
    for name, file_names in files_of.items():
        if len(file_names) < 2:
            continue
        del found[name]
        paths = [_shown(read[f].path or f) for f in file_names]  # type: ignore[union-attr]
        line = f"{' and '.join(paths)} both name PO '{name}' in their front matter"
        for file_name in file_names:
            _bad_file(file_name, line, warn, problems)
        if problems is not None:
            problems.setdefault(f"{name}.md", line)
    return found


def _bad_file(file_name: str, line: str, warn: Any, problems: dict[str, str] | None) -> None:
    if warn:
        warn(line)
    if problems is not None:
        problems[file_name] = line


def bare(name: str) -> PromptObject:
    return PromptObject(name=name)
