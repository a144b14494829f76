"""What a storage backend provides. The conformance suite in ``prompt_sessions.testing`` checks it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from ..models import Message, Session, SessionSummary
from ..search import SearchHit
from ..search_query import Query


@dataclass
class HealthReport:
    """What ``doctor`` found: counts, damaged sessions and what was fixed."""

    sessions: int = 0
    damaged: dict[str, str] = field(default_factory=dict)
    fixed: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.damaged


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


@runtime_checkable
class SearchableBackend(Protocol):
    """A backend that answers searches from its own index (DESIGN section 12). The manager uses
    it when present and otherwise indexes the backend's sessions in memory."""

    def search(
        self, query: Query, *, limit: int, progress: Callable[[int, int], None] | None = None
    ) -> list[SearchHit]:
        """Hits for a parsed query, best first, at most ``limit``, archived sessions included."""
