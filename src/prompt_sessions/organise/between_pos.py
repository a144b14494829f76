"""Moving work between POs (DESIGN section 14): copy a session to another PO, rename a PO in
every session of it, and find sessions whose PO file is gone ("orphaned").

``po rename`` changes each session's ``po_name`` one write at a time, then the PO's current
session, then the PO file: a crash part-way leaves every session whole under one of the two
names, and running the command again finishes it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import SessionNotFound, UsageError
from ..models import Session, SessionSummary, clean_po_name
from ..objects import PromptObjectError, load_prompt_objects, parse_prompt_object, po_text

if TYPE_CHECKING:
    from ..manager import SessionManager


def copy_to_po(manager: SessionManager, session_id: str, po_name: str) -> Session:
    """A copy of the session (history, metadata, tags and name) under ``po_name``, with a new
    id; ``metadata.copied_from`` records the source. The source is left as it is.

    Raises:
        InvalidName: ``po_name`` is not a valid PO name.
        UsageError: the session already belongs to ``po_name``.
    """
    target = clean_po_name(po_name)
    source = manager.get(session_id)
    if source.po_name == target:
        raise UsageError(f"the session already belongs to {target}")
    origin = {"id": source.id, "po_name": source.po_name}
    return manager.create(
        target,
        source.name,
        source=source.source,
        metadata={**source.metadata, "copied_from": origin},
        history=list(source.history),
        tags=list(source.tags) if source.tags else None,
    )


@dataclass
class PoRename:
    """What ``po rename`` did: sessions moved, and what happened to the PO file."""

    sessions: list[SessionSummary] = field(default_factory=list)
    file: str = ""  # a sentence about the PO file, empty when there is none


def rename_po(manager: SessionManager, old: str, new: str) -> PoRename:
    """Give every session of PO ``old`` the PO name ``new``, move its current-session choice,
    and rename ``objects/<old>.md`` to ``objects/<new>.md`` when the file's name is the PO's
    name (a front matter ``name:`` is the PO's name then, and is left for a person to edit).

    Raises:
        InvalidName: ``new`` is not a valid PO name.
        UsageError: the names are the same, ``objects/<new>.md`` exists already, or no PO is
            called ``old`` (no session of it and no ``objects/<old>.md``: a typo, say);
            checked before anything is changed.
    """
    old, new = clean_po_name(old), clean_po_name(new)
    if old == new:
        raise UsageError("the old and new PO names are the same")
    folder = manager.root / "objects"
    old_file, new_file = folder / f"{old}.md", folder / f"{new}.md"
    if old_file.exists() and new_file.exists():
        raise UsageError(f"{new_file} exists already; nothing was changed")
    sessions = manager.list(old)
    if not sessions and not os.path.lexists(old_file):
        raise UsageError(f"there is no PO '{old}': no session of it and no {old_file}")
    report = PoRename()
    current = manager.backend.get_current(old)
    for summary in sessions:
        try:
            session = manager.backend.update(summary.id, po_name=new)
        except SessionNotFound:
            continue  # deleted meanwhile
        report.sessions.append(session.summary())
    if current is not None:
        manager.backend.set_current(new, current)
        manager.backend.set_current(old, None)
    report.file = _move_po_file(old_file, new_file)
    return report


def _move_po_file(old_file: Path, new_file: Path) -> str:
    if not old_file.exists() or old_file.is_symlink():
        return ""
    try:
        # Read as if it were already called NEW.md: a front matter ``name:`` would still win.
        renamed = parse_prompt_object(po_text(old_file), new_file.stem)
    except (OSError, UnicodeDecodeError, PromptObjectError) as exc:
        return f"{old_file} was not renamed: {exc}"
    if renamed.name != new_file.stem:
        return f"{old_file} names its PO in its front matter: change its 'name:' there"
    if os.path.lexists(new_file):
        return f"{old_file} was not renamed: {new_file.name} exists"
    try:
        os.rename(old_file, new_file)
    except OSError as exc:
        return f"{old_file} was not renamed: {exc.strerror or exc}"
    return f"renamed {old_file.name} to {new_file.name}"


def po_files(manager: SessionManager) -> set[str]:
    """The names of the POs that have a file in ``objects/``: a readable one's name, and the
    file name of one that cannot be read (its sessions are not orphaned by a typo in it)."""
    problems: dict[str, str] = {}
    names = set(load_prompt_objects(manager.root, problems=problems))
    return names | {file_name.removesuffix(".md") for file_name in problems}


def orphaned(manager: SessionManager, summaries: list[SessionSummary]) -> set[str]:
    """Ids of the sessions whose PO has no file while other POs have one. An environment with
    no PO files at all uses only bare POs (DESIGN section 3), and nothing is orphaned there."""
    known = po_files(manager)
    if not known:
        return set()
    return {s.id for s in summaries if s.po_name not in known}
