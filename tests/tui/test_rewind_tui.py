"""/rewind, /undo, /edit, /regenerate and /tree in the real TUI (DESIGN section 14): the shown
conversation follows the store, replies run again, and the tree modal opens a session."""

from __future__ import annotations

from textual.widgets import Tree

from prompt_sessions.tui.screens.main import MainScreen
from prompt_sessions.tui.screens.tree import TreeScreen
from prompt_sessions.tui.widgets.message_view import NoteView

from .conftest import settle, type_line, wait_until


def shown_texts(app) -> list[str]:
    return [m.content for m in app.screen.conversation.history]


async def two_turns(pilot) -> None:
    await type_line(pilot, "first")
    await settle(pilot)
    await type_line(pilot, "second")
    await settle(pilot)


async def test_rewind_and_undo_redraw_the_shown_session(make_ctx, make_app):
    """/rewind shows the shorter history at once and keeps the rest in a fork; /undo brings
    it back on screen."""
    ctx = make_ctx()
    app = make_app(ctx)
    async with app.run_test(size=(120, 40)) as pilot:
        await two_turns(pilot)
        sid = app.screen.session_id
        await type_line(pilot, "/rewind")
        await settle(pilot)
        await wait_until(pilot, lambda: len(shown_texts(app)) == 2)
        assert shown_texts(app) == ["first", "You said: first"]
        assert app.screen.message_count == 2 and app.screen.session_id == sid
        forks = [s for s in ctx.manager.list() if s.parent_id == sid]
        assert [f.message_count for f in forks] == [4]
        await type_line(pilot, "/undo")
        await settle(pilot)
        await wait_until(pilot, lambda: len(shown_texts(app)) == 4)
        assert [s.id for s in ctx.manager.list()] == [sid]


async def test_regenerate_runs_a_new_reply(make_ctx, make_app):
    """/regenerate moves the last reply to a fork and streams a new one into the session."""
    ctx = make_ctx()
    app = make_app(ctx)
    async with app.run_test(size=(120, 40)) as pilot:
        await two_turns(pilot)
        sid = app.screen.session_id
        await type_line(pilot, "/regenerate")
        await settle(pilot)
        await wait_until(pilot, lambda: ctx.manager.get(sid).summary().message_count == 4)
        await settle(pilot)
        assert shown_texts(app)[-1] == "You said: second"
        names = sorted(s.name for s in ctx.manager.list())
        assert names == ["first", "first (earlier reply)"]  # auto-named by its first message


async def test_edit_asks_again_with_the_new_text(make_ctx, make_app):
    """/edit replaces the last message of the person and the reply answers the new text."""
    ctx = make_ctx()
    app = make_app(ctx)
    async with app.run_test(size=(120, 40)) as pilot:
        await two_turns(pilot)
        sid = app.screen.session_id
        await type_line(pilot, "/edit changed my mind")
        await settle(pilot)
        await wait_until(pilot, lambda: ctx.manager.get(sid).summary().message_count == 4)
        await settle(pilot)
        assert [m.content for m in ctx.manager.get(sid).history][2:] == [
            "changed my mind",
            "You said: changed my mind",
        ]
        await wait_until(pilot, lambda: shown_texts(app)[-1] == "You said: changed my mind")


async def test_rewind_refused_while_the_reply_streams(make_ctx, make_app, gate):
    """A session that is replying is not rewound; the note says to cancel first."""
    ctx = make_ctx(responder="gate")
    app = make_app(ctx)
    async with app.run_test(size=(120, 40)) as pilot:
        # Typed without waiting for the reply to end: it is held open until the gate opens.
        await pilot.press(*"question", "enter")
        await wait_until(pilot, lambda: gate.started == 1)
        await pilot.press(*"/rewind 0", "enter")
        await wait_until(
            pilot,
            lambda: any(
                "/cancel it first" in str(n.render())
                for n in app.screen.conversation.query(NoteView)
            ),
        )
        gate.opened.set()
        await settle(pilot)
        assert len(ctx.manager.list()) == 1


