"""The picker's organising keys (DESIGN section 14): p pins (pinned rows come first), t edits
tags in a small dialog, a archives (the row leaves the picker), and d says how to undo."""

from __future__ import annotations

import threading

from prompt_sessions.tui.screens.picker import SessionPicker
from prompt_sessions.tui.screens.tags_prompt import TagsPrompt

from .conftest import at, fixed_session, notes_shown, settle, wait_for_note, wait_until
from .test_picker import open_picker, rows, seed


async def test_p_pins_and_pinned_rows_come_first(make_ctx, make_app):
    """p on Gamma pins it: it moves to the top with a pin mark, stays selected, and p again
    unpins it back to its place by time."""
    ctx = make_ctx()
    a, b, c = seed(ctx)
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_picker(pilot)
        await pilot.press("down", "p")  # from Beta (current) down to Gamma
        assert ctx.manager.get(c.id).pinned
        lines = rows(app)
        assert lines[0].startswith("  📌 Gamma")
        assert [r.id for r in app.screen.rows_widget.rows] == [c.id, a.id, b.id]
        assert app.screen.selected.id == c.id
        await pilot.press("p")
        assert not ctx.manager.get(c.id).pinned
        assert [r.id for r in app.screen.rows_widget.rows] == [a.id, b.id, c.id]


async def test_pinned_sessions_from_the_store_come_first_on_open(make_ctx, make_app):
    """A session pinned elsewhere (the CLI) is first when the picker opens."""
    ctx = make_ctx()
    a, b, c = seed(ctx)
    fixed_session(ctx, "e", "coordinator", "Old but pinned", [], at(1, 0, 0), pinned=True)
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_picker(pilot)
        assert rows(app)[0].startswith("  📌 Old but pinned")


async def test_t_edits_tags_in_a_dialog(make_ctx, make_app):
    """t opens the tags dialog with the current tags; Enter stores the new set, shown on the
    row; a tag with a control character is refused in the dialog; Esc changes nothing."""
    ctx = make_ctx()
    a, b, c = seed(ctx)
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_picker(pilot)
        await pilot.press("t")
        assert isinstance(app.screen, TagsPrompt)
        await pilot.press(*"ops urgent", "enter")
        assert isinstance(app.screen, SessionPicker)
        assert ctx.manager.get(b.id).tags == ["ops", "urgent"]
        assert "#ops #urgent" in rows(app)[1]
        await pilot.press("t")
        dialog = app.screen
        assert isinstance(dialog, TagsPrompt)
        assert dialog.query_one("#tags").value == "ops urgent"
        dialog.query_one("#tags").value = "ops bad\x07tag"
        await pilot.press("enter")
        assert isinstance(app.screen, TagsPrompt)  # refused, the dialog says why
        await pilot.press("escape")
        assert ctx.manager.get(b.id).tags == ["ops", "urgent"]
        await pilot.press("t")
        app.screen.query_one("#tags").value = ""
        await pilot.press("enter")
        assert ctx.manager.get(b.id).tags is None


async def test_t_reads_commas_and_hashes_as_separators(make_ctx, make_app):
    """Tags typed as "release, #plan ,ops" are the three words: a comma separates tags like a
    space does and a leading # (how the row shows a tag) is not part of it."""
    ctx = make_ctx()
    a, b, c = seed(ctx)
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_picker(pilot)
        await pilot.press("t")
        assert isinstance(app.screen, TagsPrompt)
        await pilot.press(*"release, #plan ,ops", "enter")
        assert isinstance(app.screen, SessionPicker)
        assert ctx.manager.get(b.id).tags == ["release", "plan", "ops"]
        assert "#release #plan #ops" in rows(app)[1]


async def test_a_archives_and_the_row_leaves(make_ctx, make_app):
    """a archives the selected session: it is stored archived and no longer listed."""
    ctx = make_ctx()
    a, b, c = seed(ctx)
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_picker(pilot)
        await pilot.press("up", "a")  # Alpha
        assert ctx.manager.get(a.id).archived
        assert [r.id for r in app.screen.rows_widget.rows] == [b.id, c.id]


