"""The session picker (S): listing, new, rename, delete, filter, select, cancel."""

from __future__ import annotations

import os
import threading

from rich.text import Text

from prompt_sessions.tui.screens.confirm import ConfirmScreen
from prompt_sessions.tui.screens.main import MainScreen
from prompt_sessions.tui.screens.name_prompt import NamePrompt
from prompt_sessions.tui.screens.picker import SessionPicker
from prompt_sessions.tui.widgets.row_list import RowList

from .conftest import at, fixed_session, wait_until


def rows(app) -> list[str]:
    picker = app.screen
    assert isinstance(picker, SessionPicker)
    widget = picker.query_one(RowList)
    return [picker.render_row(r, 80).plain.rstrip() for r in widget.rows]


def seed(ctx):
    a = fixed_session(ctx, "a", "coordinator", "Alpha [draft]", [("user", "hi")], at(3, 14, 30))
    b = fixed_session(ctx, "b", "coordinator", "Beta", [], at(2, 9, 0))
    c = fixed_session(
        ctx, "c", "coordinator", "Gamma", [("user", "x"), ("assistant", "y")], at(1, 1, 0)
    )
    fixed_session(ctx, "d", "writer", "Elsewhere", [], at(3, 10, 0))
    ctx.manager.switch("coordinator", b.id)
    return a, b, c


async def open_picker(pilot):
    """Open the picker and wait until it is shown with its rows focused, so that the keys
    pressed next are its own (on a loaded machine the pilot's keys may run ahead of S)."""
    await pilot.press("escape", "S")
    app = pilot.app
    await wait_until(
        pilot,
        lambda: isinstance(app.screen, SessionPicker) and isinstance(app.focused, RowList),
    )
    await pilot.pause()


async def test_lists_current_po_sessions_with_marker_counts_and_times(make_ctx, make_app):
    """Rows: * on the current one, the name as typed, message count, 14:30 / Yesterday / a date."""
    ctx = make_ctx()
    seed(ctx)
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_picker(pilot)
        lines = rows(app)
        assert len(lines) == 3
        assert lines[0].startswith("  Alpha [draft]") and lines[0].endswith("1 msg       14:30")
        assert lines[1].startswith("* Beta") and lines[1].endswith("Yesterday")
        assert lines[2].endswith("2 msgs     Jan 01")


async def test_enter_selects_and_switches(make_ctx, make_app):
    """Enter on a row switches to it and records it as current."""
    ctx = make_ctx()
    a, b, c = seed(ctx)
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await open_picker(pilot)
        await pilot.press("down", "down", "enter")
        assert isinstance(app.screen, MainScreen) and app.screen.session_id == c.id
        assert ctx.manager.backend.get_current("coordinator") == c.id


async def test_escape_cancels(make_ctx, make_app):
    """Esc closes the picker and keeps the session."""
    ctx = make_ctx()
    a, b, c = seed(ctx)
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await open_picker(pilot)
        await pilot.press("down", "escape")
        assert isinstance(app.screen, MainScreen) and app.screen.session_id == b.id


async def test_n_creates_named_session(make_ctx, make_app):
    """n asks for a name and switches to the new session."""
    ctx = make_ctx()
    seed(ctx)
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await open_picker(pilot)
        await pilot.press("n")
        assert isinstance(app.screen, NamePrompt)
        await pilot.press(*"Fresh", "enter")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen) and app.screen.session_name == "Fresh"
        assert ctx.manager.peek_current("coordinator").name == "Fresh"


async def test_r_renames_inline(make_ctx, make_app):
    """r edits the highlighted name in place; Enter saves it."""
    ctx = make_ctx()
    a, b, c = seed(ctx)
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await open_picker(pilot)
        await pilot.press("r")
        box = app.screen.query_one("#rename")
        assert box.value == "Beta"
        box.value = "Beta [renamed]"
        await pilot.press("enter")
        assert ctx.manager.get(b.id).name == "Beta [renamed]"
        assert any(line.startswith("* Beta [renamed]") for line in rows(app))
        await pilot.press("escape")
        assert app.screen.session_name == "Beta [renamed]"