async def test_tree_modal_opens_a_fork_on_enter(make_ctx, make_app):
    """/tree shows the root with its fork under it, the shown session under the cursor; Enter
    on the fork shows it; Esc closes without moving."""
    ctx = make_ctx()
    app = make_app(ctx)
    async with app.run_test(size=(120, 40)) as pilot:
        await two_turns(pilot)
        sid = app.screen.session_id
        await type_line(pilot, "/rewind")
        await settle(pilot)
        (fork,) = [s for s in ctx.manager.list() if s.parent_id == sid]
        await type_line(pilot, "/tree")
        assert isinstance(app.screen, TreeScreen)
        await pilot.pause()
        tree = app.screen.query_one(Tree)
        assert tree.cursor_node is not None and tree.cursor_node.data.id == sid
        assert [child.data.id for child in tree.root.children] == [fork.id]
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen) and app.screen.session_id == sid
        await type_line(pilot, "/tree")
        await pilot.pause()
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen) and app.screen.session_id == fork.id
        assert app.screen.message_count == 4


async def test_edit_alone_offers_the_last_message_in_the_box(make_ctx, make_app):
    """/edit without text puts ``/edit 3 second`` in the box; changing it and pressing Enter
    edits message 3 and asks again."""
    ctx = make_ctx()
    app = make_app(ctx)
    async with app.run_test(size=(120, 40)) as pilot:
        await two_turns(pilot)
        sid = app.screen.session_id
        await type_line(pilot, "/edit")
        box = app.screen.message_box
        assert box.text == "/edit 3 second" and box.has_focus
        await pilot.press(*" thoughts", "enter")
        await settle(pilot)
        await wait_until(pilot, lambda: ctx.manager.get(sid).summary().message_count == 4)
        assert ctx.manager.get(sid).history[2].content == "second thoughts"


def conversation_order(app) -> list[str]:
    """The shown conversation's messages and notes, top to bottom."""
    from prompt_sessions.tui.widgets.message_view import MessageView

    found = []
    for child in app.screen.conversation.children:
        if isinstance(child, NoteView):
            found.append("note: " + child.text)
        elif isinstance(child, MessageView):
            found.append(child.message.content)
    return found


async def test_rewind_and_undo_notes_follow_the_history_they_speak_of(make_ctx, make_app):
    """The /rewind note stays under the shortened history (the redraw keeps it); /undo's note
    comes after the messages it brings back, and says the emptied fork went to the trash and
    how to bring it back."""
    ctx = make_ctx()
    app = make_app(ctx)
    async with app.run_test(size=(120, 40)) as pilot:
        await two_turns(pilot)
        await type_line(pilot, "/rewind")
        await settle(pilot)
        await wait_until(pilot, lambda: len(shown_texts(app)) == 2)
        await settle(pilot)
        order = conversation_order(app)
        assert order[:2] == ["first", "You said: first"]
        assert order[2].startswith("note: Rewound to 2 messages") and len(order) == 3
        [fork] = [s for s in ctx.manager.list() if s.id != app.screen.session_id]
        await type_line(pilot, "/undo")
        await settle(pilot)
        await wait_until(pilot, lambda: len(shown_texts(app)) == 4)
        await settle(pilot)
        order = conversation_order(app)
        assert order[:4] == ["first", "You said: first", "second", "You said: second"]
        assert order[4].startswith("note: Rewound")
        assert order[5] == (
            "note: Undid the last rewind: 4 messages again; the fork 'first (before rewind)' is "
            "no longer needed (moved to the trash; undo with: prompt-sessions restore "
            f"{fork.id[:8]})"
        )
        await type_line(pilot, "after")  # a new message follows the notes again
        await settle(pilot)
        assert conversation_order(app)[6:] == ["after", "You said: after"]


async def test_keys_typed_right_after_enter_in_the_tree_land_in_the_box(make_ctx, make_app):
    """/tree, Down, then Enter and a message typed at once: the fork is shown and the keys are
    text in its box (the ``S`` of "So" does not open the picker)."""
    from textual import events

    from prompt_sessions.tui.widgets.message_box import MessageBox

    ctx = make_ctx()
    app = make_app(ctx)
    async with app.run_test(size=(120, 40)) as pilot:
        await two_turns(pilot)
        sid = app.screen.session_id
        await type_line(pilot, "/rewind")
        await settle(pilot)
        (fork,) = [s for s in ctx.manager.list() if s.parent_id == sid]
        await type_line(pilot, "/tree")
        await pilot.pause()
        await pilot.press("down")
        for key, char in [("enter", "\r"), ("S", "S"), ("o", "o")]:
            app.post_message(events.Key(key, char))
        await settle(pilot)
        assert isinstance(app.screen, MainScreen) and app.screen.session_id == fork.id
        assert app.screen.query_one(MessageBox).text == "So"
