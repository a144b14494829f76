"""Keys typed at once after a query act on that query's answer, the way a person reads it.

The explorer searches in a thread: a query, then Down and a row key typed at once reach the
screen before the search has answered. Those keys must act on the answer's rows, never on the
rows listed before it. Each test holds the ranked search back until the keys are in, so the
stale rows are on screen when the keys arrive.
"""

from __future__ import annotations

import threading

import pytest
from textual import events

from prompt_sessions import search_live
from prompt_sessions.search_live import SearchCancelled
from prompt_sessions.tui.screens.choice import ChoiceScreen
from prompt_sessions.tui.screens.confirm import ConfirmScreen
from prompt_sessions.tui.screens.explorer import ExplorerScreen
from prompt_sessions.tui.screens.main import MainScreen
from prompt_sessions.tui.screens.picker import SessionPicker
from prompt_sessions.tui.widgets.row_list import RowList

from .conftest import at, fixed_session, settle, wait_until


def type_at_once(app, *keys: str) -> None:
    """Queue every key before the first is handled (a fast typist, a paste, a slow link)."""
    for key in keys:
        app.post_message(events.Key(key, key if len(key) == 1 else None))


@pytest.fixture
def held_search(monkeypatch) -> threading.Event:
    """The explorer's ranked search waits until the returned event is set (a cancelled one
    gives up), so keys typed at once meet the rows listed before the answer."""
    answer = threading.Event()
    original = search_live.ranked

    def ranked(manager, query, po_name=None, *, limit, progress=None, cancelled=None):
        while not answer.wait(0.01):
            if cancelled is not None and cancelled():
                raise SearchCancelled()
        return original(
            manager, query, po_name, limit=limit, progress=progress, cancelled=cancelled
        )

    monkeypatch.setattr(search_live, "ranked", ranked)
    # the newest hits are not shown first: the only rows before the answer are the stale ones
    monkeypatch.setattr(search_live, "first_page", lambda *a, **k: None)
    return answer


def seed(ctx):
    """Zoo is the best match for "walrus", Beach the second; Newest and Middle, not matches,
    are the first two rows before any search."""
    zoo = fixed_session(ctx, "a", "zoo", "Zoo", [("user", "walrus walrus walrus")], at(1, 9))
    beach = fixed_session(
        ctx, "b", "beach", "Beach", [("user", "a walrus among many other animals")], at(2, 9)
    )
    newest = fixed_session(ctx, "c", "coordinator", "Newest", [("user", "hello")], at(3, 9))
    fixed_session(ctx, "d", "coordinator", "Middle", [("user", "hi")], at(2, 12))
    assert [h.session.name for h in ctx.manager.search("walrus")] == ["Zoo", "Beach"]
    return zoo, beach, newest


async def explorer_with_keys(pilot, held_search, *keys: str) -> None:
    """Open the explorer, type ``walrus`` and ``keys`` at once, let the keys reach the screen
    while the search is held back, then let it answer."""
    await settle(pilot)
    await pilot.press("escape", "E")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ExplorerScreen))
    await settle(pilot)
    explorer = pilot.app.screen
    type_at_once(pilot.app, *"walrus", *keys)
    await wait_until(pilot, lambda: explorer.query_one("#search").value == "walrus")
    await wait_until(pilot, lambda: pilot.app.focused is not explorer.query_one("#search"))
    for _ in range(5):
        await pilot.pause()
    held_search.set()
    await settle(pilot)


@pytest.mark.parametrize(
    ("keys", "offered"),
    [(("down", "x"), "Zoo"), (("down", "j", "x"), "Beach"), (("down", "end", "k", "x"), "Zoo")],
)
async def test_a_query_moves_and_x_export_a_row_of_its_answer(
    make_ctx, make_app, held_search, keys, offered
):
    """A query, Down (and moves) and ``x`` typed at once: ``x`` offers to export the row of
    the query's answer the moves reached (the best match after Down alone), not a row listed
    before the search answered."""
    ctx = make_ctx()
    seed(ctx)
    app = make_app(ctx)
    async with app.run_test(size=(120, 30)) as pilot:
        await explorer_with_keys(pilot, held_search, *keys)
        assert isinstance(app.screen, ChoiceScreen)
        assert app.screen.title_text == f"Export '{offered}' as"


