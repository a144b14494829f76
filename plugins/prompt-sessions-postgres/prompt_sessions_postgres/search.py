"""Search on the server (DESIGN section 12): the language and the hits of the other stores.

Each message row keeps its text's folded words (``search_text.index_text``, computed here in
Python when the row is written, so accents, case, NFKC and CJK behave exactly as in the other
stores) and how many there are; each session row keeps the same for its name, plus its folded PO
name and tags for the filters. A query then becomes one SQL statement:

- every word or phrase is a regular expression over the folded words (``(^| )a b( |$)``: whole
  words, in order; ``a*`` drops the end), which pg_trgm's GIN index answers where the server
  has the extension, and which are exact, so no candidate needs checking afterwards;
- the filters are conditions on the row and its session;
- the score is SQLite FTS5's BM25 (k1 = 1.2, b = 0.75) over the same words with the same
  statistics (rows, words per row, rows holding each phrase), so hits come in the same order,
  ties most recent first (the session's ``updated_at``, then its name, then its later
  messages), then in session id order.

The hits, their cap per session and their snippets come from the core's
``prompt_sessions.search.collect``, as on every store.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import msgspec

from prompt_sessions.models import SessionSummary
from prompt_sessions.search import SearchHit, collect
from prompt_sessions.search_query import Query
from prompt_sessions.search_text import Term, fold, index_text
from prompt_sessions.storage import search_filters

_K1, _B = 1.2, 0.75  # FTS5's bm25() constants
_BATCH = 1000
_json_decoder = msgspec.json.Decoder()
_encoder = msgspec.json.Encoder()


# ---------------------------------------------------------------------- what rows keep


def text_columns(text: str) -> tuple[str, int]:
    """(folded words separated by single spaces, how many words) of a text."""
    folded = index_text(text)
    return folded, (folded.count(" ") + 1 if folded else 0)


def session_columns(name: str, po_name: str, tags: list[str] | None) -> tuple[str, int, str, str]:
    """(folded name, its word count, folded PO name, folded tags) of a session row."""
    folded, words = text_columns(name)
    return folded, words, fold(po_name), search_filters.tags_key(tags)


SESSION_COLUMNS = "folded_name = %s, name_words = %s, po_key = %s, tag_keys = %s"


def backfill(conn: Any, s: str) -> None:
    """Fill the search columns of every row (the upgrade to schema version 2)."""
    with conn.cursor(name="search_backfill_sessions") as rows:
        rows.execute(f"SELECT id, head::text, po_name FROM {s}.sessions")
        while batch := rows.fetchmany(_BATCH):
            values = [(sid, *session_columns(*_name_and_tags(head, po))) for sid, head, po in batch]
            conn.execute(
                f"UPDATE {s}.sessions t SET folded_name = v.f, name_words = v.w, po_key = v.p, "
                "tag_keys = v.k FROM unnest(%s::text[], %s::text[], %s::int[], %s::text[], "
                "%s::text[]) AS v(id, f, w, p, k) WHERE t.id = v.id",
                [list(column) for column in zip(*values, strict=True)],
            )
    with conn.cursor(name="search_backfill_messages") as rows:
        rows.execute(f"SELECT session_id, idx, body::text FROM {s}.messages")
        while batch := rows.fetchmany(_BATCH):
            texts = [(sid, idx, *text_columns(field(body, "content"))) for sid, idx, body in batch]
            conn.execute(
                f"UPDATE {s}.messages t SET folded = v.f, words = v.w "
                "FROM unnest(%s::text[], %s::int[], %s::text[], %s::int[]) AS v(sid, idx, f, w) "
                "WHERE t.session_id = v.sid AND t.idx = v.idx",
                [list(column) for column in zip(*texts, strict=True)],
            )


def stale_columns(
    conn: Any, s: str, sid: str
) -> tuple[tuple[str, int, str, str] | None, list[tuple[str, int, str, int]]]:
    """The search columns of session ``sid`` that disagree with its texts (after an edit by
    hand, say), read only: the session row's wanted columns (None when they agree) and one
    ``(folded, words, sid, idx)`` per message row to update."""
    row = conn.execute(
        f"SELECT head::text, po_name, folded_name, name_words, po_key, tag_keys "
        f"FROM {s}.sessions WHERE id = %s",
        (sid,),
    ).fetchone()
    if row is None:
        return None, []
    want = session_columns(*_name_and_tags(row[0], row[1]))
    stale = []
    for idx, body, folded, words in conn.execute(
        f"SELECT idx, body::text, folded, words FROM {s}.messages WHERE session_id = %s",
        (sid,),
    ):
        if (folded, words) != (wanted := text_columns(field(body, "content"))):
            stale.append((*wanted, sid, idx))
    return (None if tuple(row[2:]) == want else want), stale


def repair(conn: Any, s: str, sid: str) -> bool:
    """Make the search columns of session ``sid`` agree with its texts again; True when any
    had to change. The caller holds the session's row lock."""
    want, stale = stale_columns(conn, s, sid)
    if want is not None:
        conn.execute(f"UPDATE {s}.sessions SET {SESSION_COLUMNS} WHERE id = %s", (*want, sid))
    if stale:
        with conn.cursor() as cur:
            cur.executemany(
                f"UPDATE {s}.messages SET folded = %s, words = %s "
                "WHERE session_id = %s AND idx = %s",
                stale,
            )
    return want is not None or bool(stale)


