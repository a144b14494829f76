"""The cases of the optional ``SupportsReplaceLast`` capability (DESIGN section 4): the last
message rewritten in place, as the runtime checkpoints a streaming reply. A backend declaring
the capability adds :class:`ReplaceLastConformance` to its conformance test class."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ..errors import NotLastMessage, SessionNotFound
from ..ids import new_id
from ..models import Usage, summarize
from ..storage.base import StorageBackend
from .conformance_data import make_message, make_session


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