@pytest.mark.parametrize(
    ("keys", "opened"), [(("down", "enter"), 0), (("down", "down", "enter"), 1)]
)
async def test_a_query_moves_and_enter_open_a_row_of_its_answer(
    make_ctx, make_app, held_search, keys, opened
):
    """A query, Down (and Down) and Enter typed at once: Enter opens the answer's best match
    (its second match after the second Down: the moves are not undone by the answer arriving
    after them)."""
    ctx = make_ctx()
    zoo, beach, _ = seed(ctx)
    app = make_app(ctx)
    async with app.run_test(size=(120, 30)) as pilot:
        await explorer_with_keys(pilot, held_search, *keys)
        assert isinstance(app.screen, MainScreen)
        assert app.screen.session_id == (zoo.id, beach.id)[opened]


async def test_a_query_down_and_x_then_enter_exports_the_best_match(
    make_ctx, make_app, held_search, tmp_path
):
    """A query, Down, ``x`` and Enter typed at once: Enter is the format list's (markdown, the
    default) and the best match is exported; the keys after ``x`` do not act on the rows."""
    ctx = make_ctx()
    seed(ctx)
    app = make_app(ctx)
    async with app.run_test(size=(120, 30)) as pilot:
        await explorer_with_keys(pilot, held_search, "down", "x", "enter")
        assert isinstance(app.screen, ExplorerScreen)
        exported = sorted(p.name for p in (tmp_path / "exports").iterdir())
        assert len(exported) == 1 and exported[0].endswith(".md")
        assert "walrus walrus walrus" in (tmp_path / "exports" / exported[0]).read_text()


async def test_rows_shown_before_the_answer_hold_the_keys_that_reach_them(
    make_ctx, make_app, held_search
):
    """While the rows wait for a query's answer, a key typed at them waits too: the cursor
    has not moved and no export is offered before the answer is shown."""
    ctx = make_ctx()
    seed(ctx)
    app = make_app(ctx)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("escape", "E")
        await wait_until(pilot, lambda: isinstance(app.screen, ExplorerScreen))
        await settle(pilot)
        explorer = app.screen
        rows = explorer.query_one(RowList)
        type_at_once(app, *"walrus", "down", "j", "x")
        await wait_until(pilot, lambda: app.focused is rows)
        for _ in range(5):
            await pilot.pause()
        assert app.screen is explorer and rows.cursor == 0
        assert [r.summary.name for r in rows.rows][0] == "Newest"  # still the stale rows
        held_search.set()
        await settle(pilot)
        assert isinstance(app.screen, ChoiceScreen)
        assert app.screen.title_text == "Export 'Beach' as"


async def picker_with_filter(pilot, *keys: str) -> SessionPicker:
    await settle(pilot)
    await pilot.press("escape", "S")
    await settle(pilot)
    picker = pilot.app.screen
    assert isinstance(picker, SessionPicker)
    type_at_once(pilot.app, "slash", *"zeb", *keys)
    await settle(pilot)
    return picker


async def test_picker_filter_down_and_d_delete_a_filtered_row(make_ctx, make_app):
    """In the picker, ``/``, a filter, Down and ``d`` typed at once: the delete asks about
    the filtered row Down moved to, not a row of the unfiltered list."""
    ctx = make_ctx()
    ctx.manager.create("coordinator", "Other one")
    ctx.manager.create("coordinator", "Zebra two")
    ctx.manager.create("coordinator", "Zebra one")  # the latest: the first match
    ctx.manager.create("coordinator", "Newest")  # the first row before the filter
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await picker_with_filter(pilot, "down", "d")
        assert isinstance(app.screen, ConfirmScreen)
        assert "'Zebra two'" in app.screen.question


