"""The picker's highlighted row is on screen: when it opens on the current session far down a
long list, after a filter is cleared, after a delete, an undo, a rename and a resize; the
lineage tree opens with the shown session on screen too."""

from __future__ import annotations

import uuid

import pytest
from textual.widgets import Tree

from prompt_sessions.models import Message, Session
from prompt_sessions.tui.screens.confirm import ConfirmScreen
from prompt_sessions.tui.screens.picker import SessionPicker
from prompt_sessions.tui.screens.tree import TreeScreen
from prompt_sessions.tui.widgets.row_list import RowList

from .conftest import settle, wait_until, write_po

COUNT = 500
CURRENT = 124  # the 125th row


def many(ctx, count: int = COUNT) -> list[Session]:
    """``count`` sessions of coordinator named ``s000``..., newest first in that order."""
    made = []
    for pos in range(count):
        minutes = count - pos
        s = Session(
            id=str(uuid.UUID(int=pos + 1, version=4)),
            name=f"s{pos:03d}",
            po_name="coordinator",
            created_at="2025-01-01T00:00:00Z",
            updated_at=f"2025-01-02T{minutes // 60:02d}:{minutes % 60:02d}:00Z",
            history=[],
            source="tui",
        )
        ctx.manager.backend.create(s)
        made.append(s)
    return made


def drawn(picker: SessionPicker) -> list[str]:
    """The rows the list draws on screen now."""
    rows = picker.rows_widget
    return [rows.render_line(y).text for y in range(rows.scrollable_content_region.height)]


def cursor_in_view(picker: SessionPicker) -> bool:
    rows = picker.rows_widget
    top = int(rows.scroll_offset.y)
    return top <= rows.cursor < top + rows.scrollable_content_region.height


def cursor_name(picker: SessionPicker) -> str:
    return picker.rows_widget.rows[picker.rows_widget.cursor].name


def shows(picker: SessionPicker, name: str, mark: str = " ") -> bool:
    return any(line.startswith(f"{mark} {name}") for line in drawn(picker))


def title(picker: SessionPicker) -> str:
    return str(picker.query_one("#title").render())


async def open_on_current(make_ctx, make_app, root):
    """An app over 500 sessions whose current one is the 125th."""
    write_po(root, "coordinator")
    ctx = make_ctx()
    made = many(ctx)
    ctx.manager.switch("coordinator", made[CURRENT].id)
    return ctx, made, make_app(ctx)


@pytest.mark.parametrize("size", [(120, 36), (60, 20)])
async def test_opens_with_the_current_session_in_view(make_ctx, make_app, root, size):
    """500 sessions, the current one 125th: the title says 125 of 500 and the highlighted row,
    the one marked *, is drawn; one Down keeps the cursor on screen."""
    ctx, made, app = await open_on_current(make_ctx, make_app, root)
    async with app.run_test(size=size) as pilot:
        await pilot.press("escape", "S")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, SessionPicker)
        assert "125 of 500" in title(picker)
        assert cursor_name(picker) == "s124" and cursor_in_view(picker)
        assert shows(picker, "s124", mark="*")
        await pilot.press("down")
        await pilot.pause()
        assert cursor_name(picker) == "s125" and cursor_in_view(picker)
        assert shows(picker, "s125") and "126 of 500" in title(picker)


async def test_clearing_a_filter_keeps_the_highlighted_row_in_view(make_ctx, make_app, root):
    """Filter to s45x, move to s453, Esc clears the filter: the full list shows s453 on screen
    under the cursor."""
    ctx, made, app = await open_on_current(make_ctx, make_app, root)
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.press("escape", "S")
        await settle(pilot)
        picker = app.screen
        await pilot.press("slash", *"s45")
        await pilot.pause()
        assert len(picker.rows_widget.rows) == 10 and cursor_in_view(picker)
        await pilot.press("down", "down", "down")  # the first leaves the box for the rows
        assert cursor_name(picker) == "s453"
        await pilot.press("escape")
        await pilot.pause()
        assert len(picker.rows_widget.rows) == COUNT
        assert cursor_name(picker) == "s453" and cursor_in_view(picker) and shows(picker, "s453")


