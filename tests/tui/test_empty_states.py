"""An empty list says why it is empty: the picker's filter that matches nothing is not "no
sessions yet", and the explorer names what narrows its list and the key that widens it."""

from __future__ import annotations

from prompt_sessions.tui.screens.explorer import ExplorerScreen
from prompt_sessions.tui.screens.explorer_rows import empty_text
from prompt_sessions.tui.screens.picker import SessionPicker
from prompt_sessions.tui.widgets.row_list import RowList

from .conftest import at, fixed_session, settle, wait_until, write_po


def first_line(app) -> str:
    """The first line the screen's row list draws."""
    return app.screen.query_one(RowList).render_line(0).text.rstrip()


async def test_a_picker_filter_matching_nothing_says_so_and_how_to_clear_it(make_ctx, make_app):
    """A filter no name holds: the picker says so, names the filter and Esc; Esc brings the
    rows back."""
    ctx = make_ctx()
    fixed_session(ctx, "a", "coordinator", "Alpha", [], at(3, 14))
    fixed_session(ctx, "b", "coordinator", "Beta", [], at(3, 15))
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("escape", "S")
        await settle(pilot)
        await pilot.press("slash", *"zzz")
        await pilot.pause()
        assert first_line(app) == "No session name holds 'zzz': Esc clears the filter"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, SessionPicker) and len(app.screen.rows_widget.rows) == 2


async def test_a_picker_with_no_session_offers_n(make_ctx, make_app, root):
    """A PO without sessions: the picker says there are none yet and that n makes one."""
    write_po(root, "coordinator")
    app = make_app(make_ctx())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("escape", "S")
        await settle(pilot)
        assert first_line(app) == "No sessions yet: press n for a new one"


async def test_a_picker_whose_sessions_are_all_archived_says_where_they_are(
    make_ctx, make_app, root
):
    """Archived sessions are not listed in the picker; an empty list says they exist and how
    to see them rather than "no sessions yet"."""
    write_po(root, "coordinator")
    ctx = make_ctx()
    for digit in "ab":
        s = fixed_session(ctx, digit, "coordinator", f"Old {digit}", [], at(3, 14))
        ctx.manager.archive(s.id)
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("escape", "S")
        await settle(pilot)
        assert first_line(app) == (
            "No sessions but 2 archived ones: E, Down, a lists them; n makes a new one"
        )


async def open_explorer(pilot) -> None:
    await pilot.press("escape", "E")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ExplorerScreen))
    await settle(pilot)


async def test_an_empty_store_in_the_explorer(make_ctx, make_app, root):
    """No session anywhere: the explorer says so and how to start one."""
    write_po(root, "coordinator")
    app = make_app(make_ctx())
    async with app.run_test(size=(120, 36)) as pilot:
        await open_explorer(pilot)
        assert first_line(app) == "No sessions yet: Esc, then type a message to start one"


async def test_an_explorer_search_matching_nothing_names_the_search(make_ctx, make_app):
    """A search with no hit names the search and how to clear it; clearing it lists the
    sessions again."""
    ctx = make_ctx()
    fixed_session(ctx, "a", "coordinator", "Alpha", [("user", "hello")], at(3, 14))
    app = make_app(ctx)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_explorer(pilot)
        await pilot.press(*"zzzqqq")
        await settle(pilot)
        assert first_line(app) == (
            "No session matches the search 'zzzqqq': / then ctrl+u clears the search"
        )
        await pilot.press("ctrl+u")
        await settle(pilot)
        assert len(app.screen.query_one(RowList).rows) == 1


async def test_explorer_pinned_only_names_the_box(make_ctx, make_app):
    """The Pinned box with nothing pinned names it and p, which lists the session again."""
    ctx = make_ctx()
    fixed_session(ctx, "a", "coordinator", "Alpha", [("user", "hello")], at(3, 14))
    app = make_app(ctx)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_explorer(pilot)
        await pilot.press("down", "p")
        await settle(pilot)
        assert first_line(app) == "No session matches pinned only: Down, p shows unpinned ones"
        await pilot.press("p")
        await settle(pilot)
        assert len(app.screen.query_one(RowList).rows) == 1


async def test_explorer_with_every_session_archived(make_ctx, make_app):
    """A store whose sessions are all archived says so and that a shows them; a does."""
    ctx = make_ctx()
    s = fixed_session(ctx, "a", "coordinator", "Alpha", [("user", "hello")], at(3, 14))
    ctx.manager.archive(s.id)
    app = make_app(ctx)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_explorer(pilot)
        assert first_line(app) == "No sessions but 1 archived: Down, a shows them"
        await pilot.press("down", "a")
        await settle(pilot)
        assert len(app.screen.query_one(RowList).rows) == 1


def test_the_explorer_text_lists_every_narrowing_and_escapes_names() -> None:
    """Search, lists, Pinned and hidden archived sessions are all named, with the keys that
    widen the list; a PO name with a right-to-left override shows it as an escape."""
    said = empty_text(
        sessions=5,
        search="x",
        lists={"PO": "rtl\u202eevil", "source": None, "tag": "work"},
        pinned=True,
        archived_hidden=2,
    )
    assert said == (
        "No session matches the search 'x', PO rtl\\u202eevil, tag work, pinned only: "
        "/ then ctrl+u clears the search; Tab reaches the lists; Down, p shows unpinned ones; "
        "Down, a shows archived ones"
    )
    assert empty_text(sessions=2, search="", lists={}, pinned=False, archived_hidden=2) == (
        "No sessions but 2 archived: Down, a shows them"
    )


def test_the_explorer_text_says_or_is_a_word() -> None:
    """A search holding OR that lists nothing says that OR is a word here, not an operator."""
    said = empty_text(
        sessions=5, search="sugar OR tides", lists={}, pinned=False, archived_hidden=0
    )
    assert said.endswith(
        "/ then ctrl+u clears the search; OR is a word here, not an operator: every word "
        "must match (-word leaves a word out)"
    )
