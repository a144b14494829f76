"""Focus follows the person: after landing in a conversation, what they type is a message.

Each test types with real key order, as a person who never pressed Esc-then-i would.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest
from textual.command import CommandPalette
from textual.pilot import Pilot
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


# ------------------------------------------------------------------ keys typed at once


def burst(app, keys: str) -> None:
    """Keys as a terminal delivers a burst of them (a fast typist, a slow link, a loaded
    machine): all queued before the first is handled, unlike ``pilot.press``, which waits
    for each key in turn."""
    from textual import events

    for key in keys.split("|"):
        character = {"space": " ", "escape": "\x1b"}.get(key, key if len(key) == 1 else None)
        app.post_message(events.Key(key, character))


async def in_the_box(pilot) -> None:
    """The app as it starts: settled, the message box focused."""
    await settle(pilot)
    assert isinstance(pilot.app.focused, MessageBox)


async def in_the_conversation(pilot) -> None:
    """Esc from the box, typed after a pause: the focus is out of the box."""
    await settle(pilot)
    await pilot.press("escape")
    await settle(pilot)
    assert not isinstance(pilot.app.focused, MessageBox)


async def find_bar_opened(pilot) -> None:
    """Open the find bar (Esc, ``f``) once the screen has settled."""
    await settle(pilot)
    await pilot.press("escape", "f")
    await settle(pilot)


async def picker_opened(pilot) -> None:
    """Open the picker (Esc, S) once the screen has settled, and let it settle."""
    await settle(pilot)
    await pilot.press("escape", "S")
    await settle(pilot)
    assert isinstance(pilot.app.screen, SessionPicker)


async def explorer_opened(pilot) -> None:
    """Open the explorer (Esc, E) once the screen has settled, and let its rows load."""
    await settle(pilot)
    await pilot.press("escape", "E")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ExplorerScreen))
    await settle(pilot)


OPENED = {
    "box": in_the_box,
    "conversation": in_the_conversation,
    "find bar": find_bar_opened,
    "picker": picker_opened,
    "explorer": explorer_opened,
}


async def settled_with_workers(pilot, turns: int = 50) -> None:
    """Settle until no worker is left: a key handled while settling may start one (each letter
    of an explorer search does) that ``settle`` did not wait for, and a key typed after it (an
    Enter that opens the search's best match) acts only once it answers."""
    for _ in range(turns):
        await settle(pilot)
        if all(worker.is_finished for worker in pilot.app.workers):
            return
    raise AssertionError("workers still running after every turn")


@asynccontextmanager
async def typed_at_once(app, opened: Callable[[Pilot], Awaitable[None]], keys: str):
    """Run ``app``, bring it where the keys are typed (``opened``), type ``keys`` at once
    (``burst``, ``|`` between keys) and let the app settle, workers the keys started
    included; yields the pilot."""
    async with app.run_test() as pilot:
        await opened(pilot)
        burst(app, keys)
        await settled_with_workers(pilot)
        yield pilot


def main(shown: str, box: str = "", find: str = "") -> dict[str, object]:
    """The main screen showing session ``shown`` (its name when made), what its message box
    and find bar hold, and no draft left behind in another open session."""
    return {"screen": "main", "shown": shown, "box": box, "find": find, "other drafts": []}


def picker(filter: str = "", rename_box: bool = False) -> dict[str, object]:
    """The picker, its filter and whether its rename box is open."""
    return {"screen": "picker", "filter": filter, "rename box": rename_box}


def explorer(search: str) -> dict[str, object]:
    """The explorer and its search."""
    return {"screen": "explorer", "search": search}


def seen(app, made: dict[str, str]) -> dict[str, object]:
    """What the screen on top shows, in the shape of ``main``, ``picker`` or ``explorer``;
    ``made`` maps the ids of the sessions a test made to their names."""
    screen = app.screen
    if isinstance(screen, MainScreen):
        others = [
            live.view.draft
            for live in app.coord.open_sessions()
            if live.session_id != screen.session_id
        ]
        return {
            "screen": "main",
            "shown": made.get(screen.session_id, screen.session_name),
            "box": screen.query_one(MessageBox).text,
            "find": screen.query_one(FindBar).value,
            "other drafts": [draft for draft in others if draft],
        }
    if isinstance(screen, SessionPicker):
        return {
            "screen": "picker",
            "filter": screen.filter_text,
            "rename box": any(box.has_class("-shown") for box in screen.query("#rename")),
        }
    if isinstance(screen, ExplorerScreen):
        return {"screen": "explorer", "search": screen.query_one("#search").value}
    return {"screen": type(screen).__name__}


def stored(ctx) -> list[tuple[str, list[str], bool, bool]]:
    """Every stored session's (name, tags, archived, pinned), by name."""
    sessions = [ctx.manager.get(s.id) for s in ctx.manager.list(include_archived=True)]
    return sorted((s.name, s.tags or [], s.archived, s.pinned) for s in sessions)


@dataclass(frozen=True)
class Burst:
    """Keys typed at once somewhere, and what must follow: what they do after a pause."""

    checks: str  # what the case checks (its docstring)
    where: str  # a key of OPENED: where the keys are typed
    keys: str  # as ``burst`` takes them
    after: dict[str, object]  # ``main(...)``, ``picker(...)`` or ``explorer(...)``
    sessions: tuple[str, ...] = ("One",)  # made in this order: the last is the latest
    current: str | None = None  # made its PO's current session before the app starts
    tags: dict[str, list[str]] = field(default_factory=dict)  # tags stored after
    renamed: dict[str, str] = field(default_factory=dict)  # name made -> name after
    new: tuple[str, ...] = ()  # sessions the keys make


BURSTS = {
    "i-then-text-lands-in-the-box": Burst(
        "``i`` then a message typed at once: every key after ``i`` is text in the box, none a "
        'key command (the ``S`` of "Send" does not open the picker).',
        "conversation",
        "i|S|e|n|d|space|N|o|w",
        main("One", box="Send Now"),
    ),
    "N-name-enter-then-letters-never-quit-or-close": Burst(
        "Esc, ``N``, a name, Enter and more letters, all typed at once: the session is made "
        "with the name typed (Enter comes after its letters), and no letter typed after Enter "
        "is a key command of the screen (the ``q`` would quit, the ``w`` close the session).",
        "box",
        "escape|N|F|r|e|s|h|enter|q|w",
        main("Fresh", box="qw"),
        new=("Fresh",),
    ),
    "N-name-enter-then-a-message-is-in-the-new-box": Burst(
        "Esc, ``N``, a name, Enter, then a message, all typed at once: the message is in the "
        "new session's box, and nothing typed lands in the draft of the session left.",
        "box",
        "escape|N|F|r|e|s|h|enter|h|i|space|S|o",
        main("Fresh", box="hi So"),
        new=("Fresh",),
    ),
    "editing-keys-in-the-message-box-act-in-order": Burst(
        "In the message box, Backspace, Left and letters typed at once (a fast typist, a slow "
        "link): each acts where it was typed, as after a pause. The editing keys used to reach "
        "the box after the letters typed after them, deleting or moving past those letters.",
        "box",
        "a|b|c|d|backspace|backspace|x|y|left|left|z",
        main("One", box="abzxy"),
    ),
    "editing-keys-in-the-find-bar-act-in-order": Burst(
        "In the find bar (``f``), letters, Backspace and a letter typed at once: Backspace "
        "deletes the letter typed before it, not the one typed after it.",
        "find bar",
        "a|b|x|backspace|c",
        main("One", find="abc"),
    ),
    "picker-r-name-enter-renames-and-acts-on-no-row": Burst(
        "In the picker, ``r`` then a name and Enter typed at once: the session is renamed; no "
        'letter of the name acts on the rows (the ``a`` of "Fast" would archive).',
        "picker",
        "r|F|a|s|t|space|n|a|m|e|enter",
        picker(),
        renamed={"One": "Fast name"},
    ),
    "picker-r-twice-renames-twice": Burst(
        "In the picker, ``r``, a name, Enter, then ``r``, another name and Enter, all typed at "
        "once: the second rename is of the same session and wins, the picker stays open.",
        "picker",
        "r|F|a|s|t|enter|r|S|l|o|w|enter",
        picker(),
        renamed={"One": "Slow"},
    ),
    "picker-r-name-enter-escape-closes-the-picker": Burst(
        "In the picker, ``r``, a name, Enter and Esc typed at once: the session is renamed and "
        "Esc closes the picker, as it does when typed after a pause.",
        "picker",
        "r|F|a|s|t|enter|escape",
        main("One"),
        renamed={"One": "Fast"},
    ),
    "picker-slash-then-letters-are-the-filter": Burst(
        "In the picker, ``/`` then letters typed at once: they are the filter, not commands.",
        "picker",
        "slash|d|a|t",
        picker(filter="dat"),
        sessions=("One", "Other"),
    ),
    "picker-t-tags-enter-stores-the-tags": Burst(
        "In the picker, ``t`` then tags and Enter typed at once: the tags are stored; no letter "
        'acts on the rows (the ``a`` of "alpha" would archive, the ``d`` of "draft" delete).',
        "picker",
        "t|a|l|p|h|a|space|d|r|a|f|t|enter",
        picker(),
        tags={"One": ["alpha", "draft"]},
    ),
    "picker-t-tags-enter-then-down-enter-act-on-rows": Burst(
        "In the picker, ``t``, tags, Enter, then Down and Enter typed at once: the tags are "
        "stored and Down and Enter act on the rows (the session below is shown).",
        "picker",
        "t|x|enter|down|enter",
        main("Two"),
        sessions=("Two", "One"),
        tags={"One": ["x"]},
    ),
    "picker-down-enter-shows-the-session-below": Burst(
        "In the picker, Down and Enter typed at once: Enter shows the session Down moved to, "
        "not the one under the cursor before Down arrived.",
        "picker",
        "down|enter",
        main("Two"),
        sessions=("Two", "One"),
    ),
    "picker-filter-enter-chooses-the-filtered-row": Burst(
        "In the picker, ``/``, a filter and Enter typed at once: Enter shows the row the filter "
        "leaves, not the row that was under the cursor before the letters arrived.",
        "picker",
        "slash|z|e|b|enter",
        main("Zebra"),
        sessions=("One", "Zebra"),
        current="One",
    ),
    "picker-filter-enter-then-a-message-is-in-the-box": Burst(
        "In the picker, ``/``, a filter, Enter and a message typed at once: the filtered row is "
        "shown and the message is in its box, not lost in the closed filter.",
        "picker",
        "slash|z|e|b|enter|h|i",
        main("Zebra", box="hi"),
        sessions=("One", "Zebra"),
        current="One",
    ),
    "picker-filter-down-enter-shows-the-second-match": Burst(
        "In the picker, ``/``, a filter, Down and Enter typed at once: Down moves through the "
        "filtered rows (not all of them) and Enter shows the second match.",
        "picker",
        "slash|z|e|b|down|enter",
        main("Zebra two"),
        sessions=("Other", "Zebra two", "Zebra one"),
    ),
    "explorer-search-matching-nothing-and-enter-opens-nothing": Burst(
        "In the explorer, a search no session matches and Enter typed at once: the explorer "
        "stays open on its empty list, as it does when Enter is typed after a pause.",
        "explorer",
        "z|q|x|enter",
        explorer(search="zqx"),
    ),
    "editing-keys-in-the-explorer-search-act-in-order": Burst(
        "In the explorer's search box, ctrl+u (clear) and Backspace typed at once with "
        "letters: the search is the letters typed after them, as after a pause.",
        "explorer",
        "z|z|ctrl+u|o|n|e|e|backspace",
        explorer(search="one"),
    ),
}


@pytest.mark.parametrize("case", [pytest.param(c, id=name) for name, c in BURSTS.items()])
async def test_keys_typed_at_once_act_as_after_a_pause(make_ctx, make_app, case: Burst):
    """Keys typed at once act as the same keys typed after a pause: each case's ``checks``
    says which keys, where, and what must follow. The screen on top shows what ``after``
    says; the store holds the sessions made (renamed, tagged and new ones as the case says),
    none archived, pinned or trashed; the app still runs."""
    ctx = make_ctx()
    made = {ctx.manager.create("coordinator", name).id: name for name in case.sessions}
    if case.current is not None:
        ctx.manager.switch("coordinator", next(i for i, n in made.items() if n == case.current))
    app = make_app(ctx)
    async with typed_at_once(app, OPENED[case.where], case.keys):
        assert app.is_running
        assert seen(app, made) == case.after, case.checks
        names = [case.renamed.get(name, name) for name in case.sessions] + list(case.new)
        assert stored(ctx) == sorted((n, case.tags.get(n, []), False, False) for n in names)
        assert ctx.manager.trashed() == []


async def test_keys_typed_right_after_escape_are_key_commands(make_ctx, make_app):
    """Esc in the box then ``S`` at once: ``S`` opens the picker, as it does when typed slowly,
    and is not left in the box as text."""
    ctx = make_ctx()
    ctx.manager.create("coordinator", "One")
    app = make_app(ctx)
    async with typed_at_once(app, in_the_box, "escape|S") as pilot:
        # says where the keys went if it fails: the screen on top, the focus, the box's text
        assert isinstance(app.screen, SessionPicker), (
            app.screen,
            app.focused,
            app.screen_stack[0].query_one(MessageBox).text,
        )
        app.screen.dismiss(None)
        await settle(pilot)
        assert app.screen.query_one(MessageBox).text == ""


async def test_keys_typed_right_after_n_never_act_on_the_screen_behind(make_ctx, make_app):
    """Esc, ``N`` and a name typed at once: the name is in the prompt, and no letter of it is
    a key command of the screen behind (the ``q`` of "quick" would quit, the ``w`` close the
    session)."""
    ctx = make_ctx()
    ctx.manager.create("coordinator", "One")
    app = make_app(ctx)
    async with typed_at_once(app, settle, "escape|N|q|u|i|c|k|space|w|o|r|d|s") as pilot:
        assert app.is_running
        assert type(app.screen).__name__ == "NamePrompt"
        assert app.screen.query_one("#name").value == "quick words"  # the name typed
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert [s.name for s in ctx.manager.list()] == ["One"]


async def test_a_message_and_enter_typed_at_once_after_naming_are_sent_to_the_new_session(
    make_ctx, make_app
):
    """Esc, ``N``, a name, Enter, a message and Enter, all typed at once: the message is sent
    to the new session (the second Enter is the box's), and the session left gets nothing."""
    ctx = make_ctx()
    one = ctx.manager.create("coordinator", "One")
    app = make_app(ctx)
    async with typed_at_once(app, settle, "escape|N|F|r|e|s|h|enter|h|i|enter") as pilot:
        await wait_until(pilot, lambda: len(history(ctx, app.screen.session_id)) == 2)
        assert app.screen.session_name == "Fresh"
        assert history(ctx, app.screen.session_id) == [
            ("user", "hi"),
            ("assistant", "You said: hi"),
        ]
        assert ctx.manager.get(one.id).history == []
        assert app.screen.query_one(MessageBox).text == ""


async def test_keys_typed_right_after_choosing_in_the_picker_land_in_the_box(make_ctx, make_app):
    """``S``, Enter on a session, then a message typed at once: the keys after Enter are text
    in the box of the chosen session, none a key command (the ``N`` of "Now" does not open the
    new-session prompt, the ``S`` of "So" does not open the picker again)."""
    ctx = make_ctx()
    one = ctx.manager.create("coordinator", "One")
    two = ctx.manager.create("coordinator", "Two")
    ctx.manager.switch("coordinator", one.id)

    async def on_two(pilot) -> None:
        await picker_opened(pilot)
        rows = pilot.app.screen.rows_widget
        rows.cursor = next(i for i, row in enumerate(rows.rows) if row.id == two.id)

    app = make_app(ctx)
    async with typed_at_once(app, on_two, "enter|N|o|w|space|S|o"):
        assert isinstance(app.screen, MainScreen)
        assert app.screen.session_id == two.id
        assert app.screen.query_one(MessageBox).text == "Now So"


async def test_keys_typed_right_after_choosing_in_the_explorer_land_in_the_box(make_ctx, make_app):
    """``E``, Enter on a session, then a message typed at once: the keys are text in the box of
    the chosen session (the ``S`` of "So" does not open the picker)."""
    ctx = make_ctx()
    one = ctx.manager.create("coordinator", "One")
    ctx.manager.create("coordinator", "Two")
    ctx.manager.switch("coordinator", one.id)
    chosen: list[str] = []

    async def in_the_rows(pilot) -> None:
        await explorer_opened(pilot)
        rows = pilot.app.screen.query_one("RowList")
        chosen.append(rows.current.summary.id)
        rows.focus()
        await settle(pilot)

    app = make_app(ctx)
    async with typed_at_once(app, in_the_rows, "enter|S|o|space|N|o|w"):
        assert isinstance(app.screen, MainScreen)
        assert app.screen.session_id == chosen[0]
        assert app.screen.query_one(MessageBox).text == "So Now"


def named_in_the_picker(name: str) -> Callable[[Pilot], Awaitable[None]]:
    """An opener: the picker open, ``n`` pressed and ``name`` in the name prompt."""

    async def opened(pilot) -> None:
        await picker_opened(pilot)
        await pilot.press("n")
        await settle(pilot)
        pilot.app.screen.query_one("#name").value = name

    return opened


async def test_keys_typed_right_after_naming_in_the_picker_never_act_on_rows(make_ctx, make_app):
    """In the picker, ``n``, a name and Enter, then letters typed at once: the new session is
    shown, and no letter acts on the picker's rows (``a`` would archive, ``d`` delete,
    ``p`` pin)."""
    ctx = make_ctx()
    one = ctx.manager.create("coordinator", "One")
    app = make_app(ctx)
    async with typed_at_once(app, named_in_the_picker("Fresh"), "enter|a|d|d|space|p|a"):
        assert isinstance(app.screen, MainScreen)
        assert app.screen.session_name == "Fresh"
        assert not ctx.manager.get(one.id).archived and not ctx.manager.get(one.id).pinned
        assert ctx.manager.trashed() == []
        assert app.screen.query_one(MessageBox).text == "add pa"


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
    named = named_in_the_picker("Fresh")

    async def named_then_failing(pilot) -> None:
        await named(pilot)
        monkeypatch.setattr(actions, "new_session", fail)

    app = make_app(ctx)
    async with typed_at_once(app, named_then_failing, "enter|a|p|enter"):
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

    async def two_below(pilot) -> None:
        await picker_opened(pilot)
        rows = pilot.app.screen.rows_widget
        assert rows.rows[rows.cursor + 1].id == two.id

    app = make_app(ctx)
    async with typed_at_once(app, two_below, "r|F|a|s|t|enter|down|enter"):
        assert ctx.manager.get(one.id).name == "Fast"
        assert isinstance(app.screen, MainScreen)
        assert app.screen.session_id == two.id


async def test_x_typed_at_once_after_down_in_the_explorer_exports(make_ctx, make_app):
    """In the explorer's search box, Down and ``x`` typed at once: Down moves into the rows
    and ``x`` offers to export the row, as after a pause; it is not typed into the search."""
    ctx = make_ctx()
    ctx.manager.create("coordinator", "One")
    app = make_app(ctx)
    async with typed_at_once(app, explorer_opened, "down|x"):
        explorer = app.screen_stack[-2]
        assert isinstance(explorer, ExplorerScreen)
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
    second: list[str] = []

    async def rows_loaded(pilot) -> None:
        await explorer_opened(pilot)
        rows = pilot.app.screen.query_one("RowList")
        second.append(rows.rows[rows.cursor + 1].summary.id)

    app = make_app(ctx)
    async with typed_at_once(app, rows_loaded, "down|down|enter"):
        assert isinstance(app.screen, MainScreen)
        assert app.screen.session_id == second[0]


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
    async with typed_at_once(app, explorer_opened, "a|p|p|l|e|enter"):
        assert isinstance(app.screen, MainScreen)
        assert app.screen.session_id == older.id
