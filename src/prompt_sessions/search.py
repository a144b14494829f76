"""Search hits: what a search returns, and how ranked index rows become hits (DESIGN section 12).

The language is read by :mod:`prompt_sessions.search_query`, texts are folded by
:mod:`prompt_sessions.search_text`, and the index lives in
:mod:`prompt_sessions.storage.search_index`;
this module turns the index's rows into :class:`SearchHit` objects with snippets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

import msgspec

from . import limits
from .cells import boundary
from .models import SessionSummary
from .search_query import Query
from .search_text import SNIPPET_RADIUS, Term, best_window, locate

if TYPE_CHECKING:
    import sqlite3

HITS_PER_SESSION = 20  # one long session must not crowd every other out of the results
DEFAULT_LIMIT = limits.SEARCH_RESULTS


class SearchHit(msgspec.Struct, kw_only=True):
    """One match: the session's summary, the message number (None for the name), a snippet of
    the text around the best match and the (start, end) spans of the matches in the snippet."""

    session: SessionSummary
    message_index: int | None
    snippet: str
    spans: list[tuple[int, int]] = []

    def to_json(self) -> dict:
        """The session summary plus ``snippet``, ``message_index`` and ``archived`` (always)."""
        data = msgspec.to_builtins(self.session)
        data["archived"] = self.session.archived
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


def snippet_for(text: str, terms: Sequence[Term]) -> tuple[str, list[tuple[int, int]]]:
    """The snippet around the best match of ``terms`` in ``text`` and the matches' spans in it."""
    lo, hi = best_window(text, terms)
    # Widen to whole words: a word cut in half could seem to match a word it is not.
    for _ in range(20):
        if lo > 0 and text[lo - 1].isalnum():
            lo -= 1
        if hi < len(text) and text[hi].isalnum():
            hi += 1
    lo, hi = boundary(text, lo), boundary(text, hi, forward=True)  # a family emoji stays whole
    piece = " ".join(text[lo:hi].split())
    lead = "…" if lo > 0 else ""
    shown = lead + piece + ("…" if hi < len(text) else "")
    spans = [(s + len(lead), e + len(lead)) for _, s, e in locate(piece, terms)]
    return shown, spans


def collect(
    rows_for: Callable[[int | None], Iterable[tuple[str, int | None, str]]],
    query: Query,
    summaries: Callable[[list[str]], dict[str, SessionSummary]],
    limit: int,
) -> list[SearchHit]:
    """The first ``limit`` hits from ranked rows, at most HITS_PER_SESSION per session.

    ``rows_for(n)`` gives the best ``n`` rows (all when None) as (session id, message number,
    text); ``summaries(ids)`` the current summaries of those sessions (missing ones are skipped).
    """
    want = max(limit * 2, 50)
    while True:
        rows = list(rows_for(want))
        picked: list[tuple[str, int | None, str]] = []
        per_session: dict[str, int] = {}
        for sid, index, text in rows:
            count = per_session.get(sid, 0)
            if count >= HITS_PER_SESSION:
                continue
            per_session[sid] = count + 1
            picked.append((sid, index, text))
            if len(picked) >= limit:
                break
        if len(picked) >= limit or len(rows) < want:
            break
        want *= 4
    known = summaries(sorted(per_session))
    terms = query.include
    hits: list[SearchHit] = []
    for sid, index, text in picked:
        summary = known.get(sid)
        if summary is None:
            continue
        shown, spans = snippet_for(text, terms)
        hits.append(SearchHit(session=summary, message_index=index, snippet=shown, spans=spans))
    return hits


def search_connection(
    conn: sqlite3.Connection,
    query: Query,
    summaries: Callable[[list[str]], dict[str, SessionSummary]],
    limit: int,
) -> list[SearchHit]:
    """Ask the index tables in ``conn`` (see ``storage.search_index``) and build the hits."""
    from .storage import search_index

    def rows_for(n: int | None) -> Iterable[tuple[str, int | None, str]]:
        return ((r.session_id, r.message_index, r.text) for r in search_index.query(conn, query, n))

    return collect(rows_for, query, summaries, limit)
