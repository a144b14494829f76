"""The main screen: startup, typing, sending, keys, replies streaming and being cancelled."""

from __future__ import annotations

from textual.content import Content

from prompt_sessions.models import Message
from prompt_sessions.tui.screens.main import MainScreen
from prompt_sessions.tui.widgets.conversation import PAGE
from prompt_sessions.tui.widgets.message_box import MessageBox
from prompt_sessions.tui.widgets.message_view import MessageView, NoteView
from prompt_sessions.tui.widgets.po_list import PoList
from prompt_sessions.tui.widgets.status_bar import StatusBar

from .conftest import settle, wait_until, write_po


def status_text(app) -> str:
    return str(app.screen.query_one(StatusBar).render())


async def test_starts_on_last_used_po_without_creating_files(root, make_ctx, make_app):
    """The box has focus, the last used PO is shown, bare POs are listed, nothing is written."""
    write_po(root, "alpha")
    write_po(root, "beta")
    ctx = make_ctx()
    ctx.manager.create("beta", "Beta work")
    ctx.manager.create("gamma", "Only sessions")
    ctx.manager.create("beta", "Latest")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MainScreen)
        assert isinstance(screen.focused, MessageBox)
        assert screen.po_name == "beta"
        assert screen.query_one(PoList).names == ["alpha", "beta", "gamma"]
        assert Content.from_markup(screen.conversation.border_title).plain == "beta: Latest"
        await pilot.click(PoList, offset=(2, 1))  # alpha, first row inside the border
        await settle(pilot)
        assert screen.po_name == "alpha" and screen.session_id is None
    assert len(ctx.manager.list()) == 3  # viewing alpha created nothing


async def test_enter_sends_and_reply_is_stored(make_ctx, make_app):
    """Enter stores the message, the echo reply streams and is saved; the box keeps focus."""
    ctx = make_ctx()
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await pilot.press(*"hello [x]", "enter")
        await settle(pilot)
        [summary] = ctx.manager.list()
        history = ctx.manager.get(summary.id).history
        assert [(m.role, m.content) for m in history] == [
            ("user", "hello [x]"),
            ("assistant", "You said: hello [x]"),
        ]
        assert history[0].source == "tui" and summary.source == "tui"
        assert isinstance(app.screen.focused, MessageBox)
        assert "Session: hello [x] (2 msgs)" in status_text(app)  # named by its first message
        assert len(app.screen.conversation.query(MessageView)) == 2


async def test_newline_keys_make_multiline_messages(make_ctx, make_app):
    """shift+Enter and ctrl+j add a line instead of sending."""
    ctx = make_ctx()
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await pilot.press("a", "shift+enter", "b", "ctrl+j", "c", "enter")
        await settle(pilot)
        [summary] = ctx.manager.list()
        assert ctx.manager.get(summary.id).history[0].content == "a\nb\nc"


async def test_double_slash_sends_text_starting_with_slash(make_ctx, make_app):
    """//path is sent as the message /path, not run as a command."""
    ctx = make_ctx()
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await pilot.press(*"//etc/hosts", "enter")
        await settle(pilot)
        [summary] = ctx.manager.list()
        assert ctx.manager.get(summary.id).history[0].content == "/etc/hosts"


async def test_escape_leaves_box_and_i_or_enter_return(make_ctx, make_app):
    """Esc leaves the box (harmless again outside it); i and Enter come back to it."""
    app = make_app(make_ctx())
    async with app.run_test() as pilot:
        await pilot.press("escape")
        assert not isinstance(app.screen.focused, MessageBox)
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
        await pilot.press("i")
        assert isinstance(app.screen.focused, MessageBox)
        assert app.screen.query_one(MessageBox).text == ""
        await pilot.press("escape", "enter")
        assert isinstance(app.screen.focused, MessageBox)


async def test_capital_keys_are_text_inside_the_box(make_ctx, make_app):
    """S, N, E and q typed in the box are text, not commands."""
    app = make_app(make_ctx())
    async with app.run_test() as pilot:
        await pilot.press("S", "N", "E", "q", "[")
        assert isinstance(app.screen, MainScreen)
        assert app.screen.query_one(MessageBox).text == "SNEq["


