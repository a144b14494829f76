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

Optional capabilities (``search``, ``fork``) are checked through ``SessionManager``, which uses
them when a backend has them and falls back to its own code when not: either way the results must
be the same. ``replace_last`` (``SupportsReplaceLast``) has no fallback: its cases are in
:class:`ReplaceLastConformance`, which the test class of a backend declaring it adds.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from ..errors import (
    InvalidSessionId,
    NotLastMessage,
    ReadOnlyStore,
    SessionNotFound,
    StorageError,
    UsageError,
)
from ..hookspecs import hookimpl
from ..ids import new_id
from ..models import FORMAT_VERSION, Message, Session, Usage, summarize
from ..storage.base import StorageBackend, SupportsReplaceLast
from .search_conformance import SearchConformance

BackendFactory = Callable[[Path], StorageBackend]

BASE_DAY = "2025-01-03"
BAD_IDS = [
    "../../etc/passwd",
    "",
    "6F1C0E9A-3B7D-4C52-9A55-1F0D2B8E4C11",  # uppercase: ids are lowercase
    "6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11/../x",
    "6f1c0e9a3b7d4c529a551f0d2b8e4c11",
]


def stamp(minute: int, second: int = 0) -> str:
    """A fixed timestamp on the test day, so ordering never depends on the clock."""
    return f"{BASE_DAY}T{10 + minute // 60:02d}:{minute % 60:02d}:{second:02d}.000Z"


def make_message(text: str, minute: int = 1, second: int = 0, **fields: Any) -> Message:
    return Message(
        role=fields.pop("role", "user"), content=text, created_at=stamp(minute, second), **fields
    )


def make_session(
    po_name: str = "coordinator",
    name: str = "Debug task",
    *,
    minute: int = 0,
    messages: Iterable[Message] = (),
    **fields: Any,
) -> Session:
    history = list(messages)
    return Session(
        id=new_id(),
        name=name,
        po_name=po_name,
        created_at=stamp(minute),
        updated_at=history[-1].created_at if history else stamp(minute),
        history=history,
        **fields,
    )


def backend_factory_for(
    name: str, *, plugins: Iterable[object] = (), config: dict[str, Any] | None = None
) -> BackendFactory:
    """A factory that builds the backend registered as ``name``, as ``SessionManager.open`` does."""
    from ..config import check_config
    from ..plugins import PluginHost

    host = PluginHost.create(entry_points=False, plugins=plugins)
    factory = host.storage_factory(name)
    storage = check_config({"storage": {"backend": name, **(config or {})}}, host).storage
    return lambda root: factory(root, storage)


