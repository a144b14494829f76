"""Many live sessions in the TUI: replies keep streaming in the background, each lands in its
own session, the sidebar shows state, unread and preview, views come back, the workspace is
restored, and other processes' changes show up."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from textual.widgets._toast import Toast

from prompt_sessions.runtime import Status
from prompt_sessions.tui.screens.main import MainScreen
from prompt_sessions.tui.widgets.message_box import MessageBox
from prompt_sessions.tui.widgets.message_view import MessageView
from prompt_sessions.tui.widgets.session_bar import SessionBar

from .conftest import settle, wait_until

WORDS = " ".join(f"w{i}" for i in range(24))  # an echo reply of several chunks


def toasts(app) -> list[str]:
    return [str(t.render()) for t in app.screen.query(Toast)]


async def send(pilot, text: str) -> None:
    """Type a message in the box of the shown session, press Enter and wait until that session
    holds it (the screen handles Enter in its own turn, later on a loaded machine; a count of
    the messages shown could still be moved by the session shown before)."""
    screen = pilot.app.screen
    live = pilot.app.coord.get(screen.session_id)
    box = screen.query_one(MessageBox)
    box.focus()
    box.text = text
    await pilot.press("enter")
    await wait_until(pilot, lambda: any(m.content == text for m in live.history))


def open_all(screen: MainScreen, *sessions) -> None:
    for s in sessions:
        screen.switch_to(s.po_name, s.id)


async def test_three_replies_stream_while_switching_and_land_in_their_own_sessions(
    make_ctx, make_app, gate
):
    """Replies started in A, B and C keep streaming (held open by the gate, however slowly
    the machine runs the test) while the view moves among them; once they end, each session's
    stored history holds exactly its own message and one reply, none lost or doubled."""
    ctx = make_ctx("gate")
    a, b, c = (ctx.manager.create("coordinator", name) for name in "ABC")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        screen = app.screen
        open_all(screen, a, b, c)
        for session in (a, b, c):
            screen.switch_to("coordinator", session.id)
            await send(pilot, f"for {session.name} {WORDS}")
        await wait_until(pilot, lambda: gate.started == 3)
        assert [app.coord.get(s.id).status for s in (a, b, c)] == [Status.STREAMING] * 3
        for key in (
            "left_square_bracket",
            "left_square_bracket",
            "right_square_bracket",
            "left_square_bracket",
        ):
            await pilot.press("escape", key)
            await pilot.pause(0.05)
            shown = screen.session_id
            texts = [v.message.content for v in screen.conversation.query(MessageView)]
            name = app.coord.get(shown).name
            assert texts == [f"for {name} {WORDS}"]  # only the shown session's message
            assert app.coord.get(shown).buffer == "Thinking about it"  # its reply, streaming
        gate.opened.set()
        await settle(pilot)
        for session in (a, b, c):
            history = ctx.manager.get(session.id).history
            assert [(m.role, m.content) for m in history] == [
                ("user", f"for {session.name} {WORDS}"),
                ("assistant", "Thinking about it - done."),
            ]
            assert not history[-1].incomplete
        shown = app.coord.get(screen.session_id)
        assert [v.message.content for v in screen.conversation.query(MessageView)] == [
            m.content for m in shown.history
        ]


async def test_background_reply_sets_unread_badge_and_notifies_then_show_clears_it(
    make_ctx, make_app, gate
):
    """A reply finishing while its session is not shown gives it an unread badge and a
    notification; showing the session clears the badge."""
    ctx = make_ctx("gate")
    a = ctx.manager.create("coordinator", "Long job")
    b = ctx.manager.create("coordinator", "Other work")
    app = make_app(ctx)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        screen = app.screen
        open_all(screen, a, b)
        screen.switch_to("coordinator", a.id)
        await send(pilot, "start the long job")
        await wait_until(pilot, lambda: app.coord.get(a.id).buffer == "Thinking about it")
        screen.switch_to("coordinator", b.id)
        bar = screen.query_one(SessionBar)
        await wait_until(pilot, lambda: "Thinking about it" in bar.row_text(a.id))
        assert bar.row_text(a.id).startswith("▶ Long job")
        gate.opened.set()
        await settle(pilot)
        assert app.coord.get(a.id).unread == 1
        assert bar.row_text(a.id).startswith("○ Long job  1 ")
        await wait_until(
            pilot, lambda: any("Reply finished in 'Long job'" in t for t in toasts(app))
        )
        assert [
            v.message.content for v in screen.conversation.query(MessageView)
        ] == []  # B shows nothing of A
        await pilot.press("escape", "left_square_bracket")
        assert screen.session_id == a.id
        assert app.coord.get(a.id).unread == 0 and bar.row_text(a.id).startswith("○ Long job\n")
        assert (
            screen.conversation.query(MessageView).last().message.content
            == "Thinking about it - done."
        )


async def test_ctrl_c_cancels_only_the_shown_session(make_ctx, make_app):
    """ctrl+c cancels the shown session's reply (kept as incomplete); the reply streaming in
    the background session finishes untouched."""
    ctx = make_ctx(chunk_delay_ms=40)
    a = ctx.manager.create("coordinator", "Background")
    b = ctx.manager.create("coordinator", "Shown")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        screen = app.screen
        open_all(screen, a, b)
        screen.switch_to("coordinator", a.id)
        await send(pilot, f"keep going {WORDS}")
        screen.switch_to("coordinator", b.id)
        long_words = " ".join([WORDS] * 20)  # still streaming however slowly the keys are handled
        await send(pilot, f"stop me {long_words}")
        await wait_until(pilot, lambda: app.coord.get(b.id).buffer != "")
        await pilot.press("ctrl+c")
        await settle(pilot)
        shown, background = ctx.manager.get(b.id).history, ctx.manager.get(a.id).history
        assert shown[-1].role == "assistant" and shown[-1].incomplete is True
        assert f"You said: stop me {long_words}".startswith(shown[-1].content)
        assert (
            background[-1].content == f"You said: keep going {WORDS}"
            and not background[-1].incomplete
        )
        assert app.coord.get(b.id).status is Status.IDLE


async def test_sidebar_hidden_for_one_session_and_shows_states(make_ctx, make_app, gate):
    """With one open session the sidebar is hidden; with more it lists each with its glyph,
    and a failed reply shows the error glyph and the error as its preview line."""
    ctx = make_ctx(fail_always=True, transient=False)
    a = ctx.manager.create("coordinator", "First")
    b = ctx.manager.create("coordinator", "Second")
    ctx.manager.switch("coordinator", a.id)
    app = make_app(ctx)
    async with app.run_test() as pilot:
        screen = app.screen
        bar = screen.query_one(SessionBar)
        assert bar.display is False and bar.session_ids == [a.id]
        screen.switch_to("coordinator", b.id)
        await pilot.pause()
        assert bar.display is True and bar.session_ids == [a.id, b.id]
        await send(pilot, "fail please")
        await settle(pilot)
        assert bar.row_text(b.id).startswith("✗ Second\n  echo failed on purpose")
        assert bar.row_text(a.id) == "○ First\n  (empty)"


async def test_choosing_a_row_in_the_sidebar_switches(make_ctx, make_app):
    """Enter on a sidebar row shows that session and makes it the PO's current one."""
    ctx = make_ctx()
    a = ctx.manager.create("coordinator", "First")
    b = ctx.manager.create("writer", "Second")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        screen = app.screen
        open_all(screen, a, b)
        await pilot.pause()
        bar = screen.query_one(SessionBar)
        bar.focus()
        assert screen.session_id == b.id
        bar.highlighted = bar.session_ids.index(a.id)
        await pilot.press("enter")
        await pilot.pause()
        assert (screen.po_name, screen.session_id) == ("coordinator", a.id)
        assert ctx.manager.backend.get_current("coordinator") == a.id


