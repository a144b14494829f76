"""The explorer (E): every session, filters, content search with snippets, jump, export."""

from __future__ import annotations

from textual.widgets import Input, Label, Select

from prompt_sessions.tui.screens.choice import ChoiceScreen
from prompt_sessions.tui.screens.explorer import ExplorerScreen, highlight
from prompt_sessions.tui.screens.main import MainScreen
from prompt_sessions.tui.widgets.hint_line import HintLine
from prompt_sessions.tui.widgets.row_list import RowList

from .conftest import at, fixed_session, settle


def seed(ctx):
    a = fixed_session(
        ctx,
        "a",
        "coordinator",
        "Plans",
        [("user", "the budget is 42 [eur]"), ("assistant", "ok")],
        at(3, 14),
    )
    b = fixed_session(ctx, "b", "writer", "Draft", [("user", "chapter one")], at(2, 9))
    c = fixed_session(ctx, "c", "writer", "Old", [("user", "budget talk")], at(1, 9), archived=True)
    return a, b, c


async def open_explorer(pilot):
    await pilot.press("escape", "E")
    await settle(pilot)
    assert isinstance(pilot.app.screen, ExplorerScreen)


def shown(app) -> list[str]:
    return [r.summary.name for r in app.screen.query_one(RowList).rows]


async def test_lists_every_po_and_hides_archived(make_ctx, make_app):
    """All POs' sessions, newest first; archived ones only after the toggle (a)."""
    ctx = make_ctx()
    seed(ctx)
    app = make_app(ctx)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_explorer(pilot)
        assert shown(app) == ["Plans", "Draft"]
        await pilot.press("down", "a")  # into the rows, where a toggles archived
        assert shown(app) == ["Plans", "Draft", "Old"]


async def test_po_filter(make_ctx, make_app):
    """Choosing a PO keeps only its sessions."""
    ctx = make_ctx()
    seed(ctx)
    app = make_app(ctx)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_explorer(pilot)
        app.screen.query_one("#po", Select).value = "writer"
        await pilot.pause()
        assert shown(app) == ["Draft"]


async def test_search_shows_highlighted_snippets(make_ctx, make_app):
    """Typing a search lists matching messages with the match highlighted in the snippet."""
    ctx = make_ctx()
    seed(ctx)
    app = make_app(ctx)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_explorer(pilot)
        await pilot.press(*"budget")  # the search box has the focus as the explorer opens
        await settle(pilot)
        rows = app.screen.query_one(RowList).rows
        assert [(r.summary.name, r.message_index) for r in rows] == [("Plans", 0)]
        line = app.screen.render_row(rows[0], 120)
        assert "the budget is 42 [eur]" in line.plain
        styled = [line.plain[s.start : s.end] for s in line.spans if "reverse" in str(s.style)]
        assert styled == ["budget"]


async def test_search_speaks_the_search_language(make_ctx, make_app):
    """The box takes the search language: accents folded, ranked hits, the words highlighted as
    written; a query still being typed that does not parse is named in the status line and the
    last results stay."""
    ctx = make_ctx()
    seed(ctx)
    fixed_session(
        ctx, "d", "chef", "Dessert", [("user", "Crème brûlée tonight, the budget allows")], at(4, 9)
    )
    app = make_app(ctx)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_explorer(pilot)
        await pilot.press(*"creme brulee")
        await settle(pilot)
        rows = app.screen.query_one(RowList).rows
        assert [(r.summary.name, r.message_index) for r in rows] == [("Dessert", 0)]
        line = app.screen.render_row(rows[0], 120)
        styled = [line.plain[s.start : s.end] for s in line.spans if "reverse" in str(s.style)]
        assert styled == ["Crème", "brûlée"]
        await pilot.press(*' "the')
        await settle(pilot)
        assert "unclosed quote" in str(app.screen.query_one("#status", Label).render())
        assert [r.summary.name for r in app.screen.query_one(RowList).rows] == ["Dessert"]


async def test_is_archived_in_the_query_shows_archived_hits(make_ctx, make_app):
    """With the Archived box unticked, archived hits stay hidden, unless the query itself asks
    for them with is:archived."""
    ctx = make_ctx()
    seed(ctx)
    app = make_app(ctx)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_explorer(pilot)
        await pilot.press(*"budget")
        await settle(pilot)
        assert [r.summary.name for r in app.screen.query_one(RowList).rows] == ["Plans"]
        await pilot.press(*" is:archived")
        await settle(pilot)
        assert [r.summary.name for r in app.screen.query_one(RowList).rows] == ["Old"]


async def test_search_shows_the_newest_hits_first_then_the_ranked_ones(
    make_ctx, make_app, monkeypatch
):
    """With an index in place, a typed query shows its newest hits at once (status "ranking…"),
    then the ranked hits replace them: the final list is SessionManager.search's, best first."""
    ctx = make_ctx()
    fixed_session(ctx, "a", "zoo", "Zoo", [("user", "walrus walrus walrus")], at(1, 9))
    fixed_session(
        ctx, "b", "beach", "Beach", [("user", "a walrus among many other animals")], at(3, 9)
    )
    ranked = [(h.session.name, h.message_index) for h in ctx.manager.search("walrus")]
    assert ranked == [("Zoo", 0), ("Beach", 0)]  # the index now exists
    shown_for: list[tuple[bool, list]] = []
    statuses: list[str] = []
    original = ExplorerScreen._searched

    def spy(self, query, rows, asks_archived, first=False):
        original(self, query, rows, asks_archived, first)
        if query == "walrus":
            shown_for.append((first, [(r.summary.name, r.message_index) for r in rows]))
            statuses.append(str(self.query_one("#status", Label).render()))

    monkeypatch.setattr(ExplorerScreen, "_searched", spy)
    # No time bound on the first page: a loaded test machine must not make it come back short.
    monkeypatch.setattr("prompt_sessions.tui.screens.explorer.FIRST_PAGE_SECONDS", None)
    app = make_app(ctx)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_explorer(pilot)
        await pilot.press(*"walrus")
        await settle(pilot)
        assert shown_for == [(True, [("Beach", 0), ("Zoo", 0)]), (False, ranked)]
        assert "ranking" in statuses[0] and "ranking" not in statuses[1]
        rows = app.screen.query_one(RowList).rows
        assert [(r.summary.name, r.message_index) for r in rows] == ranked