class BackendConformance(SearchConformance):
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

    # ------------------------------------------------------------------ empty store and ids

    def test_backend_has_a_name(self, backend: StorageBackend) -> None:
        """A backend names itself with one word, as users select it in config.toml."""
        assert (
            isinstance(backend.name, str)
            and backend.name
            and not any(c.isspace() for c in backend.name)
        )

    def test_empty_store_reads_as_empty(self, backend: StorageBackend, store_root: Path) -> None:
        """Reading a store that was never written lists nothing and creates no folder."""
        assert backend.list() == []
        assert backend.problems() == {}
        assert backend.get_current("coordinator") is None
        with pytest.raises(SessionNotFound):
            backend.get(new_id())
        assert not store_root.exists()

    @pytest.mark.parametrize("bad", BAD_IDS)
    def test_invalid_ids_are_refused(self, backend: StorageBackend, bad: str) -> None:
        """A string that is not a lowercase UUID never reaches storage, whatever the method."""
        backend.create(make_session())
        with pytest.raises(InvalidSessionId):
            backend.get(bad)
        with pytest.raises(InvalidSessionId):
            backend.append(bad, make_message("hi"))
        with pytest.raises(InvalidSessionId):
            backend.update(bad, name="x")
        with pytest.raises(InvalidSessionId):
            backend.delete(bad)
        with pytest.raises(InvalidSessionId):
            backend.set_current("coordinator", bad)
        assert len(backend.list()) == 1

    # ------------------------------------------------------------------ create and get

    def test_create_then_get_round_trips_every_field(self, backend: StorageBackend) -> None:
        """Every optional session and message field comes back exactly as written."""
        parent = new_id()
        messages = [
            make_message("Hello", 1),
            make_message(
                "Hi there!",
                2,
                role="assistant",
                model="echo",
                usage=Usage(input_tokens=3, output_tokens=2),
                from_po="helper",
                tool_calls=[{"name": "lookup", "args": {"q": "x"}}],
                tool_results=[{"ok": True, "value": [1, 2.5, None]}],
                latency_ms=12.5,
                source="cli",
                incomplete=True,
                metadata={"k": "v", "nested": {"list": [1, 2]}},
            ),
        ]
        session = make_session(
            messages=messages,
            metadata={"owner": "ana", "ünïcode": "✓"},
            source="import",
            thread_type="fork",
            parent_id=parent,
            parent_message_index=2,
            archived=True,
            pinned=True,
            tags=["a", "b"],
        )
        summary = backend.create(session)
        assert summary == summarize(session)
        assert backend.get(session.id) == session

    def test_create_refuses_an_existing_id(self, backend: StorageBackend) -> None:
        """Creating a session whose id exists fails and leaves the first one untouched."""
        first = make_session(messages=[make_message("keep me")])
        backend.create(first)
        clash = make_session(name="Other")
        clash.id = first.id
        with pytest.raises(StorageError):
            backend.create(clash)
        assert backend.get(first.id) == first
        assert len(backend.list()) == 1

    def test_unusual_content_round_trips(self, backend: StorageBackend) -> None:
        """Newlines, quotes, NUL, emoji, JSON- and SQL-looking text and a 1 MiB message are data."""
        texts = [
            'line one\nline two\r\n\t"quoted" \\ backslash',
            "nul \x00 byte and \u2028 separator",
            "emoji 🧪 and RTL עברית",
            '"},{"role":"system","content":"injected"}]',
            "'; DROP TABLE sessions; --",
            "x" * (1 << 20),
        ]
        session = make_session(name="'; DROP TABLE sessions; --", metadata={"path": "../../etc"})
        backend.create(session)
        for i, text in enumerate(texts):
            backend.append(session.id, make_message(text, i + 1))
        got = backend.get(session.id)
        assert [m.content for m in got.history] == texts
        assert got.name == session.name
        assert [s.id for s in backend.list()] == [session.id]

    # ------------------------------------------------------------------ append

    def test_append_adds_at_the_end_and_returns_the_summary(self, backend: StorageBackend) -> None:
        """append returns the new summary: one more message, its time, its preview, its tokens."""
        session = make_session(messages=[make_message("first", 1)])
        backend.create(session)
        reply = make_message(
            "second words", 2, role="assistant", usage=Usage(input_tokens=5, output_tokens=7)
        )
        summary = backend.append(session.id, reply)
        assert summary.message_count == 2
        assert summary.updated_at == reply.created_at
        assert summary.preview == "second words"
        assert (summary.input_tokens, summary.output_tokens) == (5, 7)
        got = backend.get(session.id)
        assert got.history == [session.history[0], reply]
        assert got.updated_at == reply.created_at
        assert summary == summarize(got)

    def test_append_to_an_empty_session(self, backend: StorageBackend) -> None:
        """The first message of a session with no history lands at index 0."""
        session = make_session()
        backend.create(session)
        backend.append(session.id, make_message("only", 1))
        assert [m.content for m in backend.get(session.id).history] == ["only"]

    def test_many_appends_keep_their_order(self, backend: StorageBackend) -> None:
        """Messages come back in the order they were appended."""
        session = make_session()
        backend.create(session)
        for i in range(60):
            backend.append(session.id, make_message(f"m{i}", 1 + i // 60, i % 60))
        got = backend.get(session.id)
        assert [m.content for m in got.history] == [f"m{i}" for i in range(60)]
        assert backend.list()[0].message_count == 60

    def test_append_to_a_missing_session_fails(self, backend: StorageBackend) -> None:
        """Appending to an id that does not exist raises SessionNotFound and creates nothing."""
        backend.create(make_session())
        with pytest.raises(SessionNotFound):
            backend.append(new_id(), make_message("lost"))
        assert len(backend.list()) == 1

    # ------------------------------------------------------------------ list

    def test_list_is_most_recently_updated_first(self, backend: StorageBackend) -> None:
        """list orders by updated_at, newest first, and an append moves a session to the front."""
        old = make_session(name="old", minute=1)
        mid = make_session(name="mid", minute=2)
        new = make_session(name="new", minute=3)
        for s in (mid, new, old):
            backend.create(s)
        assert [s.name for s in backend.list()] == ["new", "mid", "old"]
        backend.append(old.id, make_message("wake up", 10))
        assert [s.name for s in backend.list()] == ["old", "new", "mid"]

    def test_list_summaries_agree_with_the_sessions(self, backend: StorageBackend) -> None:
        """After mixed writes, every listed summary equals the summary of the full session."""
        a = make_session("alpha", "A", messages=[make_message("one", 1)])
        b = make_session("beta", "B", minute=2, tags=["t"])
        backend.create(a)
        backend.create(b)
        backend.append(
            a.id,
            make_message("two", 3, role="assistant", usage=Usage(input_tokens=1, output_tokens=4)),
        )
        backend.update(b.id, name="B renamed", pinned=True, tags=["x", "y"])
        backend.append(b.id, make_message("three " * 40, 4))
        backend.update(a.id, archived=True, metadata={"m": 1})
        listed = backend.list()
        assert {s.id for s in listed} == {a.id, b.id}
        for summary in listed:
            assert summary == summarize(backend.get(summary.id))

    # ------------------------------------------------------------------ update

    def test_update_changes_fields_everywhere(self, backend: StorageBackend) -> None:
        """update changes name, archived, pinned, tags, metadata in get and list; history stays."""
        session = make_session(messages=[make_message("keep", 1)])
        backend.create(session)
        changed = backend.update(
            session.id,
            name="Better name",
            archived=True,
            pinned=True,
            tags=["x"],
            metadata={"a": [1]},
        )
        for got in (changed, backend.get(session.id)):
            assert (got.name, got.archived, got.pinned, got.tags, got.metadata) == (
                "Better name",
                True,
                True,
                ["x"],
                {"a": [1]},
            )
            assert got.history == session.history
            assert got.created_at == session.created_at
        (summary,) = backend.list()
        assert (summary.name, summary.archived, summary.pinned, summary.tags) == (
            "Better name",
            True,
            True,
            ["x"],
        )

    @pytest.mark.parametrize("field", ["id", "history", "created_at", "format_version"])
    def test_update_refuses_fixed_fields(self, backend: StorageBackend, field: str) -> None:
        """A session's id, history, creation time and format cannot be changed by update."""
        session = make_session(messages=[make_message("keep", 1)])
        backend.create(session)
        values = {"id": new_id(), "history": [], "created_at": stamp(50), "format_version": 99}
        with pytest.raises(StorageError):
            backend.update(session.id, **{field: values[field]})
        assert backend.get(session.id) == session

    def test_update_of_a_missing_session_fails(self, backend: StorageBackend) -> None:
        """update on an unknown id raises SessionNotFound."""
        with pytest.raises(SessionNotFound):
            backend.update(new_id(), name="nobody")

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

    # ------------------------------------------------------------------ persistence and sharing

    def test_everything_survives_close_and_reopen(
        self, backend: StorageBackend, open_backend: Callable[..., StorageBackend]
    ) -> None:
        """Sessions, messages, field changes and current choices are all there after reopening."""
        s = make_session(messages=[make_message("one", 1)])
        backend.create(s)
        backend.append(s.id, make_message("two", 2))
        backend.update(s.id, name="Renamed", tags=["kept"])
        backend.set_current(s.po_name, s.id)
        before = backend.get(s.id)
        listed = backend.list()
        backend.close()
        again = open_backend()
        assert again.get(s.id) == before
        assert again.list() == listed
        assert again.get_current(s.po_name) == s.id

    def test_a_second_instance_sees_writes_at_once(
        self, backend: StorageBackend, open_backend: Callable[..., StorageBackend]
    ) -> None:
        """Two instances on one store (two processes) see each other's writes without closing."""
        other = open_backend()
        s = make_session()
        backend.create(s)
        backend.append(s.id, make_message("from one", 1))
        assert [m.content for m in other.get(s.id).history] == ["from one"]
        assert [x.id for x in other.list()] == [s.id]
        other.append(s.id, make_message("from two", 2))
        other.update(s.id, name="Named by two")
        assert [m.content for m in backend.get(s.id).history] == ["from one", "from two"]
        (summary,) = backend.list()
        assert (summary.name, summary.message_count) == ("Named by two", 2)
        other.delete(s.id)
        assert backend.list() == []

    def test_separate_folders_are_separate_stores(
        self, backend: StorageBackend, open_backend: Callable[..., StorageBackend], tmp_path: Path
    ) -> None:
        """A backend opened on another folder does not see this folder's sessions."""
        backend.create(make_session())
        elsewhere = open_backend(tmp_path / "elsewhere" / ".prompt_objects")
        assert elsewhere.list() == []

    def test_concurrent_appends_lose_nothing(
        self, backend: StorageBackend, open_backend: Callable[..., StorageBackend]
    ) -> None:
        """Four writers, each with its own instance, append to one session: every message lands
        once, and each writer's messages keep their order."""
        s = make_session()
        backend.create(s)
        writers = [open_backend() for _ in range(4)]
        errors: list[BaseException] = []

        def write(n: int, store: StorageBackend) -> None:
            try:
                for i in range(15):
                    store.append(s.id, make_message(f"w{n}-{i}", 1 + n, i))
            except BaseException as exc:  # collected: an assert in a thread would be lost
                errors.append(exc)

        threads = [threading.Thread(target=write, args=(n, w)) for n, w in enumerate(writers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        contents = [m.content for m in backend.get(s.id).history]
        assert sorted(contents) == sorted(f"w{n}-{i}" for n in range(4) for i in range(15))
        for n in range(4):
            mine = [c for c in contents if c.startswith(f"w{n}-")]
            assert mine == [f"w{n}-{i}" for i in range(15)]
        assert backend.list()[0].message_count == 60

    def test_concurrent_creates_are_all_listed(
        self, backend: StorageBackend, open_backend: Callable[..., StorageBackend]
    ) -> None:
        """Sessions created at once by several instances all appear in every instance's list."""
        writers = [open_backend() for _ in range(3)]
        made: list[str] = []
        errors: list[BaseException] = []
        lock = threading.Lock()

        def create(n: int, store: StorageBackend) -> None:
            try:
                for i in range(8):
                    s = make_session(name=f"s{n}-{i}", minute=n * 8 + i)
                    store.create(s)
                    with lock:
                        made.append(s.id)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=create, args=(n, w)) for n, w in enumerate(writers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        for store in [backend, *writers]:
            assert sorted(s.id for s in store.list()) == sorted(made)

    @pytest.mark.parametrize("seed", [1, 2, 3])
    def test_random_operations_agree_with_a_model(
        self, open_backend: Callable[..., StorageBackend], seed: int
    ) -> None:
        """A reproducible random mix of creates, appends, updates, deletes, current choices and
        reopenings leaves the store equal to a plain in-memory model after every step."""
        rng = random.Random(seed)
        clock = iter(range(1, 10_000))
        model: dict[str, Session] = {}
        current: dict[str, str] = {}
        store = open_backend()
        for _ in range(40):
            op = rng.choice(["create", "append", "append", "update", "delete", "current", "reopen"])
            sid = rng.choice(sorted(model)) if model else None
            if op == "create" or sid is None:
                n = next(clock)
                history = [
                    make_message(f"m{n}-{i}", n // 60, n % 60) for i in range(rng.randint(0, 2))
                ]
                s = make_session(rng.choice(["alpha", "beta"]), f"s{n}", minute=0, messages=history)
                s.created_at = s.updated_at = stamp(n // 60, n % 60)
                store.create(s)
                model[s.id] = s
            elif op == "append":
                n = next(clock)
                m = make_message(
                    f"a{n}", n // 60, n % 60, usage=Usage(input_tokens=n, output_tokens=1)
                )
                store.append(sid, m)
                model[sid].history.append(m)
                model[sid].updated_at = m.created_at
            elif op == "update":
                fields: dict[str, Any] = rng.choice(
                    [
                        {"name": f"renamed {next(clock)}"},
                        {"archived": True},
                        {"pinned": True},
                        {"tags": ["x"]},
                    ]
                )
                store.update(sid, **fields)
                model[sid] = msgspec.structs.replace(model[sid], **fields)
            elif op == "delete":
                store.delete(sid)
                del model[sid]
                current = {po: c for po, c in current.items() if c != sid}
            elif op == "current":
                store.set_current(model[sid].po_name, sid)
                current[model[sid].po_name] = sid
            else:
                store.close()
                store = open_backend()
            expected = sorted(model.values(), key=lambda x: x.updated_at, reverse=True)
            assert store.list() == [summarize(x) for x in expected]
            for x in expected:
                assert store.get(x.id) == x
            for po in ("alpha", "beta"):
                assert store.get_current(po) == current.get(po)

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
        """A session contributes at most 20 hits, the first ones in message order."""
        s = make_session(messages=[make_message(f"needle {i}", 1, i) for i in range(30)])
        backend.create(s)
        hits = manager.search("NEEDLE")
        assert [h.message_index for h in hits] == list(range(20))

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


class ReplaceLastConformance:
    """The cases of ``SupportsReplaceLast``. Add this class to the test class of a backend that
    declares it, beside :class:`BackendConformance` (whose fixtures it uses)::

        class TestMyBackend(BackendConformance, ReplaceLastConformance): ...

    ``BackendConformance`` fails for a backend that declares the capability without them.
    """

    def test_replace_last_rewrites_only_the_last_message(self, backend: Any) -> None:
        """The last message is replaced, every other one kept; the summary returned and listed
        follows the new message (preview, usage, updated_at) with the same count."""
        s = make_session(
            messages=[
                make_message("one", 1, usage=Usage(input_tokens=1, output_tokens=2)),
                make_message("draft", 2, role="assistant", incomplete=True),
            ]
        )
        backend.create(s)
        new = make_message(
            "the reply", 3, role="assistant", usage=Usage(input_tokens=5, output_tokens=7)
        )
        summary = backend.replace_last(s.id, new, index=1)
        got = backend.get(s.id)
        assert got.history == [s.history[0], new]
        assert got.updated_at == new.created_at
        assert summary == summarize(got)
        assert (summary.message_count, summary.preview) == (2, "the reply")
        assert (summary.input_tokens, summary.output_tokens) == (6, 9)
        assert [x for x in backend.list() if x.id == s.id] == [summary]

    def test_replace_last_again_and_again_keeps_one_message(self, backend: Any) -> None:
        """Rewriting the same last message many times, longer and shorter (a reply checkpointed
        as it streams, then a retry), leaves one message; appends go on after it."""
        s = make_session(messages=[make_message("ask", 1)])
        backend.create(s)
        backend.append(s.id, make_message("", 2, role="assistant", incomplete=True))
        sizes = [10, 5000, 70000, 3, 0, 200]
        for second, size in enumerate(sizes):
            text = "x" * size
            backend.replace_last(
                s.id, make_message(text, 3, second, role="assistant", incomplete=True), index=1
            )
            assert [m.content for m in backend.get(s.id).history] == ["ask", text]
        backend.append(s.id, make_message("next", 4))
        assert [m.content for m in backend.get(s.id).history] == ["ask", "x" * 200, "next"]
        assert [x for x in backend.list() if x.id == s.id] == [summarize(backend.get(s.id))]

    @pytest.mark.parametrize("index", [0, 2, -1])
    def test_replace_last_refuses_a_message_that_is_not_last(
        self, backend: Any, index: int
    ) -> None:
        """An index that is not the last message's (another writer appended, or a wrong one)
        is NotLastMessage, and nothing is written."""
        s = make_session(messages=[make_message("one", 1), make_message("two", 2)])
        backend.create(s)
        with pytest.raises(NotLastMessage):
            backend.replace_last(s.id, make_message("x", 3), index=index)
        assert backend.get(s.id) == s

    def test_replace_last_of_an_empty_or_missing_session(self, backend: Any) -> None:
        """A session without messages has no last one to replace; an unknown id is
        SessionNotFound."""
        s = make_session()
        backend.create(s)
        with pytest.raises(NotLastMessage):
            backend.replace_last(s.id, make_message("x", 3), index=0)
        assert backend.get(s.id) == s
        with pytest.raises(SessionNotFound):
            backend.replace_last(new_id(), make_message("x", 3), index=0)

    def test_replace_last_is_seen_by_a_second_instance_and_search(
        self,
        backend: Any,
        manager: Any,
        open_backend: Callable[..., StorageBackend],
    ) -> None:
        """Another instance (process) reads the new message and lists the new summary; search
        finds the new words and no longer the old ones, with or without an index built first."""
        s = make_session(messages=[make_message("ask", 1), make_message("zebra draft", 2)])
        backend.create(s)
        assert [h.message_index for h in manager.search("zebra")] == [1]
        summary = backend.replace_last(s.id, make_message("giraffe reply", 3), index=1)
        other = open_backend()
        assert other.get(s.id) == backend.get(s.id)
        assert [x for x in other.list() if x.id == s.id] == [summary]
        assert manager.search("zebra") == []
        assert [h.message_index for h in manager.search("giraffe")] == [1]
        backend.close()
        again = open_backend()
        assert [x for x in again.list() if x.id == s.id] == [summary]
