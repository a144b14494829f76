"""Search hits: snippets around the best match, highlighted spans, the JSON shape."""

from __future__ import annotations

import msgspec

from prompt_sessions.models import Message, Session, summarize
from prompt_sessions.search import SNIPPET_RADIUS, SearchHit, snippet, snippet_for
from prompt_sessions.search_query import parse


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


def test_snippet_for_centres_on_the_best_match_and_gives_spans() -> None:
    """The snippet is taken around the place where most query terms meet, and its spans cover
    each match as written in the original text (accents and case kept)."""
    text = "Crème early on. " + "filler " * 40 + "then crème brûlée together" + " tail" * 40
    terms = parse("creme brulee").include
    shown, spans = snippet_for(text, terms)
    assert "crème brûlée together" in shown
    assert shown.startswith("…") and shown.endswith("…")
    assert [shown[a:b] for a, b in spans] == ["crème", "brûlée"]


def test_snippet_for_never_cuts_a_word_into_a_false_match() -> None:
    """A window edge inside a longer word is widened to the whole word, so ``config`` is not
    highlighted in what was ``configuration``."""
    text = "x " * 30 + "config " + "y" * 45 + "configuration"
    shown, spans = snippet_for(text, parse("config").include)
    assert [shown[a:b] for a, b in spans] == ["config"]


def test_hit_json_shape() -> None:
    """A hit serialises as a session summary plus snippet, message_index and archived (the
    CLI's --json), with archived present even when false."""
    s = session("x marks")
    hit = SearchHit(session=summarize(s), message_index=0, snippet="x marks")
    data = hit.to_json()
    assert data["id"] == s.id and data["snippet"] == "x marks" and data["message_index"] == 0
    assert data["archived"] is False and "spans" not in data
    msgspec.json.encode(data)


def test_snippet_never_cuts_a_family_emoji() -> None:
    """The snippet's ends fall between graphemes: no family shows with fewer than four people."""
    family = "👨‍👩‍👧‍👦"
    for pad_left in range(0, 8):
        text = "x" * pad_left + family * 30 + " budget " + family * 30
        cut = snippet(text, text.index("budget"), len("budget"))
        inner = cut.strip("…").replace(family, "").replace("x", "")
        assert inner == " budget ", cut
