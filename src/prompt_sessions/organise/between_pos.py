"""Moving work between POs (DESIGN section 14): copy a session to another PO, rename a PO in
every session of it, and find sessions whose PO file is gone ("orphaned").

``po rename`` changes each session's ``po_name`` one write at a time, the trashed ones too (so
``restore`` brings them back under the new name), then the PO's current session, then the PO
file (its front matter's ``name:``, then its file name; see
:mod:`.po_file`): a crash part-way leaves every session whole under one of the two names, and
running the command again finishes it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from ..errors import SessionNotFound, UsageError
from ..models import Session, SessionSummary, clean_po_name
from ..objects import load_prompt_objects
from ..storage.base import SupportsTrash, SupportsTrashUpdate

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


class PoRename(msgspec.Struct):
    """What ``po rename`` did: sessions moved (live and archived, then trashed), and what
    happened to the PO file."""

    sessions: list[SessionSummary] = msgspec.field(default_factory=list)
    trashed: list[SessionSummary] = msgspec.field(default_factory=list)
    file: str = ""  # a sentence about the PO file, empty when there is none
    callers: list[str] = msgspec.field(
        default_factory=list
    )  # one sentence per PO file that calls it


def rename_po(manager: SessionManager, old: str, new: str) -> PoRename:
    """Give every session of PO ``old`` the PO name ``new`` (those in the trash too), move its
    current-session choice, and give the PO's file the name ``new``: a front matter
    ``name: old`` becomes ``name: new`` (that line only) and ``objects/<old>.md`` becomes
    ``objects/<new>.md`` (DESIGN section 14). The other PO files whose ``capabilities`` call
    PO ``old`` name ``new`` instead (those items only), so that they still call it. A front
    matter that cannot be edited safely is left as it is, and ``PoRename.file`` (or
    ``callers``) names the line to edit by hand.

    Raises:
        InvalidName: ``new`` is not a valid PO name.
        UsageError: the names are the same, ``objects/<new>.md`` exists already, another PO
            file names ``new``, or no PO is called ``old`` (no session of it and no file:
            a typo, say); checked before anything is changed.
    """
    old, new = clean_po_name(old), clean_po_name(new)
    if old == new:
        raise UsageError("the old and new PO names are the same")
    folder = manager.root / "objects"
    old_file, new_file = folder / f"{old}.md", folder / f"{new}.md"
    if old_file.exists() and new_file.exists():
        raise UsageError(f"{new_file} exists already; nothing was changed")
    # here, not at the top: po_file reads YAML, which `list` and the other commands never need
    from .po_file import files_of, rename_in_capabilities, rename_po_file

    files = files_of(manager.root, old, new)
    sessions = manager.list(old)
    store = manager.backend
    in_trash = [
        e.summary.id
        for e in (store.trashed() if isinstance(store, SupportsTrash) else [])
        if e.summary.po_name == old
    ]
    if not sessions and not in_trash and files.mine is None:
        raise UsageError(f"there is no PO '{old}': no session of it and no {old_file}")
    if files.theirs is not None:
        raise UsageError(f"{files.theirs} is PO '{new}' already; nothing was changed")
    report = PoRename()
    # The POs that call it first: until the PO's own file is renamed last, a run cut short
    # still finds PO ``old`` and finishes the job.
    report.callers = [rename_in_capabilities(path, old, new) for path in files.callers]
    current = manager.backend.get_current(old)
    for summary in sessions:
        try:
            session = manager.backend.update(summary.id, po_name=new)
        except SessionNotFound:
            continue  # deleted meanwhile
        report.sessions.append(session.summary())
    for sid in in_trash:
        try:
            report.trashed.append(_move_trashed(manager, sid, new))
        except SessionNotFound:
            continue  # restored or purged meanwhile
    if current is not None:
        manager.backend.set_current(new, current)
        manager.backend.set_current(old, None)
    report.file = rename_po_file(files.mine, old, new) if files.mine is not None else ""
    return report


def _move_trashed(manager: SessionManager, session_id: str, po_name: str) -> SessionSummary:
    """Give a trashed session the PO name ``po_name``: where it lies when the store can
    (``SupportsTrashUpdate``), else by restoring, updating and trashing it again, each step
    whole (its deletion time then becomes now)."""
    store = manager.backend
    if isinstance(store, SupportsTrashUpdate):
        return store.update_trashed(session_id, po_name=po_name).summary
    assert isinstance(store, SupportsTrash)
    store.restore(session_id)
    try:
        moved = store.update(session_id, po_name=po_name).summary()
    finally:
        store.trash(session_id)
    return moved


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
