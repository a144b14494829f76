"""Rewind without loss, case by case, for the backend conformance suite (DESIGN section 14).

Add :class:`RewindConformance` to a backend's conformance test class next to
``BackendConformance`` (it uses the same ``backend`` and ``manager`` fixtures): every backend
must rewind and undo through the manager without losing a message. A backend that declares
:class:`~prompt_sessions.storage.rewrite.SupportsRewrite` adds :class:`RewriteConformance`: it
must cut histories atomically and refuse a stale count.
"""

from __future__ import annotations

from typing import Any

import pytest

from ..errors import UsageError
from ..ids import new_id
from ..models import Message, Session, summarize
from ..storage.base import StorageBackend
from ..storage.rewrite import HistoryChanged, SupportsRewrite


def _session(*texts: str) -> Session:
    history = [
        Message(role="user", content=t, created_at=f"2025-01-03T10:{i:02d}:00.000Z")
        for i, t in enumerate(texts, 1)
    ]
    return Session(
        id=new_id(),
        name="Rewound",
        po_name="coordinator",
        created_at="2025-01-03T10:00:00.000Z",
        updated_at=history[-1].created_at if history else "2025-01-03T10:00:00.000Z",
        history=history,
        tags=["kept"],
    )


def _listed(backend: StorageBackend, sid: str) -> Any:
    return next(s for s in backend.list() if s.id == sid)


class RewindConformance:
    """Rewind cases; ``backend`` and ``manager`` fixtures come from ``BackendConformance``."""

    def test_rewind_keeps_every_message(self, manager: Any, backend: StorageBackend) -> None:
        """The session ends at N, the fork holds all of it with the branch point, both summaries
        equal the sessions they describe."""
        s = _session("alpha one", "beta two", "gamma three")
        backend.create(s)
        done = manager.rewind(s.id, 1)
        cut, fork = backend.get(s.id), backend.get(done.kept.id)
        assert [m.content for m in cut.history] == ["alpha one"]
        assert [m.content for m in fork.history] == ["alpha one", "beta two", "gamma three"]
        assert (fork.parent_id, fork.parent_message_index, fork.thread_type) == (s.id, 1, "fork")
        assert cut.tags == ["kept"] and cut.created_at == s.created_at
        for session in (cut, fork):
            assert _listed(backend, session.id) == summarize(session)

    def test_search_follows_the_cut(self, manager: Any, backend: StorageBackend) -> None:
        """Words cut from the session are found only in the fork."""
        s = _session("alpha one", "zebra crossing")
        backend.create(s)
        assert [h.session.id for h in manager.search("zebra")] == [s.id]
        done = manager.rewind(s.id, 1)
        assert [h.session.id for h in manager.search("zebra")] == [done.kept.id]

    def test_undo_gives_the_history_back(self, manager: Any, backend: StorageBackend) -> None:
        """Undo restores the messages exactly and leaves one session."""
        s = _session("one", "two", "three")
        backend.create(s)
        manager.rewind(s.id, 0)
        manager.undo_rewind(s.id)
        assert backend.get(s.id).history == s.history
        assert [x.id for x in backend.list()] == [s.id]


class RewriteConformance:
    """The cases of :class:`~prompt_sessions.storage.rewrite.SupportsRewrite`, for a backend
    that declares it; the ``backend`` fixture comes from ``BackendConformance``."""

    def test_rewrite_refuses_a_stale_count(self, backend: StorageBackend) -> None:
        """``rewrite_history`` writes nothing when the count differs or the cut is out of range."""
        assert isinstance(backend, SupportsRewrite)
        s = _session("one", "two")
        backend.create(s)
        with pytest.raises(HistoryChanged):
            backend.rewrite_history(s.id, 1, (), expect=3)
        with pytest.raises(UsageError):
            backend.rewrite_history(s.id, 3, (), expect=2)
        assert backend.get(s.id).history == s.history

    def test_rewrite_adds_a_tail(self, backend: StorageBackend) -> None:
        """The tail follows the kept messages and later appends follow the tail."""
        assert isinstance(backend, SupportsRewrite)
        s = _session("one", "two", "three")
        backend.create(s)
        tail = [Message(role="user", content="new", created_at="2025-01-03T11:00:00.000Z")]
        backend.rewrite_history(s.id, 1, tail, expect=3)
        backend.append(s.id, Message(role="assistant", content="after"))
        got = backend.get(s.id)
        assert [m.content for m in got.history] == ["one", "new", "after"]
        assert _listed(backend, s.id) == summarize(got)
