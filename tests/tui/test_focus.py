"""Focus follows the person: after landing in a conversation, what they type is a message.

Each test types with real key order, as a person who never pressed Esc-then-i would.
"""

from __future__ import annotations

from textual.command import CommandPalette
from textual.widgets import OptionList

from prompt_sessions.tui.screens.choice import ChoiceScreen
from prompt_sessions.tui.screens.explorer import ExplorerScreen
from prompt_sessions.tui.screens.main import MainScreen
from prompt_sessions.tui.screens.picker import SessionPicker
from prompt_sessions.tui.widgets.find_bar import FindBar
from prompt_sessions.tui.widgets.message_box import MessageBox

from .conftest import settle, wait_until


def history(ctx, session_id: str) -> list[tuple[str, str]]:
    return [(m.role, m.content) for m in ctx.manager.get(session_id).history]


async def test_new_session_then_typing_sends(make_ctx, make_app):
    """Esc, N, Enter (default name), `hello world`, Enter: the message is sent to the new session
    (made with source "tui") and the `w` in it does not close the session just made."""
    ctx = make_ctx()
    first = ctx.manager.create("coordinator", "First")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await pilot.press("escape", "N", "enter", *"hello world", "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MainScreen) and screen.session_id != first.id
        assert history(ctx, screen.session_id) == [
            ("user", "hello world"),
            ("assistant", "You said: hello world"),
        ]
        assert isinstance(screen.focused, MessageBox)
        assert {live.session_id for live in app.coord.open_sessions()} >= {screen.session_id}
        assert ctx.manager.get(screen.session_id).source == "tui"


async def test_picker_new_then_typing_sends(make_ctx, make_app):
    """S, n, Enter, then typing: the text goes to the new session's message box; the session
    says it came from the TUI."""
    ctx = make_ctx()
    ctx.manager.create("coordinator", "First")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await pilot.press("escape", "S")
        await wait_until(pilot, lambda: isinstance(app.screen, SessionPicker))
        await pilot.press("n", "enter", *"hello world", "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MainScreen)
        assert history(ctx, screen.session_id)[0] == ("user", "hello world")
        assert ctx.manager.get(screen.session_id).source == "tui"


async def test_picker_enter_then_typing_sends(make_ctx, make_app):
    """S, Up, Enter on another session, then typing: the message lands in that session."""
    ctx = make_ctx()
    older = ctx.manager.create("coordinator", "Older")
    ctx.manager.create("coordinator", "Newer")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await pilot.press("escape", "S")
        await wait_until(pilot, lambda: isinstance(app.screen, SessionPicker))
        await pilot.press("down", "enter", *"was here", "enter")
        await settle(pilot)
        assert app.screen.session_id == older.id
        assert history(ctx, older.id)[0] == ("user", "was here")


async def test_explorer_enter_then_typing_sends(make_ctx, make_app):
    """E, Down to the rows, Enter, then typing: the message lands in the chosen session."""
    ctx = make_ctx()
    other = ctx.manager.create("writer", "Elsewhere")
    ctx.manager.create("coordinator", "Here")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await pilot.press("escape", "E")
        await wait_until(pilot, lambda: isinstance(app.screen, ExplorerScreen))
        await settle(pilot)
        await pilot.press(*"Elsewhere")
        await settle(pilot)
        await pilot.press("enter", *"quick note", "enter")
        await settle(pilot)
        assert app.screen.session_id == other.id
        assert history(ctx, other.id)[0] == ("user", "quick note")


async def test_palette_switch_then_typing_sends(make_ctx, make_app):
    """ctrl+p, `Switch to Older`, Enter, then typing: the message lands in that session."""
    ctx = make_ctx()
    older = ctx.manager.create("coordinator", "Older")
    ctx.manager.create("coordinator", "Newer")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await pilot.press("escape", "ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"switch to older")
        palette = app.screen
        await wait_until(pilot, lambda: palette.query_one(OptionList).option_count >= 1)
        await settle(pilot)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
        await pilot.press(*"typed", "enter")
        await settle(pilot)
        assert app.screen.session_id == older.id
        assert history(ctx, older.id)[0] == ("user", "typed")


async def test_slash_switch_and_new_keep_typing_in_the_box(make_ctx, make_app):
    """/session switch and /new move to a session and the box keeps focus for the next words."""
    ctx = make_ctx()
    older = ctx.manager.create("coordinator", "Older")
    ctx.manager.create("coordinator", "Newer")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await pilot.press(*"/switch Older", "enter", *"wow", "enter")
        await settle(pilot)
        assert history(ctx, older.id)[0] == ("user", "wow")
        await pilot.press(*"/new Third", "enter", *"qwe", "enter")
        await settle(pilot)
        assert app.screen.session_name == "Third"
        assert history(ctx, app.screen.session_id)[0] == ("user", "qwe")


async def test_sidebar_choice_lands_in_the_box(make_ctx, make_app):
    """Enter on an open session in the sidebar shows it with the message box focused."""
    ctx = make_ctx()
    older = ctx.manager.create("coordinator", "Older")
    ctx.manager.create("coordinator", "Newer")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await pilot.press(*"/switch Older", "enter")
        await settle(pilot)
        await pilot.press(*"/switch Newer", "enter")
        await settle(pilot)
        await pilot.press("escape")
        screen = app.screen
        bar = screen.sidebar
        bar.focus()
        bar.highlighted = bar.session_ids.index(older.id)
        await pilot.press("enter")
        await settle(pilot)
        assert screen.session_id == older.id
        assert isinstance(screen.focused, MessageBox)


async def test_status_bar_offers_the_keys_that_work_where_focus_is(make_ctx, make_app):
    """In the message box the hints start with how to reach the POs and offer no letter keys;
    Esc moves to the conversation, where S, N, E and q are offered; Tab from the box goes to
    the POs as the hint says."""
    from prompt_sessions.tui.widgets.po_list import PoList
    from prompt_sessions.tui.widgets.status_bar import StatusBar

    ctx = make_ctx()
    ctx.manager.create("coordinator", "First")
    app = make_app(ctx)

    def hints() -> str:
        return str(app.screen.query_one(StatusBar).render()).split("│", 1)[1].strip()

    # wide enough for every hint: at 80 columns the last ones give way whole (test_hint_lines)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert hints().startswith("Tab POs")
        assert "S sessions" not in hints() and "q quit" not in hints()
        await pilot.press("escape")
        assert "S sessions" in hints() and "q quit" in hints() and "i type" in hints()
        await pilot.press("i")
        assert isinstance(app.screen.focused, MessageBox) and hints().startswith("Tab POs")
        await pilot.press("tab")
        assert isinstance(app.screen.focused, PoList)
        assert hints().startswith("↑↓ choose PO")
        await pilot.press("escape", "f")
        assert hints().startswith("Enter next match")


def burst(app, keys: str) -> None:
    """Keys as a terminal delivers a burst of them (a fast typist, a slow link, a loaded
    machine): all queued before the first is handled, unlike ``pilot.press``, which waits
    for each key in turn."""
    from textual import events

    for key in keys.split("|"):
        character = {"space": " ", "escape": "\x1b"}.get(key, key if len(key) == 1 else None)
        app.post_message(events.Key(key, character))


async def picker_opened(pilot) -> None:
    """Open the picker (Esc, S) once the screen has settled, and let it settle."""
    await settle(pilot)
    await pilot.press("escape", "S")
    await settle(pilot)


async def test_keys_typed_right_after_i_land_in_the_box(make_ctx, make_app):
    """``i`` then a message typed at once: every key after ``i`` is text in the box, none a
    key command (the ``S`` of "Send" does not open the picker)."""
    ctx = make_ctx()
    ctx.manager.create("coordinator", "One")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.focused, MessageBox)
        burst(app, "i|S|e|n|d|space|N|o|w")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert app.screen.query_one(MessageBox).text == "Send Now"


async def test_keys_typed_right_after_escape_are_key_commands(make_ctx, make_app):
    """Esc in the box then ``S`` at once: ``S`` opens the picker, as it does when typed slowly,
    and is not left in the box as text."""
    ctx = make_ctx()
    ctx.manager.create("coordinator", "One")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await settle(pilot)
        assert isinstance(app.focused, MessageBox)
        burst(app, "escape|S")
        await settle(pilot)
        assert isinstance(app.screen, SessionPicker)
        app.screen.dismiss(None)
        await settle(pilot)
        assert app.screen.query_one(MessageBox).text == ""


async def test_keys_typed_right_after_choosing_in_the_picker_land_in_the_box(make_ctx, make_app):
    """``S``, Enter on a session, then a message typed at once: the keys after Enter are text
    in the box of the chosen session, none a key command (the ``N`` of "Now" does not open the
    new-session prompt, the ``S`` of "So" does not open the picker again)."""
    ctx = make_ctx()
    one = ctx.manager.create("coordinator", "One")
    two = ctx.manager.create("coordinator", "Two")
    ctx.manager.switch("coordinator", one.id)
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await picker_opened(pilot)
        assert isinstance(app.screen, SessionPicker)
        app.screen.rows_widget.cursor = next(
            i for i, row in enumerate(app.screen.rows_widget.rows) if row.id == two.id
        )
        burst(app, "enter|N|o|w|space|S|o")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert app.screen.session_id == two.id
        assert app.screen.query_one(MessageBox).text == "Now So"


async def test_a_name_typed_at_once_after_n_makes_that_session(make_ctx, make_app):
    """Esc, ``N``, a name, Enter and more letters, all typed at once: the session is made
    with the name typed (Enter comes after its letters), and no letter typed after Enter is a
    key command of the screen (the ``q`` would quit, the ``w`` close the session)."""
    ctx = make_ctx()
    ctx.manager.create("coordinator", "One")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await settle(pilot)
        burst(app, "escape|N|F|r|e|s|h|enter|q|w")
        await settle(pilot)
        assert app.is_running
        assert isinstance(app.screen, MainScreen)
        assert app.screen.session_name == "Fresh"
        assert sorted(s.name for s in ctx.manager.list()) == ["Fresh", "One"]


async def test_a_filter_typed_at_once_with_enter_chooses_the_filtered_row(make_ctx, make_app):
    """In the picker, ``/``, a filter and Enter typed at once: Enter shows the row the filter
    leaves, not the row that was under the cursor before the letters arrived."""
    ctx = make_ctx()
    one = ctx.manager.create("coordinator", "One")
    other = ctx.manager.create("coordinator", "Zebra")
    ctx.manager.switch("coordinator", one.id)
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await picker_opened(pilot)
        burst(app, "slash|z|e|b|enter")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert app.screen.session_id == other.id


async def test_keys_typed_right_after_choosing_in_the_explorer_land_in_the_box(make_ctx, make_app):
    """``E``, Enter on a session, then a message typed at once: the keys are text in the box of
    the chosen session (the ``S`` of "So" does not open the picker)."""
    ctx = make_ctx()
    one = ctx.manager.create("coordinator", "One")
    ctx.manager.create("coordinator", "Two")
    ctx.manager.switch("coordinator", one.id)
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("escape", "E")
        await wait_until(pilot, lambda: isinstance(app.screen, ExplorerScreen))
        await settle(pilot)
        chosen = app.screen.query_one("RowList").current.summary.id
        app.screen.query_one("RowList").focus()
        await settle(pilot)
        burst(app, "enter|S|o|space|N|o|w")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert app.screen.session_id == chosen
        assert app.screen.query_one(MessageBox).text == "So Now"


async def test_keys_typed_right_after_naming_in_the_picker_never_act_on_rows(make_ctx, make_app):
    """In the picker, ``n``, a name and Enter, then letters typed at once: the new session is
    shown, and no letter acts on the picker's rows (``a`` would archive, ``d`` delete,
    ``p`` pin)."""
    ctx = make_ctx()
    one = ctx.manager.create("coordinator", "One")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await picker_opened(pilot)
        await pilot.press("n")
        await settle(pilot)
        app.screen.query_one("#name").value = "Fresh"
        burst(app, "enter|a|d|d|space|p|a")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert app.screen.session_name == "Fresh"
        assert not ctx.manager.get(one.id).archived and not ctx.manager.get(one.id).pinned
        assert ctx.manager.trashed() == []
        assert app.screen.query_one(MessageBox).text == "add pa"


async def test_keys_typed_right_after_r_in_the_picker_are_the_new_name(make_ctx, make_app):
    """In the picker, ``r`` then a name and Enter typed at once: the session is renamed; no
    letter of the name acts on the rows (the ``a`` of "Fast" would archive)."""
    ctx = make_ctx()
    one = ctx.manager.create("coordinator", "One")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await picker_opened(pilot)
        burst(app, "r|F|a|s|t|space|n|a|m|e|enter")
        await settle(pilot)
        assert isinstance(app.screen, SessionPicker)
        assert ctx.manager.get(one.id).name == "Fast name"
        assert not ctx.manager.get(one.id).archived


async def test_keys_typed_right_after_slash_in_the_picker_filter(make_ctx, make_app):
    """In the picker, ``/`` then letters typed at once: they are the filter, not commands."""
    ctx = make_ctx()
    one = ctx.manager.create("coordinator", "One")
    two = ctx.manager.create("coordinator", "Other")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await picker_opened(pilot)
        burst(app, "slash|d|a|t")
        await settle(pilot)
        assert app.screen.filter_text == "dat"
        assert not ctx.manager.get(one.id).archived and not ctx.manager.get(two.id).archived
        assert ctx.manager.trashed() == []


async def test_keys_typed_right_after_n_never_act_on_the_screen_behind(make_ctx, make_app):
    """Esc, ``N`` and a name typed at once: the name is in the prompt, and no letter of it is
    a key command of the screen behind (the ``q`` of "quick" would quit, the ``w`` close the
    session)."""
    ctx = make_ctx()
    ctx.manager.create("coordinator", "One")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await settle(pilot)
        burst(app, "escape|N|q|u|i|c|k|space|w|o|r|d|s")
        await settle(pilot)
        assert app.is_running
        assert type(app.screen).__name__ == "NamePrompt"
        assert app.screen.query_one("#name").value == "quick words"  # the name typed
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert [s.name for s in ctx.manager.list()] == ["One"]


async def test_keys_typed_right_after_t_in_the_picker_are_the_tags(make_ctx, make_app):
    """In the picker, ``t`` then tags and Enter typed at once: the tags are stored; no letter
    acts on the rows (the ``a`` of "alpha" would archive, the ``d`` of "draft" delete)."""
    ctx = make_ctx()
    one = ctx.manager.create("coordinator", "One")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await picker_opened(pilot)
        burst(app, "t|a|l|p|h|a|space|d|r|a|f|t|enter")
        await settle(pilot)
        assert isinstance(app.screen, SessionPicker)
        assert ctx.manager.get(one.id).tags == ["alpha", "draft"]
        assert not ctx.manager.get(one.id).archived and ctx.manager.trashed() == []


async def test_a_message_typed_at_once_after_naming_a_new_session_is_in_its_box(make_ctx, make_app):
    """Esc, ``N``, a name, Enter, then a message, all typed at once: the message is in the new
    session's box, and nothing typed lands in the draft of the session left."""
    ctx = make_ctx()
    one = ctx.manager.create("coordinator", "One")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await settle(pilot)
        burst(app, "escape|N|F|r|e|s|h|enter|h|i|space|S|o")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert app.screen.session_name == "Fresh"
        assert app.screen.query_one(MessageBox).text == "hi So"
        assert app.screen.coord.get(one.id).view.draft == ""


async def test_a_message_and_enter_typed_at_once_after_naming_are_sent_to_the_new_session(
    make_ctx, make_app
):
    """Esc, ``N``, a name, Enter, a message and Enter, all typed at once: the message is sent
    to the new session (the second Enter is the box's), and the session left gets nothing."""
    ctx = make_ctx()
    one = ctx.manager.create("coordinator", "One")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await settle(pilot)
        burst(app, "escape|N|F|r|e|s|h|enter|h|i|enter")
        await wait_until(pilot, lambda: len(history(ctx, app.screen.session_id)) == 2)
        assert app.screen.session_name == "Fresh"
        assert history(ctx, app.screen.session_id) == [
            ("user", "hi"),
            ("assistant", "You said: hi"),
        ]
        assert ctx.manager.get(one.id).history == []
        assert app.screen.query_one(MessageBox).text == ""


async def test_keys_typed_after_a_new_session_that_fails_never_act_on_rows(
    make_ctx, make_app, monkeypatch
):
    """In the picker, ``n``, a name, Enter and letters typed at once, when making the session
    fails (a full disk, say): the error is shown, and no letter or Enter typed after acts on
    the picker's rows (``a`` would archive, ``p`` pin, Enter choose)."""
    from prompt_sessions.commands import actions
    from prompt_sessions.errors import StorageError

    def fail(*args, **kwargs):
        raise StorageError("cannot write: no space left on device")

    ctx = make_ctx()
    one = ctx.manager.create("coordinator", "One")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await picker_opened(pilot)
        await pilot.press("n")
        await settle(pilot)
        monkeypatch.setattr(actions, "new_session", fail)
        app.screen.query_one("#name").value = "Fresh"
        burst(app, "enter|a|p|enter")
        await settle(pilot)
        assert isinstance(app.screen, SessionPicker)
        assert not ctx.manager.get(one.id).archived and not ctx.manager.get(one.id).pinned
        assert [s.name for s in ctx.manager.list()] == ["One"]


async def test_keys_typed_right_after_a_rename_act_on_the_picker_rows(make_ctx, make_app):
    """In the picker, ``r``, a name, Enter, then Down and Enter typed at once: the session is
    renamed, and Down and Enter act on the rows as they would after a pause (the next session
    is shown), none is lost in the rename box."""
    ctx = make_ctx()
    two = ctx.manager.create("coordinator", "Two")
    one = ctx.manager.create("coordinator", "One")  # the latest: the first row
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await picker_opened(pilot)
        rows = app.screen.rows_widget
        below = rows.rows[rows.cursor + 1].id
        assert below == two.id
        burst(app, "r|F|a|s|t|enter|down|enter")
        await settle(pilot)
        assert ctx.manager.get(one.id).name == "Fast"
        assert isinstance(app.screen, MainScreen)
        assert app.screen.session_id == two.id


async def test_escape_typed_right_after_a_rename_closes_the_picker(make_ctx, make_app):
    """In the picker, ``r``, a name, Enter and Esc typed at once: the session is renamed and
    Esc closes the picker, as it does when typed after a pause."""
    ctx = make_ctx()
    one = ctx.manager.create("coordinator", "One")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await picker_opened(pilot)
        burst(app, "r|F|a|s|t|enter|escape")
        await settle(pilot)
        assert ctx.manager.get(one.id).name == "Fast"
        assert isinstance(app.screen, MainScreen)
        assert app.screen.session_id == one.id


async def test_a_rename_typed_at_once_twice_renames_twice(make_ctx, make_app):
    """In the picker, ``r``, a name, Enter, then ``r``, another name and Enter, all typed at
    once: the second rename is of the same session and wins, the picker stays open."""
    ctx = make_ctx()
    one = ctx.manager.create("coordinator", "One")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await picker_opened(pilot)
        burst(app, "r|F|a|s|t|enter|r|S|l|o|w|enter")
        await settle(pilot)
        assert isinstance(app.screen, SessionPicker)
        assert ctx.manager.get(one.id).name == "Slow"
        assert not app.screen.query_one("#rename").has_class("-shown")


async def test_down_and_enter_typed_at_once_show_the_session_below(make_ctx, make_app):
    """In the picker, Down and Enter typed at once: Enter shows the session Down moved to,
    not the one under the cursor before Down arrived."""
    ctx = make_ctx()
    two = ctx.manager.create("coordinator", "Two")
    ctx.manager.create("coordinator", "One")  # the latest: the first row
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await picker_opened(pilot)
        burst(app, "down|enter")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert app.screen.session_id == two.id


async def test_a_message_typed_at_once_after_a_filter_and_enter_is_in_the_box(make_ctx, make_app):
    """In the picker, ``/``, a filter, Enter and a message typed at once: the filtered row is
    shown and the message is in its box, not lost in the closed filter."""
    ctx = make_ctx()
    one = ctx.manager.create("coordinator", "One")
    other = ctx.manager.create("coordinator", "Zebra")
    ctx.manager.switch("coordinator", one.id)
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await picker_opened(pilot)
        burst(app, "slash|z|e|b|enter|h|i")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert app.screen.session_id == other.id
        assert app.screen.query_one(MessageBox).text == "hi"


async def test_a_filter_then_down_and_enter_typed_at_once_show_the_second_match(make_ctx, make_app):
    """In the picker, ``/``, a filter, Down and Enter typed at once: Down moves through the
    filtered rows (not all of them) and Enter shows the second match."""
    ctx = make_ctx()
    ctx.manager.create("coordinator", "Other")
    second = ctx.manager.create("coordinator", "Zebra two")
    ctx.manager.create("coordinator", "Zebra one")  # the latest: the first match
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await picker_opened(pilot)
        burst(app, "slash|z|e|b|down|enter")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert app.screen.session_id == second.id


async def test_keys_typed_right_after_tags_act_on_the_picker_rows(make_ctx, make_app):
    """In the picker, ``t``, tags, Enter, then Down and Enter typed at once: the tags are
    stored and Down and Enter act on the rows (the session below is shown)."""
    ctx = make_ctx()
    two = ctx.manager.create("coordinator", "Two")
    one = ctx.manager.create("coordinator", "One")  # the latest: the first row
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await picker_opened(pilot)
        burst(app, "t|x|enter|down|enter")
        await settle(pilot)
        assert ctx.manager.get(one.id).tags == ["x"]
        assert isinstance(app.screen, MainScreen)
        assert app.screen.session_id == two.id


async def explorer_opened(pilot) -> None:
    """Open the explorer (Esc, E) once the screen has settled, and let its rows load."""
    await settle(pilot)
    await pilot.press("escape", "E")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ExplorerScreen))
    await settle(pilot)


