"""The trash, case by case, as part of the backend conformance suite (DESIGN sections 4 and 14).

:class:`TrashConformance` is a base of ``BackendConformance``. A backend that declares
:class:`~prompt_sessions.storage.base.SupportsTrash` must move sessions to its trash and back
unchanged; one that does not must still delete through ``SessionManager`` (for good) and show an
empty trash, so third-party backends written before the trash keep working.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest

from ..errors import SessionNotFound, StorageError
from ..ids import new_id
from ..models import Message, Session, summarize
from ..storage.base import StorageBackend, SupportsTrash, SupportsTrashCopy, SupportsTrashUpdate


def _session(name: str, *texts: str) -> Session:
    history = [
        Message(role="user", content=t, created_at=f"2025-01-03T10:{i:02d}:00.000Z")
        for i, t in enumerate(texts, 1)
    ]
    return Session(
        id=new_id(),
        name=name,
        po_name="coordinator",
        created_at="2025-01-03T10:00:00.000Z",
        updated_at=history[-1].created_at if history else "2025-01-03T10:00:00.000Z",
        history=history,
        tags=["kept"],
    )


class TrashConformance:
    """Trash cases; the ``backend``, ``manager`` and ``open_backend`` fixtures come from
    ``BackendConformance``."""

    def test_delete_without_a_trash_is_for_good(
        self, manager: Any, backend: StorageBackend
    ) -> None:
        """A backend without a trash still deletes through the manager, and its trash reads as
        empty; one with a trash keeps the deleted session there."""
        s = _session("Gone", "bye")
        backend.create(s)
        manager.delete(s.id)
        with pytest.raises(SessionNotFound):
            backend.get(s.id)
        trashed = [e.summary.id for e in manager.trashed()]
        assert trashed == ([s.id] if isinstance(backend, SupportsTrash) else [])

    def test_trash_hides_a_session_everywhere(self, manager: Any, backend: StorageBackend) -> None:
        """A trashed session leaves get, list, search and its PO's current choice; the others
        stay; the trash lists it with its summary and the time it was deleted."""
        if not isinstance(backend, SupportsTrash):
            assert manager.trashed() == []
            return
        keep = _session("Keep walrus", "stay")
        drop = _session("Drop walrus", "go walrus")
        backend.create(keep)
        backend.create(drop)
        backend.set_current(drop.po_name, drop.id)
        backend.trash(drop.id)
        with pytest.raises(SessionNotFound):
            backend.get(drop.id)
        assert [s.id for s in backend.list()] == [keep.id]
        assert {h.session.id for h in manager.search("walrus")} == {keep.id}
        assert backend.get_current(drop.po_name) is None
        (entry,) = backend.trashed()
        assert entry.summary == summarize(drop)
        assert entry.deleted_at.endswith("Z") and entry.deleted_at >= "2025"
        with pytest.raises(SessionNotFound):
            backend.trash(drop.id)
        with pytest.raises(SessionNotFound):
            backend.append(drop.id, Message(role="user", content="too late"))

    def test_restore_brings_back_the_same_session(
        self, manager: Any, backend: StorageBackend
    ) -> None:
        """A restored session equals the one deleted, is listed and found again, and leaves the
        trash."""
        if not isinstance(backend, SupportsTrash):
            assert manager.trashed() == []
            return
        s = _session("Walrus plan", "one walrus", "two")
        backend.create(s)
        before, listed = backend.get(s.id), backend.list()
        backend.trash(s.id)
        entry = backend.restore(s.id)
        assert entry.summary == summarize(before)
        assert backend.get(s.id) == before
        assert backend.list() == listed
        assert backend.trashed() == []
        assert {(h.session.id, h.message_index) for h in manager.search("walrus")} == {
            (s.id, None),
            (s.id, 0),
        }
        backend.append(s.id, Message(role="user", content="after"))
        assert [m.content for m in backend.get(s.id).history] == ["one walrus", "two", "after"]

    def test_unknown_ids_and_conflicts_are_refused(self, backend: StorageBackend) -> None:
        """restore and purge of an id the trash does not hold raise SessionNotFound; restoring
        over a live session of the same id is refused and keeps both."""
        if not isinstance(backend, SupportsTrash):
            return
        missing = new_id()
        for call in (backend.trash, backend.restore, backend.purge):
            with pytest.raises(SessionNotFound):
                call(missing)
        s = _session("Twice", "x")
        backend.create(s)
        backend.trash(s.id)
        backend.create(s)  # the same id again, live
        with pytest.raises(StorageError):
            backend.restore(s.id)
        assert backend.get(s.id) == s
        assert [e.summary.id for e in backend.trashed()] == [s.id]

    def test_purge_deletes_for_good(self, backend: StorageBackend) -> None:
        """A purged session is in neither the store nor the trash; others stay trashed."""
        if not isinstance(backend, SupportsTrash):
            return
        a, b = _session("A", "a"), _session("B", "b")
        backend.create(a)
        backend.create(b)
        backend.trash(a.id)
        backend.trash(b.id)
        backend.purge(a.id)
        assert [e.summary.id for e in backend.trashed()] == [b.id]
        with pytest.raises(SessionNotFound):
            backend.restore(a.id)
        with pytest.raises(SessionNotFound):
            backend.get(a.id)
        assert backend.restore(b.id).summary.id == b.id

    def test_the_trash_is_shared_and_persistent(
        self, backend: StorageBackend, open_backend: Callable[..., StorageBackend]
    ) -> None:
        """A second instance sees the trash at once, and it survives close and reopen."""
        if not isinstance(backend, SupportsTrash):
            return
        s = _session("Shared", "x")
        backend.create(s)
        other = open_backend()
        backend.trash(s.id)
        assert isinstance(other, SupportsTrash)
        assert [e.summary.id for e in other.trashed()] == [s.id]
        backend.close()
        again = open_backend()
        assert isinstance(again, SupportsTrash)
        assert again.restore(s.id).summary.id == s.id
        assert other.get(s.id) == s

    def test_a_trash_copies_whole_between_stores(
        self,
        backend: StorageBackend,
        open_backend: Callable[..., StorageBackend],
        tmp_path: Path,
    ) -> None:
        """read_trashed gives the deleted session back equal to what get gave; put_trashed
        writes one straight into the trash with its deletion time kept to the millisecond,
        beside a live session of the same id; a second put of that id and a bad time are
        refused with nothing written."""
        if not isinstance(backend, SupportsTrashCopy):
            return
        assert isinstance(backend, SupportsTrash)
        s = _session("Copied ünïcode walrus", "one", "two ✓")
        backend.create(s)
        before = backend.get(s.id)
        backend.trash(s.id)
        assert backend.read_trashed(s.id) == before
        with pytest.raises(SessionNotFound):
            backend.read_trashed(new_id())
        other = open_backend(tmp_path / "elsewhere")
        assert isinstance(other, SupportsTrashCopy) and isinstance(other, SupportsTrash)
        other.create(s)  # a live session of the same id stays as it is
        other.put_trashed(before, "2024-02-29T23:59:59.999Z")
        (entry,) = other.trashed()
        assert entry.deleted_at == "2024-02-29T23:59:59.999Z"
        assert entry.summary == summarize(before)
        assert other.read_trashed(s.id) == before
        assert other.get(s.id) == s
        with pytest.raises(StorageError):
            other.put_trashed(before, "2025-01-01T00:00:00.000Z")
        late = _session("Late", "x")
        with pytest.raises(StorageError):
            other.put_trashed(late, "yesterday")
        assert [e.summary.id for e in other.trashed()] == [s.id]
        other.purge(s.id)
        assert other.trashed() == []

    def test_po_rename_takes_the_trash_along(self, manager: Any, backend: StorageBackend) -> None:
        """``po rename`` gives the trashed sessions of the PO the new name too, their deletion
        time and messages unchanged, so ``restore`` brings them back under the new name; the
        trash of other POs is left alone (DESIGN section 14)."""
        if not isinstance(backend, SupportsTrash):
            return
        live, gone, other = _session("Live", "a"), _session("Gone", "b", "c"), _session("O", "d")
        other.po_name = "keep"
        for s in (live, gone, other):
            backend.create(s)
        backend.trash(gone.id)
        backend.trash(other.id)
        when = {e.summary.id: e.deleted_at for e in backend.trashed()}
        report = manager.rename_po("coordinator", "renamed")
        assert [s.id for s in report.sessions] == [live.id]
        assert [s.id for s in report.trashed] == [gone.id]
        assert report.trashed[0].po_name == "renamed"
        entries = {e.summary.id: e for e in backend.trashed()}
        assert entries[gone.id].summary.po_name == "renamed"
        assert entries[other.id].summary.po_name == "keep"
        if isinstance(backend, SupportsTrashUpdate):  # moved where it lies
            assert {i: e.deleted_at for i, e in entries.items()} == when
        backend.restore(gone.id)
        back = backend.get(gone.id)
        assert back.po_name == "renamed" and back.history == gone.history
        assert back.updated_at == gone.updated_at
        assert {s.id for s in manager.list("renamed")} == {live.id, gone.id}
        assert manager.list("coordinator") == []

    def test_update_trashed_changes_fields_where_the_session_lies(
        self, backend: StorageBackend
    ) -> None:
        """``update_trashed`` changes a trashed session's fields in place, its deletion time,
        messages and ``updated_at`` kept; an id the trash does not hold and a field kept for
        life are refused, with nothing changed."""
        if not isinstance(backend, SupportsTrashUpdate):
            return
        assert isinstance(backend, SupportsTrash)
        s = _session("Trashed", "x", "y")
        backend.create(s)
        backend.trash(s.id)
        (before,) = backend.trashed()
        entry = backend.update_trashed(s.id, po_name="elsewhere")
        assert entry.summary.po_name == "elsewhere" and entry.deleted_at == before.deleted_at
        assert backend.trashed() == [entry]
        with pytest.raises(SessionNotFound):
            backend.update_trashed(new_id(), po_name="x")
        with pytest.raises(StorageError):
            backend.update_trashed(s.id, id=new_id())
        assert backend.trashed() == [entry]
        backend.restore(s.id)
        assert backend.get(s.id) == msgspec.structs.replace(s, po_name="elsewhere")
