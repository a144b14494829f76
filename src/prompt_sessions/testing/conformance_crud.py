"""Conformance, part one: ids, create, get, append, list and update on one store."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..errors import InvalidSessionId, SessionNotFound, StorageError
from ..ids import new_id
from ..models import Usage, summarize
from ..storage.base import StorageBackend
from .conformance_data import BAD_IDS, make_message, make_session, stamp


class CrudConformance:
    """Mixed into :class:`~prompt_sessions.testing.conformance.BackendConformance`."""

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

    def test_update_refuses_a_field_sessions_do_not_have(self, backend: StorageBackend) -> None:
        """update naming a field sessions do not have raises StorageError and changes nothing."""
        session = make_session(messages=[make_message("keep", 1)])
        backend.create(session)
        with pytest.raises(StorageError, match="no field 'colour'"):
            backend.update(session.id, name="Renamed", colour="blue")
        assert backend.get(session.id) == session

    def test_update_of_a_missing_session_fails(self, backend: StorageBackend) -> None:
        """update on an unknown id raises SessionNotFound."""
        with pytest.raises(SessionNotFound):
            backend.update(new_id(), name="nobody")