async def test_x_typed_at_once_after_down_in_the_explorer_exports(make_ctx, make_app):
    """In the explorer's search box, Down and ``x`` typed at once: Down moves into the rows
    and ``x`` offers to export the row, as after a pause; it is not typed into the search."""
    ctx = make_ctx()
    ctx.manager.create("coordinator", "One")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await explorer_opened(pilot)
        explorer = app.screen
        burst(app, "down|x")
        await settle(pilot)
        assert explorer.query_one("#search").value == ""
        assert isinstance(app.screen, ChoiceScreen)


async def test_down_down_enter_typed_at_once_in_the_explorer_opens_the_second_row(
    make_ctx, make_app
):
    """In the explorer's search box, Down, Down and Enter typed at once: the second Down moves
    the rows' cursor and Enter opens the second row, not the best match under the first."""
    ctx = make_ctx()
    ctx.manager.create("coordinator", "Two")
    ctx.manager.create("coordinator", "One")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await explorer_opened(pilot)
        rows = app.screen.query_one("RowList")
        second = rows.rows[rows.cursor + 1].summary.id
        burst(app, "down|down|enter")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert app.screen.session_id == second


async def test_a_search_and_enter_typed_at_once_in_the_explorer_open_its_best_match(
    make_ctx, make_app
):
    """In the explorer, a search and Enter typed at once: Enter opens the search's best match
    at its message, not the first row listed before the search had answered."""
    from prompt_sessions.models import Message

    ctx = make_ctx()
    older = ctx.manager.create("coordinator", "Older")
    ctx.manager.append(older.id, Message(role="user", content="the apple pie"))
    ctx.manager.create("writer", "Newer")  # the latest: the first row before any search
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await explorer_opened(pilot)
        burst(app, "a|p|p|l|e|enter")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert app.screen.session_id == older.id