async def test_d_says_how_to_undo(make_ctx, make_app):
    """After d and y the notification names the restore command; the session is in the trash."""
    ctx = make_ctx()
    a, b, c = seed(ctx)
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_picker(pilot)
        await pilot.press("up", "d", "y")
        await wait_for_note(pilot, f"prompt-sessions restore {a.id[:8]}")
        assert [e.summary.id for e in ctx.manager.trashed()] == [a.id]


async def test_u_undoes_a_delete_for_a_moment(make_ctx, make_app, monkeypatch):
    """u right after a delete brings the session back from the trash into the picker; after
    the undo window u does nothing but say how to find it."""
    from prompt_sessions.tui.screens import picker as picker_module

    ctx = make_ctx()
    a, b, c = seed(ctx)
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_picker(pilot)
        await pilot.press("up", "d", "y")
        assert a.id not in {r.id for r in app.screen.rows_widget.rows}
        await pilot.press("u")
        assert ctx.manager.trashed() == []
        assert app.screen.selected.id == a.id
        await pilot.press("d", "y")
        monkeypatch.setattr(picker_module, "UNDO_SECONDS", -1.0)  # the moment has passed
        await pilot.press("u")
        assert [e.summary.id for e in ctx.manager.trashed()] == [a.id]


async def test_slash_session_delete_moves_to_the_trash_and_says_how_to_undo(make_ctx, make_app):
    """/session delete on the main screen (the palette's and the d key's path) moves the session
    to the trash and its answer names the restore command."""
    from prompt_sessions.tui.screens.confirm import ConfirmScreen

    from .test_slash_in_tui import notes, type_line

    ctx = make_ctx()
    ctx.manager.create("coordinator", "Keep")
    gone = ctx.manager.create("coordinator", "Gone")
    ctx.manager.switch("coordinator", gone.id)
    app = make_app(ctx)
    async with app.run_test(size=(120, 40)) as pilot:
        await type_line(pilot, "/session delete")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        # the answer is a notification or a note in the conversation, shown in a later turn
        hint = f"prompt-sessions restore {gone.id[:8]}"
        await wait_until(pilot, lambda: any(hint in m for m in notes_shown(app) + notes(app)))
        assert [e.summary.id for e in ctx.manager.trashed()] == [gone.id]


async def test_the_shown_session_is_listed_even_when_archived(make_ctx, make_app):
    """The session on screen, archived elsewhere (the CLI), is still a row of the picker,
    marked archived and under the cursor: the picker never hides where you are."""
    ctx = make_ctx()
    a, b, c = seed(ctx)
    ctx.manager.archive(b.id)  # Beta is the current, shown session
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_picker(pilot)
        assert [r.id for r in app.screen.rows_widget.rows] == [a.id, b.id, c.id]
        assert app.screen.selected.id == b.id
        assert "Beta (archived)" in rows(app)[1]
        assert "archived" not in rows(app)[0] + rows(app)[2]
        await pilot.pause(0.3)  # the re-read after the first frames keeps it too
        assert [r.id for r in app.screen.rows_widget.rows] == [a.id, b.id, c.id]


async def test_a_on_the_shown_session_marks_it_archived(make_ctx, make_app):
    """a on the session on screen archives it; its row stays, marked, while it is shown."""
    ctx = make_ctx()
    a, b, c = seed(ctx)
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_picker(pilot)
        await pilot.press("a")  # Beta, the current session
        assert ctx.manager.get(b.id).archived
        assert [r.id for r in app.screen.rows_widget.rows] == [a.id, b.id, c.id]
        assert "Beta (archived)" in rows(app)[1]


