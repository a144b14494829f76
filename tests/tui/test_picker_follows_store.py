"""An open session picker follows the store (DESIGN section 8: another process's changes show
up in an open TUI within about a second): a session made elsewhere is listed, a count changed
elsewhere is redrawn, and the filter and the session under the cursor stay."""

from __future__ import annotations

from prompt_sessions.manager import SessionManager
from prompt_sessions.models import Message
from prompt_sessions.plugins import PluginHost
from prompt_sessions.tui.screens.picker import SessionPicker

from .conftest import settle, wait_until, write_po


def _names(picker: SessionPicker) -> list[str]:
    return [getattr(r, "name", "") for r in picker.rows_widget.rows]


async def test_the_open_picker_lists_what_another_process_changed(root, make_ctx, make_app):
    """With the picker open and filtered to "plan", another manager on the folder (as another
    process) makes "Plan B" and adds a message to "Plan A": after the runtime's sync both show,
    the filter still applies and the cursor stays on "Plan A"."""
    write_po(root, "coordinator")
    ctx = make_ctx()
    first = ctx.manager.create("coordinator", "Plan A")
    ctx.manager.create("coordinator", "Notes")
    ctx.manager.flush()
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("escape", "S")
        await wait_until(pilot, lambda: isinstance(app.screen, SessionPicker))
        picker = app.screen
        await pilot.press("slash", *"plan")
        await wait_until(pilot, lambda: _names(picker) == ["Plan A"])
        assert picker.selected is not None and picker.selected.id == first.id
        with SessionManager.open(root, host=PluginHost.create(entry_points=False)) as other:
            other.create("coordinator", "Plan B")
            other.append(first.id, Message(role="user", content="written elsewhere"))
        await app.coord.refresh()  # the watcher's sync
        await wait_until(pilot, lambda: sorted(_names(picker)) == ["Plan A", "Plan B"])
        await wait_until(pilot, lambda: picker.selected.message_count == 1)
        assert picker.selected.id == first.id
        assert app.screen is picker


async def test_a_picker_closed_while_it_reads_the_store_again_leaves_the_app_working(
    root, make_ctx, make_app
):
    """The reading runs in a thread; the picker is closed (Esc) and taken down before it comes
    back. The reading is dropped, and the app goes on working."""
    import threading

    write_po(root, "coordinator")
    ctx = make_ctx()
    ctx.manager.create("coordinator", "Plan A")
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("escape", "S")
        await wait_until(pilot, lambda: isinstance(app.screen, SessionPicker))
        picker = app.screen
        reading, go_on = threading.Event(), threading.Event()
        real_list = ctx.manager.list

        def slow_list(*args, **kwargs):
            reading.set()
            go_on.wait(5)
            return real_list(*args, **kwargs)

        ctx.manager.list = slow_list
        picker.store_changed()
        await wait_until(pilot, reading.is_set)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not picker.is_attached)  # closed and taken down
        go_on.set()
        await app.workers.wait_for_complete()
        await settle(pilot)
        ctx.manager.list = real_list
        await pilot.press("S")
        await wait_until(pilot, lambda: isinstance(app.screen, SessionPicker))
        assert _names(app.screen) == ["Plan A"]
