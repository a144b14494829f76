"""A line starting with "/" that is refused (an unknown command, say a path pasted as the start
of a message, or a command missing its argument) is not lost: it comes back in the message box,
selected, so typing replaces it; the error says how to send such a line as a message."""

from __future__ import annotations

from prompt_sessions.tui.widgets.message_box import MessageBox
from prompt_sessions.tui.widgets.message_view import NoteView

from .conftest import settle, wait_until

LINE = "/usr/bin/python3 crashes when I run it"


async def test_an_unknown_command_comes_back_selected(make_ctx, make_app):
    """Enter on LINE: an error note naming // and the line back in the box, all selected;
    typing replaces it and Enter sends what was typed; nothing else was stored."""
    ctx = make_ctx()
    app = make_app(ctx)
    async with app.run_test() as pilot:
        box = app.screen.query_one(MessageBox)
        box.text = LINE
        await pilot.press("enter")
        await settle(pilot)
        errors = [str(n.render()) for n in app.screen.query(NoteView) if n.has_class("-error")]
        assert len(errors) == 1 and "start with // to send a message" in errors[0]
        assert box.text == LINE and box.selected_text == LINE
        await pilot.press(*"hello", "enter")
        await wait_until(pilot, lambda: [s.message_count for s in ctx.manager.list()] == [2])
        (session,) = ctx.manager.list()
        assert ctx.manager.get(session.id).history[0].content == "hello"


async def test_double_slash_sends_the_line_and_a_fixed_command_runs(make_ctx, make_app):
    """/rename without a name comes back; End, a space and the name make it run. //LINE sends
    LINE as a message."""
    ctx = make_ctx()
    app = make_app(ctx)
    async with app.run_test() as pilot:
        box = app.screen.query_one(MessageBox)
        box.text = "/" + LINE
        await pilot.press("enter")
        await wait_until(pilot, lambda: [s.message_count for s in ctx.manager.list()] == [2])
        (session,) = ctx.manager.list()
        assert ctx.manager.get(session.id).history[0].content == LINE
        await pilot.press(*"/rename", "enter")
        await settle(pilot)
        assert box.text == "/rename"
        await pilot.press("end", *" Paths", "enter")
        await settle(pilot)
        assert ctx.manager.get(session.id).name == "Paths" and box.text == ""