async def test_brackets_and_ctrl_pages_move_between_open_sessions(make_ctx, make_app):
    """] / [ and ctrl+pgdn / ctrl+pgup cycle through the open sessions, wrapping round, and
    persist the PO's current session."""
    ctx = make_ctx()
    a = ctx.manager.create("coordinator", "A")
    b = ctx.manager.create("coordinator", "B")
    c = ctx.manager.create("coordinator", "C")
    ctx.manager.switch("coordinator", c.id)
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await pilot.press("escape")
        app.screen.switch_to("coordinator", a.id)
        app.screen.switch_to("coordinator", b.id)  # open, in order: C, A, B
        await pilot.press("right_square_bracket")
        assert (
            app.screen.session_id == c.id and ctx.manager.backend.get_current("coordinator") == c.id
        )
        await pilot.press("right_square_bracket")
        assert app.screen.session_id == a.id
        await pilot.press("left_square_bracket")
        assert app.screen.session_id == c.id
        await pilot.press("i", "ctrl+pagedown")  # works from the message box too
        assert app.screen.session_id == a.id
        await pilot.press("ctrl+pageup", "ctrl+pageup")
        assert app.screen.session_id == b.id


async def test_brackets_walk_the_po_sessions_while_only_one_is_open(root, make_ctx, make_app):
    """With no other session open (no sidebar), ] and [ step through the PO's sessions in the
    picker's order, wrapping round; a PO with one session stays put with a message."""
    write_po(root, "solo")
    ctx = make_ctx()
    old = ctx.manager.create("coordinator", "Old")
    new = ctx.manager.create("coordinator", "New")
    ctx.manager.append(new.id, Message(role="user", content="newest first"))
    ctx.manager.switch("coordinator", new.id)
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await pilot.press("escape")
        order = [s.id for s in ctx.manager.list("coordinator")]
        assert order == [new.id, old.id] and app.screen.session_id == new.id
        await pilot.press("right_square_bracket")
        assert app.screen.session_id == old.id
        assert ctx.manager.backend.get_current("coordinator") == old.id
        app.coord.close_session(new.id)  # only Old is open again
        await pilot.press("right_square_bracket")
        assert app.screen.session_id == new.id  # wrapped round
        app.screen.show_po("solo")
        for live in app.coord.open_sessions():
            app.coord.close_session(live.session_id)
        await pilot.press("right_square_bracket")
        assert app.screen.po_name == "solo" and app.screen.session_id is None


async def test_po_list_keys_switch_po(root, make_ctx, make_app):
    """h/l and the arrows in the PO list show another PO's current session."""
    write_po(root, "alpha")
    write_po(root, "beta")
    ctx = make_ctx()
    beta = ctx.manager.create("beta", "Beta")
    ctx.manager.create("alpha", "Alpha")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        app.screen.query_one(PoList).focus()
        await pilot.press("l")
        assert (app.screen.po_name, app.screen.session_id) == ("beta", beta.id)
        await pilot.press("h")
        assert app.screen.po_name == "alpha"
        await pilot.press("down")
        assert app.screen.po_name == "beta"
        await pilot.press("enter")
        assert isinstance(app.screen.focused, MessageBox)


async def test_n_asks_name_with_auto_default(make_ctx, make_app):
    """N opens the name prompt prefilled with the auto-name; Enter creates and shows it."""
    ctx = make_ctx()
    ctx.manager.create("coordinator", "New Session")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await pilot.press("escape", "N")
        prompt = app.screen
        assert prompt.query_one("Input").value == "New Session 2"
        await pilot.press("enter")
        current = ctx.manager.peek_current("coordinator")
        assert current.name == "New Session 2" and app.screen.session_id == current.id
        # the new session took the focus to its message box: Esc first, then N
        await pilot.press("escape", "N", *"Custom [name]", "enter")  # typing replaces the default
        assert app.screen.session_name == "Custom [name]"
        assert len(ctx.manager.list()) == 3


async def test_n_then_escape_creates_nothing(make_ctx, make_app):
    """Esc in the name prompt cancels."""
    ctx = make_ctx()
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await pilot.press("escape", "N", "escape")
        assert isinstance(app.screen, MainScreen)
    assert ctx.manager.list() == []


async def test_blank_name_is_refused_in_prompt(make_ctx, make_app):
    """A blank name shows an error in the prompt and keeps it open."""
    ctx = make_ctx()
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await pilot.press("escape", "N")
        app.screen.query_one("Input").value = "   "
        await pilot.press("enter")
        assert "must not be empty" in str(app.screen.query_one("#error").render())
        await pilot.press("escape")
    assert ctx.manager.list() == []


