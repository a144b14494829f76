"""Content and name search across sessions, with a snippet around each match."""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from .cells import boundary
from .models import Session, SessionSummary

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
    """Cheap pre-filter on the file's bytes before decoding it."""
    needle = msgspec.json.encode(query.lower())[1:-1]
    return needle in raw.lower() or not needle.isascii()


def hits_in(
    session: Session, summary: SessionSummary, query: str, limit: int = 20
) -> Iterable[SearchHit]:
    q = query.lower()
    count = 0
    pos = session.name.lower().find(q)
    if pos >= 0:
        count += 1
        yield SearchHit(session=summary, message_index=None, snippet=session.name)
    for index, message in enumerate(session.history):
        text = message.content
        pos = text.lower().find(q)
        if pos >= 0:
            count += 1
            yield SearchHit(
                session=summary, message_index=index, snippet=snippet(text, pos, len(q))
            )
            if count >= limit:
                return