async def test_rename_to_blank_is_refused(make_ctx, make_app):
    """A blank rename is refused with a message and changes nothing."""
    ctx = make_ctx()
    a, b, c = seed(ctx)
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await open_picker(pilot)
        await pilot.press("r")
        app.screen.query_one("#rename").value = "  "
        await pilot.press("enter")
        assert ctx.manager.get(b.id).name == "Beta"
        assert isinstance(app.screen, SessionPicker)


async def test_d_deletes_after_yes_and_moves_current(make_ctx, make_app):
    """d asks; y deletes the current session and another becomes current."""
    ctx = make_ctx()
    a, b, c = seed(ctx)
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await open_picker(pilot)
        await pilot.press("up", "d")  # the cursor starts on the current one (Beta); up is Alpha
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert len(ctx.manager.list("coordinator")) == 3
        await pilot.press("d", "y")
        remaining = {s.id for s in ctx.manager.list("coordinator")}
        assert remaining == {b.id, c.id}
        await pilot.press("d", "y")  # the cursor is back on the current one (Beta)
        assert {s.id for s in ctx.manager.list("coordinator")} == {c.id}
        assert ctx.manager.backend.get_current("coordinator") == c.id
        assert rows(app)[0].startswith("* Gamma")
        await pilot.press("escape")
        assert app.screen.session_id == c.id


async def test_deleting_last_session_creates_fresh(make_ctx, make_app):
    """Deleting the PO's only session leaves a fresh empty one current."""
    ctx = make_ctx()
    only = ctx.manager.create("coordinator", "Only")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await open_picker(pilot)
        await pilot.press("d", "y")
        [fresh] = ctx.manager.list("coordinator")
        assert fresh.id != only.id and fresh.name == "New Session"
        await pilot.press("escape")
        assert app.screen.session_id == fresh.id


async def test_slash_filters_as_you_type(make_ctx, make_app):
    """/ opens the filter; typing narrows rows; Enter picks the first match; Esc clears it."""
    ctx = make_ctx()
    a, b, c = seed(ctx)
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await open_picker(pilot)
        await pilot.press("slash", *"[dr")
        assert [r.name for r in app.screen.query_one(RowList).rows] == ["Alpha [draft]"]
        await pilot.press("escape")
        assert len(rows(app)) == 3
        await pilot.press("slash", *"gam", "enter")
        assert isinstance(app.screen, MainScreen) and app.screen.session_id == c.id


async def test_rows_are_text_not_markup(make_ctx, make_app):
    """Rows are rich Text built from plain strings: a name with [bold] shows its brackets."""
    ctx = make_ctx()
    ctx.manager.create("coordinator", "[bold]x[/bold]")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await open_picker(pilot)
        picker = app.screen
        line = picker.render_row(picker.query_one(RowList).rows[0], 60)
        assert isinstance(line, Text) and "[bold]x[/bold]" in line.plain


async def test_picker_with_ten_thousand_sessions_renders_a_window(make_ctx, make_app, monkeypatch):
    """10,000 sessions: every row is listed but only the visible ones are rendered."""
    ctx = make_ctx()
    from prompt_sessions.models import Session

    with monkeypatch.context() as m:
        m.setattr(
            os, "fsync", lambda fd: None
        )  # seeding speed only; durability is tested elsewhere
        seed_many(ctx, Session)
    app = make_app(ctx)
    rendered: list[int] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await open_picker(pilot)
        widget = app.screen.query_one(RowList)
        original = widget.render_row
        widget.render_row = lambda row, width: rendered.append(1) or original(row, width)
        widget.refresh()
        await pilot.pause()
        assert len(widget.rows) == 10_000
        assert 0 < len(rendered) < 100
        await pilot.press("end")
        assert widget.cursor == 9_999


def seed_many(ctx, session_type) -> None:
    for i in range(10_000):
        sid = f"{i:08x}-0000-4000-8000-000000000000"
        ctx.manager.backend.create(
            session_type(
                id=sid,
                name=f"s[{i}]",
                po_name="coordinator",
                created_at=at(1, 0),
                updated_at=at(1, 0),
            )
        )


