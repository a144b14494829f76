"""Importing a conversation again: what its earlier copy gains (DESIGN section 16).

The copy takes the messages the source gained since the last import; a last message the source
completed since (a reply still streaming when first imported) is put in place; a source that
took another path after some message makes the copy follow it, the copy's old path kept in a
fork, as a rewind keeps it. Nothing is written in a dry run.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

import msgspec

from .errors import UsageError
from .import_changes import grown_last, kept_path, same_key, taken_before
from .models import Message, Session

if TYPE_CHECKING:
    from .manager import SessionManager


class Outcome(msgspec.Struct):
    """What one import did (or, in a dry run, would do) with one conversation.

    :param session: the stored copy (for ``new``, what would be written in a dry run).
    :param action: ``"new"`` (a fresh copy), ``"updated"`` (messages added to the earlier copy)
        or ``"unchanged"`` (the earlier copy already holds everything).
    :param added: messages added (all of them for ``new``).
    :param replaced: messages of the earlier copy that the source no longer holds, taken out
        of it (kept in the fork ``kept``) when the source took another path (DESIGN section 16).
    :param kept: the name of that fork (None when nothing was taken out, or in a dry run).
    """

    session: Session
    action: str
    added: int
    replaced: int = 0
    kept: str | None = None


def merge(
    manager: SessionManager,
    copy_id: str,
    loaded: Session,
    stamp: dict[str, str],
    timed: bool,
    *,
    dry_run: bool,
) -> Outcome | None:
    """Add the messages of ``loaded`` (the conversation read again from its source) that its
    earlier copy ``copy_id`` lacks, and record ``stamp`` (the import's metadata) on the copy;
    None if the copy is gone.

    A message is the same when its role, text and time are; for a source without times
    (the importer says ``timed: False``), when its role and text are, counted, so a "yes"
    said twice is two messages.

    Raises:
        StorageError: the copy could not be written (what was written before stays).
    """
    try:
        copy = manager.get(copy_id)
    except Exception:
        return None
    if copy.metadata.get("import", {}).get("digest") == stamp["digest"]:
        return Outcome(copy, "unchanged", 0)
    grown = grown_last(copy, loaded) if timed else None
    kept = kept_path(copy, loaded, grown, timed)
    if kept is not None:
        return _follow(manager, copy, loaded, stamp, kept, dry_run=dry_run)
    before = (
        None
        if grown
        else taken_before(loaded.history, copy.metadata["import"].get("digest"), timed)
    )
    if before is not None:
        new = list(loaded.history[before:])  # what the source gained since the last import
    else:
        new = _lacking(copy, loaded, timed, grown)
    taken = len(new) + (grown is not None)
    action = "updated" if taken else "unchanged"
    if dry_run or not taken:
        # Nothing taken, nothing written: the stamp stays that of what the copy holds.
        return Outcome(copy, action, taken)
    if grown is not None:
        _complete_last(manager, copy, grown, new)
    for message in new:
        manager.append(copy.id, message)
    updated = manager.update(copy.id, metadata={**copy.metadata, "import": stamp})
    return Outcome(updated, action, taken)


def _follow(
    manager: SessionManager,
    copy: Session,
    loaded: Session,
    stamp: dict[str, str],
    at: int,
    *,
    dry_run: bool,
) -> Outcome:
    """Make the copy's history the source's again, which parted from it after message
    ``at``: the copy's old path is kept in a fork first, as a rewind keeps it."""
    tail = loaded.history[at:]
    replaced = len(copy.history) - at
    if dry_run:
        return Outcome(copy, "updated", len(tail), replaced)
    from .rewind import rewind

    done = rewind(manager, copy.id, at, kind="import", tail=tail)
    updated = manager.update(copy.id, metadata={**copy.metadata, "import": stamp})
    kept = done.kept.name if done.kept is not None else None
    return Outcome(updated, "updated", len(tail), replaced, kept)


def _lacking(copy: Session, loaded: Session, timed: bool, grown: Message | None) -> list[Message]:
    """The messages of ``loaded`` the copy does not hold (``grown`` aside), counted."""
    have = Counter(same_key(m, timed) for m in copy.history)
    new = []
    for message in loaded.history:
        key = same_key(message, timed)
        if message is grown:
            continue
        if have[key]:
            have[key] -= 1
        else:
            new.append(message)
    return new


def _complete_last(
    manager: SessionManager, copy: Session, grown: Message, new: list[Message]
) -> None:
    """Put the source's fuller version ``grown`` in place of the copy's last message; a
    store that cannot replace in place gets it appended (with ``new``) instead."""
    try:
        manager.replace_last(copy.id, grown, index=len(copy.history) - 1)
    except UsageError:
        new.insert(0, grown)
