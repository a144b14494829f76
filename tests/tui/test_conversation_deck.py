"""Switching back to a recently shown session reuses its mounted conversation: nothing is
mounted again, messages stored meanwhile are added, and only a bounded number are kept."""

from __future__ import annotations

from prompt_sessions.models import Message
from prompt_sessions.tui.widgets.message_view import MessageView

from .conftest import settle, wait_until


def contents(conversation) -> list[str]:
    return [v.message.content for v in conversation.query(MessageView)]


async def test_switching_back_shows_the_same_mounted_conversation(make_ctx, make_app):
    ctx = make_ctx()
    left = ctx.manager.create(
        "coordinator", "Left", history=[Message(role="user", content="left one")]
    )
    right = ctx.manager.create(
        "coordinator", "Right", history=[Message(role="user", content="right one")]
    )
    app = make_app(ctx)
    async with app.run_test() as pilot:
        screen = app.screen
        screen.switch_to("coordinator", left.id)
        await settle(pilot)
        left_view = screen.conversation
        left_messages = list(left_view.query(MessageView))
        screen.switch_to("coordinator", right.id)
        await settle(pilot)
        assert screen.conversation is not left_view
        assert contents(screen.conversation) == ["right one"]
        assert not left_view.display  # kept, hidden
        screen.switch_to("coordinator", left.id)
        await settle(pilot)
        assert screen.conversation is left_view
        assert list(left_view.query(MessageView)) == left_messages  # the same widgets, not new ones
        assert left_view.display


async def test_a_kept_conversation_catches_up_with_messages_stored_while_hidden(make_ctx, make_app):
    ctx = make_ctx()
    left = ctx.manager.create(
        "coordinator", "Left", history=[Message(role="user", content="first")]
    )
    right = ctx.manager.create("coordinator", "Right")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        screen = app.screen
        screen.switch_to("coordinator", left.id)
        await settle(pilot)
        first = screen.conversation.query(MessageView).first()
        screen.switch_to("coordinator", right.id)
        await settle(pilot)
        ctx.manager.append(left.id, Message(role="user", content="added while hidden"))
        await app.coord.refresh()
        await settle(pilot)
        screen.switch_to("coordinator", left.id)
        await wait_until(
            pilot, lambda: contents(screen.conversation) == ["first", "added while hidden"]
        )
        assert screen.conversation.query(MessageView).first() is first  # added to, not redrawn
        assert "Session: Left (2 msgs)" in str(screen.query_one("#status").render())


async def test_a_history_rewritten_elsewhere_is_drawn_again(make_ctx, make_app):
    ctx = make_ctx()
    left = ctx.manager.create("coordinator", "Left", history=[Message(role="user", content="old")])
    right = ctx.manager.create("coordinator", "Right")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        screen = app.screen
        screen.switch_to("coordinator", left.id)
        await settle(pilot)
        screen.switch_to("coordinator", right.id)
        await settle(pilot)
        hidden = app.coord.get(left.id)
        hidden.session.history[0] = Message(
            role="user", content="rewritten"
        )  # what a reload brings
        screen.switch_to("coordinator", left.id)
        await wait_until(pilot, lambda: contents(screen.conversation) == ["rewritten"])


async def test_only_a_bounded_number_of_conversations_stay_mounted(make_ctx, make_app):
    ctx = make_ctx()
    sessions = [ctx.manager.create("coordinator", f"S{i}") for i in range(5)]
    app = make_app(ctx)
    async with app.run_test() as pilot:
        screen = app.screen
        screen.deck.keep = 3
        for session in sessions:
            screen.switch_to("coordinator", session.id)
            await settle(pilot)
        assert screen.deck.kept == [s.id for s in sessions[-3:]]
        assert len(screen.deck.children) <= 4  # three sessions, and perhaps the empty PO view
        screen.action_close_session()  # closing the shown one shows another and drops its view
        await settle(pilot)
        assert screen.session_id != sessions[-1].id
        assert sessions[-1].id not in screen.deck.kept
        assert screen.deck.kept[-1] == screen.session_id