async def test_a_search_that_finds_nothing_and_enter_typed_at_once_open_nothing(make_ctx, make_app):
    """In the explorer, a search no session matches and Enter typed at once: the explorer stays
    open on its empty list, as it does when Enter is typed after a pause."""
    ctx = make_ctx()
    ctx.manager.create("coordinator", "One")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await explorer_opened(pilot)
        burst(app, "z|q|x|enter")
        await settle(pilot)
        assert isinstance(app.screen, ExplorerScreen)
        assert app.screen.query_one("#search").value == "zqx"


async def test_editing_keys_typed_at_once_in_the_message_box_act_in_order(make_ctx, make_app):
    """In the message box, Backspace, Left and letters typed at once (a fast typist, a slow
    link): each acts where it was typed, as after a pause. The editing keys used to reach the
    box after the letters typed after them, deleting or moving past those letters."""
    ctx = make_ctx()
    ctx.manager.create("coordinator", "One")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await settle(pilot)
        burst(app, "a|b|c|d|backspace|backspace|x|y|left|left|z")
        await settle(pilot)
        assert app.screen.query_one(MessageBox).text == "abzxy"


async def test_editing_keys_typed_at_once_in_the_explorer_search_act_in_order(make_ctx, make_app):
    """In the explorer's search box, ctrl+u (clear) and Backspace typed at once with letters:
    the search is the letters typed after them, as after a pause."""
    ctx = make_ctx()
    ctx.manager.create("coordinator", "One")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await explorer_opened(pilot)
        burst(app, "z|z|ctrl+u|o|n|e|e|backspace")
        await settle(pilot)
        assert app.screen.query_one("#search").value == "one"


async def test_editing_keys_typed_at_once_in_the_find_bar_act_in_order(make_ctx, make_app):
    """In the find bar (``f``), letters, Backspace and a letter typed at once: Backspace
    deletes the letter typed before it, not the one typed after it."""
    ctx = make_ctx()
    ctx.manager.create("coordinator", "One")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("escape", "f")
        await settle(pilot)
        burst(app, "a|b|x|backspace|c")
        await settle(pilot)
        assert app.screen.query_one(FindBar).value == "abc"
