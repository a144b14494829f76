"""Content and name search across sessions, with a snippet around each match."""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from .cells import boundary
from .models import Session, SessionSummary
from .text import find_folded, fold

SNIPPET_RADIUS = 40


class SearchHit(msgspec.Struct, kw_only=True):
    session: SessionSummary
    message_index: int | None
    snippet: str

    def to_json(self) -> dict:
        data = msgspec.to_builtins(self.session)
        data["snippet"] = self.snippet
        data["message_index"] = self.message_index
        return data


def snippet(text: str, start: int, length: int, radius: int = SNIPPET_RADIUS) -> str:
    """About ``radius`` characters either side of the match, cut between graphemes (a family
    emoji is kept whole), whitespace collapsed, "…" where text was left out."""
    lo = boundary(text, start - radius)
    hi = boundary(text, start + length + radius, forward=True)
    piece = " ".join(text[lo:hi].split())
    return ("…" if lo > 0 else "") + piece + ("…" if hi < len(text) else "")


def raw_may_contain(raw: bytes, query: str) -> bool:
    """Cheap pre-filter on the file's bytes before decoding it into a session.

    The file's text is folded like the query (:func:`~prompt_sessions.text.fold`), so another
    normal form or a ligature of the same text still passes; a file with JSON ``\\u`` escapes
    always passes.
    """
    needle = msgspec.json.encode(fold(query))[1:-1]
    if raw.isascii() and needle.isascii():
        return needle in raw.lower() or b"\\u" in raw
    text = raw.decode("utf-8", "replace")
    return "\\u" in text or needle.decode("utf-8") in fold(text)


def hits_in(
    session: Session, summary: SessionSummary, query: str, limit: int = 20
) -> Iterable[SearchHit]:
    """Hits for ``query`` in the session's name and messages, compared folded (:func:`fold`)."""
    q = fold(query)
    count = 0
    if find_folded(session.name, q) is not None:
        count += 1
        yield SearchHit(session=summary, message_index=None, snippet=session.name)
    for index, message in enumerate(session.history):
        text = message.content
        found = find_folded(text, q)
        if found is not None:
            count += 1
            yield SearchHit(session=summary, message_index=index, snippet=snippet(text, *found))
            if count >= limit:
                return
