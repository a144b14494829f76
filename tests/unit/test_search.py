"""Search helpers: snippets around a match, the cheap byte pre-filter, hits per message."""

from __future__ import annotations

import msgspec

from prompt_sessions.models import Message, Session, summarize
from prompt_sessions.search import SNIPPET_RADIUS, SearchHit, hits_in, raw_may_contain, snippet
from prompt_sessions.storage.session_codec import encode_session


def session(*contents: str, name: str = "Chat") -> Session:
    return Session(
        id="6f1c0e9a-3b7d-4c52-9a55-1f0d2b8e4c11",
        name=name,
        po_name="po",
        created_at="2025-01-01T00:00:00Z",
        updated_at="2025-01-01T00:00:00Z",
        history=[
            Message(role="user", content=c, created_at="2025-01-01T00:00:00Z") for c in contents
        ],
    )


def test_snippet_short_text_is_whole() -> None:
    """A short text is its own snippet, without ellipses."""
    assert snippet("find me here", 5, 2) == "find me here"


def test_snippet_marks_cut_ends_and_stays_bounded() -> None:
    """A snippet from a long text has the match, ellipses where cut, and bounded length."""
    text = "a" * 500 + " NEEDLE " + "b" * 500
    start = text.index("NEEDLE")
    piece = snippet(text, start, 6)
    assert "NEEDLE" in piece
    assert piece.startswith("…") and piece.endswith("…")
    assert len(piece) <= 2 * SNIPPET_RADIUS + 6 + 2


def test_snippet_flattens_whitespace() -> None:
    """Newlines and tabs in a snippet become single spaces."""
    assert snippet("line one\n\n\tline two", 0, 4) == "line one line two"


def test_hits_in_reports_name_and_every_matching_message() -> None:
    """Name matches have no message index; message matches carry theirs."""
    s = session("nothing", "the Alpha bit", "more ALPHA", name="alpha chat")
    hits = list(hits_in(s, summarize(s), "alpha"))
    assert [h.message_index for h in hits] == [None, 1, 2]
    assert hits[0].snippet == "alpha chat"
    assert "Alpha" in hits[1].snippet


def test_hits_in_is_limited_per_session() -> None:
    """One session contributes at most ``limit`` hits."""
    s = session(*["match"] * 50)
    assert len(list(hits_in(s, summarize(s), "match", limit=20))) == 20


def test_raw_prefilter_never_rejects_a_real_match() -> None:
    """The byte pre-filter keeps files with the text, including escaped and non-ASCII content."""
    s = session('she said "hi"\nthen left', "naïve café")
    raw = encode_session(s)
    assert raw_may_contain(raw, 'said "hi"')
    assert raw_may_contain(raw, "NAÏVE")
    assert raw_may_contain(raw, "CAFÉ")
    assert not raw_may_contain(raw, "absent")


def test_hit_json_shape() -> None:
    """A hit serialises as a session summary plus snippet and message_index (the CLI's --json)."""
    s = session("x marks")
    hit = SearchHit(session=summarize(s), message_index=0, snippet="x marks")
    data = hit.to_json()
    assert data["id"] == s.id and data["snippet"] == "x marks" and data["message_index"] == 0
    msgspec.json.encode(data)


def test_snippet_never_cuts_a_family_emoji() -> None:
    """The snippet's ends fall between graphemes: no family shows with fewer than four people."""
    family = "👨‍👩‍👧‍👦"
    for pad_left in range(0, 8):
        text = "x" * pad_left + family * 30 + " budget " + family * 30
        cut = snippet(text, text.index("budget"), len("budget"))
        inner = cut.strip("…").replace(family, "").replace("x", "")
        assert inner == " budget ", cut
