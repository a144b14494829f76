"""The PO list follows the store (DESIGN section 8): a PO that gets its first session in another
process (say `prompt-sessions send newpo ...`) is listed in an open TUI, after the POs already
there, and the PO shown stays highlighted."""

from __future__ import annotations

from prompt_sessions.manager import SessionManager
from prompt_sessions.plugins import PluginHost
from prompt_sessions.tui.widgets.po_list import PoList

from .conftest import settle, wait_until, write_po


async def test_a_po_whose_first_session_is_made_elsewhere_is_listed(root, make_ctx, make_app):
    """coordinator and writer have files; another manager on the folder (as another process)
    makes a session for brandnew; after the runtime's sync brandnew is last in the PO list and
    coordinator, shown, is still the highlighted PO."""
    write_po(root, "coordinator")
    write_po(root, "writer")
    ctx = make_ctx()
    ctx.manager.create("coordinator", "Plan")
    ctx.manager.flush()
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        pos = app.screen.query_one(PoList)
        assert pos.names == ["coordinator", "writer"]
        with SessionManager.open(root, host=PluginHost.create(entry_points=False)) as other:
            other.create("brandnew", "Elsewhere")
        await app.coord.refresh()  # the watcher's sync
        await wait_until(pilot, lambda: pos.names == ["coordinator", "writer", "brandnew"])
        assert pos.highlighted == 0 and app.screen.po_name == "coordinator"