async def test_rows_known_to_the_runtime_show_at_once_and_the_store_is_read_again(
    make_ctx, make_app
):
    """The picker opens on the runtime's last reading of the catalog, then re-reads the store:
    a session created since appears and one deleted since goes, the cursor staying put."""
    ctx = make_ctx()
    a, b, c = seed(ctx)
    app = make_app(ctx, watch_store=False)
    async with app.run_test(size=(100, 30)) as pilot:
        known = ctx.manager.list("coordinator", include_archived=False)
        ctx.manager.delete(c.id)
        ctx.manager.create("coordinator", "Made since")
        reading, real_list = threading.Event(), ctx.manager.list

        def held_list(*args, **kwargs):  # the re-read waits until the first rows are checked
            reading.wait(10)
            return real_list(*args, **kwargs)

        ctx.manager.list = held_list
        picker = SessionPicker(ctx, "coordinator", b.id, app.clock, known=known)
        await app.push_screen(picker)
        await pilot.pause()
        assert [r.name for r in picker.all_rows] == ["Alpha [draft]", "Beta", "Gamma"]  # at once
        reading.set()
        await wait_until(
            pilot,
            lambda: (
                sorted(r.name for r in picker.all_rows) == ["Alpha [draft]", "Beta", "Made since"]
            ),
        )
        assert picker.selected is not None and picker.selected.id == b.id


async def test_the_s_key_uses_the_runtime_reading_once_it_has_one(make_ctx, make_app):
    ctx = make_ctx()
    seed(ctx)
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        while app.coord.known_sessions() is None:
            await pilot.pause(0.01)
        await open_picker(pilot)
        assert app.screen.known is not None
        assert len(rows(app)) == 3


async def test_title_shows_where_the_cursor_is(make_ctx, make_app):
    """The list has no scrollbar; the title says which row of how many is under the cursor."""
    ctx = make_ctx()
    seed(ctx)
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_picker(pilot)
        title = app.screen.query_one("#title")
        assert str(title.render()).endswith("2 of 3")  # the current session, Beta
        await pilot.press("down")
        assert str(title.render()).endswith("3 of 3")
        await pilot.press("slash", *"zzz")
        assert str(title.render()) == "Sessions of coordinator"  # nothing matches


def seed_fo(ctx):
    one = fixed_session(ctx, "a", "coordinator", "foo one", [], at(3, 14, 30))
    two = fixed_session(ctx, "b", "coordinator", "food two", [], at(3, 14, 0))
    bar = fixed_session(ctx, "c", "coordinator", "bar", [], at(3, 13, 0))
    ctx.manager.switch("coordinator", bar.id)
    return one, two, bar


async def test_down_from_the_filter_moves_through_filtered_rows_and_enter_picks(make_ctx, make_app):
    """/, `fo` (two rows match), Down: the cursor is on the second match; Enter switches to it."""
    ctx = make_ctx()
    one, two, _ = seed_fo(ctx)
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await open_picker(pilot)
        await pilot.press("slash", *"fo", "down")
        picker = app.screen
        assert isinstance(picker, SessionPicker)
        assert [r.name for r in picker.rows_widget.rows] == ["foo one", "food two"]
        assert picker.selected.id == two.id
        await pilot.press("up")
        assert picker.selected.id == one.id
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen) and app.screen.session_id == two.id


async def test_r_and_d_after_down_from_the_filter_act_on_the_highlighted_row(make_ctx, make_app):
    """/, `fo`, Down, r renames the highlighted row (not the filter text); d deletes it."""
    ctx = make_ctx()
    one, two, bar = seed_fo(ctx)
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await open_picker(pilot)
        await pilot.press("slash", *"fo", "down", "r")
        picker = app.screen
        assert picker.query_one("#filter").value == "fo"
        assert picker.query_one("#rename").value == "food two"
        await pilot.press("ctrl+u", *"fox two", "enter")
        await pilot.pause()
        assert ctx.manager.get(two.id).name == "fox two"
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot.pause()
        assert {s.id for s in ctx.manager.list("coordinator")} == {one.id, bar.id}
