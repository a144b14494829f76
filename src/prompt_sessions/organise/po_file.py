"""The PO file's part of ``po rename OLD NEW`` (DESIGN section 14 "Moving between POs"): the
file that defines PO ``OLD`` gets the name ``NEW``, by its front matter's ``name:`` line when
it has one (that one line edited, every other byte kept) and by its file name when that is
``OLD.md``.

The edit is written before the file is renamed, each step atomic, so a run cut short leaves a
file that names one of the two POs, and running the command again finishes the job.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import StorageError
from ..objects import (
    PromptObjectError,
    load_prompt_objects,
    parse_prompt_object,
    po_bytes,
)
from ..storage.files import atomic_write

# A top-level ``name`` key written plainly, its value, and what ends the line: a comment or
# trailing blanks (kept as they are).
_NAME_LINE = re.compile(r"(name[ \t]*:[ \t]*)(.*?)([ \t]+#.*|[ \t]*)")
# A top-level line that sets ``name``, its key quoted or not: only to point at it.
_ANY_NAME = re.compile(r"[\"']?name[\"']?[ \t]*:")
_CAPABILITIES = re.compile(r"[\"']?capabilities[\"']?[ \t]*:")
# What a plain scalar may not start with (YAML indicators).
_INDICATORS = tuple("-?:,[]{}#&*!|>'\"%@`")


@dataclass
class PoFiles:
    """The PO files a rename of PO ``old`` to ``new`` touches or must not clash with.

    :param mine: the file that defines PO ``old``: the one whose front matter or file name
        names it, else ``objects/<old>.md`` if present (unreadable, or already naming ``new``
        after a run cut short); None when there is none.
    :param theirs: a readable PO file other than ``mine`` whose PO is ``new`` already.
    :param callers: the PO files whose ``capabilities`` name PO ``old`` (DESIGN section 11).
    """

    mine: Path | None
    theirs: Path | None
    callers: list[Path]


def files_of(root: Path, old: str, new: str) -> PoFiles:
    """The PO files of the environment folder ``root`` that renaming PO ``old`` concerns."""
    found = load_prompt_objects(root)
    mine = found[old].path if old in found else None
    if mine is None:
        path = root / "objects" / f"{old}.md"
        mine = path if os.path.lexists(path) else None
    theirs = found[new].path if new in found else None
    callers = [
        po.path
        for po in found.values()
        if old in found and po.path is not None and old in po.capabilities
    ]
    return PoFiles(mine, theirs if theirs != mine else None, callers)


def rename_in_capabilities(path: Path, old: str, new: str) -> str:
    """Change PO ``old`` to ``new`` in the ``capabilities`` of PO file ``path``, so that its PO
    still calls the renamed one, and say what was done in one line. Only those items change,
    every other byte is kept; a list that cannot be edited safely is left as it is and the
    sentence names the line to edit by hand."""
    try:
        raw = path.read_bytes()
        edited, line = _with_capability(raw, old, new)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return f"{path} was not changed: {exc}"
    if edited is None:
        where = f"line {line}" if line else "its front matter"
        return f"{path} lists '{old}' in its capabilities: change {where} to '{new}' by hand"
    failed = _write(path, edited)
    return failed or f"changed '{old}' to '{new}' in the capabilities of {path.name}"


def rename_po_file(path: Path, old: str, new: str) -> str:
    """Give PO ``old``'s file ``path`` the name ``new`` and say what was done, in one line.

    A front matter ``name: old`` (a plain or simply quoted scalar on its own line) is changed
    to ``name: new``, that line only: comments, key order, other fields, the body, a UTF-8
    byte-order mark and CRLF line ends are kept. Then ``objects/<old>.md`` is renamed to
    ``<new>.md``. A front matter that cannot be edited safely leaves the file as it is and the
    sentence names the line to edit by hand. Never raises for the file's content; an empty
    text means there was nothing to do (a symbolic link is never followed or changed).
    """
    if path.is_symlink() or not path.exists():
        return ""
    try:
        raw = po_bytes(path)  # a FIFO or a device named OLD.md is refused, never read
        po = parse_prompt_object(raw.decode("utf-8-sig"), path.stem)
    except (OSError, UnicodeDecodeError, PromptObjectError) as exc:
        return f"{path} was not changed: {exc}"
    if po.name == old and "name" in _front(_normal(raw)):
        edited, line = _with_name(raw, new)
        if edited is None:
            where = f"line {line}" if line else "its front matter"
            return f"{path} still names PO '{old}': change {where} to 'name: {new}' by hand"
        failed = _write(path, edited)
        if failed:
            return failed
        said = f"set 'name: {new}' in the front matter of {path.name}"
    elif po.name not in (old, new):
        return f"{path.name} names PO '{po.name}' in its front matter; left as it is"
    else:
        said = ""  # named by its file name, or its name: set by a run cut short
    if path.stem != old:
        return said
    target = path.with_name(f"{new}.md")
    try:
        if os.path.lexists(target):
            raise FileExistsError(0, f"{target.name} exists")
        os.rename(path, target)
    except OSError as exc:
        failed = f"{path.name} was not renamed: {exc.strerror or exc}"
        return f"{said}; {failed}" if said else failed
    if said:
        return f"renamed {path.name} to {target.name} and set its front matter to 'name: {new}'"
    return f"renamed {path.name} to {target.name}"


def _write(path: Path, data: bytes) -> str | None:
    """Replace ``path`` with ``data`` atomically, keeping its mode; a sentence when it fails."""
    try:
        mode = path.stat().st_mode & 0o7777
        atomic_write(path, data)
    except (OSError, StorageError) as exc:
        return f"{path} was not changed: {exc}"
    with contextlib.suppress(OSError):
        os.chmod(path, mode)  # written private; the file keeps the mode it had
    return None


def _normal(raw: bytes) -> str:
    """The text as the PO loader reads it: UTF-8, no byte-order mark, newlines as ``\\n``."""
    text = raw.decode("utf-8-sig")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _front(text: str) -> dict[str, Any]:
    """The front matter of ``text`` (as :func:`_normal` gives it), already checked by the PO
    loader: its mapping, else empty."""
    if not text.startswith("---"):
        return {}
    end = text.find("\n---", 3)
    loaded = yaml.safe_load(text[3:end]) if end >= 0 else None
    return loaded if isinstance(loaded, dict) else {}


def _body(text: str) -> str:
    end = text.find("\n---", 3) if text.startswith("---") else -1
    return text if end < 0 else text[end + 4 :]


def _with_name(raw: bytes, new: str) -> tuple[bytes | None, int | None]:
    """``raw`` with its front matter's ``name:`` line set to ``new``, and that line's number
    (1-based); None for the bytes when the line is not one plainly written ``name: value`` or
    the edit would change anything else."""
    bom, lines, close = _split(raw)
    if close is None:
        return None, None
    setting = [i for i in range(1, close) if _ANY_NAME.match(lines[i])]
    if len(setting) != 1:
        return None, (setting[0] + 1) if setting else None
    index = setting[0]
    content, end = _cut(lines[index])
    match = _NAME_LINE.fullmatch(content)
    before = _front(_normal(raw))
    value = before.get("name")
    if match is None or not isinstance(value, str):
        return None, index + 1
    written = match.group(2)
    if written == value and not written.startswith(_INDICATORS):
        quote = ""
    elif written in (f"'{value}'", f'"{value}"') and not set("'\"\\") & set(value):
        quote = written[0]
    else:
        return None, index + 1  # a tag, an anchor, a block or an escape: not edited blindly
    lines[index] = match.group(1) + _scalar(new, quote) + match.group(3) + end
    return _checked(raw, bom, lines, {**before, "name": new}), index + 1


def _with_capability(raw: bytes, old: str, new: str) -> tuple[bytes | None, int | None]:
    """``raw`` with ``old`` changed to ``new`` in its front matter's ``capabilities`` (items
    of a block list, one a line, or of a flow list on the key's line), and the number of the
    first line to edit; None for the bytes when an item is not written plainly or the edit
    would change anything else."""
    bom, lines, close = _split(raw)
    if close is None:
        return None, None
    keys = [i for i in range(1, close) if _CAPABILITIES.match(lines[i])]
    if len(keys) != 1:
        return None, (keys[0] + 1) if keys else None
    index = keys[0]
    before = _front(_normal(raw))
    listed = before.get("capabilities")
    if not isinstance(listed, list):
        return None, index + 1
    plain = _scalar(new, "")
    item = re.escape(old)
    content, end = _cut(lines[index])
    first = index + 1
    if content.partition(":")[2].lstrip().startswith("["):
        flow = re.compile(rf"(?<=[\[,])([ \t]*){item}([ \t]*)(?=[,\]])")
        lines[index] = flow.sub(lambda m: m.group(1) + plain + m.group(2), content) + end
    else:
        entry = re.compile(rf"([ \t]*-[ \t]+){item}([ \t]+#.*|[ \t]*)")
        edited: list[int] = []
        for at in range(index + 1, close):
            content, end = _cut(lines[at])
            if content.strip() and content[0] not in " \t-#":
                break  # the next key: the list has ended
            if match := entry.fullmatch(content):
                lines[at] = match.group(1) + plain + match.group(2) + end
                edited.append(at)
        first = edited[0] + 1 if edited else first
    expected = {**before, "capabilities": [new if c == old else c for c in listed]}
    return _checked(raw, bom, lines, expected), first


def _split(raw: bytes) -> tuple[bytes, list[str], int | None]:
    """A PO file's byte-order mark, its lines (ends kept) and the index of the line closing
    its front matter (None when it has none)."""
    bom = codecs.BOM_UTF8 if raw.startswith(codecs.BOM_UTF8) else b""
    lines = raw[len(bom) :].decode("utf-8").splitlines(keepends=True)
    if not lines or not lines[0].startswith("---"):
        return bom, lines, None
    close = next((i for i in range(1, len(lines)) if lines[i].startswith("---")), None)
    return bom, lines, close


def _cut(line: str) -> tuple[str, str]:
    """A line and its end (``\n``, ``\r\n`` or nothing), apart."""
    content = line.rstrip("\r\n")
    return content, line[len(content) :]


def _checked(raw: bytes, bom: bytes, lines: list[str], expected: dict[str, Any]) -> bytes | None:
    """The edited file, when its front matter reads as ``expected``, its body is the one of
    ``raw`` and it still loads as a PO; else None."""
    edited = bom + "".join(lines).encode("utf-8")
    text = _normal(edited)
    try:
        after = _front(text)
        parse_prompt_object(text, "-")
    except (yaml.YAMLError, PromptObjectError):
        return None
    if after != expected or _body(text) != _body(_normal(raw)):
        return None
    return edited


def _scalar(name: str, quote: str) -> str:
    """``name`` as a YAML scalar that reads back as that text: plain when it can be (and the
    old value was), else in the old value's quotes, else single-quoted."""
    if not quote and _reads_as(name, name):
        return name
    if quote == '"' and not set('"\\') & set(name) and name.isprintable():
        return f'"{name}"'
    return "'" + name.replace("'", "''") + "'"


def _reads_as(written: str, text: str) -> bool:
    if written.startswith(_INDICATORS) or " #" in written or ": " in written:
        return False
    try:
        return yaml.safe_load(f"name: {written}\n") == {"name": text}
    except yaml.YAMLError:
        return False
