"""What a storage backend provides.

The conformance suite in ``prompt_sessions.testing`` checks it.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import msgspec

from ..errors import ReadOnlyStore, StorageError
from ..models import Message, Session, SessionSummary
from ..timeutil import TIMESTAMP_PATTERN

if TYPE_CHECKING:
    from ..search import SearchHit
    from ..search_query import Query


@dataclass
class HealthReport:
    """What ``doctor`` found: counts, damaged sessions and what was fixed.

    ``damaged``: id -> reason, content that cannot be read (``repair`` moves it aside).
    ``unreadable``: id -> reason, a session the program may not open (permissions, I/O); its
    content is unknown, so it is never moved aside. ``newer``: what a newer version wrote
    (DESIGN section 4, "Versioned"): read-only here, never rewritten or moved.
    ``loose``: files and folders more open than 0600 / 0700 (section 4, "Private");
    ``repair`` tightens them and lists them in ``fixed``. ``stale``: what a check that may
    write would fix (a summary that disagrees with its messages), found by one that may not
    (a read-only database role); not damage, and nothing was changed.
    """

    sessions: int = 0
    damaged: dict[str, str] = field(default_factory=dict)
    fixed: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    unreadable: dict[str, str] = field(default_factory=dict)
    newer: dict[str, str] = field(default_factory=dict)
    loose: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        """No damaged or unreadable session and no loose file mode (newer files are not
        damage: DESIGN section 4, "Versioned")."""
        return not (self.damaged or self.unreadable or self.loose)


@runtime_checkable
class StorageBackend(Protocol):
    """A store of sessions and their catalog (DESIGN sections 4 and 7).

    Every method is safe across threads and processes. Ids reaching a backend are already
    validated. Methods raise errors of ``prompt_sessions.errors``: ``SessionNotFound`` for an
    unknown id, ``CorruptSession`` for one that cannot be read, ``StorageError`` (or its
    ``ReadOnlyStore`` and ``LockTimeout``) when the store itself fails. Optional capabilities are
    the ``Supports*`` Protocols below; the manager asks for them with ``isinstance``.
    """

    name: str

    def create(self, session: Session) -> SessionSummary:
        """Write a new session (with any history it already has).

        Args:
            session: the session to write; its id is new.

        Returns:
            Its summary as the catalog now lists it.

        Raises:
            StorageError: the session could not be written; nothing was.
        """

    def list(self) -> builtins.list[SessionSummary]:
        """Summaries of every readable session, most recently updated first.

        Returns:
            The summaries; damaged sessions are left out and reported by ``problems()``.
        """

    def get(self, session_id: str) -> Session:
        """The full session.

        Raises:
            SessionNotFound: no session has that id.
            CorruptSession: it exists but cannot be read.
        """

    def append(self, session_id: str, message: Message) -> SessionSummary:
        """Durably add one message at the end.

        Returns:
            The session's new summary.

        Raises:
            SessionNotFound: no session has that id.
            StorageError: the message was not written.
        """

    def update(self, session_id: str, **fields: object) -> Session:
        """Change top-level fields (name, archived, pinned, tags, metadata).

        Returns:
            The session after the change.

        Raises:
            SessionNotFound: no session has that id.
        """

    def delete(self, session_id: str) -> None:
        """Remove a session for good.

        Raises:
            SessionNotFound: no session has that id.
        """

    def get_current(self, po_name: str) -> str | None:
        """The id of the PO's current session, if one was chosen."""

    def set_current(self, po_name: str, session_id: str | None) -> None:
        """Remember the PO's current session (None forgets it)."""

    def problems(self) -> dict[str, str]:
        """Damaged sessions seen by the last ``list``: id -> reason."""

    def check(self, repair: bool = False) -> HealthReport:
        """Read every session and rebuild the catalog (where the store can be written; one
        that cannot is checked by reading only).

        Args:
            repair: move damaged files aside (never deleting their bytes).

        Returns:
            What was found and fixed.

        Raises:
            ReadOnlyStore: ``repair`` on a store this process cannot write (see
                :func:`refuse_repair`); the built-in stores raise it before reading anything.
        """

    def flush(self) -> None:
        """Bring the at-rest files fully up to date (fold any pending catalog changes)."""

    def close(self) -> None:
        """Flush and release resources."""


