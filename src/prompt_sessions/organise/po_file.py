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
from pathlib import Path
from typing import Any

import yaml

from ..errors import StorageError
from ..objects import (
    MAX_PO_FILE,
    PromptObjectError,
    load_prompt_objects,
    parse_prompt_object,
    po_text,
)
from ..storage.files import atomic_write

# A top-level ``name`` key written plainly, its value, and what ends the line: a comment or
# trailing blanks (kept as they are).
_NAME_LINE = re.compile(r"(name[ \t]*:[ \t]*)(.*?)([ \t]+#.*|[ \t]*)")
# A top-level line that sets ``name``, its key quoted or not: only to point at it.
_ANY_NAME = re.compile(r"[\"']?name[\"']?[ \t]*:")
# What a plain scalar may not start with (YAML indicators).
_INDICATORS = tuple("-?:,[]{}#&*!|>'\"%@`")


def files_of(root: Path, old: str, new: str) -> tuple[Path | None, Path | None]:
    """The file that defines PO ``old`` and another that defines PO ``new`` already.

    The first is the file whose front matter or file name names ``old``, else
    ``objects/<old>.md`` if present (unreadable, or already naming ``new`` after a run cut
    short); the second is a readable PO file other than the first whose PO is ``new``. Each is
    None when there is none.

    :param root: the environment folder.
    """
    found = load_prompt_objects(root)
    mine = found[old].path if old in found else None
    if mine is None:
        path = root / "objects" / f"{old}.md"
        mine = path if os.path.lexists(path) else None
    theirs = found[new].path if new in found else None
    return mine, (theirs if theirs != mine else None)


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
        if path.stat().st_size > MAX_PO_FILE:
            return f"{path} was not changed: larger than 1 MB"
        raw = path.read_bytes()
        po = parse_prompt_object(po_text(path), path.stem)
    except (OSError, UnicodeDecodeError, PromptObjectError) as exc:
        return f"{path} was not changed: {exc}"
    if po.name == old and "name" in _front(_normal(raw)):
        edited, line = _with_name(raw, new)
        if edited is None:
            where = f"line {line}" if line else "its front matter"
            return f"{path} still names PO '{old}': change {where} to 'name: {new}' by hand"
        mode = path.stat().st_mode & 0o7777
        try:
            atomic_write(path, edited)
        except (OSError, StorageError) as exc:
            return f"{path} was not changed: {exc}"
        with contextlib.suppress(OSError):
            os.chmod(path, mode)  # written private; the file keeps the mode it had
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
    bom = codecs.BOM_UTF8 if raw.startswith(codecs.BOM_UTF8) else b""
    text = raw[len(bom) :].decode("utf-8")
    lines = text.splitlines(keepends=True)
    close = next((i for i in range(1, len(lines)) if lines[i].startswith("---")), None)
    if close is None:
        return None, None
    setting = [i for i in range(1, close) if _ANY_NAME.match(lines[i])]
    if len(setting) != 1:
        return None, (setting[0] + 1) if setting else None
    index = setting[0]
    line = lines[index]
    content = line.rstrip("\r\n")
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
    lines[index] = match.group(1) + _scalar(new, quote) + match.group(3)
    lines[index] += line[len(content) :]
    edited = bom + "".join(lines).encode("utf-8")
    after_text = _normal(edited)
    try:
        after = _front(after_text)
        named = parse_prompt_object(after_text, "-").name
    except (yaml.YAMLError, PromptObjectError):
        return None, index + 1
    if after != {**before, "name": new} or named != new:
        return None, index + 1
    if _body(after_text) != _body(_normal(raw)):
        return None, index + 1
    return edited, index + 1


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