def test_highlight_marks_the_spans_the_search_found():
    """Exactly the given spans of the snippet are marked."""
    text = highlight("Crème and crème", [(0, 5), (10, 15)])
    assert [text.plain[s.start : s.end] for s in text.spans if "reverse" in str(s.style)] == [
        "Crème",
        "crème",
    ]


async def test_enter_jumps_to_session_and_po(make_ctx, make_app):
    """Enter on a search hit switches PO and session and opens the conversation at the message."""
    ctx = make_ctx()
    a, b, c = seed(ctx)
    app = make_app(ctx)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_explorer(pilot)
        await pilot.press(*"chapter")
        await settle(pilot)
        await pilot.press("enter")  # Enter in the search opens the best match
        assert isinstance(app.screen, MainScreen)
        assert (app.screen.po_name, app.screen.session_id) == ("writer", b.id)
        assert ctx.manager.backend.get_current("writer") == b.id
        assert app.screen.conversation.history[0].content == "chapter one"


async def test_down_then_slash_moves_between_rows_and_search(make_ctx, make_app):
    """Down leaves the search for the rows, where Down moves the cursor and Enter opens."""
    ctx = make_ctx()
    _, b, _ = seed(ctx)
    app = make_app(ctx)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_explorer(pilot)
        rows = app.screen.query_one(RowList)
        await pilot.press("down")
        assert app.screen.focused is rows and rows.cursor == 0
        await pilot.press("down", "enter")
        assert isinstance(app.screen, MainScreen) and app.screen.session_id == b.id


async def test_typing_a_slash_after_returning_to_the_search_searches_again(make_ctx, make_app):
    ctx = make_ctx()
    seed(ctx)
    app = make_app(ctx)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_explorer(pilot)
        await pilot.press("down", "slash", *"budget")
        await settle(pilot)
        assert app.screen.query_one("#search", Input).value == "budget"
        assert shown(app) == ["Plans"]


async def test_escape_closes(make_ctx, make_app):
    """Esc closes the explorer and leaves the shown session alone."""
    ctx = make_ctx()
    seed(ctx)
    app = make_app(ctx)
    async with app.run_test(size=(120, 30)) as pilot:
        before = app.screen.session_id
        await open_explorer(pilot)
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen) and app.screen.session_id == before


async def test_x_exports_in_chosen_format(make_ctx, make_app, tmp_path):
    """x asks for a format among the exporters and writes the file, naming it."""
    ctx = make_ctx()
    a, b, c = seed(ctx)
    app = make_app(ctx)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_explorer(pilot)
        await pilot.press("down", "x")
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("up", "enter")  # json, above markdown
        await pilot.pause()
        files = list((tmp_path / "exports").iterdir())
        assert [f.name for f in files] == [f"Plans-{a.id[:8]}.json"]
        assert a.id in files[0].read_text()
        assert isinstance(app.screen, ExplorerScreen)


async def test_x_then_enter_exports_markdown_the_default(make_ctx, make_app, tmp_path):
    """The format list opens on markdown, the default of /session export and the CLI's export,
    though other formats sort before it: Enter alone writes a .md file."""
    ctx = make_ctx()
    a, b, c = seed(ctx)
    app = make_app(ctx)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_explorer(pilot)
        await pilot.press("down", "x")
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("enter")
        await pilot.pause()
        files = list((tmp_path / "exports").iterdir())
        assert [f.name for f in files] == [f"Plans-{a.id[:8]}.md"]


async def test_the_format_list_names_its_keys(make_ctx, make_app):
    """The format list says how to choose, accept and cancel, as every other dialog does."""
    ctx = make_ctx()
    seed(ctx)
    app = make_app(ctx)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_explorer(pilot)
        await pilot.press("down", "x")
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.pause()
        hints = str(app.screen.query_one(HintLine).render())
        assert "Enter accept" in hints and "Esc cancel" in hints


async def test_rows_show_thread_type_and_parent(make_ctx, make_app):
    """A delegation session's row names its thread type and its parent session."""
    ctx = make_ctx()
    parent = fixed_session(ctx, "d", "coordinator", "Plan", [("user", "go")], at(2, 9))
    fixed_session(
        ctx,
        "e",
        "researcher",
        "Delegated by coordinator",
        [("user", "dig")],
        at(2, 10),
        thread_type="delegation",
        parent_id=parent.id,
        parent_message_index=1,
    )
    app = make_app(ctx)
    async with app.run_test(size=(160, 30)) as pilot:
        await open_explorer(pilot)
        rows = app.screen.query_one(RowList).rows
        texts = {r.summary.po_name: app.screen.lineage(r.summary) for r in rows}
        assert texts == {"researcher": "  ↳ delegation of coordinator: Plan", "coordinator": ""}
