"""A session whose last turn lacks its reply (unanswered, or cut short by a crash, a cancel or
an error) offers ctrl+r and /retry to run the reply again."""

from __future__ import annotations

from prompt_sessions.models import Message
from prompt_sessions.tui.widgets.status_bar import StatusBar

from .conftest import notes_shown, settle, wait_for_note, wait_until
from .test_slash_in_tui import notes


def status(app) -> str:
    return str(app.screen.query_one(StatusBar).render())


def turns(ctx, session_id: str) -> list[tuple[str, str, bool]]:
    return [(m.role, m.content, bool(m.incomplete)) for m in ctx.manager.get(session_id).history]


async def test_unanswered_turn_is_offered_and_ctrl_r_answers_it(make_ctx, make_app):
    """A session ending in the user's message (the program died before the reply) says so in
    the status bar; ctrl+r, typed in the message box, runs the reply."""
    ctx = make_ctx()
    s = ctx.manager.create("coordinator", "Left hanging")
    ctx.manager.append(s.id, Message(role="user", content="are you there?"))
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await settle(pilot)
        assert "ctrl+r or /retry" in status(app)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert turns(ctx, s.id) == [
            ("user", "are you there?", False),
            ("assistant", "You said: are you there?", False),
        ]
        assert "ctrl+r" not in status(app)


async def test_incomplete_reply_is_run_again_and_the_cut_text_is_kept(make_ctx, make_app):
    """A reply cut short (stored incomplete) is answered anew by /retry: the new reply answers
    the user's message, not the cut-short text, which stays stored before it."""
    ctx = make_ctx()
    s = ctx.manager.create("coordinator", "Cut short")
    ctx.manager.append(s.id, Message(role="user", content="tell me"))
    ctx.manager.append(s.id, Message(role="assistant", content="You said: te", incomplete=True))
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await settle(pilot)
        assert "ctrl+r or /retry" in status(app)
        await pilot.press(*"/retry", "enter")
        await settle(pilot)
        assert turns(ctx, s.id) == [
            ("user", "tell me", False),
            ("assistant", "You said: te", True),
            ("assistant", "You said: tell me", False),
        ]


async def test_retry_with_a_complete_last_turn_says_there_is_nothing_to_do(make_ctx, make_app):
    """/retry and ctrl+r leave a session whose last turn has its reply as it is."""
    ctx = make_ctx()
    app = make_app(ctx)
    async with app.run_test(notifications=True) as pilot:
        await pilot.press(*"hello", "enter")
        await settle(pilot)
        [summary] = ctx.manager.list()
        await pilot.press(*"/retry", "enter")
        await pilot.press("ctrl+r")
        await settle(pilot)
        # /retry answers in the conversation, ctrl+r in a notification; each is shown in a
        # later turn than its key
        await wait_until(pilot, lambda: any("Nothing to retry" in n for n in notes(app)))
        await wait_for_note(pilot, "Nothing to retry")
        assert len(ctx.manager.get(summary.id).history) == 2


async def test_cancelled_reply_then_ctrl_r(make_ctx, make_app, gate):
    """ctrl+c cuts a streaming reply short (kept incomplete); ctrl+r runs it again in full."""
    ctx = make_ctx("gate")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await pilot.press(*"slow one", "enter")
        await wait_until(pilot, lambda: gate.started == 1)
        await wait_until(pilot, lambda: app.coord.get(app.screen.session_id).buffer != "")
        await pilot.press("ctrl+c")
        await settle(pilot)
        sid = app.screen.session_id
        assert turns(ctx, sid)[-1][2] is True  # incomplete
        gate.opened.set()
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert turns(ctx, sid)[-1] == ("assistant", "Thinking about it - done.", False)
        assert gate.started == 2


async def test_retry_while_another_program_replies_says_so(make_ctx, make_app):
    """ctrl+r in a session whose reply lease another program holds (its send is replying)
    says that the session is replying elsewhere, instead of doing nothing in silence; the
    session is left as it was."""
    from textual.widgets._toast import Toast

    from prompt_sessions.reply_lease import ReplyLease

    ctx = make_ctx()
    s = ctx.manager.create("coordinator", "Shared")
    ctx.manager.append(s.id, Message(role="user", content="anyone?"))
    other = ReplyLease(ctx.manager.root, s.id, "Shared")
    other.acquire(0)
    app = make_app(ctx)
    try:
        async with app.run_test(notifications=True) as pilot:
            await settle(pilot)
            await pilot.press("ctrl+r")
            await settle(pilot)  # the retry waits out the lease's grace, then gives up
            # the toast is drawn a turn after its note is handled, itself a turn after the key
            await wait_until(
                pilot,
                lambda: any(
                    "'Shared' is replying to another message" in str(t.render())
                    for t in app.screen.query(Toast)
                ),
            )
            assert turns(ctx, s.id) == [("user", "anyone?", False)]
    finally:
        other.release()


async def test_a_broken_po_file_is_said_and_the_message_stays_in_the_box(make_ctx, make_app, root):
    """A YAML mistake in the shown PO's file, made while the TUI runs: Enter says which file
    and what is wrong, stores nothing and keeps the message in the box; once the file is
    fixed, Enter sends it."""
    from prompt_sessions.tui.widgets.message_box import MessageBox

    ctx = make_ctx()
    s = ctx.manager.create("coordinator", "One")
    app = make_app(ctx)
    path = root / "objects" / "coordinator.md"
    async with app.run_test() as pilot:
        await settle(pilot)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("---\nname: [coordinator\n---\nYou coordinate.\n", encoding="utf-8")
        await pilot.press(*"hello", "enter")
        await settle(pilot)
        await wait_until(
            pilot, lambda: any(str(path) in m and "YAML" in m for m in notes_shown(app))
        )
        assert ctx.manager.get(s.id).history == []
        assert app.screen.query_one(MessageBox).text == "hello"
        path.write_text("---\nname: coordinator\n---\nYou coordinate.\n", encoding="utf-8")
        await pilot.press("enter")
        await settle(pilot)
        assert [m.role for m in ctx.manager.get(s.id).history] == ["user", "assistant"]
