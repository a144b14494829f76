"""The search language, case by case, as part of the backend conformance suite (DESIGN section 12).

:class:`SearchConformance` is a base of ``BackendConformance``: every backend runs these cases
through ``SessionManager.search``, whether it answers from its own index or the manager indexes
it in memory, so one query gives the same hits on every store.
"""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from ..errors import UsageError
from ..models import Message, Session, summarize
from ..search_query import QueryError
from ..storage.base import StorageBackend

# The corpus: four sessions whose keys the cases below name. A hit is (session key, message
# number), None for the name.
_DAY1, _DAY2 = "2025-01-03", "2025-01-04"


def _msg(text: str, role: str = "user", day: str = _DAY1, minute: int = 1) -> Message:
    return Message(role=role, content=text, created_at=f"{day}T10:{minute:02d}:00.000Z")  # type: ignore[arg-type]


def _session(po: str, name: str, day: str, *messages: Message, **fields: Any) -> Session:
    from ..ids import new_id

    return Session(
        id=new_id(),
        name=name,
        po_name=po,
        created_at=f"{day}T09:00:00.000Z",
        updated_at=messages[-1].created_at if messages else f"{day}T09:00:00.000Z",
        history=list(messages),
        **fields,
    )


def corpus() -> dict[str, Session]:
    """The sessions the language cases search."""
    chef = _session(
        "chef",
        "Crème Brûlée notes",
        _DAY1,
        _msg("How do I make a crème brûlée?"),
        _msg("Heat the cream, then caramelise the sugar.", "assistant", minute=2),
        _msg("今天我们讨论数据库迁移计划", minute=3),
        tags=["Cooking", 'grand"mere'],
    )
    deploy = _session(
        "ops",
        "Deploy checklist",
        _DAY1,
        _msg("config the server before the deploy", minute=4),
        _msg("The configuration file lives in /etc/app", "assistant", minute=5),
        _msg("deploy finished", "tool", minute=6),
        archived=True,
    )
    fork = _session(
        "ops",
        "Fork of deploy",
        _DAY2,
        _msg("ＣＯＮＦＩＧ again", day=_DAY2, minute=7),
        thread_type="fork",
        parent_id=deploy.id,
        parent_message_index=1,
        pinned=True,
    )
    helper = _session(
        "research",
        "Street names",
        _DAY1,
        _msg("Straße and STRASSE are one word", minute=8),
        thread_type="delegation",
    )
    return {"chef": chef, "deploy": deploy, "fork": fork, "helper": helper}


LANGUAGE_CASES: list[tuple[str, set[tuple[str, int | None]]]] = [
    # words: whole, any order, case and accents folded, NFKC (full-width letters)
    ("creme brulee", {("chef", None), ("chef", 0)}),
    ("BRÛLÉE crème", {("chef", None), ("chef", 0)}),
    ("config", {("deploy", 0), ("fork", 0)}),
    ("configuration", {("deploy", 1)}),
    ("config*", {("deploy", 0), ("deploy", 1), ("fork", 0)}),
    ("straße", {("helper", 0)}),
    ("strasse word", {("helper", 0)}),
    # CJK without spaces
    ("数据库", {("chef", 2)}),
    ("迁移计划", {("chef", 2)}),
    ("数据迁", set()),
    # phrases and exclusions
    ('"the deploy"', {("deploy", 0)}),
    ('"deploy the"', set()),
    ("deploy", {("deploy", None), ("deploy", 0), ("deploy", 2), ("fork", None)}),
    ("deploy -checklist", {("deploy", 0), ("deploy", 2), ("fork", None)}),
    ('deploy -"the server"', {("deploy", None), ("deploy", 2), ("fork", None)}),
    # filters
    ("deploy role:tool", {("deploy", 2)}),
    ("deploy role:user", {("deploy", 0)}),
    ("deploy role:user role:tool", {("deploy", 0), ("deploy", 2)}),
    ("deploy in:name", {("deploy", None), ("fork", None)}),
    ("deploy is:archived", {("deploy", None), ("deploy", 0), ("deploy", 2)}),
    ("deploy -is:archived", {("fork", None)}),
    ("deploy is:fork", {("fork", None)}),
    ("config is:pinned", {("fork", 0)}),
    ("strasse is:delegation", {("helper", 0)}),
    ("deploy po:ops -role:tool", {("deploy", None), ("deploy", 0), ("fork", None)}),
    ("deploy po:chef", set()),
    ("creme tag:cooking", {("chef", None), ("chef", 0)}),
    ("creme -tag:COOKING", set()),
    ('creme tag:"grand\\"mere"', {("chef", None), ("chef", 0)}),  # \" is a quote in quotes
    ("config after:2025-01-04", {("fork", 0)}),
    ("config before:2025-01-04", {("deploy", 0)}),
    ("absent", set()),
]

