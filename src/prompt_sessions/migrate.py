"""Copy every session from one storage backend to another (DESIGN section 13, ``migrate``).

Rules:

- The source is only read, never changed or deleted.
- Each session keeps its id, so a re-run finds what an earlier run copied: a session already
  there and identical is skipped; one whose copy is an earlier state of it (the same fields and
  a prefix of its history) gets the missing messages appended; any other difference is a
  conflict, listed and left alone.
- Every copied session is read back from the target and compared with the source whole
  (fields and every message); a difference is reported as a failure.
- Each PO's current-session choice is copied when the target has none.
- The trash is copied too (DESIGN section 14): each trashed session arrives in the target's
  trash with the same content and deletion time, read back and compared like a live one; one
  already there identical is skipped, any other version there is a conflict. Both stores need
  :class:`~.storage.base.SupportsTrashCopy` for it; otherwise each trashed session is listed
  as failed, since it was not copied.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from . import migrate_trash
from .errors import SessionNotFound, StorageError
from .models import Session
from .storage.base import StorageBackend


@dataclass
class MigrationReport:
    """What a migration did, by session id."""

    copied: list[str] = field(default_factory=list)
    extended: list[str] = field(default_factory=list)  # earlier copies brought up to date
    skipped: list[str] = field(default_factory=list)  # already identical
    conflicts: dict[str, str] = field(default_factory=dict)  # id -> why it was left alone
    failed: dict[str, str] = field(default_factory=dict)  # id -> what went wrong
    source_count: int = 0
    trash_count: int = 0  # sessions in the source's trash
    trash_copied: list[str] = field(default_factory=list)
    trash_skipped: list[str] = field(default_factory=list)  # already in the target's trash

    @property
    def ok(self) -> bool:
        return not self.conflicts and not self.failed

    def as_dict(self) -> dict[str, object]:
        return {
            "sessions": self.source_count,
            "copied": len(self.copied),
            "extended": len(self.extended),
            "skipped": len(self.skipped),
            "conflicts": self.conflicts,
            "failed": self.failed,
            "trash": {
                "sessions": self.trash_count,
                "copied": len(self.trash_copied),
                "skipped": len(self.trash_skipped),
            },
        }


_FIXED = ("id", "history", "format_version", "created_at", "updated_at")


def _same_origin(a: Session, b: Session) -> bool:
    return (a.po_name, a.created_at, a.format_version) == (
        b.po_name,
        b.created_at,
        b.format_version,
    )


def migrate(
    source: StorageBackend,
    target: StorageBackend,
    *,
    progress: Callable[[int], None] | None = None,
) -> MigrationReport:
    """Copy every readable session of ``source`` into ``target``.

    Args:
        source: the backend to read (never written).
        target: the backend to write; may already hold an earlier copy.
        progress: called with 1 after each session, live or trashed, for a progress bar.

    Returns:
        A :class:`MigrationReport`; damaged source sessions are listed in ``failed``.

    Raises:
        StorageError: when the target cannot be written at all (server down, read-only).
    """
    report = MigrationReport()
    summaries = source.list()
    report.source_count = len(summaries)
    for sid, reason in source.problems().items():
        report.failed[sid] = f"unreadable in the source: {reason}"
    pos: set[str] = set()
    for summary in summaries:
        try:
            _copy_one(source, target, summary.id, report)
            pos.add(summary.po_name)
        finally:
            if progress is not None:
                progress(1)
    for po in sorted(pos):
        chosen = source.get_current(po)
        if chosen is not None and target.get_current(po) is None:
            try:
                target.set_current(po, chosen)
            except StorageError as exc:
                report.failed[chosen] = f"current session of {po} not copied: {exc}"
    migrate_trash.copy_trash(source, target, report, progress)
    return report


def _copy_one(
    source: StorageBackend, target: StorageBackend, sid: str, report: MigrationReport
) -> None:
    try:
        session = source.get(sid)
    except SessionNotFound:
        return  # deleted by another program since the list: nothing to copy
    except StorageError as exc:
        report.failed[sid] = f"unreadable in the source: {exc}"
        return
    try:
        existing: Session | None = target.get(sid)
    except SessionNotFound:
        existing = None
    except StorageError as exc:
        report.conflicts[sid] = f"the target's copy is unreadable: {exc}"
        return
    if existing is None:
        target.create(session)
        report.copied.append(sid)
    elif existing == session:
        report.skipped.append(sid)
        return
    elif _same_origin(existing, session) and _is_prefix(existing, session):
        for message in session.history[len(existing.history) :]:
            target.append(sid, message)
        changed = {
            name: getattr(session, name)
            for name in Session.__struct_fields__
            if name not in _FIXED and getattr(existing, name) != getattr(session, name)
        }
        changed["updated_at"] = session.updated_at  # an append moved it to the message's time
        target.update(sid, **changed)
        report.extended.append(sid)
    else:
        report.conflicts[sid] = "the target holds a different version; left as it is"
        return
    copied = target.get(sid)
    if copied != session:
        report.failed[sid] = "the copy read back differs from the source"


def _is_prefix(shorter: Session, longer: Session) -> bool:
    n = len(shorter.history)
    return n <= len(longer.history) and shorter.history == longer.history[:n]
