"""Find (f) and filter (F) in the shown conversation: both are part of the session's view, kept
when you switch away and back, and when the app is started again."""

from __future__ import annotations

from prompt_sessions.models import Message
from prompt_sessions.tui.widgets.find_bar import FindBar
from prompt_sessions.tui.widgets.message_view import MessageView

from .conftest import settle, wait_until

TEXTS = ["the budget is tight", "noted", "what budget?", "later", "Budget approved", "fine"]


def seeded(ctx, name: str = "Plans"):
    history = [
        Message(role="user" if i % 2 == 0 else "assistant", content=t) for i, t in enumerate(TEXTS)
    ]
    session = ctx.manager.create("coordinator", name, history=history)
    ctx.manager.switch("coordinator", session.id)
    return session


def listed(screen) -> list[str]:
    return [v.message.content for v in screen.conversation.query(MessageView)]


def status(screen) -> str:
    return str(screen.query_one("#status").render())


async def test_f_finds_and_enter_jumps_to_each_older_match_in_turn(make_ctx, make_app):
    ctx = make_ctx()
    seeded(ctx)
    app = make_app(ctx)
    async with app.run_test() as pilot:
        screen = app.screen
        await pilot.press("escape", "f", *"budget")
        bar = screen.query_one(FindBar)
        assert bar.has_focus and bar.border_title == "Find: 3 matches"
        marked = []
        for _ in range(4):  # newest first, then older, then round again
            await pilot.press("enter")
            await settle(pilot)
            marked.append(
                [
                    v.message.content
                    for v in screen.conversation.query(MessageView)
                    if v.has_class("-match")
                ]
            )
        assert marked == [
            ["Budget approved"],
            ["what budget?"],
            ["the budget is tight"],
            ["Budget approved"],
        ]
        assert bar.border_title == "Find: match 3 of 3"
        await pilot.press("escape")
        assert not bar.shown and screen.conversation.has_focus


async def test_a_search_with_no_match_says_so(make_ctx, make_app):
    ctx = make_ctx()
    seeded(ctx)
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await pilot.press("escape", "f", *"zebra", "enter")
        await settle(pilot)
        assert app.screen.query_one(FindBar).border_title == "Find: 0 matches"
        assert [v.message.content for v in app.screen.conversation.query(".-match")] == []


async def test_F_filters_the_conversation_and_new_messages_follow_it(make_ctx, make_app):
    ctx = make_ctx()
    session = seeded(ctx)
    app = make_app(ctx)
    async with app.run_test() as pilot:
        screen = app.screen
        await pilot.press("escape", "F", *"budget")
        await settle(pilot)
        assert listed(screen) == ["the budget is tight", "what budget?", "Budget approved"]
        assert [v.index for v in screen.conversation.query(MessageView)] == [0, 2, 4]  # places kept
        assert 'filter "budget": 3 of 6' in status(screen)
        await pilot.press("enter")  # puts the bar away, the filter stays
        assert not screen.query_one(FindBar).shown
        await screen.send("a budget question")  # matches: listed; the echo reply also says it
        await app.coord.wait_idle()
        await settle(pilot)
        assert listed(screen)[-2:] == ["a budget question", "You said: a budget question"]
        await screen.send("unrelated")
        await app.coord.wait_idle()
        await settle(pilot)
        assert "unrelated" not in " ".join(listed(screen))
        assert len(ctx.manager.get(session.id).history) == 10  # the filter only hides
        await pilot.press("escape", "F", "ctrl+u")  # an empty filter lists everything again
        await settle(pilot)
        assert len(listed(screen)) == 10 and "filter" not in status(screen)


async def test_filter_and_search_come_back_with_their_session(make_ctx, make_app):
    ctx = make_ctx()
    plans = seeded(ctx)
    other = ctx.manager.create(
        "coordinator", "Other", history=[Message(role="user", content="hello")]
    )
    app = make_app(ctx)
    async with app.run_test() as pilot:
        screen = app.screen
        await pilot.press("escape", "F", *"budget", "enter")
        await pilot.press("f", *"approved", "escape")
        screen.switch_to("coordinator", other.id)
        await settle(pilot)
        assert listed(screen) == ["hello"] and "filter" not in status(screen)
        await pilot.press("f")
        assert screen.query_one(FindBar).value == ""  # the other session's own, empty search
        await pilot.press("escape")
        screen.switch_to("coordinator", plans.id)
        await settle(pilot)
        assert listed(screen) == ["the budget is tight", "what budget?", "Budget approved"]
        await pilot.press("escape", "f")
        assert screen.query_one(FindBar).value == "approved"
        await pilot.press("escape", "q")
    again = make_app(make_ctx())
    async with again.run_test() as pilot:
        await settle(pilot)
        screen = again.screen
        assert screen.session_id == plans.id
        await wait_until(
            pilot,
            lambda: listed(screen) == ["the budget is tight", "what budget?", "Budget approved"],
        )
        await pilot.press("escape", "f")
        assert screen.query_one(FindBar).value == "approved"


async def test_a_jump_while_a_reply_streams_keeps_the_reply_in_progress(make_ctx, make_app, gate):
    ctx = make_ctx(responder="gate")
    seeded(ctx)
    app = make_app(ctx)
    async with app.run_test() as pilot:
        screen = app.screen
        await screen.send("and the budget?")
        await wait_until(
            pilot, lambda: gate.started == 1 and app.coord.get(screen.session_id).buffer != ""
        )
        await pilot.press("escape", "f", *"budget", "enter")
        await settle_without_replies(pilot)
        assert screen.conversation.streaming is not None
        assert "Thinking about it" in screen.conversation.streaming.text
        await pilot.press("escape", "F", *"approved")
        await settle_without_replies(pilot)
        assert screen.conversation.streaming is not None
        gate.opened.set()
        await settle(pilot)
        assert screen.conversation.streaming is None


async def settle_without_replies(pilot) -> None:
    """Let the screen catch up while a reply is held open (settle would wait for it)."""
    await pilot.pause()
    await pilot.pause()
