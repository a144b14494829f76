"""The command palette (ctrl+p): category-prefixed entries from providers plugins can extend."""

from __future__ import annotations

from textual.command import CommandPalette

from prompt_sessions import hookimpl
from prompt_sessions.commands import SlashCommand
from prompt_sessions.context import AppContext
from prompt_sessions.plugins import PluginHost
from prompt_sessions.tui.screens.main import MainScreen
from prompt_sessions.tui.screens.name_prompt import NamePrompt
from prompt_sessions.tui.widgets.message_box import MessageBox
from prompt_sessions.tui.widgets.message_view import NoteView

from .conftest import settle, wait_until


async def run_palette(pilot, query: str) -> None:
    await pilot.press("ctrl+p")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, CommandPalette))
    await pilot.press(*query)
    await settle(pilot)
    await pilot.pause(0.3)  # the palette gathers hits in a worker of its own
    await pilot.press("enter")
    await settle(pilot)


async def test_session_new_opens_name_prompt(make_ctx, make_app):
    """'session: New' asks for a name and creates the session."""
    ctx = make_ctx()
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await run_palette(pilot, "session: New")
        assert isinstance(app.screen, NamePrompt)
        await pilot.press(*"From palette", "enter")
        assert [s.name for s in ctx.manager.list()] == ["From palette"]


async def test_switch_to_entry(make_ctx, make_app):
    """'session: Switch to <name>' switches to that session."""
    ctx = make_ctx()
    target = ctx.manager.create("assistant", "Target zebra")
    other = ctx.manager.create("assistant", "Other")
    ctx.manager.switch("assistant", other.id)
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await run_palette(pilot, "Switch to Target zebra")
        assert isinstance(app.screen, MainScreen) and app.screen.session_id == target.id


async def test_export_entry_writes_file(make_ctx, make_app, tmp_path):
    """'export: Markdown' writes the shown session to a file and names it."""
    ctx = make_ctx()
    s = ctx.manager.create("assistant", "Exported one")
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await run_palette(pilot, "export: Markdown")
        [written] = (tmp_path / "exports").iterdir()
        assert written.name == f"Exported-one-{s.id[:8]}.md"
        assert any(written.name in str(n.render()) for n in app.screen.conversation.query(NoteView))


async def test_plugins_list_entry(make_ctx, make_app):
    """'plugins: List' shows the plugins and their hooks."""
    app = make_app(make_ctx())
    async with app.run_test(size=(100, 30)) as pilot:
        await run_palette(pilot, "plugins: List")
        text = "\n".join(str(n.render()) for n in app.screen.conversation.query(NoteView))
        assert "register_exporters" in text and "register_commands" in text


class Shout:
    """A plugin contributing /shout <text>: it must appear in the palette."""

    @hookimpl
    def register_commands(self, register):  # type: ignore[no-untyped-def]
        register(
            SlashCommand(
                "shout",
                lambda ctx, args: " ".join(args).upper(),
                "shout it",
                "/shout <text>",
                category="fun",
                palette_title="Shout",
            )
        )


async def test_plugin_command_appears_and_prefills(root, make_app):
    """A plugin's slash command shows as 'fun: Shout'; choosing it prefills the message box."""
    ctx = AppContext.open(root, host=PluginHost.create(entry_points=False, plugins=[Shout()]))
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await run_palette(pilot, "fun: Shout")
        box = app.screen.query_one(MessageBox)
        assert box.text == "/shout " and app.screen.focused is box
        await pilot.press(*"hey", "enter")
        assert any("HEY" in str(n.render()) for n in app.screen.conversation.query(NoteView))
    ctx.manager.close()
