"""``migrate`` for the trash (DESIGN sections 13 and 14): every trashed session of the source
arrives in the target's trash, with the same content and deletion time.

The rules are those of the live sessions (see :mod:`.migrate`): the source is only read; a
trashed session the target's trash already holds identical is skipped, any other version there
is a conflict left alone; every copy is read back and compared whole. A trash that only one of
the stores can copy (a backend without :class:`~.storage.base.SupportsTrashCopy`) is reported
session by session as failed: nothing in it was copied.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .errors import SessionNotFound, StorageError
from .storage.base import StorageBackend, SupportsTrash, SupportsTrashCopy

if TYPE_CHECKING:
    from .migrate import MigrationReport


def trash_size(backend: StorageBackend) -> int:
    """How many sessions the backend's trash holds (0 without a trash): a progress bar's share."""
    return len(backend.trashed()) if isinstance(backend, SupportsTrash) else 0


def copy_trash(
    source: StorageBackend,
    target: StorageBackend,
    report: MigrationReport,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Copy every trashed session of ``source`` into the trash of ``target``, into ``report``
    (``trash_count``, ``trash_copied``, ``trash_skipped``, ``conflicts``, ``failed``).

    Raises:
        StorageError: when the target cannot be written at all (server down, read-only).
    """
    if not isinstance(source, SupportsTrash):
        return
    entries = source.trashed()
    report.trash_count = len(entries)
    for entry in entries:
        sid = entry.summary.id
        try:
            if not isinstance(source, SupportsTrashCopy):
                report.failed[sid] = f"in the trash of {source.name}, which cannot be read whole"
            elif not isinstance(target, SupportsTrashCopy) or not isinstance(target, SupportsTrash):
                report.failed[sid] = (
                    f"in the trash; the {target.name} store has no trash to copy to"
                )
            else:
                _copy_one(source, target, sid, entry.deleted_at, report)
        finally:
            if progress is not None:
                progress(1)
    if report.trash_copied and isinstance(target, SupportsTrash):
        when = {e.summary.id: e.deleted_at for e in target.trashed()}
        wanted = {e.summary.id: e.deleted_at for e in entries}
        for sid in report.trash_copied:
            if when.get(sid) != wanted[sid]:
                report.failed[sid] = "the copy in the target's trash has another deletion time"


def _copy_one(
    source: SupportsTrashCopy,
    target: SupportsTrashCopy,
    sid: str,
    deleted_at: str,
    report: MigrationReport,
) -> None:
    try:
        session = source.read_trashed(sid)
    except SessionNotFound:
        return  # restored or emptied by another program since the list
    except StorageError as exc:
        report.failed[sid] = f"unreadable in the source's trash: {exc}"
        return
    try:
        existing = target.read_trashed(sid)
    except SessionNotFound:
        existing = None
    except StorageError as exc:
        report.conflicts[sid] = f"the copy in the target's trash is unreadable: {exc}"
        return
    if existing is not None:
        if existing == session:
            report.trash_skipped.append(sid)
        else:
            report.conflicts[sid] = "the target's trash holds a different version; left as it is"
        return
    target.put_trashed(session, deleted_at)
    report.trash_copied.append(sid)
    if target.read_trashed(sid) != session:
        report.failed[sid] = "the copy in the target's trash differs from the source"