MALFORMED = [
    ('"unclosed phrase', "unclosed quote"),
    ("deploy colour:red", "unknown filter colour:"),
    ("deploy after:2025-13-01", "not a real date"),
    ("deploy after:yesterday", "not a date"),
    ("deploy role:robot", "role:robot is not known"),
    ("po:ops", "nothing to look for"),
    ("-deploy", "nothing to look for"),
]


class SearchConformance:
    """Search cases for every backend (mixed into ``BackendConformance``)."""

    @pytest.fixture
    def searchable(self, backend: StorageBackend) -> dict[str, Session]:
        sessions = corpus()
        for session in sessions.values():
            backend.create(session)
        return sessions

    @pytest.mark.parametrize(("query", "expected"), LANGUAGE_CASES)
    def test_search_language(
        self,
        manager: Any,
        searchable: dict[str, Session],
        query: str,
        expected: set[tuple[str, int | None]],
    ) -> None:
        """Each query of the language finds exactly the expected names and messages."""
        key_of = {s.id: key for key, s in searchable.items()}
        hits = manager.search(query)
        got = [(key_of[h.session.id], h.message_index) for h in hits]
        assert len(got) == len(set(got))
        assert set(got) == expected

    @pytest.mark.parametrize(("query", "reason"), MALFORMED)
    def test_malformed_query_is_a_usage_error(
        self, manager: Any, searchable: dict[str, Session], query: str, reason: str
    ) -> None:
        """A malformed query is refused with one line saying what is wrong."""
        with pytest.raises(QueryError, match=reason) as caught:
            manager.search(query)
        assert isinstance(caught.value, UsageError)
        assert "\n" not in str(caught.value)

    def test_search_hits_carry_summary_snippet_and_archived_mark(
        self, manager: Any, searchable: dict[str, Session]
    ) -> None:
        """Hits carry the current summary, the archived mark, and a snippet with the match
        highlighted; the JSON form has ``snippet`` and ``message_index`` (null for a name)."""
        hits = manager.search("deploy role:tool")
        (hit,) = hits
        assert hit.session == summarize(searchable["deploy"])
        assert hit.to_json()["archived"] is True
        assert hit.snippet == "deploy finished"
        assert [hit.snippet[a:b] for a, b in hit.spans] == ["deploy"]
        (name_hit,) = manager.search("brulee in:name")
        assert name_hit.to_json()["message_index"] is None
        assert name_hit.to_json()["archived"] is False
        assert [name_hit.snippet[a:b] for a, b in name_hit.spans] == ["Brûlée"]

    def test_search_ranks_best_first_and_limits(
        self, manager: Any, backend: StorageBackend
    ) -> None:
        """BM25: a short message full of the words ranks above a long one that mentions them
        once; ``limit`` keeps the best; equal scores come in message order."""
        filler = " ".join(f"word{i}" for i in range(200))
        weak = _session("po", "Weak", _DAY1, _msg(f"{filler} needle haystack {filler}"))
        strong = _session("po", "Strong", _DAY1, _msg("needle haystack needle"))
        backend.create(weak)
        backend.create(strong)
        hits = manager.search("haystack needle")
        assert [h.session.id for h in hits] == [strong.id, weak.id]
        assert [h.session.id for h in manager.search("needle", limit=1)] == [strong.id]
        long = hits[1].snippet
        assert long.startswith("…") and long.endswith("…") and "needle haystack" in long
        with pytest.raises(UsageError, match="limit"):
            manager.search("needle", limit=0)

    @pytest.mark.parametrize(
        ("query", "twice", "once"),
        [
            ('"ab ab"', "ab ab ab", "ab ab zz"),
            ('"éa éa"', "éa éa éa", "Éa éa zz"),
            ('"数据数据"', "数据数据数据", "数据数据猫狗"),
        ],
    )
    def test_overlapping_phrase_occurrences_all_count(
        self, manager: Any, backend: StorageBackend, query: str, twice: str, once: str
    ) -> None:
        """A phrase whose occurrences overlap ("ab ab" twice in "ab ab ab") counts each of them
        for BM25, as FTS5 does: of two equally long texts, the one holding it twice ranks above
        the one holding it once, although the other's session comes first in id order."""
        from ..ids import new_id

        low, high = sorted(new_id() for _ in range(2))
        backend.create(msgspec.structs.replace(_session("po", "Once", _DAY1, _msg(once)), id=low))
        backend.create(
            msgspec.structs.replace(_session("po", "Twice", _DAY1, _msg(twice)), id=high)
        )
        backend.create(_session("po", "Other", _DAY1, *(_msg(f"zz yy {i}") for i in range(6))))
        hits = manager.search(query)
        assert [(h.session.id, h.message_index) for h in hits] == [(high, 0), (low, 0)]

    def test_equal_scores_come_most_recent_first(
        self, manager: Any, backend: StorageBackend
    ) -> None:
        """Hits that rank equally (the same text in several places) come most recent first:
        the session updated last first, whatever its id, then within a session the later
        message first; ``limit`` keeps the most recent of them. Sessions updated at the same
        instant fall back to id order, so every store lists them alike."""
        from ..ids import new_id

        low, high, same_a, same_b = sorted(new_id() for _ in range(4))
        text = "walrus ahoy"

        def put(sid: str, name: str, day: str, minute: int, count: int = 1) -> None:
            messages = [_msg(text, day=day, minute=minute + k) for k in range(count)]
            backend.create(msgspec.structs.replace(_session("po", name, day, *messages), id=sid))

        put(high, "Newer", _DAY2, 1, count=2)  # the higher id, updated last
        put(low, "Older", _DAY1, 1, count=2)
        expected = [(high, 1), (high, 0), (low, 1), (low, 0)]
        assert [(h.session.id, h.message_index) for h in manager.search("walrus")] == expected
        filtered = manager.search("walrus po:po")  # the filtered path orders alike
        assert [(h.session.id, h.message_index) for h in filtered] == expected
        assert [(h.session.id, h.message_index) for h in manager.search("walrus", limit=1)] == [
            (high, 1)
        ]
        put(same_b, "Tie b", "2025-01-05", 1)
        put(same_a, "Tie a", "2025-01-05", 1)
        assert [h.session.id for h in manager.search("walrus", limit=2)] == [same_a, same_b]

    def test_search_follows_writes(self, manager: Any, backend: StorageBackend) -> None:
        """Appends, renames, archiving and deletes show in the next search at once."""
        session = manager.create("po", "Plain")
        assert manager.search("walrus") == []
        manager.append(session.id, Message(role="user", content="a walrus appears"))
        assert [h.message_index for h in manager.search("walrus")] == [0]
        manager.rename(session.id, "Walrus talk")
        assert [h.message_index for h in manager.search("walrus")] == [None, 0]
        manager.archive(session.id)
        assert [h.session.archived for h in manager.search("walrus")] == [True, True]
        assert manager.search("walrus -is:archived") == []
        manager.delete(session.id)
        assert manager.search("walrus") == []

    def test_doctor_finds_a_sound_index_sound_and_repair_keeps_the_hits(
        self, manager: Any, searchable: dict[str, Session]
    ) -> None:
        """The index is a cache (DESIGN section 12): on a store whose index is sound, with
        accents, CJK and symbols in its texts, ``doctor``'s full check reports nothing about
        it, and ``doctor --repair`` (which builds a store's own index again) leaves every hit
        of the language as it was."""
        from ..storage.search_health import KEY

        queries = ("deploy", "brulee", "数据库", "config*", "creme po:chef")

        def hits() -> list[list[tuple[str, int | None]]]:
            return [[(h.session.id, h.message_index) for h in manager.search(q)] for q in queries]

        before = hits()
        assert KEY not in manager.check().damaged
        assert KEY not in manager.check(repair=True).damaged
        assert hits() == before
        assert KEY not in manager.check().damaged
