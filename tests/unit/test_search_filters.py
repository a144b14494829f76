"""The search filters' SQL, written once for every SQL store: each dialect's conditions use
only its own parameter mark, one mark per parameter, and negation wraps each condition."""

from __future__ import annotations

import sqlite3

from prompt_sessions.search_query import parse
from prompt_sessions.storage import search_filters

_EVERY_FILTER = (
    "x po:Ops po:chef role:user tag:Straße is:archived is:fork after:2025-01-01 "
    "before:2025-02-01 in:name -po:writer -role:tool -tag:old -is:pinned -is:delegation "
    "-after:2025-01-20 -before:2025-01-02"
)


def _sql(mark: str) -> search_filters.FilterSql:
    return search_filters.FilterSql(
        mark=mark,
        find="instr",
        po_key="s.po_key",
        role="s.role",
        created="s.created_at",
        tags="s.tags",
        flag="s.{flag} = 1",
        thread_type="coalesce(s.thread_type, '')",
        is_name="s.idx IS NULL",
    )


def test_each_dialect_uses_its_own_mark_once_per_parameter() -> None:
    """With ``?`` and with ``%s``, the same conditions in the same order, each parameter behind
    exactly one mark of that dialect, and the folded PO names and tag keys as parameters."""
    query = parse(_EVERY_FILTER)
    lite, lite_params = search_filters.conditions(query, _sql("?"))
    pg, pg_params = search_filters.conditions(query, _sql("%s"))
    assert [c.replace("?", "%s") for c in lite] == pg
    assert lite_params == pg_params
    assert sum(c.count("?") for c in lite) == len(lite_params)
    assert not any("?" in c for c in pg)
    assert lite_params[:2] == ["ops", "chef"]
    assert search_filters.tag_key("Straße") in lite_params
    assert sum(c.startswith("NOT (") for c in lite) == 7


def test_the_conditions_select_the_right_rows_in_sqlite() -> None:
    """Run on a real table: the filters keep exactly the rows they describe."""
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE TABLE s (id, idx, po_key, role, tags, archived, pinned, thread_type, created_at)"
    )
    rows = [
        (1, 0, "ops", "user", search_filters.tags_key(["Straße"]), 1, 0, "fork", "2025-01-10"),
        (
            2,
            0,
            "ops",
            "user",
            search_filters.tags_key(["strasse", "old"]),
            1,
            0,
            None,
            "2025-01-10",
        ),
        (3, None, "ops", "", search_filters.tags_key(["STRASSE"]), 1, 0, "fork", "2025-01-10"),
        (4, 0, "chef", "tool", "", 0, 1, "delegation", "2025-01-30"),
    ]
    conn.executemany("INSERT INTO s VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def ids(text: str) -> list[int]:
        where, params = search_filters.conditions(parse(text), _sql("?"))
        sql = "SELECT id FROM s" + (" WHERE " + " AND ".join(where) if where else "")
        return [r[0] for r in conn.execute(sql + " ORDER BY id", params)]

    assert ids("x tag:straße -tag:old is:archived is:fork") == [1, 3]
    assert ids("x in:name") == [3]
    assert ids("x -in:name po:OPS -role:tool") == [1, 2]
    assert ids("x is:delegation after:2025-01-20") == [4]
    assert ids("x -is:fork before:2025-01-20") == [2]