async def test_a_long_archived_name_keeps_its_mark_in_sight(make_ctx, make_app):
    """A shown archived session with a name wider than the row is cut before its mark."""
    ctx = make_ctx()
    a, b, c = seed(ctx)
    ctx.manager.rename(b.id, "B" + "e" * 78)
    ctx.manager.archive(b.id)
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_picker(pilot)
        assert "… (archived)" in rows(app)[1]


async def test_u_undoes_an_archive_for_a_moment(make_ctx, make_app, monkeypatch):
    """u right after a archives brings the row back unarchived, selected; after the moment
    has passed u says where archived sessions are listed."""
    from prompt_sessions.tui.screens import picker as picker_module

    ctx = make_ctx()
    a, b, c = seed(ctx)
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_picker(pilot)
        await pilot.press("up", "a")  # Alpha
        await wait_for_note(pilot, "u undoes it now")
        assert ctx.manager.get(a.id).archived
        await pilot.press("u")
        await wait_for_note(pilot, "'Alpha [draft]' is no longer archived")
        assert not ctx.manager.get(a.id).archived
        assert app.screen.selected.id == a.id
        await pilot.press("a")
        monkeypatch.setattr(picker_module, "UNDO_SECONDS", -1.0)  # the moment has passed
        await pilot.press("u")
        await wait_for_note(pilot, "list --all")
        assert ctx.manager.get(a.id).archived


async def test_u_undoes_the_later_of_a_delete_and_an_archive(make_ctx, make_app):
    """d then a: u undoes the archive first, then the delete."""
    ctx = make_ctx()
    a, b, c = seed(ctx)
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_picker(pilot)
        await pilot.press("up", "d", "y")  # Alpha to the trash
        await pilot.press("down", "a")  # then archive another row
        archived = [s.id for s in ctx.manager.list() if s.archived]
        assert len(archived) == 1
        await pilot.press("u")
        assert not ctx.manager.get(archived[0]).archived
        assert [e.summary.id for e in ctx.manager.trashed()] == [a.id]
        await pilot.press("u")
        assert ctx.manager.trashed() == []


async def test_d_y_u_typed_at_once_undo_the_delete(make_ctx, make_app):
    """d, y and u typed at once (a fast typist, a paste, a slow link) act in the order typed:
    y answers the question and u, reaching the picker after it, brings the session back."""
    from .test_keys_after_search import type_at_once

    ctx = make_ctx()
    a, b, c = seed(ctx)
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_picker(pilot)
        await pilot.press("up")
        await wait_until(pilot, lambda: app.screen.selected.id == a.id)
        type_at_once(app, "d", "y", "u")
        await settle(pilot)
        await wait_for_note(pilot, "Restored")
        assert ctx.manager.trashed() == []
        assert isinstance(app.screen, SessionPicker)
        assert app.screen.selected.id == a.id


async def test_a_reading_under_way_when_u_undoes_is_dropped(make_ctx, make_app, monkeypatch):
    """A reading of the store (another process changed it) started while the deleted session
    was in the trash and coming back after u is older than the list u shows: it is dropped,
    so the restored row stays listed and under the cursor."""
    ctx = make_ctx()
    a, b, c = seed(ctx)
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.coord.watching)
        await app.coord.stop_watching()  # the readings are started by the test alone
        await open_picker(pilot)
        picker = app.screen
        await pilot.press("up")
        await wait_until(pilot, lambda: picker.selected.id == a.id)
        await pilot.press("d", "y")
        await wait_for_note(pilot, "Deleted 'Alpha [draft]'")
        in_trash = picker.read_store()
        come_back = threading.Event()

        def slow_read() -> tuple[list, set]:
            come_back.wait(10)
            return in_trash

        monkeypatch.setattr(picker, "read_store", slow_read)
        try:
            picker.store_changed()
            await pilot.press("u")
            await wait_for_note(pilot, "Restored 'Alpha [draft]'")
        finally:
            come_back.set()
        await settle(pilot)
        assert a.id in [r.id for r in picker.all_rows]
        assert picker.selected.id == a.id