def check_private(report: HealthReport, paths: list[Path], repair: bool) -> None:
    """Note in ``report`` every path more open than 0600 (files) / 0700 (folders); with
    ``repair``, tighten them (DESIGN section 4, "Private by default")."""
    from . import files

    for path in paths:
        found = files.loose_mode(path)
        if found is None:
            continue
        mode, wanted = found
        if repair and files.tighten([path]):
            report.fixed.append(f"made {path} private ({mode:04o} -> {wanted:04o})")
        else:
            report.loose.append(f"{path} is {mode:04o}, not {wanted:04o}")


def refuse_repair(where: Path) -> ReadOnlyStore:
    """The one-line error of ``doctor --repair`` on a store this process cannot write (a
    read-only mount, a folder made read-only): repairing writes, checking does not."""
    return ReadOnlyStore(
        f"cannot repair {where}: it cannot be written here (a read-only folder or mount); "
        "`prompt-sessions doctor` without --repair checks it by reading only"
    )


# ---------------------------------------------------------------- optional capabilities
# A backend has a capability when it has the method; ``isinstance(backend, SupportsFork)`` asks.


@runtime_checkable
class SupportsOpen(Protocol):
    """Work to do once when a manager opens the store (a JSON store folds a crashed journal)."""

    def open_store(self) -> None:
        """Tidy up after a crashed process if that is possible now; never required for reading."""


@runtime_checkable
class SupportsFork(Protocol):
    """A native fork, cheaper than reading and rewriting the history."""

    def fork(self, session_id: str, at: int, name: str) -> Session:
        """A new session with the first ``at`` messages of ``session_id``, its parent recorded.

        Args:
            session_id: the session to fork.
            at: how many messages to keep, 0 to ``len(history)``.
            name: the new session's (already cleaned) name.

        Returns:
            The new session.

        Raises:
            SessionNotFound: no session has that id.
            UsageError: ``at`` is out of range.
        """


class TrashedSession(msgspec.Struct, kw_only=True, gc=False):
    """A session in the trash (DESIGN section 14): its summary and when it was deleted.

    ``deleted_at`` is an ISO-8601 UTC time with ``Z``.
    """

    summary: SessionSummary
    deleted_at: str


@runtime_checkable
class SupportsTrash(Protocol):
    """Delete that keeps the session restorable (DESIGN section 4, "Nothing is deleted
    automatically", and section 14, "Trash"). Each call moves a session whole between the live
    store and the trash in one atomic step: a crash leaves it in exactly one of the two.

    Without this capability ``SessionManager.delete`` removes the session for good."""

    def trash(self, session_id: str) -> None:
        """Move a live session to the trash, out of ``list``, ``get`` and search.

        Raises:
            SessionNotFound: no live session has that id.
        """

    def trashed(self) -> builtins.list[TrashedSession]:
        """The sessions in the trash, most recently deleted first; unreadable ones left out
        (``check`` reports them)."""

    def restore(self, session_id: str) -> TrashedSession:
        """Bring a trashed session back exactly as it was deleted.

        Returns:
            The session's summary and when it had been deleted.

        Raises:
            SessionNotFound: the trash holds no session with that id.
            StorageError: a live session has that id already.
        """

    def purge(self, session_id: str) -> None:
        """Delete a trashed session for good.

        Raises:
            SessionNotFound: the trash holds no session with that id.
        """


