"""Stored text never drives the terminal in the TUI: messages show control characters visibly,
and no line the app draws holds a control character, whatever widget drew it."""

from __future__ import annotations

import re

from rich.segment import ControlType, Segment
from textual.color import Color
from textual.geometry import Region

from prompt_sessions.models import Message
from prompt_sessions.tui.screens.picker import SessionPicker
from prompt_sessions.tui.terminal_filter import DropControlCharacters
from prompt_sessions.tui.widgets.message_view import MessageView

from .conftest import settle

HOSTILE = "copy \x1b]52;c;ZXZpbA==\x07 title \x1b]0;owned\x07 clear \x1b[2J \x9b2J end"
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def drawn_lines(app) -> list[str]:
    """Every line each visible widget of the current screen draws, after the app's filters."""
    lines = []
    for widget in [app.screen, *app.screen.walk_children()]:
        width, height = widget.size
        if width and height and widget.display:
            for strip in widget.render_lines(Region(0, 0, width, height)):
                lines.append("".join(s.text for s in strip if not s.control))
    return lines


async def test_a_hostile_message_is_shown_visibly_and_drawn_without_controls(make_ctx, make_app):
    """A message holding OSC 52, OSC 0, CSI and C1 sequences, from a PO whose name holds an
    escape, shows them as escapes in the conversation; no drawn line holds a control character,
    on the main screen or in the picker, even for a name with a C1 control that an older
    version wrote."""
    ctx = make_ctx()
    s = ctx.manager.create("coordinator", "Evil one")
    ctx.manager.append(s.id, Message(role="user", content=HOSTILE))
    ctx.manager.append(s.id, Message(role="assistant", content="ok", from_po="x\x1b[31m"))
    ctx.manager.switch("coordinator", s.id)
    path = ctx.manager.session_path(s.id)
    path.write_text(path.read_text().replace('"Evil one"', '"Evil\\u009b2J one"'))
    ctx.manager.close()
    ctx = make_ctx()
    assert ctx.manager.get(s.id).name == "Evil\x9b2J one"
    app = make_app(ctx)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        first = app.screen.query(MessageView).first()
        shown = "\n".join(drawn_lines(app))
        assert "\\x1b]52;c;ZXZpbA==\\x07" in shown and "\\x9b2J" in shown
        assert first.message.content == HOSTILE  # the stored text is untouched
        assert not [line for line in drawn_lines(app) if CONTROL.search(line)]
        await pilot.press("escape", "S")
        await settle(pilot)
        assert isinstance(app.screen, SessionPicker)
        assert not [line for line in drawn_lines(app) if CONTROL.search(line)]


def test_the_filter_drops_controls_and_keeps_everything_else() -> None:
    """The line filter removes C0, DEL and C1 characters from text segments and leaves other
    text, styles and control segments alone."""
    f = DropControlCharacters()
    plain = [Segment("fine text")]
    assert f.apply(plain, Color(0, 0, 0)) is plain
    control = Segment("\x07", None, [(ControlType.BELL,)])
    out = f.apply([Segment("a\x1b]0;t\x07b\x9bc\x7f"), control], Color(0, 0, 0))
    assert [s.text for s in out] == ["a]0;tbc", "\x07"] and out[1] is control