async def test_w_closes_the_shown_session_but_keeps_it_stored(make_ctx, make_app):
    """w closes the shown session (not the last one) and shows another open one."""
    ctx = make_ctx()
    a = ctx.manager.create("coordinator", "Keep")
    b = ctx.manager.create("coordinator", "Close me")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        screen = app.screen
        open_all(screen, a, b)
        await pilot.press("escape", "w")
        assert screen.session_id == a.id and [s.session_id for s in app.coord.open_sessions()] == [
            a.id
        ]
        await pilot.press("w")
        assert screen.session_id == a.id  # the last open session stays
    assert {s.id for s in ctx.manager.list()} == {a.id, b.id}


async def test_palette_offers_switch_to_every_open_session(make_ctx, make_app):
    """The palette lists 'session: Switch to …' for open sessions of every PO."""
    from prompt_sessions.tui.commands import SessionCommands

    ctx = make_ctx()
    a = ctx.manager.create("coordinator", "Mine")
    other = ctx.manager.create("writer", "Elsewhere [w]")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        screen = app.screen
        open_all(screen, other, a)
        titles = [title for title, _, _ in SessionCommands(screen).entries(screen)]
        assert "session: Switch to Elsewhere [w] (writer)" in titles
        run = next(
            run
            for title, run, _ in SessionCommands(screen).entries(screen)
            if title == "session: Switch to Elsewhere [w] (writer)"
        )
        run()
        await pilot.pause()
        assert (screen.po_name, screen.session_id) == ("writer", other.id)