@runtime_checkable
class SupportsTrashCopy(Protocol):
    """Reading and writing whole trashed sessions, so ``migrate`` copies a trash from one store
    to another unchanged (DESIGN section 13, ``migrate``; section 14, "Trash")."""

    def read_trashed(self, session_id: str) -> Session:
        """The whole trashed session, as ``get`` would have returned it before the delete.

        Raises:
            SessionNotFound: the trash holds no session with that id.
            CorruptSession: it cannot be read.
        """

    def put_trashed(self, session: Session, deleted_at: str) -> None:
        """Write ``session`` straight into the trash, deleted at ``deleted_at`` (ISO-8601 UTC
        with ``Z``; ``trashed`` reports it back to the millisecond). A live session of the same
        id is left alone.

        Raises:
            StorageError: the trash holds that id already (nothing written), or ``deleted_at``
                is not such a time.
        """


@runtime_checkable
class SupportsTrashUpdate(Protocol):
    """Changing a trashed session's own fields where it lies, so that ``po rename`` takes the
    trash along and ``restore`` brings a session back under the PO's new name (DESIGN section
    14). Without it ``po rename`` restores, updates and trashes such a session again, which
    resets its deletion time."""

    def update_trashed(self, session_id: str, **fields: Any) -> TrashedSession:
        """As ``update`` for a session in the trash, in one atomic step; its deletion time,
        messages and ``updated_at`` are kept.

        Returns:
            The session's new summary and when it had been deleted.

        Raises:
            SessionNotFound: the trash holds no session with that id.
            StorageError: a field sessions keep for life or do not have (nothing changed).
            ReadOnlyStore: a newer version wrote the session.
        """


def check_deleted_at(value: str) -> str:
    """``value`` when it is an ISO-8601 UTC time with ``Z`` (a trash's ``deleted_at``);
    StorageError otherwise, before anything is written."""
    if not isinstance(value, str) or not re.fullmatch(TIMESTAMP_PATTERN, value):
        raise StorageError(f"deleted_at must be an ISO-8601 UTC time with Z, not {value!r}")
    return value


@runtime_checkable
class SupportsKnownList(Protocol):
    """Listing from what the store already knows, without checking every session against it.

    For resolving what a person typed in a big store (DESIGN section 10: a write costs the
    same in a store of 20,000 sessions as in one of 100); ``list`` stays the call that finds
    changes made behind the program's back (DESIGN section 3, "Stale").
    """

    def list_known(self) -> builtins.list[SessionSummary]:
        """Every session the catalog holds, as the catalog holds it (any order).

        May miss a session file added, changed or removed by another program since the last
        ``list``; the caller falls back to ``list`` when what it looks for is not there.
        """


@runtime_checkable
class SupportsIdLookup(Protocol):
    """Finding sessions by id prefix without reading the whole catalog, so that resolving an id
    costs the same in a store of 20,000 sessions as in one of 100 (DESIGN section 10)."""

    def known_by_id_prefix(self, prefix: str) -> builtins.list[SessionSummary] | None:
        """The sessions the catalog holds whose id starts with ``prefix`` lowercased (``prefix``:
        hex digits of either case and dashes, as typed), as :meth:`SupportsKnownList.list_known`
        would list them.

        None when the store cannot tell cheaply and for sure (the caller then lists), and also
        when a session's name is exactly ``prefix``: the exact-name rule would pick it before
        any id (``resolve.resolve_ref``).
        """


@runtime_checkable
class SupportsNameLookup(Protocol):
    """Finding sessions by name without reading the whole catalog, so that naming a session
    costs the same in a store of 20,000 sessions as in one of 100 (DESIGN section 10)."""

    def known_by_name(self, name: str) -> builtins.list[SessionSummary] | None:
        """The sessions the catalog holds whose name is the same text as ``name`` (equal in
        Unicode normal form NFC, as ``resolve.resolve_ref``'s exact-name rule compares), of
        every PO, as :meth:`SupportsKnownList.list_known` would list them.

        None when the store cannot tell cheaply and for sure; the caller then lists.
        """


