"""The search language's filters as SQL conditions (DESIGN section 12), for every SQL store.

``po:``, ``role:``, ``tag:``, ``is:``, ``after:``/``before:`` and ``in:name``, each of them
negatable with ``-``, become one condition each, ANDed by the caller. The rule is written once
here; a database says only how it spells what differs (:class:`FilterSql`): its parameter
mark, its substring function, and where a searchable row keeps each value the filters compare.
SQLite's search index (:mod:`.search_index`) and the postgres plugin's search both use it, so a
filter means the same on every store.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..search_query import Query
from ..search_text import fold

SEP = "\x1f"  # around each folded tag in a row's tag key, so a tag never matches part of another


def tags_key(tags: list[str] | None) -> str:
    """What a row keeps of a session's tags for ``tag:``: each folded, between two :data:`SEP`."""
    return "".join(tag_key(t) for t in tags or ())


def tag_key(tag: str) -> str:
    """What ``tag:TAG`` looks for inside a row's :func:`tags_key`."""
    return f"{SEP}{fold(tag)}{SEP}"


@dataclass(frozen=True)
class FilterSql:
    """How one database and one kind of searchable row spell the filters' parts.

    Every field but ``mark`` and ``find`` is an SQL expression over the query's tables:

    Attributes:
        mark: the parameter placeholder (``?`` for sqlite3, ``%s`` for psycopg).
        find: a function ``find(text, part)`` that is above 0 when ``part`` is in ``text``.
        po_key: the folded PO name.
        role: the row's role, ``''`` for a name.
        created: the row's ISO-8601 time, compared as text with ``YYYY-MM-DD``.
        tags: the session's :func:`tags_key`.
        flag: a condition for ``is:archived`` / ``is:pinned``, with ``{flag}`` standing for the
            word (one of those two, never user text).
        thread_type: the session's thread type, ``''`` when it has none.
        is_name: a condition that holds for a name row and not for a message row.
    """

    mark: str
    find: str
    po_key: str
    role: str
    created: str
    tags: str
    flag: str
    thread_type: str
    is_name: str


def conditions(query: Query, sql: FilterSql) -> tuple[list[str], list[object]]:
    """SQL conditions for the query's filters, in the order they are built, and their
    parameters in the order of their marks. Words are the caller's: this is filters only."""
    where: list[str] = []
    params: list[object] = []
    m = sql.mark
    for negated in (False, True):
        wrap = (lambda c: f"NOT ({c})") if negated else (lambda c: c)
        for key, column in (("po", sql.po_key), ("role", sql.role)):
            values = query.values(key, negated=negated)
            if values:
                where.append(wrap(f"{column} IN ({', '.join([m] * len(values))})"))
                params += [fold(v) if key == "po" else v for v in values]
        for tag in query.values("tag", negated=negated):
            where.append(wrap(f"{sql.find}({sql.tags}, {m}) > 0"))
            params.append(tag_key(tag))
        for flag in query.values("is", negated=negated):
            if flag in ("archived", "pinned"):
                where.append(wrap(sql.flag.format(flag=flag)))
            else:
                where.append(wrap(f"{sql.thread_type} = {m}"))
                params.append(flag)
        for day in query.values("after", negated=negated):
            where.append(wrap(f"{sql.created} >= {m}"))
            params.append(day)
        for day in query.values("before", negated=negated):
            where.append(wrap(f"{sql.created} < {m}"))
            params.append(day)
        if query.values("in", negated=negated):
            where.append(wrap(sql.is_name))
    return where, params
