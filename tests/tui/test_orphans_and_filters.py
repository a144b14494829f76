"""Organising in the TUI (DESIGN section 14): the explorer's tag and pinned controls (which
mean what the search language's tag: and is:pinned mean), orphaned sessions under their own
heading in the picker with c to copy one to a PO, and u after a delete of the current session
making it current again."""

from __future__ import annotations

from textual.widgets import Checkbox, Select

from prompt_sessions.tui.screens.choice import ChoiceScreen
from prompt_sessions.tui.screens.picker import SessionPicker
from prompt_sessions.tui.screens.picker_rows import Heading
from prompt_sessions.tui.widgets.row_list import RowList

from .conftest import at, fixed_session, notes_shown, settle, wait_for_note, wait_until, write_po
from .test_explorer import open_explorer, shown
from .test_picker import open_picker, rows, seed


def tagged(ctx):
    fixed_session(
        ctx, "a", "coordinator", "Ops plan", [("user", "budget")], at(3, 14), tags=["ops"]
    )
    fixed_session(
        ctx, "b", "writer", "Pinned ops", [("user", "budget")], at(3, 12), tags=["Ops"], pinned=True
    )
    fixed_session(ctx, "c", "writer", "Pinned only", [("user", "budget")], at(3, 10), pinned=True)
    fixed_session(ctx, "d", "writer", "Neither", [("user", "budget")], at(3, 9))


async def test_explorer_filters_by_tag_and_pin_with_and_without_a_search(make_ctx, make_app):
    """The tag list offers each tag once; choosing #ops keeps both spellings' sessions, p
    keeps the pinned ones among them; a search keeps those filters (its query carries them),
    and clearing the controls shows every hit again."""
    ctx = make_ctx()
    tagged(ctx)
    app = make_app(ctx)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_explorer(pilot)
        screen = app.screen
        tag = screen.query_one("#tag", Select)
        assert [str(label) for label, _ in tag._options[1:]] == ["#ops"]
        tag.value = "ops"
        await settle(pilot)
        assert shown(app) == ["Ops plan", "Pinned ops"]
        await pilot.press("down", "p")  # in the rows p toggles Pinned
        await settle(pilot)
        assert screen.query_one("#pinned", Checkbox).value
        assert shown(app) == ["Pinned ops"]
        await pilot.press("slash", *"budget")
        await settle(pilot)
        assert screen.query_text == "budget tag:ops is:pinned"
        assert shown(app) == ["Pinned ops"]
        tag.clear()
        await settle(pilot)
        assert screen.query_text == "budget is:pinned"
        assert sorted(shown(app)) == ["Pinned only", "Pinned ops"]
        screen.query_one("#pinned", Checkbox).value = False
        await settle(pilot)
        assert len(shown(app)) == 4


async def test_explorer_t_opens_the_tag_list(make_ctx, make_app):
    """t in the rows focuses the tag list and opens it; the hint line names p, t and a."""
    from prompt_sessions.tui.widgets.hint_line import HintLine

    ctx = make_ctx()
    tagged(ctx)
    app = make_app(ctx)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_explorer(pilot)
        await pilot.press("down", "t")
        await pilot.pause()
        tag = app.screen.query_one("#tag", Select)
        assert tag.expanded and tag.has_focus_within
        await pilot.pause()
        await pilot.press("down", "down")  # the list opens on nothing: Any tag, then #ops
        await pilot.pause()
        await pilot.press("enter")  # the focus goes back to the rows
        await settle(pilot)
        assert tag.value == "ops" and app.screen.query_one(RowList).has_focus
        assert shown(app) == ["Ops plan", "Pinned ops"]
        hints = " ".join(app.screen.query_one(HintLine).lines())
        assert "p pinned" in hints and "t tag" in hints and "a archived" in hints


def orphans(root, ctx):
    """coordinator and writer have files; ghost's file is gone."""
    write_po(root, "coordinator")
    write_po(root, "writer")
    a, b, c = seed(ctx)
    ghost = fixed_session(ctx, "9", "ghost", "Left behind", [("user", "hello")], at(2, 8))
    return a, b, c, ghost


