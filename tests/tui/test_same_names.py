"""Sessions that share a name show a short id, in the session picker, the explorer and the
sidebar of open sessions; sessions with a name of their own show none."""

from __future__ import annotations

from prompt_sessions.tui.same_names import id_tags
from prompt_sessions.tui.screens.explorer import ExplorerScreen
from prompt_sessions.tui.screens.main import MainScreen
from prompt_sessions.tui.screens.picker import SessionPicker
from prompt_sessions.tui.widgets.row_list import RowList
from prompt_sessions.tui.widgets.session_bar import SessionBar

from .conftest import at, fixed_session, settle, wait_until


def test_only_sessions_sharing_a_name_get_a_short_id():
    """Two ``Plan`` sessions get the first 8 characters of their ids; ``Other`` gets none;
    names are compared once NFC-normalised (é typed two ways is one name)."""
    tags = id_tags(
        [
            ("aaaaaaaa-1111", "Plan"),
            ("bbbbbbbb-2222", "Plan"),
            ("cccccccc-3333", "Other"),
            ("dddddddd-4444", "Caf\u00e9"),
            ("eeeeeeee-5555", "Cafe\u0301"),
        ]
    )
    assert tags == {
        "aaaaaaaa-1111": "aaaaaaaa",
        "bbbbbbbb-2222": "bbbbbbbb",
        "dddddddd-4444": "dddddddd",
        "eeeeeeee-5555": "eeeeeeee",
    }


def test_a_short_id_grows_until_it_tells_the_sessions_apart():
    """Ids of same-named sessions that start alike get as many characters as tell them
    apart (an id prefix that names one session)."""
    tags = id_tags([("abcdefgh-12", "Plan"), ("abcdefgh-13", "Plan"), ("zzzzzzzz-99", "Plan")])
    assert tags == {
        "abcdefgh-12": "abcdefgh-12",
        "abcdefgh-13": "abcdefgh-13",
        "zzzzzzzz-99": "zzzzzzzz",
    }


def picker_lines(app, width: int = 80) -> list[str]:
    picker = app.screen
    assert isinstance(picker, SessionPicker)
    return [picker.render_row(r, width).plain.rstrip() for r in picker.query_one(RowList).rows]


async def test_the_picker_shows_a_short_id_for_sessions_sharing_a_name(make_ctx, make_app):
    """In the picker two sessions called ``Plan`` each show the start of their id (which
    ``/session switch`` accepts); ``Other`` shows none; a long shared name is cut, its id
    stays in sight."""
    ctx = make_ctx()
    fixed_session(ctx, "a", "coordinator", "Plan", [], at(3, 9))
    fixed_session(ctx, "b", "coordinator", "Plan", [], at(2, 9))
    fixed_session(ctx, "c", "coordinator", "Other", [], at(1, 9))
    long = "A very long name that two sessions share " * 2
    fixed_session(ctx, "d", "coordinator", long, [], at(1, 8))
    fixed_session(ctx, "e", "coordinator", long, [], at(1, 7))
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("escape", "S")
        await settle(pilot)
        lines = picker_lines(app)
        assert "Plan (aaaaaaaa)" in lines[0]
        assert "Plan (bbbbbbbb)" in lines[1]
        assert "Other" in lines[2] and "(" not in lines[2]
        narrow = picker_lines(app, 50)
        assert "(dddddddd)" in narrow[3] and "(eeeeeeee)" in narrow[4]
        assert "…" in narrow[3]


async def test_a_rename_in_the_picker_that_ends_a_shared_name_drops_the_ids(make_ctx, make_app):
    """Renaming one of two ``Plan`` sessions to a name of its own: neither shows an id."""
    ctx = make_ctx()
    fixed_session(ctx, "a", "coordinator", "Plan", [], at(3, 9))
    fixed_session(ctx, "b", "coordinator", "Plan", [], at(2, 9))
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("escape", "S")
        await settle(pilot)
        assert all("(" in line for line in picker_lines(app))
        await pilot.press("r", "ctrl+u", *"Solo", "enter")
        await settle(pilot)
        assert not any("(" in line for line in picker_lines(app))


