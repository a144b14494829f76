"""The explorer's Pinned and Archived boxes show their state in their characters, so that it
reads without colour (NO_COLOR, a screen reader, a terminal's text capture)."""

from __future__ import annotations

from textual.geometry import Region

from prompt_sessions.tui.screens.explorer import ExplorerScreen

from .conftest import settle


def drawn(widget) -> str:
    """The characters ``widget`` draws, without any colour or style."""
    width, height = widget.outer_size
    strips = widget.render_lines(Region(0, 0, width, height))
    return "\n".join("".join(s.text for s in strip if not s.control) for strip in strips)


def one_session(make_ctx):
    ctx = make_ctx()
    ctx.manager.create("coordinator", "One")
    return ctx


async def opened_explorer(pilot) -> ExplorerScreen:
    await settle(pilot)
    await pilot.press("escape", "E")
    await settle(pilot)
    explorer = pilot.app.screen
    assert isinstance(explorer, ExplorerScreen)
    return explorer


async def test_ticked_and_unticked_boxes_differ_in_their_characters(make_ctx, make_app):
    """Unticked, the boxes draw no tick; ``p`` ticks Pinned and only Pinned draws ``✓``; ``a``
    ticks Archived too; ``p`` again clears Pinned's tick."""
    app = make_app(one_session(make_ctx))
    async with app.run_test(size=(160, 40)) as pilot:
        explorer = await opened_explorer(pilot)
        pinned, archived = explorer.query_one("#pinned"), explorer.query_one("#archived")

        def ticks() -> tuple[bool, bool]:
            return ("✓" in drawn(pinned), "✓" in drawn(archived))

        assert "Pinned" in drawn(pinned) and "Archived" in drawn(archived)
        assert ticks() == (False, False)
        await pilot.press("down", "p")
        await settle(pilot)
        assert pinned.value and ticks() == (True, False)
        assert "✓ Pinned" in drawn(pinned).replace("▌", "")
        await pilot.press("a")
        await settle(pilot)
        assert ticks() == (True, True)
        await pilot.press("p")
        await settle(pilot)
        assert not pinned.value and ticks() == (False, True)


async def test_the_ticks_show_in_a_short_window_too(make_ctx, make_app):
    """In a short window the boxes lose their borders (one line each); the tick still shows."""
    app = make_app(one_session(make_ctx))
    async with app.run_test(size=(160, 24)) as pilot:
        explorer = await opened_explorer(pilot)
        assert explorer.has_class("-short")
        await pilot.press("down", "a")
        await settle(pilot)
        assert "✓" in drawn(explorer.query_one("#archived"))
        assert "✓" not in drawn(explorer.query_one("#pinned"))