async def test_picker_groups_orphaned_sessions_under_a_heading(root, make_ctx, make_app):
    """The PO's sessions come first; a heading then names the orphaned ones (of any PO), each
    shown with its PO; the cursor's keys do nothing on the heading; Enter on an orphaned
    session opens it in its own PO."""
    ctx = make_ctx()
    a, b, c, ghost = orphans(root, ctx)
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_picker(pilot)
        picker = app.screen
        await wait_until(
            pilot, lambda: any(isinstance(r, Heading) for r in picker.rows_widget.rows)
        )
        listed = picker.rows_widget.rows
        assert [getattr(r, "id", None) for r in listed] == [a.id, b.id, c.id, None, ghost.id]
        lines = rows(app)
        assert lines[3].startswith("── Orphaned (1): their PO file is gone; c copies one to a PO")
        assert lines[4].startswith("  ghost: Left behind")
        picker.rows_widget.move_to(3)
        assert picker.selected is None
        await pilot.press("d", "p", "enter")
        assert isinstance(app.screen, SessionPicker)  # nothing to act on
        assert not ctx.manager.get(ghost.id).pinned
        await pilot.press("down", "enter")
        await settle(pilot)
        assert (app.screen.po_name, app.screen.session_id) == ("ghost", ghost.id)


async def test_picker_title_counts_sessions_not_the_heading(root, make_ctx, make_app):
    """With three sessions of the PO and one orphaned, the title counts four sessions, not the
    heading row: the orphaned session is "4 of 4", and the heading shows no position."""
    ctx = make_ctx()
    a, b, c, ghost = orphans(root, ctx)
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_picker(pilot)
        picker = app.screen
        await wait_until(
            pilot, lambda: any(isinstance(r, Heading) for r in picker.rows_widget.rows)
        )
        title = picker.query_one("#title")
        assert str(title.render()).endswith("2 of 4")  # Beta, the current session
        picker.rows_widget.move_to(4)
        await pilot.pause()
        assert str(title.render()).endswith("4 of 4")  # the orphaned session
        picker.rows_widget.move_to(3)
        await pilot.pause()
        assert str(title.render()).endswith("Sessions of coordinator  4 sessions")  # heading


async def test_c_copies_an_orphaned_session_to_a_po(root, make_ctx, make_app):
    """c on the orphaned session offers the POs with a file; choosing coordinator stores a
    copy there (listed in the PO's group, selected) and the orphaned one stays."""
    ctx = make_ctx()
    a, b, c, ghost = orphans(root, ctx)
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_picker(pilot)
        picker = app.screen
        await wait_until(
            pilot, lambda: ghost.id in {getattr(r, "id", "") for r in picker.rows_widget.rows}
        )
        picker.rows_widget.move_to(4)
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        assert [v for v, _ in app.screen.choices] == ["coordinator", "writer"]
        await pilot.press("enter")  # coordinator, the first
        # the copy is made off the screen's loop: wait for its word
        await wait_for_note(pilot, "Copied 'Left behind' to coordinator")
        assert app.screen is picker
        copies = [s for s in ctx.manager.list("coordinator") if s.name == "Left behind"]
        assert len(copies) == 1
        assert ctx.manager.get(copies[0].id).history[0].content == "hello"
        assert picker.selected.id == copies[0].id
        assert ctx.manager.get(ghost.id).po_name == "ghost"


async def test_c_says_when_no_po_has_a_file(make_ctx, make_app):
    """Without any PO file there is nowhere to copy to: c says so and changes nothing."""
    ctx = make_ctx()
    seed(ctx)
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_picker(pilot)
        await pilot.press("c")
        await wait_for_note(pilot, "No other PO has a file")
        assert isinstance(app.screen, SessionPicker)
        assert len(ctx.manager.list()) == 4


async def test_u_makes_the_restored_session_current_again(make_ctx, make_app):
    """Deleting the current session makes another current; u brings it back, current again
    (the star, the store's choice), and the note says so; after Esc the main screen shows it."""
    ctx = make_ctx()
    a, b, c = seed(ctx)  # b is current
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await open_picker(pilot)
        picker = app.screen
        assert picker.selected.id == b.id
        await pilot.press("d", "y")
        await wait_for_note(pilot, "Deleted 'Beta'")
        assert ctx.manager.backend.get_current("coordinator") != b.id
        await pilot.press("u")
        await wait_for_note(pilot, "Restored 'Beta'; it is the current session again")
        assert ctx.manager.backend.get_current("coordinator") == b.id
        assert picker.current_id == b.id
        assert any(line.startswith("* Beta") for line in rows(app))
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.session_id == b.id


async def test_u_after_deleting_another_session_leaves_the_current_one(make_ctx, make_app):
    """Undo of a session that was not current restores it without taking the current choice."""
    ctx = make_ctx()
    a, b, c = seed(ctx)
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_picker(pilot)
        await pilot.press("up", "d", "y", "u")
        await wait_until(pilot, lambda: "Restored 'Alpha [draft]'" in notes_shown(app))
        assert ctx.manager.backend.get_current("coordinator") == b.id
        assert ctx.manager.trashed() == []