async def test_delete_far_down_and_undo_keep_the_cursor_in_view(make_ctx, make_app, root):
    """Deleting the last row moves the cursor back to the current session (125th), which is
    drawn; u brings the deleted one back under the cursor, drawn at the end of the list."""
    ctx, made, app = await open_on_current(make_ctx, make_app, root)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("escape", "S")
        await settle(pilot)
        picker = app.screen
        await pilot.press("end")
        assert cursor_name(picker) == "s499"
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: app.screen is picker)
        await pilot.pause()
        assert len(picker.rows_widget.rows) == COUNT - 1
        assert cursor_name(picker) == "s124" and cursor_in_view(picker)
        assert shows(picker, "s124", mark="*")
        await pilot.press("u")
        await pilot.pause()
        assert len(picker.rows_widget.rows) == COUNT
        assert cursor_name(picker) == "s499" and cursor_in_view(picker) and shows(picker, "s499")


async def test_deleting_the_current_session_keeps_the_next_one_in_view(make_ctx, make_app, root):
    """Deleting the current session (125th) makes another current; the cursor is on it and
    it is drawn with its *."""
    ctx, made, app = await open_on_current(make_ctx, make_app, root)
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.press("escape", "S")
        await settle(pilot)
        picker = app.screen
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: app.screen is picker)
        await pilot.pause()
        current = picker.current_id
        assert current != made[CURRENT].id
        name = next(r.name for r in picker.rows_widget.rows if r.id == current)
        assert cursor_name(picker) == name and cursor_in_view(picker)
        assert shows(picker, name, mark="*")


async def test_a_renamed_session_stays_under_the_cursor_in_view(make_ctx, make_app, root):
    """Renaming the 125th session (r, a new name, Enter) leaves the cursor on it, on screen,
    wherever the new name puts it."""
    ctx, made, app = await open_on_current(make_ctx, make_app, root)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("escape", "S")
        await settle(pilot)
        picker = app.screen
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("ctrl+u")
        await pilot.press(*"renamed one", "enter")
        await pilot.pause()
        assert cursor_name(picker) == "renamed one"
        assert cursor_in_view(picker) and shows(picker, "renamed one", mark="*")


async def test_a_short_list_resized_keeps_the_cursor_in_view(make_ctx, make_app, root):
    """A terminal made smaller while the picker is open still shows the highlighted row."""
    ctx, made, app = await open_on_current(make_ctx, make_app, root)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("escape", "S")
        await settle(pilot)
        picker = app.screen
        await pilot.press("pagedown")
        await pilot.press("up")
        where = cursor_name(picker)
        await pilot.resize_terminal(60, 14)
        await pilot.pause()
        await pilot.pause()
        assert cursor_name(picker) == where and cursor_in_view(picker)
        assert isinstance(picker.rows_widget, RowList)


async def test_the_tree_opens_with_the_shown_session_in_view(make_ctx, make_app, root):
    """/tree on the last of 60 forks of a session (more than the modal's height): the shown
    session, selected, is scrolled into view."""
    write_po(root, "coordinator")
    ctx = make_ctx()
    base = ctx.manager.create("coordinator", "base")
    ctx.manager.append(base.id, Message(role="user", content="hi"))
    forks = [ctx.manager.fork(base.id, name=f"fork {i:02d}") for i in range(60)]
    shown = forks[-1]
    ctx.manager.switch("coordinator", shown.id)
    app = make_app(ctx)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press(*"/tree", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, TreeScreen))
        await settle(pilot)
        tree = app.screen.query_one(Tree)
        assert tree.cursor_node is not None and tree.cursor_node.data.id == shown.id
        top = int(tree.scroll_offset.y)
        assert top <= tree.cursor_line < top + tree.scrollable_content_region.height
