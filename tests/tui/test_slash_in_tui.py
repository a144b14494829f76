"""Slash commands typed in the message box act on the store and the screen; errors never crash."""

from __future__ import annotations

from pathlib import Path

from textual.content import Content

from prompt_sessions.tui.screens.confirm import ConfirmScreen
from prompt_sessions.tui.screens.main import MainScreen
from prompt_sessions.tui.widgets.message_view import NoteView

from .conftest import settle, type_line


def notes(app) -> list[str]:
    return [str(n.render()) for n in app.screen.conversation.query(NoteView)]


async def test_new_rename_switch(make_ctx, make_app):
    """/session new, /rename and /switch change the store and what is shown."""
    ctx = make_ctx()
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await type_line(pilot, '/session new "First one"')
        first = app.screen.session_id
        assert ctx.manager.get(first).name == "First one" and app.screen.session_name == "First one"
        await type_line(pilot, "/new")
        await type_line(pilot, "/rename Second [b]")
        second = app.screen.session_id
        assert second != first and ctx.manager.get(second).name == "Second [b]"
        assert (
            Content.from_markup(app.screen.conversation.border_title).plain
            == "assistant: Second [b]"
        )
        await type_line(pilot, "/s first")
        assert app.screen.session_id == first == ctx.manager.backend.get_current("assistant")
        await type_line(pilot, f"/switch {second[:8]}")
        assert app.screen.session_id == second


async def test_switch_to_other_po_by_id(make_ctx, make_app):
    """/session switch with another PO's id moves to that PO."""
    ctx = make_ctx()
    other = ctx.manager.create("writer", "Elsewhere")
    ctx.manager.create("coordinator", "Here")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await type_line(pilot, f"/session switch {other.id}")
        assert (app.screen.po_name, app.screen.session_id) == ("writer", other.id)


async def test_delete_asks_in_a_modal(make_ctx, make_app):
    """/session delete opens the y/N question; y deletes and shows another session."""
    ctx = make_ctx()
    keep = ctx.manager.create("coordinator", "Keep")
    gone = ctx.manager.create("coordinator", "Gone")
    ctx.manager.switch("coordinator", gone.id)
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await type_line(pilot, "/session delete")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot.pause()
        assert [s.id for s in ctx.manager.list()] == [keep.id]
        assert isinstance(app.screen, MainScreen) and app.screen.session_id == keep.id


async def test_export_info_fork_help(make_ctx, make_app, tmp_path, monkeypatch):
    """/session export writes a file named in the conversation; info, fork and help answer there."""
    monkeypatch.chdir(tmp_path)
    ctx = make_ctx()
    app = make_app(ctx)
    async with app.run_test(size=(120, 40)) as pilot:
        await type_line(pilot, "hello")
        await settle(pilot)
        sid = app.screen.session_id
        await type_line(pilot, "/session export json")
        written = next(tmp_path.glob("*.json"))
        assert sid in written.read_text()
        assert any(str(written) in n for n in notes(app))
        await type_line(pilot, "/session info")
        assert any(f"Id: {sid}" in n and "Messages: 2" in n for n in notes(app))
        await type_line(pilot, "/session fork Branch")
        assert ctx.manager.get(app.screen.session_id).parent_id == sid
        assert app.screen.message_count == 2
        await type_line(pilot, "/help")
        assert any("/session switch <name|id>" in n for n in notes(app))


async def test_import_command(make_ctx, make_app, tmp_path):
    """/session import reads a file and shows the imported session."""
    ctx = make_ctx()
    source = ctx.manager.create("writer", "Shared")
    path = Path(tmp_path / "in.json")
    path.write_text(ctx.manager.export(source.id, "json"))
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await type_line(pilot, f"/session import {path}")
        assert app.screen.po_name == "writer" and app.screen.session_name == "Shared (imported)"


async def test_bad_commands_answer_without_crashing(make_ctx, make_app):
    """Unknown commands, bad quotes and bad arguments show an error line; the app keeps going."""
    ctx = make_ctx()
    app = make_app(ctx)
    async with app.run_test() as pilot:
        for line in (
            "/nope",
            '/rename "open',
            "/switch missing",
            "/session export zip",
            "/rename",
            "/session delete",
        ):
            await type_line(pilot, line)
        errors = [
            str(n.render())
            for n in app.screen.conversation.query(NoteView)
            if n.has_class("-error")
        ]
        assert len(errors) == 6
        assert "unknown command" in errors[0] and "no session yet" in errors[3]
        assert isinstance(app.screen, MainScreen)
        await type_line(pilot, "/sessions")
        assert any("assistant has no sessions yet" in n for n in notes(app))
    assert [s.name for s in ctx.manager.list()] == []  # nothing was created by the failures


async def test_sessions_lists(make_ctx, make_app):
    """/sessions lists the PO's sessions with the current one starred."""
    ctx = make_ctx()
    s = ctx.manager.create("coordinator", "Listed [1]")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await type_line(pilot, "/sessions")
        assert any(f"* Listed [1] (0 msgs" in n and s.id[:8] in n for n in notes(app))


async def test_f1_and_question_mark_show_the_help(make_ctx, make_app):
    """F1 (even while typing, the draft kept) and ``?`` outside the message box show what
    /help shows, then the keys; ``?`` typed in the box is text."""
    ctx = make_ctx()
    ctx.manager.create("writer", "One")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press(*"why?")
        await settle(pilot)
        assert app.screen.message_box.text == "why?"
        assert not any("/session switch <name|id>" in n for n in notes(app))
        await pilot.press("f1")
        await settle(pilot)
        assert sum("/session switch <name|id>" in n for n in notes(app)) == 1
        assert sum(n.startswith("Keys: Enter sends") for n in notes(app)) == 1
        assert app.screen.message_box.text == "why?"
        await pilot.press("escape", "question_mark")
        await settle(pilot)
        assert sum("/session switch <name|id>" in n for n in notes(app)) == 2