def field(document: str, key: str) -> str:
    """``document->>key`` read in Python: the text of one field of a stored JSON object (its
    JSON when not a string), ``""`` when absent or null.

    PostgreSQL's json operators refuse any document holding ``\\u0000`` (text cannot hold
    NUL), so texts are never read with them: one message with a NUL would stop every search.
    """
    try:
        found = _json_decoder.decode(document)
    except msgspec.DecodeError:
        return ""
    value = found.get(key) if isinstance(found, dict) else None
    if value is None:
        return ""
    return value if isinstance(value, str) else _encoder.encode(value).decode()


def _name_and_tags(head: str, po_name: str) -> tuple[str, str, list[str] | None]:
    """(name, PO name, tags) of a session row's head, as :func:`session_columns` takes them."""
    found = _json_decoder.decode(head)
    tags = found.get("tags") if isinstance(found, dict) else None
    try:
        tags = msgspec.convert(tags, list[str] | None)
    except msgspec.ValidationError:
        tags = None  # damaged tags: the session is still found by its words
    return field(head, "name"), po_name, tags


def readable(column: str) -> str:
    """SQL for a json ``column`` that the json operators can read: a document holding
    ``\\u0000`` has it turned into U+FFFD first (the fields read this way, roles, dates and
    flags, never hold one; texts are read by :func:`field`)."""
    return (
        f"(CASE WHEN strpos({column}::text, '\\u0000') = 0 THEN {column} "
        f"ELSE replace({column}::text, '\\u0000', '\\ufffd')::json END)"
    )


# ---------------------------------------------------------------------- asking


def _escaped(word: str) -> str:
    return "".join("\\" + ch if ch.isascii() and not ch.isalnum() else ch for ch in word)


def where_pattern(term: Term) -> str:
    """A regular expression that holds for folded words containing ``term``."""
    body = " ".join(_escaped(w) for w in term.words)
    return f"(^| ){body}" + ("" if term.prefix else "( |$)")


def count_pattern(term: Term) -> str:
    """A regular expression matching once at the start of each occurrence of ``term``.

    The occurrence itself sits inside a lookahead, so the match is empty and the next search
    starts one character on: occurrences that overlap ("ab ab" twice in "ab ab ab") are each
    counted, as FTS5 counts a phrase's instances for BM25.
    """
    body = " ".join(_escaped(w) for w in term.words)
    return f"(?<![^ ])(?={body}" + ("" if term.prefix else "(?![^ ])") + ")"


def _filters(*, role: str, created: str, is_name: str) -> search_filters.FilterSql:
    """How the filters read a row joined to its session ``s`` (the flags from its summary)."""
    return search_filters.FilterSql(
        mark="%s",
        find="strpos",
        po_key="s.po_key",
        role=role,
        created=created,
        tags="s.tag_keys",
        flag=f"coalesce({readable('s.summary')}->>'{{flag}}', '') = 'true'",
        thread_type=f"coalesce({readable('s.summary')}->>'thread_type', '')",
        is_name=is_name,
    )


_MESSAGE_FILTERS = _filters(
    role=f"coalesce({readable('m.body')}->>'role', '')",
    created=f"({readable('m.body')}->>'created_at') COLLATE \"C\"",
    is_name="false",
)
_NAME_FILTERS = _filters(role="''", created="s.created_at", is_name="true")