async def test_picker_filter_down_and_r_rename_a_filtered_row(make_ctx, make_app):
    """In the picker, ``/``, a filter, Down, ``r``, a name and Enter typed at once: the
    filtered row Down moved to is renamed."""
    ctx = make_ctx()
    ctx.manager.create("coordinator", "Other one")
    two = ctx.manager.create("coordinator", "Zebra two")
    ctx.manager.create("coordinator", "Zebra one")
    ctx.manager.create("coordinator", "Newest")
    app = make_app(ctx)
    async with app.run_test() as pilot:
        await picker_with_filter(pilot, "down", "r", "ctrl+u", *"Zed", "enter")
        assert ctx.manager.get(two.id).name == "Zed"


async def explorer_answered(pilot, held_search) -> ExplorerScreen:
    """The explorer showing the answer to ``walrus``, its rows focused; the next search is
    held back again."""
    await settle(pilot)
    await pilot.press("escape", "E")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ExplorerScreen))
    await settle(pilot)
    held_search.set()
    await pilot.press(*"walrus")
    await settle(pilot)
    await pilot.press("down")
    explorer = pilot.app.screen
    assert pilot.app.focused is explorer.query_one(RowList)
    held_search.clear()
    return explorer


@pytest.mark.parametrize("toggle", ["p", "a"])
async def test_a_toggle_then_x_typed_at_once_export_a_row_the_toggle_keeps(
    make_ctx, make_app, held_search, toggle
):
    """On the rows of a search, ``p`` (pinned only) or ``a`` (archived too) and ``x`` typed
    at once: ``x`` offers to export the first row of the list the toggle leaves, not the
    row listed before it."""
    ctx = make_ctx()
    zoo, beach, _ = seed(ctx)
    ctx.manager.pin(beach.id, True)
    fixed_session(ctx, "e", "zoo", "Attic", [("user", "walrus " * 6)], at(1, 8), archived=True)
    app = make_app(ctx)
    async with app.run_test(size=(120, 30)) as pilot:
        explorer = await explorer_answered(pilot, held_search)
        assert explorer.query_one(RowList).current.summary.name == "Zoo"
        type_at_once(app, toggle, "x")
        for _ in range(5):
            await pilot.pause()
        held_search.set()
        await settle(pilot)
        assert isinstance(app.screen, ChoiceScreen)
        first = {"p": "Beach", "a": "Attic"}[toggle]
        assert app.screen.title_text == f"Export '{first}' as"


async def test_down_and_x_typed_before_the_sessions_are_listed_export_the_first(
    make_ctx, make_app, monkeypatch
):
    """Down and ``x`` typed at once while the explorer still lists the sessions (a large
    store): ``x`` offers to export the first session listed, rather than nothing."""
    ctx = make_ctx()
    seed(ctx)
    listed = threading.Event()
    original = ctx.manager.list

    def slow_list(*args, **kwargs):
        if threading.current_thread() is not threading.main_thread():
            listed.wait(10)
        return original(*args, **kwargs)

    app = make_app(ctx)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        monkeypatch.setattr(ctx.manager, "list", slow_list)
        await pilot.press("escape", "E")
        await wait_until(pilot, lambda: isinstance(app.screen, ExplorerScreen))
        explorer = app.screen
        await wait_until(pilot, lambda: app.focused is explorer.query_one("#search"))
        type_at_once(app, "down", "x")
        await wait_until(pilot, lambda: app.focused is explorer.query_one(RowList))
        for _ in range(5):
            await pilot.pause()
        listed.set()
        await settle(pilot)
        assert isinstance(app.screen, ChoiceScreen)
        assert app.screen.title_text == "Export 'Newest' as"


async def test_slash_and_a_query_typed_at_once_on_the_rows_search(make_ctx, make_app):
    """On the explorer's rows, ``/`` and a query typed at once: every letter is in the search
    box (the ``a`` and ``p`` of it toggle no filter) and the query's best match is listed."""
    ctx = make_ctx()
    seed(ctx)
    app = make_app(ctx)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("escape", "E")
        await wait_until(pilot, lambda: isinstance(app.screen, ExplorerScreen))
        await settle(pilot)
        await pilot.press("down")
        explorer = app.screen
        type_at_once(app, "slash", *"walrus pa")
        await settle(pilot)
        assert explorer.query_one("#search").value == "walrus pa"
        assert not explorer.query_one("#pinned").value
        assert not explorer.query_one("#archived").value
