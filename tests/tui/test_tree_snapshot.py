"""SVG snapshot of the /tree modal: a root, a fork from a rewind and a delegation, the shown
session selected. Deterministic: fixed ids and times, a frozen clock, no cursor blink.
Update with ``pytest tests/tui/test_tree_snapshot.py --snapshot-update`` and review the SVG."""

from __future__ import annotations

from prompt_sessions.tui.screens.tree import TreeScreen

from .conftest import at, fixed_session, settle, wait_until, write_po

SIZE = (110, 24)
ROOT_ID = "11111111-0000-4000-8000-111111111111"


def test_tree_modal(snap_compare, root, make_ctx, make_app):
    """/tree on a fork: the root above it, the delegation under the root, the fork selected."""
    write_po(root, "coordinator")
    ctx = make_ctx()
    talk = [("user", "plan the release"), ("assistant", "three steps"), ("user", "go on")]
    fixed_session(ctx, "1", "coordinator", "Release plan", talk[:2], at(3, 14, 0))
    fixed_session(
        ctx,
        "2",
        "coordinator",
        "Release plan (before rewind)",
        talk,
        at(3, 14, 5),
        thread_type="fork",
        parent_id=ROOT_ID,
        parent_message_index=2,
    )
    fixed_session(
        ctx,
        "3",
        "researcher",
        "Delegation",
        [("user", "find the dates")],
        at(3, 13, 0),
        thread_type="delegation",
        parent_id=ROOT_ID,
        parent_message_index=1,
    )
    ctx.manager.switch("coordinator", "22222222-0000-4000-8000-222222222222")

    async def open_tree(pilot):
        await settle(pilot)
        await pilot.press(*"/tree", "enter")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, TreeScreen))
        await settle(pilot)

    assert snap_compare(make_app(ctx), terminal_size=SIZE, run_before=open_tree)
