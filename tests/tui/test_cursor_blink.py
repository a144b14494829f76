"""``cursor_blink=False`` (how the tests run the app) reaches every text box, not only the
message box: a snapshot taken on a loaded machine must not catch a box's cursor mid-blink."""

from __future__ import annotations

from textual.widgets import Input, TextArea

from .conftest import settle


async def test_no_text_box_blinks_when_blinking_is_off(make_ctx, make_app):
    """The message box, the explorer's search and the picker's filter all stop blinking."""
    ctx = make_ctx()
    ctx.manager.create("coordinator", "One")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await settle(pilot)
        boxes = [app.screen.query_one(TextArea)]
        await pilot.press("escape", "E")
        await settle(pilot)
        boxes.append(app.screen.query_one("#search", Input))
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("escape", "S")
        await settle(pilot)
        await pilot.press("slash")
        await settle(pilot)
        boxes.append(app.screen.query_one("#filter", Input))
        assert [box.cursor_blink for box in boxes] == [False, False, False]
