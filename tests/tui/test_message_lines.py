"""A person's message is drawn with the lines they typed; a PO's reply is drawn as Markdown.

Markdown takes ``*`` or ``#`` as formatting, so only replies (written by models, in Markdown) go
through it, keeping their single line breaks; what a person typed, and tool output, are drawn as
written.
"""

from __future__ import annotations

from textual.geometry import Region
from textual.widgets import Static

from prompt_sessions.models import Message
from prompt_sessions.tui.widgets.message_view import MessageView

from .conftest import settle


def body_lines(view: MessageView) -> list[str]:
    """The lines a message's body draws (speaker first), trailing blanks dropped."""
    body = view.query_one(".body", Static)
    width, height = body.size
    lines = [
        "".join(s.text for s in strip).rstrip()
        for strip in body.render_lines(Region(0, 0, width, height))
    ]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def views(app) -> list[MessageView]:
    return list(app.screen.conversation.query(MessageView))


async def test_typed_line_breaks_stay_after_the_reply_ends(make_ctx, make_app):
    """Three lines typed with ctrl+j are drawn as three lines once the reply is stored, not
    as one paragraph (the example a new user met)."""
    ctx = make_ctx()
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"first line A", "ctrl+j", *"second line B", "ctrl+j")
        await pilot.press(*"third line C", "enter")
        await settle(pilot)
        mine, reply = views(app)
        assert mine.message.content == "first line A\nsecond line B\nthird line C"
        assert body_lines(mine) == ["you", "first line A", "second line B", "third line C"]
        assert reply.message.role == "assistant"


async def test_a_long_pasted_message_keeps_every_line_when_reopened(make_ctx, make_app):
    """A 60-line message stored earlier, opened in a new TUI, shows its 60 lines; characters
    Markdown would take as formatting (``#``, ``*``, ``1.``, ``>``) show as typed."""
    ctx = make_ctx()
    s = ctx.manager.create("coordinator", "Pasted")
    pasted = [f"line {i:02d} of the log" for i in range(1, 61)]
    pasted[3] = "# not a heading"
    pasted[4] = "2 * 3 * 4 and *not emphasis*"
    pasted[5] = "1. not a list"
    pasted[6] = "> not a quote"
    ctx.manager.append(s.id, Message(role="user", content="\n".join(pasted)))
    ctx.manager.switch("coordinator", s.id)
    app = make_app(ctx)
    async with app.run_test(size=(100, 80)) as pilot:
        await settle(pilot)
        [mine] = views(app)
        assert body_lines(mine) == ["you", *pasted]


async def test_blank_lines_and_indentation_are_kept(make_ctx, make_app):
    """Blank lines between paragraphs and leading spaces (code pasted without fences) are
    drawn as typed."""
    ctx = make_ctx()
    s = ctx.manager.create("coordinator", "Code")
    text = "def f():\n    return 1\n\n\nafter two blank lines"
    ctx.manager.append(s.id, Message(role="user", content=text))
    ctx.manager.switch("coordinator", s.id)
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        [mine] = views(app)
        assert body_lines(mine) == [
            "you",
            "def f():",
            "    return 1",
            "",
            "",
            "after two blank lines",
        ]


async def test_a_reply_is_still_drawn_as_markdown(make_ctx, make_app):
    """A PO's reply keeps Markdown: emphasis markers and the heading's ``#`` are not drawn,
    a bulleted list gets its bullets."""
    ctx = make_ctx()
    s = ctx.manager.create("coordinator", "Styled")
    ctx.manager.append(s.id, Message(role="user", content="show me"))
    reply = "# Title\n\nSome **bold** words.\n\n- one\n- two"
    ctx.manager.append(s.id, Message(role="assistant", content=reply))
    ctx.manager.switch("coordinator", s.id)
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        _, answer = views(app)
        drawn = "\n".join(body_lines(answer))
        assert "Some bold words." in drawn and "**" not in drawn
        assert "# Title" not in drawn and "Title" in drawn
        assert "• one" in drawn and "• two" in drawn


async def test_tool_output_keeps_its_lines(make_ctx, make_app):
    """A tool message's text (a listing, a log) is drawn line by line, not joined."""
    ctx = make_ctx()
    s = ctx.manager.create("coordinator", "Tools")
    ctx.manager.append(s.id, Message(role="user", content="list"))
    ctx.manager.append(s.id, Message(role="tool", content="a.txt\nb.txt\nc.txt"))
    ctx.manager.switch("coordinator", s.id)
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        _, tool = views(app)
        assert body_lines(tool)[1:] == ["a.txt", "b.txt", "c.txt"]


async def test_lines_stay_after_switching_away_and_back_and_after_a_rewind(make_ctx, make_app):
    """The conversation drawn again (another session shown, then this one; a /regenerate
    rewriting the history) still shows the typed lines."""
    ctx = make_ctx()
    app = make_app(ctx)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press(*"one", "ctrl+j", *"two", "enter")
        await settle(pilot)
        await pilot.press(*"/new other", "enter")
        await settle(pilot)
        await pilot.press("escape", "[")
        await settle(pilot)
        assert body_lines(views(app)[0]) == ["you", "one", "two"]
        await pilot.press("i", *"/regenerate", "enter")
        await settle(pilot)
        assert body_lines(views(app)[0]) == ["you", "one", "two"]


async def test_a_reply_keeps_its_single_line_breaks(make_ctx, make_app):
    """A reply's lines split by single line breaks (a poem, an address) stay on their own
    lines, as chat tools draw them; Markdown alone would join them into one paragraph."""
    ctx = make_ctx()
    s = ctx.manager.create("coordinator", "Poem")
    ctx.manager.append(s.id, Message(role="user", content="a haiku please"))
    reply = "An old silent pond\nA frog jumps into the pond\nSplash! Silence again.\n\n*Basho*"
    ctx.manager.append(s.id, Message(role="assistant", content=reply))
    ctx.manager.switch("coordinator", s.id)
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        _, answer = views(app)
        lines = body_lines(answer)
        assert lines[1:4] == [
            "An old silent pond",
            "A frog jumps into the pond",
            "Splash! Silence again.",
        ]
        assert "Basho" in lines[-1] and "*" not in lines[-1]