def explorer_lines(app, width: int = 120) -> dict[str, str]:
    """The explorer's rows drawn ``width`` cells wide, by the first letter of their ids."""
    explorer = app.screen
    assert isinstance(explorer, ExplorerScreen)
    return {
        r.summary.id[0]: explorer.render_row(r, width).plain.rstrip()
        for r in explorer.query_one(RowList).rows
    }


async def test_the_explorer_shows_a_short_id_for_sessions_sharing_a_name(make_ctx, make_app):
    """In the explorer two sessions called ``Plan`` (in two POs) each show the start of their
    id, ``Other`` none; a long shared name is cut before its id. As in the picker, the ids
    are those of every session listed before a search narrows the list: a search that lists
    one ``Plan`` only still shows its id."""
    ctx = make_ctx()
    fixed_session(ctx, "a", "coordinator", "Plan", [("user", "the budget")], at(3, 9))
    fixed_session(ctx, "b", "writer", "Plan", [("user", "chapter one")], at(2, 9))
    fixed_session(ctx, "c", "coordinator", "Other", [], at(1, 9))
    long = "A very long name that two sessions share " * 2
    fixed_session(ctx, "d", "coordinator", long, [], at(1, 8))
    fixed_session(ctx, "e", "writer", long, [], at(1, 7))
    app = make_app(ctx)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("escape", "E")
        await settle(pilot)
        lines = explorer_lines(app)
        assert "Plan (aaaaaaaa)" in lines["a"]
        assert "Plan (bbbbbbbb)" in lines["b"]
        assert "Other" in lines["c"] and "(" not in lines["c"]
        for key in "de":
            assert f"… ({key * 8})  " in lines[key]  # cut to its column, the id kept
        narrow = explorer_lines(app, 60)
        assert "(dddddddd)" in narrow["d"] and "(eeeeeeee)" in narrow["e"]
        await pilot.press(*"budget")  # the search box has the focus as the explorer opens
        await settle(pilot)
        lines = explorer_lines(app)
        assert list(lines) == ["a"]
        assert "Plan (aaaaaaaa)" in lines["a"]


async def test_the_explorer_counts_archived_sessions_once_it_shows_them(make_ctx, make_app):
    """A ``Plan`` whose namesake is archived shows no id while archived sessions are hidden;
    once the Archived box shows them, both show their ids."""
    ctx = make_ctx()
    fixed_session(ctx, "a", "coordinator", "Plan", [], at(3, 9))
    fixed_session(ctx, "b", "coordinator", "Plan", [], at(2, 9), archived=True)
    app = make_app(ctx)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("escape", "E")
        await settle(pilot)
        lines = explorer_lines(app)
        assert list(lines) == ["a"] and "(" not in lines["a"]
        await pilot.press("down", "a")  # into the rows, where a toggles archived
        await settle(pilot)
        lines = explorer_lines(app)
        assert "Plan (aaaaaaaa)" in lines["a"]
        assert "Plan (bbbbbbbb)  (archived)" in lines["b"]


async def test_the_sidebar_shows_a_short_id_for_open_sessions_sharing_a_name(make_ctx, make_app):
    """Open sessions called ``Plan`` (in two POs) show the start of their ids in the sidebar;
    ``Other`` shows none; renaming one away drops both ids."""
    ctx = make_ctx()
    a = fixed_session(ctx, "a", "coordinator", "Plan", [], at(3, 9))
    b = fixed_session(ctx, "b", "writer", "Plan", [], at(2, 9))
    c = fixed_session(ctx, "c", "coordinator", "Other", [], at(1, 9))
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MainScreen)
        for s in (a, b, c):
            screen.switch_to(s.po_name, s.id)
        await settle(pilot)
        bar = screen.query_one(SessionBar)
        assert bar.row_text(a.id).startswith("○ Plan (aaaaaaaa)\n")
        assert bar.row_text(b.id).startswith("○ Plan (bbbbbbbb)\n")
        assert bar.row_text(c.id).startswith("○ Other\n")
        drawn = [str(bar.get_option_at_index(i).prompt) for i in range(bar.option_count)]
        assert sum("(aaaaaaaa)" in d or "(bbbbbbbb)" in d for d in drawn) == 2
        ctx.manager.rename(b.id, "Draft")
        await wait_until(pilot, lambda: bar.row_text(b.id).startswith("○ Draft\n"))
        await settle(pilot)
        assert bar.row_text(a.id).startswith("○ Plan\n")
