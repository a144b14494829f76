"""A change this process made is never reported as another program's.

The store watcher sees every change to the files, this process's own included; the runtime
must know which ones it made. Each test lets the runtime sync with the store (as the watcher
does) at the worst moment: right after the change, before the screen catches up.
"""

from __future__ import annotations

from prompt_sessions.tui.screens.picker import SessionPicker

from .conftest import settle, wait_until


def toasts(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


def alarms(app) -> list[str]:
    return [t for t in toasts(app) if "another program" in t or "elsewhere" in t]


async def open_picker(pilot) -> None:
    await pilot.press("escape", "S")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, SessionPicker))


async def test_picker_delete_of_the_shown_session_is_no_alarm(make_ctx, make_app):
    """S, d, y on the shown session: it is deleted, with no 'deleted by another program'."""
    ctx = make_ctx()
    other = ctx.manager.create("coordinator", "Other")
    shown = ctx.manager.create("coordinator", "Shown")
    app = make_app(ctx)
    async with app.run_test(notifications=True) as pilot:
        await wait_until(pilot, lambda: app.coord.watching)
        assert app.screen.session_id == shown.id
        await pilot.press(*"/switch Other", "enter", *"/switch Shown", "enter")
        await settle(pilot)
        await open_picker(pilot)
        await pilot.press("d", "y")
        await app.coord.refresh()  # the watcher's sync, before the picker closes
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.session_id == other.id
        assert [s.id for s in ctx.manager.list()] == [other.id]
        assert alarms(app) == [], toasts(app)


async def test_picker_delete_of_an_open_background_session_is_no_alarm(make_ctx, make_app):
    """S, d, y on an open session that is not shown: it leaves the sidebar, with no alarm."""
    ctx = make_ctx()
    background = ctx.manager.create("coordinator", "Background")
    shown = ctx.manager.create("coordinator", "Shown")
    app = make_app(ctx)
    async with app.run_test(notifications=True) as pilot:
        await wait_until(pilot, lambda: app.coord.watching)
        await pilot.press(*"/switch Background", "enter", *"/switch Shown", "enter")
        await settle(pilot)
        await open_picker(pilot)
        await pilot.press("down", "d", "y")
        await app.coord.refresh()
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.session_id == shown.id
        assert app.screen.sidebar.session_ids == [shown.id]
        assert [s.id for s in ctx.manager.list()] == [shown.id]
        assert background.id not in {live.session_id for live in app.coord.open_sessions()}
        assert alarms(app) == [], toasts(app)


async def test_picker_rename_is_no_alarm(make_ctx, make_app):
    """S, r, a new name, Enter: the shown session takes the name, with no alarm."""
    ctx = make_ctx()
    shown = ctx.manager.create("coordinator", "Shown")
    app = make_app(ctx)
    async with app.run_test(notifications=True) as pilot:
        await wait_until(pilot, lambda: app.coord.watching)
        await open_picker(pilot)
        await pilot.press("r", "ctrl+u", *"Renamed", "enter")
        await app.coord.refresh()
        await pilot.press("escape")
        await settle(pilot)
        assert ctx.manager.get(shown.id).name == "Renamed"
        assert app.screen.session_name == "Renamed"
        assert alarms(app) == [], toasts(app)


async def test_slash_delete_is_no_alarm(make_ctx, make_app):
    """/session delete, y: the shown session goes, with no alarm."""
    ctx = make_ctx()
    other = ctx.manager.create("coordinator", "Other")
    ctx.manager.create("coordinator", "Shown")
    app = make_app(ctx)
    async with app.run_test(notifications=True) as pilot:
        await wait_until(pilot, lambda: app.coord.watching)
        await pilot.press(*"/switch Other", "enter", *"/switch Shown", "enter")
        await settle(pilot)
        await pilot.press(*"/session delete", "enter", "y")
        await app.coord.refresh()
        await settle(pilot)
        assert [s.id for s in ctx.manager.list()] == [other.id]
        assert alarms(app) == [], toasts(app)
