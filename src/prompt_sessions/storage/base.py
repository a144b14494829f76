"""What a storage backend provides. The conformance suite in ``prompt_sessions.testing`` checks it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from ..models import Message, Session, SessionSummary
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
    ``repair`` tightens them and lists them in ``fixed``.
    """

    sessions: int = 0
    damaged: dict[str, str] = field(default_factory=dict)
    fixed: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    unreadable: dict[str, str] = field(default_factory=dict)
    newer: dict[str, str] = field(default_factory=dict)
    loose: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not (self.damaged or self.unreadable or self.loose)


@runtime_checkable
class StorageBackend(Protocol):
    """A store of sessions and their catalog. Every method is safe across threads and processes.

    Ids reaching a backend are already validated. Methods raise errors of ``prompt_sessions.errors``.
    """

    name: str

    def create(self, session: Session) -> SessionSummary:
        """Write a new session (with any history it already has)."""

    def list(self) -> list[SessionSummary]:
        """Summaries of every readable session, most recently updated first."""

    def get(self, session_id: str) -> Session:
        """The full session. SessionNotFound or CorruptSession."""

    def append(self, session_id: str, message: Message) -> SessionSummary:
        """Durably add one message at the end; returns the new summary."""

    def update(self, session_id: str, **fields: object) -> Session:
        """Change top-level fields (name, archived, pinned, tags, metadata)."""

    def delete(self, session_id: str) -> None:
        """Remove a session for good."""

    def get_current(self, po_name: str) -> str | None:
        """The id of the PO's current session, if one was chosen."""

    def set_current(self, po_name: str, session_id: str | None) -> None:
        """Remember the PO's current session."""

    def problems(self) -> dict[str, str]:
        """Damaged sessions seen by the last ``list``: id -> reason."""

    def check(self, repair: bool = False) -> HealthReport:
        """Read every session, rebuild the catalog; with ``repair``, move damaged files aside."""

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


@runtime_checkable
class SearchableBackend(Protocol):
    """A backend that answers searches from its own index (DESIGN section 12). The manager uses
    it when present and otherwise indexes the backend's sessions in memory."""

    def search(
        self, query: Query, *, limit: int, progress: Callable[[int, int], None] | None = None
    ) -> list[SearchHit]:
        """Hits for a parsed query, best first, at most ``limit``, archived sessions included."""
