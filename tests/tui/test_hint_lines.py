"""Hint lines name whole keys (DESIGN section 8): at the common widths (80, 100, 110, 120)
every hint line of the picker, its dialogs, the explorer and the status bar shows only whole
hints that fit its width, and the picker names every key it has."""

from __future__ import annotations

import pytest

from prompt_sessions.cells import cell_len
from prompt_sessions.tui.screens.confirm import ConfirmScreen
from prompt_sessions.tui.screens.explorer import ExplorerScreen
from prompt_sessions.tui.screens.main.status_hints import hints_for
from prompt_sessions.tui.screens.name_prompt import NamePrompt
from prompt_sessions.tui.screens.picker import HINTS, SessionPicker
from prompt_sessions.tui.widgets.hint_line import HintLine, entries, fit, fit_lines
from prompt_sessions.tui.widgets.status_bar import StatusBar

from .conftest import settle, wait_until
from .test_picker import open_picker, seed

WIDTHS = (80, 100, 110, 120)


def test_fit_lines_wraps_between_hints_and_drops_whole_ones():
    """Hints go to the next line whole; past the last line they are left out, never cut; a
    later shorter hint still takes room left on the last line."""
    hints = ["Enter select", "n new", "r rename", "Esc cancel"]
    assert fit_lines(hints, 100) == ["Enter select  n new  r rename  Esc cancel"]
    assert fit_lines(hints, 20, max_lines=2) == ["Enter select  n new", "r rename  Esc cancel"]
    assert fit_lines(hints, 20) == ["Enter select  n new"]
    assert fit_lines(["a long hint here", "b b"], 10) == ["b b"]
    assert fit("一二三 wide  x y", 8) == "x y"  # the first hint is 11 cells (wide characters)
    assert entries("a b   c d  e f") == ["a b", "c d", "e f"]


def assert_whole(widget: HintLine) -> None:
    width = widget.content_size.width
    assert width > 0
    lines = widget.lines()
    assert lines, f"{widget!r} shows nothing at {width} cells"
    for line in lines:
        assert cell_len(line) <= width
        for hint in line.split("  "):
            assert hint in widget.hints, f"{hint!r} is not a whole hint of {widget.hints}"
    assert widget.region.right <= widget.screen.region.right


@pytest.mark.parametrize("width", WIDTHS)
async def test_picker_and_its_dialogs_show_whole_hints(make_ctx, make_app, width):
    """The picker's hint line names every key (two lines when narrow); the confirm and the
    new-session dialogs' hints are whole at each width."""
    ctx = make_ctx()
    seed(ctx)
    app = make_app(ctx)
    async with app.run_test(size=(width, 30)) as pilot:
        await open_picker(pilot)
        assert isinstance(app.screen, SessionPicker)
        line = app.screen.query_one(HintLine)
        assert_whole(line)
        assert sorted(h for shown in line.lines() for h in shown.split("  ")) == sorted(HINTS)
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.pause()
        confirm = app.screen.query_one(HintLine)
        assert_whole(confirm)
        assert "Enter presses the highlighted button" in confirm.lines()[-1]
        await pilot.press("escape", "n")
        assert isinstance(app.screen, NamePrompt)
        await pilot.pause()
        assert_whole(app.screen.query_one(HintLine))


@pytest.mark.parametrize("width", WIDTHS)
async def test_explorer_and_status_bar_show_whole_hints(make_ctx, make_app, width):
    """The explorer's key line and the main screen's status bar never end in a part of a
    hint: what follows the bar is whole hints of the focused place."""
    ctx = make_ctx()
    seed(ctx)
    app = make_app(ctx)
    async with app.run_test(size=(width, 30)) as pilot:
        await settle(pilot)
        for press in ((), ("escape",)):
            await pilot.press(*press)
            bar = app.screen.query_one(StatusBar)
            text = str(bar.render())
            assert cell_len(text) <= bar.content_size.width
            shown = text.split("│", 1)[1].strip()
            wanted = entries(hints_for(app.screen.focused))
            assert shown and all(h in wanted for h in shown.split("  ")), shown
        await pilot.press("E")
        await wait_until(pilot, lambda: isinstance(app.screen, ExplorerScreen))
        await settle(pilot)
        assert_whole(app.screen.query_one(HintLine))