@runtime_checkable
class SupportsReplaceLast(Protocol):
    """Rewriting a session's last message in place, at a cost that does not grow with the
    history: the runtime checkpoints a streaming reply with it (DESIGN section 8), so a crash
    keeps the text shown up to the last checkpoint. Backends without it are not checkpointed."""

    def replace_last(self, session_id: str, message: Message, *, index: int) -> SessionSummary:
        """Durably put ``message`` in place of the session's last message, number ``index``.

        Atomic as ``append`` is: after a crash the session holds the old message, the new one,
        or (JSON store, a crash inside the rewrite) neither, every earlier message whole.

        Args:
            session_id: the session.
            index: the position of the message to replace (0-based); it must be the last.

        Returns:
            The session's new summary (same message count; preview, usage and ``updated_at``,
            which becomes ``message.created_at``, follow the new message).

        Raises:
            SessionNotFound: no session has that id.
            NotLastMessage: the session does not end with message ``index`` (another writer
                appended, or it has no messages); nothing was written.
            StorageError: the message was not written; the old one is kept.
        """


@runtime_checkable
class SupportsSearch(Protocol):
    """A backend that answers searches from its own index (DESIGN section 12). The manager uses
    it when present and otherwise indexes the backend's sessions in memory."""

    def search(
        self, query: Query, *, limit: int, progress: Callable[[int, int], None] | None = None
    ) -> builtins.list[SearchHit]:
        """Hits for a parsed query, best first, at most ``limit``, archived sessions included.

        Args:
            query: a parsed query (``search_query.parse``), the PO filter already applied.
            limit: at most this many hits (a positive int).
            progress: called as ``progress(done, total)`` while the index catches up.
        """


@runtime_checkable
class SupportsRawRead(Protocol):
    """A session's stored bytes, so that a search can skip sessions cheaply."""

    def read_raw(self, session_id: str) -> bytes:
        """The bytes at rest for the session.

        Raises:
            SessionNotFound: no session has that id.
            OSError: the bytes cannot be read.
        """


@runtime_checkable
class SupportsPaths(Protocol):
    """One file per session (the JSON store): ``show --path`` and the TUI can point at it."""

    def path_for(self, session_id: str) -> Path:
        """The session's file (it may not exist)."""


@runtime_checkable
class SingleFileStore(Protocol):
    """A store that is one database file (sqlite): the watcher follows that file."""

    db_path: Path


class ChangeWatcher(Protocol):
    """What a change feed hands the runtime: started in a running event loop, stopped by it."""

    @property
    def running(self) -> bool:
        """Whether the feed is started and not yet stopped."""

    def start(self) -> None:
        """Start following changes; called from a running event loop."""

    async def stop(self) -> None:
        """Stop following changes and release the feed's connection or thread."""


@runtime_checkable
class SupportsRecheck(Protocol):
    """Look again at sessions another program may have changed without the store noticing: a
    JSON session file edited in place moves no folder time (DESIGN section 3, "Stale")."""

    def recheck(self, session_ids: Collection[str] | None = None) -> None:
        """Correct the catalog entry of each of ``session_ids`` whose file changed since the
        entry was made (a stat per session when none did). Ids that are not sessions, files
        gone or damaged are left to the next ``list``; never raises for one of them.
        ``None``: every session, and files damaged, mended, added or removed are noted as
        a ``list`` that checks every file would."""


@runtime_checkable
class SupportsChanges(Protocol):
    """A change feed from the store itself (PostgreSQL's LISTEN/NOTIFY, DESIGN section 13).

    Backends without it are followed by watching their files (``runtime.watcher``).
    """

    def change_watcher(
        self, on_change: Callable[[], Awaitable[None]], debounce_ms: int = 100
    ) -> ChangeWatcher:
        """A watcher that awaits ``on_change()`` after other processes' changes commit, a burst
        of them gathered for ``debounce_ms`` milliseconds into one call."""