async def test_streaming_reply_shows_then_completes(make_ctx, make_app, gate):
    """Chunks appear while the reply streams; opening the gate stores the whole reply."""
    ctx = make_ctx("gate")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await pilot.press(*"go", "enter")
        conversation = app.screen.conversation
        await wait_until(
            pilot,
            lambda: (
                conversation.streaming is not None
                and conversation.streaming.text == "Thinking about it"
            ),
        )
        assert "streaming" in status_text(app)
        gate.opened.set()
        await settle(pilot)
        [summary] = ctx.manager.list()
        assert ctx.manager.get(summary.id).history[-1].content == "Thinking about it - done."
        assert conversation.streaming is None


async def test_ctrl_c_cancels_and_keeps_partial_reply(make_ctx, make_app, gate):
    """ctrl+c stops the streaming reply; the part that arrived is stored as incomplete."""
    ctx = make_ctx("gate")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await pilot.press(*"go", "enter")
        conversation = app.screen.conversation
        await wait_until(
            pilot,
            lambda: (
                conversation.streaming is not None and conversation.streaming.text.endswith("it")
            ),
        )
        await pilot.press("ctrl+c")
        await settle(pilot)
        [summary] = ctx.manager.list()
        last = ctx.manager.get(summary.id).history[-1]
        assert (last.content, last.incomplete) == ("Thinking about it", True)
        assert app.screen.conversation.query(MessageView).last().message.incomplete is True


async def test_cancel_command_stops_reply(make_ctx, make_app, gate):
    """/cancel typed while a reply streams stops it."""
    ctx = make_ctx("gate")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await pilot.press(*"go", "enter")
        conversation = app.screen.conversation
        await wait_until(
            pilot,
            lambda: (
                conversation.streaming is not None and conversation.streaming.text.endswith("it")
            ),
        )
        await pilot.press(*"/cancel", "enter")
        await settle(pilot)
        [summary] = ctx.manager.list()
        assert ctx.manager.get(summary.id).history[-1].incomplete is True


async def test_quit_while_streaming_saves_incomplete(make_ctx, make_app, gate):
    """q while a reply streams quits and the partial reply is on disk, marked incomplete."""
    ctx = make_ctx("gate")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await pilot.press(*"go", "enter")
        conversation = app.screen.conversation
        await wait_until(
            pilot,
            lambda: (
                conversation.streaming is not None and conversation.streaming.text.endswith("it")
            ),
        )
        await pilot.press("escape", "q")
        await pilot.pause()
    assert app.return_code == 0 or app.return_code is None
    [summary] = ctx.manager.list()
    history = ctx.manager.get(summary.id).history
    assert [m.role for m in history] == ["user", "assistant"] and history[-1].incomplete is True


async def test_responder_failure_is_shown_not_fatal(make_ctx, make_app):
    """A failing responder gives an error line; the user's message stays stored."""
    ctx = make_ctx(fail_always=True)
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await pilot.press(*"hi", "enter")
        await settle(pilot)
        notes = app.screen.conversation.query(NoteView)
        assert any("echo failed on purpose" in str(n.render()) for n in notes)
        [summary] = ctx.manager.list()
        assert [m.role for m in ctx.manager.get(summary.id).history] == ["user"]


async def test_huge_session_renders_only_a_window(make_ctx, make_app):
    """A 10,000-message session mounts one page; scrolling to the top loads the page before."""
    ctx = make_ctx()
    history = [
        Message(role="user" if i % 2 == 0 else "assistant", content=f"message {i}")
        for i in range(10_000)
    ]
    big = ctx.manager.create("coordinator", "Big", history=history)
    ctx.manager.switch("coordinator", big.id)
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await settle(pilot)
        conversation = app.screen.conversation
        assert conversation.rendered_count == PAGE
        assert conversation.query(MessageView).last().message.content == "message 9999"
        assert "Session: Big (10000 msgs)" in status_text(app)
        conversation.scroll_home(animate=False, immediate=True)
        await wait_until(pilot, lambda: conversation.rendered_count == 2 * PAGE)
        assert (
            conversation.query(MessageView).first().message.content
            == f"message {10_000 - 2 * PAGE}"
        )


async def test_narrow_terminal_hides_the_po_column_and_says_how_to_reach_other_pos(
    make_ctx, make_app
):
    """At 40x12 the PO column is hidden so the conversation keeps the width, the hints in the
    message box name the explorer for other POs, and a message still sends."""
    ctx = make_ctx()
    app = make_app(ctx)
    async with app.run_test(size=(40, 12)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert not screen.query_one("#left").display
        assert screen.conversation.region.width == 40
        assert "E all POs" in status_text(app)
        await pilot.press(*"small", "enter")
        await settle(pilot)
        [summary] = ctx.manager.list()
        assert summary.message_count == 2
