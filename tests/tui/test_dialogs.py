"""The dialogs answer to the mouse as well as the keyboard; the safe answer is the default."""

from __future__ import annotations

from textual.widgets import Button

from prompt_sessions.tui.screens.confirm import ConfirmScreen
from prompt_sessions.tui.screens.main import MainScreen
from prompt_sessions.tui.screens.name_prompt import NamePrompt
from prompt_sessions.tui.screens.picker import SessionPicker

from .conftest import settle


async def ask_delete(pilot) -> ConfirmScreen:
    await pilot.press("escape", "S")
    await pilot.pause()
    await pilot.press("d")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, ConfirmScreen)
    return screen


async def test_confirm_focuses_no_and_enter_answers_no(make_ctx, make_app):
    """The confirmation opens with No focused: Enter right away keeps the session."""
    ctx = make_ctx()
    ctx.manager.create("coordinator", "Keep me")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        confirm = await ask_delete(pilot)
        assert isinstance(confirm.focused, Button) and confirm.focused.id == "no"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, SessionPicker)
        assert [s.name for s in ctx.manager.list()] == ["Keep me"]


async def test_confirm_yes_button_clicked_deletes(make_ctx, make_app):
    """A click on Yes answers yes: the session is deleted."""
    ctx = make_ctx()
    ctx.manager.create("coordinator", "Other")
    ctx.manager.create("coordinator", "Doomed")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await ask_delete(pilot)
        await pilot.click("#yes")
        await pilot.pause()
        assert isinstance(app.screen, SessionPicker)
        assert [s.name for s in ctx.manager.list()] == ["Other"]


async def test_confirm_no_button_clicked_keeps(make_ctx, make_app):
    """A click on No answers no; Tab then Enter on Yes answers yes."""
    ctx = make_ctx()
    ctx.manager.create("coordinator", "Other")
    ctx.manager.create("coordinator", "Doomed")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await ask_delete(pilot)
        await pilot.click("#no")
        await pilot.pause()
        assert len(ctx.manager.list()) == 2
        confirm = await ask_delete_again(pilot)
        await pilot.press("tab")
        assert isinstance(confirm.focused, Button) and confirm.focused.id == "yes"
        await pilot.press("enter")
        await pilot.pause()
        assert [s.name for s in ctx.manager.list()] == ["Other"]


async def ask_delete_again(pilot) -> ConfirmScreen:
    await pilot.press("d")
    await pilot.pause()
    assert isinstance(pilot.app.screen, ConfirmScreen)
    return pilot.app.screen


async def test_name_prompt_buttons(make_ctx, make_app):
    """N's dialog: Cancel clicked makes nothing; OK clicked makes a session of the typed name."""
    ctx = make_ctx()
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await pilot.press("escape", "N")
        await pilot.pause()
        assert isinstance(app.screen, NamePrompt)
        await pilot.click("#cancel")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen) and ctx.manager.list() == []
        await pilot.press("escape", "N")
        await pilot.pause()
        app.screen.query_one("#name").value = "By mouse"
        await pilot.click("#ok")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen) and app.screen.session_name == "By mouse"
        assert [s.name for s in ctx.manager.list()] == ["By mouse"]