async def test_draft_and_scroll_come_back_when_switching_back(make_ctx, make_app):
    """The unsent draft and the scroll position of a session are given back on return."""
    from prompt_sessions.models import Message

    ctx = make_ctx()
    history = [
        Message(role="user" if i % 2 == 0 else "assistant", content=f"message {i}")
        for i in range(12)
    ]
    a = ctx.manager.create("coordinator", "Long", history=history)
    b = ctx.manager.create("coordinator", "Short")
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        open_all(screen, a)
        await settle(pilot)
        box = screen.query_one(MessageBox)
        box.text = "half-written [thought]"
        conversation = screen.conversation
        assert conversation.max_scroll_y > 10
        conversation.scroll_to(y=conversation.max_scroll_y - 7, animate=False, immediate=True)
        await pilot.pause()
        screen.switch_to("coordinator", b.id)
        await settle(pilot)
        assert box.text == ""
        assert app.coord.get(a.id).view.draft == "half-written [thought]"
        box.text = "draft for B"
        screen.switch_to("coordinator", a.id)
        await settle(pilot)
        assert box.text == "half-written [thought]"
        assert conversation.max_scroll_y - conversation.scroll_y == 7
        screen.switch_to("coordinator", b.id)
        await settle(pilot)
        assert box.text == "draft for B"


async def test_workspace_restored_on_restart(make_ctx, make_app):
    """Quitting and starting again reopens the same sessions, shows the same one, with its draft."""
    ctx = make_ctx()
    a = ctx.manager.create("coordinator", "A")
    b = ctx.manager.create("writer", "B")
    c = ctx.manager.create("coordinator", "C")
    ctx.manager.switch("coordinator", c.id)
    app = make_app(ctx)
    async with app.run_test() as pilot:
        open_all(app.screen, a, b)
        app.screen.query_one(MessageBox).text = "unsent for B"
        await pilot.press("escape", "q")
    again = make_app(make_ctx())
    async with again.run_test() as pilot:
        await settle(pilot)
        screen = again.screen
        assert (screen.po_name, screen.session_id) == ("writer", b.id)
        assert [s.session_id for s in again.coord.open_sessions()] == [c.id, a.id, b.id]
        assert screen.query_one(MessageBox).text == "unsent for B"
        assert screen.query_one(SessionBar).session_ids == [c.id, a.id, b.id]


CHILD = textwrap.dedent(
    """
    import sys
    from prompt_sessions import Message, SessionManager
    mgr = SessionManager.open(sys.argv[1])
    if sys.argv[2] == "append":
        mgr.append(sys.argv[3], Message(role="user", content="written by another process"))
    else:
        mgr.delete(sys.argv[3])
    mgr.close()
    """
)


def other_process(root, action: str, session_id: str) -> None:
    subprocess.run(
        [sys.executable, "-c", CHILD, str(root), action, session_id], check=True, timeout=60
    )


async def until(pilot, condition, deadline_turns: int = 600) -> None:
    """Let the app run (pilot.pause in a loop) until the condition holds; a generous bound."""
    await wait_until(pilot, condition, steps=deadline_turns)


async def test_another_process_appending_shows_in_the_open_session(root, make_ctx, make_app):
    """A message appended by a separate process appears in the shown session's conversation."""
    ctx = make_ctx()
    a = ctx.manager.create("coordinator", "Shared")
    ctx.manager.switch("coordinator", a.id)
    ctx.manager.flush()
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await until(pilot, lambda: app.coord.watching)
        other_process(root, "append", a.id)
        screen = app.screen
        await until(
            pilot,
            lambda: (
                [v.message.content for v in screen.conversation.query(MessageView)]
                == ["written by another process"]
            ),
        )
        assert screen.message_count == 1


async def test_session_deleted_elsewhere_is_removed_with_a_notification(root, make_ctx, make_app):
    """A shown session deleted by another process leaves the view and the sidebar, with a notice."""
    ctx = make_ctx()
    keep = ctx.manager.create("coordinator", "Keep")
    gone = ctx.manager.create("coordinator", "Doomed")
    app = make_app(ctx)
    async with app.run_test(notifications=True) as pilot:
        screen = app.screen
        open_all(screen, keep, gone)
        await until(pilot, lambda: app.coord.watching)
        other_process(root, "delete", gone.id)
        await until(pilot, lambda: screen.session_id == keep.id)
        assert screen.query_one(SessionBar).session_ids == [keep.id]
        await until(
            pilot,
            lambda: any("'Doomed'" in t and "deleted by another program" in t for t in toasts(app)),
        )
