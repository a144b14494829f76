"""The FTS5 index against a plain reference: for generated texts and queries, the index finds
exactly the texts in which every term occurs as whole words and no excluded term does."""

from __future__ import annotations

import sqlite3

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prompt_sessions.search_query import QueryError, parse
from prompt_sessions.search_text import Term, fold, tokens
from prompt_sessions.storage import search_index

_PIECES = [
    "ab",
    "abc",
    "b",
    "Ab",
    "ÁB",
    "é",
    "e",
    "数",
    "据",
    "库",
    "x1",
    "1",
    " ",
    " ",
    ".",
    "-",
    "ß",
    "ss",
]
_texts = st.lists(
    st.lists(st.sampled_from(_PIECES), max_size=12).map("".join), min_size=1, max_size=6
)
_queries = st.lists(
    st.sampled_from(
        ["ab", "abc", "b*", "ab*", "é", "E", "数据", '"ab b"', "-abc", "-b", "x1", "ss", "ß", "1"]
    ),
    min_size=1,
    max_size=3,
).map(" ".join)


def _occurs(term: Term, words: list[str]) -> bool:
    return any(term.matches_at(words, at) for at in range(len(words)))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_texts, _queries)
def test_index_agrees_with_the_reference(texts: list[str], text: str) -> None:
    """Every generated query finds, through FTS5, exactly the texts the reference finds, and
    asking for the best k gives the first k of the full ranking; the unranked first page finds
    the same texts, newest indexed first."""
    try:
        query = parse(text)
    except QueryError:
        return
    conn = sqlite3.connect(":memory:", isolation_level=None)
    search_index.create(conn)
    for i, body in enumerate(texts):
        search_index._add_doc(conn, f"s{i}", 0, "user", "2025-01-01T00:00:00Z", body)
    everything = list(search_index.query(conn, query))
    got = {r.session_id for r in everything}
    for k in (1, 2, 4):  # the fast path for the best k agrees with the full ranking
        assert list(search_index.query(conn, query, k)) == everything[:k]
    expected = set()
    for i, body in enumerate(texts):
        words = tokens(fold(body))
        if all(_occurs(t, words) for t in query.include) and not any(
            _occurs(t, words) for t in query.exclude
        ):
            expected.add(f"s{i}")
    assert got == expected
    # The explorer's first page finds the same docs, newest indexed first, cut at k.
    newest_first = sorted(expected, key=lambda sid: int(sid[1:]), reverse=True)
    assert [r.session_id for r in search_index.first_rows(conn, query, None)] == newest_first
    for k in (1, 2, 4):
        assert [r.session_id for r in search_index.first_rows(conn, query, k)] == newest_first[:k]


def test_equal_scores_at_the_cut_are_chosen_by_time_then_session_and_message() -> None:
    """Many docs with the same score: whatever order they were indexed in, the best ``n`` are
    the first by the session's ``updated_at`` (latest first), then session id, then message
    number (latest first), with or without filters."""
    from prompt_sessions.models import SessionSummary

    conn = sqlite3.connect(":memory:", isolation_level=None)
    search_index.create(conn)
    # s3 and s5 updated last, at the same instant; the others in id order from s0.
    updated = {
        f"s{k}": f"2025-01-0{1 + k if k not in (3, 5) else 9}T00:00:00.000Z" for k in range(7)
    }
    for sid, at in updated.items():
        search_index._put_head(
            conn,
            SessionSummary(
                id=sid, name="n", po_name="po", message_count=10, created_at=at, updated_at=at
            ),
        )
    order = [(f"s{k % 7}", k // 7) for k in range(70)]
    for sid, index in reversed(order):
        search_index._add_doc(conn, sid, index, "user", "2025-01-01T00:00:00Z", "same words")
    ranked = sorted(order, key=lambda p: (p[0], -p[1]))
    ranked.sort(key=lambda p: updated[p[0]], reverse=True)
    expected = ranked[:10]
    assert expected == [("s3", i) for i in range(9, -1, -1)]
    assert ranked[10:20] == [("s5", i) for i in range(9, -1, -1)]
    fast = [(r.session_id, r.message_index) for r in search_index.query(conn, parse("same"), 10)]
    assert fast == expected
    everything = [(r.session_id, r.message_index) for r in search_index.query(conn, parse("same"))]
    assert everything[:10] == expected and len(everything) == 70
    filtered = search_index.query(conn, parse("same po:po"), 10)
    assert [(r.session_id, r.message_index) for r in filtered] == expected
