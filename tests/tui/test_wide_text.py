"""Wide characters in the picker and the explorer: a family emoji is shown whole or not at all,
and CJK names keep the columns after them in place."""

from __future__ import annotations

import pytest

from prompt_sessions.cells import cell_len
from prompt_sessions.models import Message
from prompt_sessions.tui.screens.explorer import ExplorerScreen
from prompt_sessions.tui.screens.picker import SessionPicker
from prompt_sessions.tui.widgets.row_list import RowList

from .conftest import settle, wait_until

FAMILY = "👨‍👩‍👧‍👦"


def cut_family(line: str) -> bool:
    """True when some family lost people: a person or a joiner outside a whole family."""
    rest = line.replace(FAMILY, "")
    return any(ch in rest for ch in "👨👩👧👦\u200d")


def seed(ctx):
    for n in range(6):  # each name reaches the cut at a different cell
        ctx.manager.create("coordinator", "x" * n + FAMILY * 10 + " 日本語")
    talk = ctx.manager.create("coordinator", "Family talk")
    ctx.manager.append(
        talk.id, Message(role="user", content=FAMILY * 40 + " budget " + FAMILY * 40)
    )


def row_lines(screen) -> list[str]:
    rows = screen.query_one(RowList)
    return [rows.render_line(y).text for y in range(len(rows.rows))]


@pytest.mark.parametrize("size", [(80, 24), (60, 20), (81, 24)])
async def test_picker_rows_keep_families_whole_and_columns_in_place(make_ctx, make_app, size):
    """S: every row is exactly as wide as the list, its counts end in the same cell, and no
    family emoji is cut to fewer people."""
    ctx = make_ctx()
    seed(ctx)
    app = make_app(ctx)
    async with app.run_test(size=size) as pilot:
        await pilot.press("escape", "S")
        await wait_until(pilot, lambda: isinstance(app.screen, SessionPicker))
        await pilot.pause()
        lines = row_lines(app.screen)
        width = app.screen.query_one(RowList).scrollable_content_region.width
        assert len(lines) == 7
        for line in lines:
            assert not cut_family(line), line
            assert cell_len(line) == width
        ends = {cell_len(line[: line.index("msg")]) for line in lines}
        assert len(ends) == 1, lines


@pytest.mark.parametrize("size", [(80, 24), (110, 30)])
async def test_explorer_rows_and_snippets_keep_families_whole(make_ctx, make_app, size):
    """E and a search: names and the snippet around the match show whole families only."""
    ctx = make_ctx()
    seed(ctx)
    app = make_app(ctx)
    async with app.run_test(size=size) as pilot:
        await pilot.press("escape", "E")
        await wait_until(pilot, lambda: isinstance(app.screen, ExplorerScreen))
        await settle(pilot)
        for line in row_lines(app.screen):
            assert not cut_family(line), line
        await pilot.press(*"budget")
        await settle(pilot)
        [hit] = app.screen.query_one(RowList).rows
        assert hit.snippet is not None and not cut_family(hit.snippet)
        for line in row_lines(app.screen):
            assert not cut_family(line), line


@pytest.mark.parametrize("room", [80, 30, 20, 12])
def test_a_snippet_shows_its_match_in_the_room_the_row_leaves(room: int) -> None:
    """A snippet whose match lies past the cells left on the row loses its start (shown as
    "…", cut between graphemes) so that the match is seen, highlighted, within that room."""
    from prompt_sessions.cells import cell_len
    from prompt_sessions.tui.screens.explorer_rows import highlight

    snippet = "…1500: deploy database release 数据库 kickoff unique1500 and more words after it"
    at = snippet.index("unique1500")
    text = highlight(snippet, [(at, at + 10)], room)
    (span,) = [s for s in text.spans if "reverse" in str(s.style)]
    assert text.plain[span.start : span.end] == "unique1500"
    assert cell_len(text.plain[: span.end]) <= room
    assert text.plain == snippet or text.plain.startswith("…")
