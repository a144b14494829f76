"""A change this process made is never reported as another program's.

The store watcher sees every change to the files, this process's own included; the runtime
must know which ones it made. Each test lets the runtime sync with the store (as the watcher
does) at the worst moment: right after the change, before the screen catches up.
"""

from __future__ import annotations

from prompt_sessions.tui.screens.confirm import ConfirmScreen
from prompt_sessions.tui.screens.main import MainScreen

from .conftest import all_notes, settle, wait_for_note, wait_until
from .test_picker import open_picker  # waits for the picker's rows to take the keys


def alarms(notes: list[str]) -> list[str]:
    return [t for t in notes if "another program" in t or "elsewhere" in t]


async def open_both(pilot, first, second) -> None:
    """Open ``first`` then ``second`` with /switch, and wait until both are open, the second
    shown (each line is handled in a later turn than its Enter)."""
    app = pilot.app
    await pilot.press(*f"/switch {first.name}", "enter", *f"/switch {second.name}", "enter")
    await settle(pilot)
    await wait_until(
        pilot,
        lambda: (
            app.screen.session_id == second.id
            and {first.id, second.id} <= {live.session_id for live in app.coord.open_sessions()}
        ),
    )


async def test_picker_delete_of_the_shown_session_is_no_alarm(make_ctx, make_app):
    """S, d, y on the shown session: it is deleted, with no 'deleted by another program'."""
    ctx = make_ctx()
    other = ctx.manager.create("coordinator", "Other")
    shown = ctx.manager.create("coordinator", "Shown")
    app = make_app(ctx)
    async with app.run_test(notifications=True) as pilot:
        await wait_until(pilot, lambda: app.coord.watching)
        assert app.screen.session_id == shown.id
        await open_both(pilot, other, shown)
        await open_picker(pilot)
        await pilot.press("d", "y")
        await wait_for_note(pilot, "Deleted 'Shown'")
        await app.coord.refresh()  # the watcher's sync, before the picker closes
        await pilot.press("escape")
        await settle(pilot)
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, MainScreen) and app.screen.session_id == other.id,
        )
        assert [s.id for s in ctx.manager.list()] == [other.id]
        said = await all_notes(pilot)
        assert alarms(said) == [], said


async def test_picker_delete_of_an_open_background_session_is_no_alarm(make_ctx, make_app):
    """S, d, y on an open session that is not shown: it leaves the sidebar, with no alarm."""
    ctx = make_ctx()
    background = ctx.manager.create("coordinator", "Background")
    shown = ctx.manager.create("coordinator", "Shown")
    app = make_app(ctx)
    async with app.run_test(notifications=True) as pilot:
        await wait_until(pilot, lambda: app.coord.watching)
        await open_both(pilot, background, shown)
        await open_picker(pilot)
        await pilot.press("down")
        await wait_until(pilot, lambda: app.screen.selected.id == background.id)
        await pilot.press("d", "y")
        await wait_for_note(pilot, "Deleted 'Background'")
        await app.coord.refresh()
        await pilot.press("escape")
        await settle(pilot)
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
        said = await all_notes(pilot)  # also: the screen has taken the runtime's events
        assert app.screen.session_id == shown.id
        assert app.screen.sidebar.session_ids == [shown.id]
        assert [s.id for s in ctx.manager.list()] == [shown.id]
        assert background.id not in {live.session_id for live in app.coord.open_sessions()}
        assert alarms(said) == [], said


async def test_picker_rename_is_no_alarm(make_ctx, make_app):
    """S, r, a new name, Enter: the shown session takes the name, with no alarm."""
    ctx = make_ctx()
    shown = ctx.manager.create("coordinator", "Shown")
    app = make_app(ctx)
    async with app.run_test(notifications=True) as pilot:
        await wait_until(pilot, lambda: app.coord.watching)
        await open_picker(pilot)
        await pilot.press("r", "ctrl+u", *"Renamed", "enter")
        await wait_until(pilot, lambda: ctx.manager.get(shown.id).name == "Renamed")
        await app.coord.refresh()
        await pilot.press("escape")
        await settle(pilot)
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, MainScreen) and app.screen.session_name == "Renamed",
        )
        said = await all_notes(pilot)
        assert alarms(said) == [], said


async def test_slash_delete_is_no_alarm(make_ctx, make_app):
    """/session delete, y: the shown session goes, with no alarm."""
    ctx = make_ctx()
    other = ctx.manager.create("coordinator", "Other")
    shown = ctx.manager.create("coordinator", "Shown")
    app = make_app(ctx)
    async with app.run_test(notifications=True) as pilot:
        await wait_until(pilot, lambda: app.coord.watching)
        await open_both(pilot, other, shown)
        await pilot.press(*"/session delete", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: [s.id for s in ctx.manager.list()] == [other.id])
        await app.coord.refresh()
        await settle(pilot)
        await wait_until(pilot, lambda: app.screen.session_id == other.id)
        said = await all_notes(pilot)
        assert alarms(said) == [], said
