"""Prompt objects: ``objects/<po>.md`` files with YAML front matter and a Markdown system prompt."""

from __future__ import annotations

import os
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InvalidName, PromptSessionsError
from .models import clean_po_name

MAX_PO_FILE = 1_000_000
# Front matter holds a few settings: more values or deeper nesting than this is a file made to
# hurt (YAML aliases repeat a list a billion times in a few lines), refused before any use.
MAX_FRONT_VALUES = 10_000
MAX_FRONT_DEPTH = 32


class PromptObjectError(PromptSessionsError):
    title = "Bad prompt object"


@dataclass
class PromptObject:
    """One PO. A bare PO (no file) has no system prompt and uses the default responder."""

    name: str
    description: str = ""
    capabilities: list[str] = field(default_factory=list)
    responder: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    system_prompt: str = ""
    path: Path | None = None

    @property
    def bare(self) -> bool:
        return self.path is None


def parse_prompt_object(text: str, fallback_name: str, path: Path | None = None) -> PromptObject:
    front: dict[str, Any] = {}
    body = text
    if text.startswith("---"):
        end = text.find("\n---", 3)
        if end < 0:
            raise PromptObjectError(f"{path or fallback_name}: front matter is not closed with ---")
        import yaml

        too_deep = False
        try:
            loaded = yaml.safe_load(text[3:end])
        except yaml.YAMLError as exc:
            raise PromptObjectError(
                f"{path or fallback_name}: invalid YAML front matter{_yaml_problem(exc)}"
            ) from exc
        except RecursionError:
            loaded, too_deep = None, True
        if too_deep or _oversized(loaded):
            raise PromptObjectError(
                f"{path or fallback_name}: front matter holds more than {MAX_FRONT_VALUES:,} "
                f"values or nests deeper than {MAX_FRONT_DEPTH} levels"
            )
        if loaded is not None and not isinstance(loaded, dict):
            raise PromptObjectError(f"{path or fallback_name}: front matter must be a mapping")
        front = loaded or {}
        body = text[end + 4 :].lstrip("\n")
    name = front.get("name", fallback_name)
    if not isinstance(name, str) or not name.strip():
        raise PromptObjectError(f"{path or fallback_name}: 'name' must be text")
    try:
        # The same rule as sessions' po_name, so every PO that loads can hold sessions.
        name = clean_po_name(name)
    except InvalidName as exc:
        raise PromptObjectError(f"{path or fallback_name}: {exc}") from exc
    caps = front.get("capabilities") or []
    if not isinstance(caps, list) or not all(isinstance(c, str) for c in caps):
        raise PromptObjectError(f"{path or fallback_name}: 'capabilities' must be a list of names")
    responder = front.get("responder")
    if responder is not None and not isinstance(responder, str):
        raise PromptObjectError(f"{path or fallback_name}: 'responder' must be a name")
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


def _yaml_problem(exc: Exception) -> str:
    """PyYAML's multi-line message as one line: where in the file (the text PyYAML reads starts
    at the end of the file's first line, ``---``) and what is wrong."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    what = " ".join(str(problem or exc).split())
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


def po_text(path: Path) -> str:
    """A PO file's text. A UTF-8 byte-order mark (some editors write one) is dropped: it must
    not hide the front matter.

    Raises:
        OSError: the file cannot be read.
        UnicodeDecodeError: it is not UTF-8.
    """
    return path.read_text(encoding="utf-8-sig")


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
    found: dict[str, PromptObject] = {}
    try:
        paths = sorted(folder.glob("*.md"))
    except OSError:
        return found
    for path in paths:
        try:
            if path.is_symlink() or path.stat().st_size > MAX_PO_FILE:
                raise PromptObjectError(f"{path}: refused (symbolic link or larger than 1 MB)")
            po = parse_prompt_object(po_text(path), path.stem, path)
        except (OSError, UnicodeDecodeError) as exc:
            _bad_file(path, f"cannot read {path}: {exc}", warn, problems)
            continue
        except PromptObjectError as exc:
            _bad_file(path, str(exc), warn, problems)
            continue
        found[po.name] = po
    return found


def _bad_file(path: Path, line: str, warn: Any, problems: dict[str, str] | None) -> None:
    if warn:
        warn(line)
    if problems is not None:
        problems[path.name] = line


def bare(name: str) -> PromptObject:
    return PromptObject(name=name)
