"""An open explorer follows the store (DESIGN section 8: another process's changes show up in an
open TUI within about a second): its rows are read again, keeping the query, the filters, the
session under the cursor and the scroll; a query being typed is left as it is."""

from __future__ import annotations

from textual.widgets import Input, Select

from prompt_sessions.manager import SessionManager
from prompt_sessions.models import Message, Session
from prompt_sessions.plugins import PluginHost
from prompt_sessions.tui.screens.explorer import ExplorerScreen
from prompt_sessions.tui.widgets.row_list import RowList

from .conftest import at, fixed_session, settle, wait_until, write_po


def other_process(root):
    """Another manager on the same folder, as another process would open it."""
    return SessionManager.open(root, host=PluginHost.create(entry_points=False))


async def open_explorer(pilot) -> ExplorerScreen:
    await settle(pilot)
    await pilot.press("escape", "E")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ExplorerScreen))
    await settle(pilot)
    return pilot.app.screen


def names(explorer: ExplorerScreen) -> list[str]:
    return [r.summary.name for r in explorer.query_one(RowList).rows]


def under_cursor(explorer: ExplorerScreen) -> str | None:
    row = explorer.query_one(RowList).current
    return row.summary.id if row is not None else None


async def test_a_filtered_list_shows_what_another_process_changed(root, make_ctx, make_app):
    """With the PO list set to coordinator and the cursor on "Older", another manager makes a
    coordinator session and a writer one, and adds a message to "Older": the new coordinator
    session is listed (not the writer's), the PO choice stays, and the cursor stays on
    "Older", now counting one message more."""
    write_po(root, "coordinator")
    ctx = make_ctx()
    newer = fixed_session(ctx, "a", "coordinator", "Newer", [("user", "hi")], at(3, 14))
    older = fixed_session(ctx, "b", "coordinator", "Older", [("user", "yo")], at(2, 9))
    fixed_session(ctx, "c", "writer", "Draft", [("user", "chapter")], at(1, 9))
    app = make_app(ctx)
    async with app.run_test(size=(120, 30)) as pilot:
        explorer = await open_explorer(pilot)
        explorer.query_one("#po", Select).value = "coordinator"
        await settle(pilot)
        await pilot.press("down", "down")  # into the rows, then onto "Older"
        assert names(explorer) == ["Newer", "Older"]
        assert under_cursor(explorer) == older.id
        with other_process(root) as other:
            other.create("coordinator", "Made elsewhere")
            other.create("writer", "Also elsewhere")
            other.append(older.id, Message(role="user", content="written elsewhere"))
        await app.coord.refresh()  # the watcher's sync
        await wait_until(pilot, lambda: "Made elsewhere" in names(explorer))
        await settle(pilot)
        assert sorted(names(explorer)) == ["Made elsewhere", "Newer", "Older"]
        assert explorer.query_one("#po", Select).value == "coordinator"
        assert under_cursor(explorer) == older.id
        assert explorer.query_one(RowList).current.summary.message_count == 2
        assert app.focused is explorer.query_one(RowList)
        assert newer.id in {r.summary.id for r in explorer.query_one(RowList).rows}


async def test_a_search_being_typed_is_run_again_and_left_as_typed(root, make_ctx, make_app):
    """With "budget" typed in the search box (which keeps the focus), another manager adds a
    message about the budget to a session that had none: the search box still holds
    "budget" with its focus, and the search's hits now list that session too."""
    write_po(root, "coordinator")
    ctx = make_ctx()
    fixed_session(ctx, "a", "coordinator", "Plans", [("user", "the budget is 42")], at(3, 14))
    quiet = fixed_session(ctx, "b", "coordinator", "Quiet", [("user", "nothing")], at(2, 9))
    app = make_app(ctx)
    async with app.run_test(size=(120, 30)) as pilot:
        explorer = await open_explorer(pilot)
        await pilot.press(*"budget")
        await settle(pilot)
        assert names(explorer) == ["Plans"]
        with other_process(root) as other:
            other.append(quiet.id, Message(role="user", content="what of the budget?"))
        await app.coord.refresh()
        await wait_until(pilot, lambda: sorted(names(explorer)) == ["Plans", "Quiet"])
        await settle(pilot)
        search = explorer.query_one("#search", Input)
        assert search.value == "budget"
        assert app.focused is search
        assert sorted(names(explorer)) == ["Plans", "Quiet"]


async def test_the_session_under_the_cursor_keeps_its_line_when_rows_come_before_it(
    root, make_ctx, make_app
):
    """Scrolled down a long list, with the cursor on a session: a session made elsewhere
    comes first (the newest), and the session under the cursor stays under it, on the same
    line of the screen (the view scrolls with it)."""
    write_po(root, "coordinator")
    ctx = make_ctx()
    for i in range(60):
        ctx.manager.backend.create(
            Session(
                id=f"{i:08d}-0000-4000-8000-{i:012d}",
                name=f"S{i:02d}",
                po_name="coordinator",
                created_at=at(1 + i // 24, i % 24),
                updated_at=at(1 + i // 24, i % 24),
                source="tui",
            )
        )
    app = make_app(ctx)
    async with app.run_test(size=(120, 30)) as pilot:
        explorer = await open_explorer(pilot)
        rows = explorer.query_one(RowList)
        await pilot.press("down", *["pagedown"] * 2, "down", "down")
        await settle(pilot)
        assert rows.scroll_offset.y > 0
        kept = under_cursor(explorer)
        line = rows.cursor - int(rows.scroll_offset.y)
        with other_process(root) as other:
            other.create("coordinator", "Made elsewhere")
        await app.coord.refresh()
        await wait_until(pilot, lambda: "Made elsewhere" in names(explorer))
        await settle(pilot)
        assert names(explorer)[0] == "Made elsewhere"
        assert under_cursor(explorer) == kept
        assert rows.cursor - int(rows.scroll_offset.y) == line


async def test_a_session_deleted_elsewhere_leaves_the_cursor_at_its_place(root, make_ctx, make_app):
    """The session under the cursor is deleted by another manager: it leaves the rows and the
    cursor stays at the same place, on the session that followed it."""
    write_po(root, "coordinator")
    ctx = make_ctx()
    fixed_session(ctx, "a", "coordinator", "First", [("user", "1")], at(3, 14))
    gone = fixed_session(ctx, "b", "coordinator", "Second", [("user", "2")], at(2, 14))
    third = fixed_session(ctx, "c", "coordinator", "Third", [("user", "3")], at(1, 14))
    app = make_app(ctx)
    async with app.run_test(size=(120, 30)) as pilot:
        explorer = await open_explorer(pilot)
        await pilot.press("down", "down")
        assert under_cursor(explorer) == gone.id
        with other_process(root) as other:
            other.delete(gone.id)
        await app.coord.refresh()
        await wait_until(pilot, lambda: names(explorer) == ["First", "Third"])
        assert under_cursor(explorer) == third.id
