"""A reply checkpointed while it streams (DESIGN section 8) shows once in the TUI: the watcher
sees the store's provisional copy as this program's own write, never as another message."""

from __future__ import annotations

from prompt_sessions.manager import SessionManager
from prompt_sessions.plugins import PluginHost
from prompt_sessions.tui.widgets.message_view import MessageView

from .conftest import settle, wait_until


async def test_a_checkpointed_reply_shows_once(root, make_ctx, make_app, gate):
    """While the gate holds a reply, the store (read as another process would) holds its copy
    and the conversation still shows only the user's message and the stream; once the reply
    ends, it is one message on screen and in the store."""
    ctx = make_ctx("gate", runtime={"checkpoint_ms": 20})
    session = ctx.manager.create("coordinator", "Streaming")
    ctx.manager.switch("coordinator", session.id)
    ctx.manager.flush()
    other = SessionManager.open(root, host=PluginHost.create(entry_points=False))
    app = make_app(ctx)

    def stored() -> list[tuple[str, str, bool]]:
        return [(m.role, m.content, bool(m.incomplete)) for m in other.get(session.id).history]

    try:
        async with app.run_test() as pilot:
            await wait_until(pilot, lambda: app.coord.watching)
            await pilot.press(*"hi", "enter")
            await wait_until(
                pilot, lambda: stored()[-1:] == [("assistant", "Thinking about it", True)]
            )
            await app.coord.refresh()  # what the watcher does after the copy's write
            await pilot.pause()
            await pilot.pause()
            screen = app.screen
            shown = [v.message.content for v in screen.conversation.query(MessageView)]
            assert shown == ["hi"]
            assert screen.message_count == 1
            gate.opened.set()
            await wait_until(
                pilot,
                lambda: (
                    [v.message.content for v in screen.conversation.query(MessageView)]
                    == ["hi", "Thinking about it - done."]
                ),
            )
            await app.coord.refresh()
            await settle(pilot)
            assert [v.message.content for v in screen.conversation.query(MessageView)] == [
                "hi",
                "Thinking about it - done.",
            ]
            assert stored() == [
                ("user", "hi", False),
                ("assistant", "Thinking about it - done.", False),
            ]
    finally:
        other.close()
