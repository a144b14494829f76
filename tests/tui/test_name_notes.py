"""The TUI notes a session's new name that cannot name it in later commands (another session
bears it, or an id starts with it) with the id to use, in the CLI's words: in the answer of
``/session new``, ``rename``, ``fork`` and ``import``, and in a notification after the
picker's new, rename and copy to a PO and the main screen's ``N``."""

from __future__ import annotations

from pathlib import Path

from prompt_sessions.tui.screens.main import MainScreen
from prompt_sessions.tui.screens.picker import SessionPicker

from .conftest import at, fixed_session, settle, wait_until, write_po
from .test_slash_in_tui import notes, type_line


def note_for(session_id: str, name: str) -> str:
    """The note, as the CLI prints it (tests/unit/test_cli_name_note.py)."""
    return (
        f"Note: another session is also called '{name}': name this one by its id, {session_id[:8]}"
    )


def said(app) -> list[str]:
    """Every notification shown and every note line in the conversation."""
    lines = [n.message for n in app._notifications]
    if isinstance(app.screen, MainScreen):
        lines += [line for note in notes(app) for line in note.splitlines()]
    return lines


async def test_slash_rename_to_a_name_in_use_is_noted(make_ctx, make_app):
    """/session rename to the name of another PO's session: renamed, and the answer gives the
    note with the id; a rename to a name of its own gets none."""
    ctx = make_ctx()
    ctx.manager.create("writer", "Plan")
    mine = ctx.manager.create("coordinator", "Mine")
    ctx.manager.switch("coordinator", mine.id)
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await settle(pilot)
        await type_line(pilot, "/session rename Plan")
        assert ctx.manager.get(mine.id).name == "Plan"
        assert note_for(mine.id, "Plan") in said(app)
        assert "Renamed 'Mine' to 'Plan'" in said(app)
        await type_line(pilot, "/session rename Unique")
        assert [line for line in said(app) if line.startswith("Note:")] == [
            note_for(mine.id, "Plan")
        ]


async def test_slash_new_and_fork_with_a_name_in_use_are_noted(make_ctx, make_app):
    """/session new Plan and /session fork Plan, with a "Plan" already stored: each new
    session's note names its own id."""
    ctx = make_ctx()
    ctx.manager.create("writer", "Plan")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await settle(pilot)
        await type_line(pilot, "/session new Plan")
        made = app.screen.session_id
        assert note_for(made, "Plan") in said(app)
        await type_line(pilot, "/session fork Plan")
        forked = app.screen.session_id
        assert forked != made
        assert note_for(forked, "Plan") in said(app)


async def test_slash_import_of_a_name_in_use_is_noted(make_ctx, make_app, tmp_path):
    """/session import of a conversation whose name another session bears: the imported
    session's note gives its id."""
    ctx = make_ctx()
    source = ctx.manager.create("writer", "Shared")
    path = Path(tmp_path / "in.json")
    path.write_text(ctx.manager.export(source.id, "json"))
    ctx.manager.create("coordinator", "Shared (imported)")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await settle(pilot)
        await type_line(pilot, f"/session import {path}")
        assert app.screen.session_name == "Shared (imported)"
        assert note_for(app.screen.session_id, "Shared (imported)") in said(app)


async def test_picker_rename_to_a_name_in_use_is_noted(make_ctx, make_app):
    """The picker's r to another session's name: renamed, and a notification gives the note."""
    ctx = make_ctx()
    ctx.manager.create("writer", "Plan")
    one = ctx.manager.create("coordinator", "One")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("escape", "S")
        await wait_until(pilot, lambda: isinstance(app.screen, SessionPicker))
        await pilot.press("r", *"Plan", "enter")
        await settle(pilot)
        assert ctx.manager.get(one.id).name == "Plan"
        assert note_for(one.id, "Plan") in said(app)


async def test_picker_new_and_main_new_with_a_name_in_use_are_noted(make_ctx, make_app):
    """A new session named as another, from the picker's n and from the main screen's N: a
    notification gives the note with the new session's id."""
    ctx = make_ctx()
    ctx.manager.create("writer", "Plan")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("escape", "S")
        await wait_until(pilot, lambda: isinstance(app.screen, SessionPicker))
        await pilot.press("n")
        await settle(pilot)
        app.screen.query_one("#name").value = "Plan"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        first = app.screen.session_id
        assert note_for(first, "Plan") in said(app)
        await pilot.press("escape", "N")
        await settle(pilot)
        app.screen.query_one("#name").value = "Plan"
        await pilot.press("enter")
        await settle(pilot)
        second = app.screen.session_id
        assert second != first
        assert note_for(second, "Plan") in said(app)


async def test_picker_copy_to_a_po_is_noted(root, make_ctx, make_app):
    """c on an orphaned session copies it to a PO under the same name: the name alone now
    names two sessions, and a notification gives the copy's id."""
    ctx = make_ctx()
    write_po(root, "coordinator")
    ghost = fixed_session(ctx, "9", "ghost", "Left behind", [("user", "hello")], at(2, 8))
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("escape", "S")
        await wait_until(pilot, lambda: isinstance(app.screen, SessionPicker))
        picker = app.screen
        await wait_until(
            pilot, lambda: ghost.id in {getattr(r, "id", "") for r in picker.rows_widget.rows}
        )
        picker.rows_widget.move_to(
            next(
                i for i, r in enumerate(picker.rows_widget.rows) if getattr(r, "id", "") == ghost.id
            )
        )
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("enter")  # coordinator, the only one
        await settle(pilot)
        (copy,) = [s for s in ctx.manager.list("coordinator") if s.name == "Left behind"]
        assert note_for(copy.id, "Left behind") in said(app)
