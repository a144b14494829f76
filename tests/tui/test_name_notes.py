"""The TUI notes a session's new name that cannot name it in later commands (another session
bears it, or an id starts with it) with the id to use, in the CLI's words: in the answer of
``/session new``, ``rename``, ``fork`` and ``import``, and in a notification after the
picker's new, rename and copy to a PO and the main screen's ``N``."""

from __future__ import annotations

from pathlib import Path

from prompt_sessions.tui.screens.choice import ChoiceScreen
from prompt_sessions.tui.screens.main import MainScreen
from prompt_sessions.tui.screens.name_prompt import NamePrompt
from prompt_sessions.tui.screens.picker import SessionPicker

from .conftest import at, fixed_session, notes_shown, settle, wait_until, write_po
from .test_slash_in_tui import notes, type_line


def note_for(session_id: str, name: str) -> str:
    """The note, as the CLI prints it (tests/unit/test_cli_name_note.py)."""
    return (
        f"Note: another session is also called '{name}': name this one by its id, {session_id[:8]}"
    )


def said(app) -> list[str]:
    """Every notification shown and every note line in the conversation."""
    lines = notes_shown(app)
    if isinstance(app.screen, MainScreen):
        lines += [line for note in notes(app) for line in note.splitlines()]
    return lines


async def wait_to_say(pilot, line: str) -> None:
    """Wait until ``line`` is said: a notification or a note is shown in a later turn than the
    key that causes it."""
    try:
        await wait_until(pilot, lambda: line in said(pilot.app))
    except AssertionError:
        raise AssertionError(f"{line!r} is not said: {said(pilot.app)}") from None


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
        await wait_to_say(pilot, note_for(mine.id, "Plan"))
        assert ctx.manager.get(mine.id).name == "Plan"
        assert "Renamed 'Mine' to 'Plan'" in said(app)
        await type_line(pilot, "/session rename Unique")
        await wait_to_say(pilot, "Renamed 'Plan' to 'Unique'")  # answered, without a note
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
        await wait_until(pilot, lambda: app.screen.session_id is not None)
        made = app.screen.session_id
        await wait_to_say(pilot, note_for(made, "Plan"))
        await type_line(pilot, "/session fork Plan")
        await wait_until(pilot, lambda: app.screen.session_id != made)
        forked = app.screen.session_id
        await wait_to_say(pilot, note_for(forked, "Plan"))


async def test_slash_import_of_a_name_in_use_is_noted(make_ctx, make_app, tmp_path):
    """/session import of a conversation whose name another session bears: the imported
    session's note gives its id."""
    ctx = make_ctx()
    source = ctx.manager.create("writer", "Shared")
    path = Path(tmp_path / "in.json")
    path.write_text(ctx.manager.export(source.id, "json"))
    bearer = ctx.manager.create("coordinator", "Shared (imported)")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await settle(pilot)
        await type_line(pilot, f"/session import {path}")
        await wait_until(pilot, lambda: app.screen.session_id not in (None, bearer.id))
        assert app.screen.session_name == "Shared (imported)"
        await wait_to_say(pilot, note_for(app.screen.session_id, "Shared (imported)"))


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
        await wait_to_say(pilot, note_for(one.id, "Plan"))
        assert ctx.manager.get(one.id).name == "Plan"


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
        await wait_until(pilot, lambda: isinstance(app.screen, NamePrompt))
        app.screen.query_one("#name").value = "Plan"
        await pilot.press("enter")
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, MainScreen) and app.screen.session_id is not None,
        )
        first = app.screen.session_id
        await wait_to_say(pilot, note_for(first, "Plan"))
        await pilot.press("escape", "N")
        await wait_until(pilot, lambda: isinstance(app.screen, NamePrompt))
        app.screen.query_one("#name").value = "Plan"
        await pilot.press("enter")
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, MainScreen) and app.screen.session_id != first,
        )
        second = app.screen.session_id
        await wait_to_say(pilot, note_for(second, "Plan"))


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
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        await pilot.press("enter")  # coordinator, the only one
        await settle(pilot)

        def copies() -> list:
            return [s for s in ctx.manager.list("coordinator") if s.name == "Left behind"]

        await wait_until(pilot, lambda: copies() != [])  # the copy is made off the screen's loop
        (copy,) = copies()
        await wait_to_say(pilot, note_for(copy.id, "Left behind"))