class _Branch:
    """One kind of searchable row: messages (``m`` joined to its session ``s``) or names."""

    def __init__(self, s: str, *, names: bool) -> None:
        self.names = names
        if names:
            self.source = f"{s}.sessions s"
            self.sid, self.idx, self.folded, self.words = (
                "s.id",
                "NULL::integer",
                "s.folded_name",
                "s.name_words",
            )
            self.filters = _NAME_FILTERS
        else:
            self.source = f"{s}.messages m JOIN {s}.sessions s ON s.id = m.session_id"
            self.sid, self.idx, self.folded, self.words = (
                "m.session_id",
                "m.idx",
                "m.folded",
                "m.words",
            )
            self.filters = _MESSAGE_FILTERS

    def conditions(self, query: Query) -> tuple[list[str], list[object]]:
        """SQL conditions for the query's words and filters, with their parameters."""
        where = [f"{self.folded} ~ %s" for _ in query.include]
        params: list[object] = [where_pattern(t) for t in query.include]
        for term in query.exclude:
            where.append(f"NOT {self.folded} ~ %s")
            params.append(where_pattern(term))
        filtered, more = search_filters.conditions(query, self.filters)
        return where + filtered, params + more

    def select(
        self, query: Query, idf: list[float], avgdl: float, count: str
    ) -> tuple[str, list[object]]:
        """The branch's matching rows with their score: FTS5's bm25, summed phrase by phrase in
        query order as FTS5 does. ``count`` is the SQL counting a pattern's matches in a text
        (``{text}`` and one parameter). Each term's count is computed once per row (the inner
        query is kept whole by ``OFFSET 0``, so the planner does not copy it into the sum)."""
        terms = query.include
        where, params = self.conditions(query)
        counts = "".join(
            f", {count.format(text=self.folded)}::float8 AS f{k}" for k in range(len(terms))
        )
        inner = (
            f"SELECT {self.sid} AS sid, {self.idx} AS idx, s.updated_at AS upd, "
            f"{self.words}::float8 AS d{counts} "
            f"FROM {self.source} WHERE {' AND '.join(where)} OFFSET 0"
        )
        norm = f"{_K1!r}::float8 * ({1 - _B!r}::float8 + {_B!r}::float8 * d / {avgdl!r}::float8)"
        score = " + ".join(
            ["0::float8"]
            + [
                f"{weight!r}::float8 * ((f{k} * {_K1 + 1.0!r}::float8) / (f{k} + {norm}))"
                for k, weight in enumerate(idf)
            ]
        )
        sql = f"SELECT sid, idx, upd, {score} AS score FROM ({inner}) x"
        return sql, [count_pattern(t) for t in terms] + params


def _statistics(conn: Any, s: str, terms: list[Term]) -> tuple[int, int, list[int]]:
    """(rows, words in all rows, rows holding each term) over messages and names together."""
    hits = " ".join(
        f", (SELECT count(*) FROM {s}.messages WHERE folded ~ %s) "
        f"+ (SELECT count(*) FROM {s}.sessions WHERE folded_name ~ %s)"
        for _ in terms
    )
    row = conn.execute(
        f"SELECT m.n + n.n, m.w + n.w {hits} FROM "
        f"(SELECT count(*) AS n, coalesce(sum(words), 0) AS w FROM {s}.messages) m, "
        f"(SELECT count(*) AS n, coalesce(sum(name_words), 0) AS w FROM {s}.sessions) n",
        [p for t in terms for p in (where_pattern(t), where_pattern(t))],
    ).fetchone()
    return int(row[0]), int(row[1]), [int(h) for h in row[2:]]


def _idf(rows: int, hits: int) -> float:
    idf = math.log((rows - hits + 0.5) / (hits + 0.5))
    return idf if idf > 0.0 else 1e-6


def search(
    conn: Any,
    s: str,
    query: Query,
    limit: int,
    summaries: Callable[[list[str]], dict[str, SessionSummary]],
) -> list[SearchHit]:
    """Hits for ``query`` from the tables of schema ``s`` (quoted), best first, at most ``limit``.

    ``conn`` should see one snapshot (the statistics and the rows must agree);
    ``summaries(ids)`` gives the current summaries of sessions (missing ones are skipped).
    """
    terms = query.include
    if not terms:
        return []  # nothing to look for (the parser refuses such queries)
    rows, words, hits = _statistics(conn, s, terms)
    if rows == 0 or words == 0 or 0 in hits:
        return []  # some word occurs nowhere
    idf = [_idf(rows, h) for h in hits]
    avgdl = words / rows
    if conn.info.server_version >= 150000:
        count = "regexp_count({text}, %s)"
    else:
        count = "(SELECT count(*) FROM regexp_matches({text}, %s, 'g'))"
    branches = [_Branch(s, names=False), _Branch(s, names=True)]
    selects = [b.select(query, idf, avgdl, count) for b in branches]
    union = " UNION ALL ".join(sql for sql, _ in selects)
    params = [p for _, more in selects for p in more]

    def rows_for(n: int | None) -> Iterable[tuple[str, int | None, str]]:
        sql = (
            f"SELECT d.sid, d.idx, d.score, d.upd, CASE WHEN d.idx IS NULL "
            f"THEN (SELECT head::text FROM {s}.sessions WHERE id = d.sid) "
            f"ELSE (SELECT body::text FROM {s}.messages "
            f"WHERE session_id = d.sid AND idx = d.idx) END "
            f"FROM ({union} ORDER BY score DESC, upd DESC, sid, idx DESC NULLS FIRST"
            + (" LIMIT %s" if n is not None else "")
            + ") d"
        )
        found = conn.execute(sql, params + ([n] if n is not None else [])).fetchall()
        # The statement's order, one key at a time from the last (each sort keeps ties' order).
        found.sort(key=lambda r: (r[0], r[1] is not None, -(r[1] or 0)))
        found.sort(key=lambda r: r[3], reverse=True)
        found.sort(key=lambda r: -r[2])
        key = ("name", "content")
        return [(sid, idx, field(doc, key[idx is not None])) for sid, idx, _, _, doc in found]

    return collect(rows_for, query, summaries, limit)
