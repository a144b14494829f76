"""The storage backend conformance suite: what every backend must do, run unmodified on each.

Subclass :class:`BackendConformance` in a test module and provide a ``backend_factory`` fixture:
a callable that builds your backend for an environment folder. The same folder must give the
same store (tests reopen it, and open two instances at once as two processes would); different
folders must give separate stores::

    import pytest
    from prompt_sessions.testing.conformance import BackendConformance

    class TestMyBackend(BackendConformance):
        @pytest.fixture
        def backend_factory(self, tmp_path):
            return lambda root: MyBackend(root, {})

To test the backend exactly as users get it, through your plugin's registration, use
``backend_factory_for("my-backend", plugins=[my_plugin_module])``.

Optional capabilities (``search``, ``fork``, the trash) are checked through ``SessionManager``,
which uses them when a backend has them and falls back to its own code when not: either way the
results must be the same. ``replace_last`` (``SupportsReplaceLast``) has no fallback: its cases
are in :class:`ReplaceLastConformance`, which the test class of a backend declaring it adds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ..errors import (
    ReadOnlyStore,
    SessionNotFound,
    UsageError,
)
from ..hookspecs import hookimpl
from ..models import FORMAT_VERSION, Message, summarize
from ..storage.base import StorageBackend, SupportsReplaceLast
from .conformance_crud import CrudConformance
from .conformance_data import (
    BAD_IDS,
    BASE_DAY,
    BackendFactory,
    backend_factory_for,
    make_message,
    make_session,
    stamp,
)
from .conformance_sharing import SharingConformance
from .replace_last_conformance import ReplaceLastConformance
from .search_conformance import SearchConformance
from .trash_conformance import TrashConformance

__all__ = [
    "ReplaceLastConformance",
    "BAD_IDS",
    "BASE_DAY",
    "BackendConformance",
    "BackendFactory",
    "backend_factory_for",
    "make_message",
    "make_session",
    "stamp",
]


class BackendConformance(CrudConformance, SharingConformance, SearchConformance, TrashConformance):
    """The suite. Not collected by itself (no ``Test`` prefix); collected in each subclass."""

    # ------------------------------------------------------------------ fixtures

    @pytest.fixture
    def backend_factory(self) -> BackendFactory:
        """Override in the subclass: ``root -> backend``."""
        pytest.fail("subclass BackendConformance and provide a backend_factory fixture")

    @pytest.fixture
    def store_root(self, tmp_path: Path) -> Path:
        return tmp_path / ".prompt_objects"

    @pytest.fixture
    def open_backend(
        self, backend_factory: BackendFactory, store_root: Path
    ) -> Iterator[Callable[..., StorageBackend]]:
        """Open more instances on the store (as other processes would); all closed at the end."""
        opened: list[StorageBackend] = []

        def open_(root: Path | None = None) -> StorageBackend:
            backend = backend_factory(root or store_root)
            opened.append(backend)
            return backend

        yield open_
        for backend in opened:
            backend.close()

    @pytest.fixture
    def backend(self, open_backend: Callable[..., StorageBackend]) -> StorageBackend:
        return open_backend()

    @pytest.fixture
    def manager(self, backend: StorageBackend, store_root: Path) -> Any:
        from ..manager import SessionManager
        from ..plugins import PluginHost

        return SessionManager(store_root, backend, PluginHost.create(entry_points=False))

    # ------------------------------------------------------------------ delete

    def test_delete_removes_only_that_session(self, backend: StorageBackend) -> None:
        """A deleted session is gone from get and list; the others are untouched."""
        keep = make_session(name="keep", messages=[make_message("stay", 1)])
        drop = make_session(name="drop", messages=[make_message("go", 2)])
        backend.create(keep)
        backend.create(drop)
        backend.delete(drop.id)
        with pytest.raises(SessionNotFound):
            backend.get(drop.id)
        assert [s.id for s in backend.list()] == [keep.id]
        assert backend.get(keep.id) == keep
        with pytest.raises(SessionNotFound):
            backend.delete(drop.id)
        with pytest.raises(SessionNotFound):
            backend.append(drop.id, make_message("too late"))

    # ------------------------------------------------------------------ current session

    def test_current_session_is_remembered_per_po(self, backend: StorageBackend) -> None:
        """Each PO has its own current session; None clears it."""
        a = make_session("alpha")
        b = make_session("beta")
        backend.create(a)
        backend.create(b)
        assert backend.get_current("alpha") is None
        backend.set_current("alpha", a.id)
        backend.set_current("beta", b.id)
        assert (backend.get_current("alpha"), backend.get_current("beta")) == (a.id, b.id)
        backend.set_current("alpha", None)
        assert backend.get_current("alpha") is None
        assert backend.get_current("beta") == b.id

    def test_deleting_the_current_session_forgets_it(self, backend: StorageBackend) -> None:
        """After its current session is deleted, a PO has no current session."""
        s = make_session()
        backend.create(s)
        backend.set_current(s.po_name, s.id)
        backend.delete(s.id)
        assert backend.get_current(s.po_name) is None

    # ------------------------------------------------------------------ health and lifecycle

    def test_check_on_a_healthy_store(self, backend: StorageBackend) -> None:
        """check finds a healthy store healthy, counts its sessions, and repair changes nothing."""
        sessions = [
            make_session(name=f"s{i}", minute=i, messages=[make_message("m", 5 + i)])
            for i in range(3)
        ]
        for s in sessions:
            backend.create(s)
        report = backend.check()
        assert report.healthy and report.sessions == 3 and report.moved == []
        report = backend.check(repair=True)
        assert report.healthy and report.moved == []
        assert sorted(s.id for s in backend.list()) == sorted(s.id for s in sessions)
        for s in sessions:
            assert backend.get(s.id) == s

    def test_check_of_an_empty_store(self, backend: StorageBackend) -> None:
        """check on a store never written is healthy with no sessions."""
        report = backend.check()
        assert report.healthy and report.sessions == 0

    # ------------------------------------------------------------------ versions

    def test_a_newer_session_reads_but_never_changes(
        self, backend: StorageBackend, open_backend: Callable[..., StorageBackend]
    ) -> None:
        """A session written by a newer version (a higher ``format_version``) reads normally,
        and every change to it (append, update, delete) is refused with a ReadOnlyStore error
        naming its version; it stays exactly as it was, also through check(repair=True), which
        reports it as newer rather than damaged (DESIGN section 4, "Versioned")."""
        newer = make_session(name="from the future", messages=[make_message("kept", 1)])
        newer.format_version = FORMAT_VERSION + 1
        plain = make_session(name="ours", minute=2)
        backend.create(newer)
        backend.create(plain)
        assert backend.get(newer.id) == newer
        attempts: list[Callable[[], object]] = [
            lambda: backend.append(newer.id, make_message("no", 3)),
            lambda: backend.update(newer.id, name="renamed"),
            lambda: backend.update(newer.id, archived=True),
            lambda: backend.delete(newer.id),
        ]
        for attempt in attempts:
            with pytest.raises(ReadOnlyStore, match=f"format_version {FORMAT_VERSION + 1}"):
                attempt()
        backend.append(plain.id, make_message("still writable", 4))  # the rest of the store
        report = backend.check(repair=True)
        assert newer.id in report.newer and newer.id not in report.damaged
        assert report.moved == []
        for store in (backend, open_backend()):
            assert store.get(newer.id) == newer
            assert newer.id in {s.id for s in store.list()}

    def test_flush_and_close_are_safe_to_repeat(
        self, backend: StorageBackend, open_backend: Callable[..., StorageBackend]
    ) -> None:
        """flush and close may be called any number of times, on an empty store or a full one."""
        backend.flush()
        s = make_session(messages=[make_message("x", 1)])
        backend.create(s)
        backend.flush()
        backend.flush()
        backend.close()
        backend.close()
        assert open_backend().get(s.id) == s

    # ------------------------------------------------------------------ through the manager

    def test_fork_through_the_manager(self, manager: Any, backend: StorageBackend) -> None:
        """A fork holds history[:at], records its parent, copies metadata; the source is kept."""
        source = make_session(
            messages=[make_message(f"m{i}", 1 + i) for i in range(4)], metadata={"k": 1}, tags=["t"]
        )
        backend.create(source)
        fork = manager.fork(source.id, at=2, name="Fork here")
        got = backend.get(fork.id)
        assert got == fork
        assert [m.content for m in got.history] == ["m0", "m1"]
        assert (got.name, got.po_name, got.thread_type) == ("Fork here", source.po_name, "fork")
        assert (got.parent_id, got.parent_message_index) == (source.id, 2)
        assert (got.metadata, got.tags) == ({"k": 1}, ["t"])
        assert got.id != source.id
        assert backend.get(source.id) == source
        empty = manager.fork(source.id, at=0)
        assert backend.get(empty.id).history == []
        assert {s.id for s in backend.list()} == {source.id, fork.id, empty.id}
        for summary in backend.list():
            assert summary == summarize(backend.get(summary.id))

    def test_search_through_the_manager(self, manager: Any, backend: StorageBackend) -> None:
        """Search ignores case (non-ASCII too), matches names and messages, filters by PO,
        includes archived sessions, and gives snippets of the original text."""
        older = make_session(
            "alpha", "Plan", minute=1, archived=True, messages=[make_message("Grüße aus KÖLN", 2)]
        )
        newer = make_session(
            "beta",
            "Köln trip",
            minute=3,
            messages=[make_message("nothing here", 4), make_message("back to köln later", 5)],
        )
        other = make_session("alpha", "Unrelated", minute=6, messages=[make_message("no match", 7)])
        for s in (older, newer, other):
            backend.create(s)
        hits = manager.search("kÖln")
        assert {(h.session.id, h.message_index) for h in hits} == {
            (newer.id, None),
            (newer.id, 1),
            (older.id, 0),
        }
        assert hits[0].snippet == "Köln trip"  # the short name is the best match
        by_place = {(h.session.id, h.message_index): h for h in hits}
        assert by_place[(newer.id, 1)].snippet == "back to köln later"
        assert by_place[(older.id, 0)].snippet == "Grüße aus KÖLN"
        assert by_place[(older.id, 0)].session.archived
        assert by_place[(newer.id, 1)].session == summarize(newer)
        assert [
            (h.session.id, h.message_index) for h in manager.search("köln", po_name="alpha")
        ] == [(older.id, 0)]
        assert len(manager.search("köln", limit=2)) == 2
        assert manager.search("absent words") == []

    def test_search_caps_hits_per_session(self, manager: Any, backend: StorageBackend) -> None:
        """A session contributes at most 20 hits; of equal scores, the 20 latest messages,
        the latest first."""
        s = make_session(messages=[make_message(f"needle {i}", 1, i) for i in range(30)])
        backend.create(s)
        hits = manager.search("NEEDLE")
        assert [h.message_index for h in hits] == list(range(29, 9, -1))

    # ------------------------------------------------------------------ replace_last
    # The optional SupportsReplaceLast capability, with which the runtime checkpoints a streaming
    # reply (DESIGN section 8), has its own cases in ReplaceLastConformance below.

    def test_replace_last_through_the_manager(self, manager: Any, backend: StorageBackend) -> None:
        """With the capability the manager replaces the last message and plugins hear of it
        as of a message added; without it the manager refuses and nothing changes."""
        s = make_session(messages=[make_message("ask", 1), make_message("draft", 2)])
        backend.create(s)
        heard: list[str] = []

        class Listener:
            @hookimpl
            def message_appended(self, session_id: str, message: Message, manager: Any) -> None:
                heard.append(message.content)

        manager.host.register(Listener())
        final = make_message("final", 3, role="assistant")
        if isinstance(backend, SupportsReplaceLast):
            assert isinstance(self, ReplaceLastConformance), (
                f"the {backend.name} backend declares SupportsReplaceLast: add "
                "ReplaceLastConformance to its test class, beside BackendConformance"
            )
            manager.replace_last(s.id, final, index=1)
            assert [m.content for m in backend.get(s.id).history] == ["ask", "final"]
            assert heard == ["final"]
        else:
            with pytest.raises(UsageError):
                manager.replace_last(s.id, final, index=1)
            assert backend.get(s.id) == s
            assert heard == []
