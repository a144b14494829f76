"""Names holding bidirectional overrides, isolates or line separators are drawn the CLI's way
(``text.visible``): ``rtl\\u202eevil``, never the raw character that makes a name read as other
text. The title, status bar, picker, sidebar, explorer, tree, dialogs and notifications all
show it so; what is stored is unchanged. Names holding ``[`` are never taken as markup."""

from __future__ import annotations

from textual.geometry import Region
from textual.widgets import Input
from textual.widgets._toast import Toast

from prompt_sessions.models import Message
from prompt_sessions.text import visible
from prompt_sessions.tui.screens.confirm import ConfirmScreen
from prompt_sessions.tui.screens.explorer import ExplorerScreen
from prompt_sessions.tui.screens.picker import SessionPicker
from prompt_sessions.tui.screens.tree import TreeScreen
from prompt_sessions.tui.widgets.row_list import RowList

from .conftest import settle, wait_for_note, wait_until, write_po

RTL = "rtl\u202eevil"  # reads as "rtllive" once the override flips what follows
NAMES = [RTL, "iso\u2066late\u2069d", "two\u2028lines", "para\u2029graph", "lr\u202d\u202aem"]
HIDDEN = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029"


def drawn(app) -> str:
    """Every line every visible widget of the current screen draws, joined."""
    lines = []
    for widget in [app.screen, *app.screen.walk_children()]:
        width, height = widget.size
        if width and height and widget.display:
            for strip in widget.render_lines(Region(0, 0, width, height)):
                lines.append("".join(s.text for s in strip if not s.control))
    return "\n".join(lines)


def notifications(app) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


def no_hidden(text: str) -> bool:
    return not any(c in text for c in HIDDEN)


async def test_the_title_and_status_bar_show_the_name_escaped(make_ctx, make_app):
    """The conversation's title ``coordinator: rtl\\u202eevil`` and the status bar's
    ``Session: rtl\\u202eevil`` show the override as the CLI does; the name stored is as
    given."""
    ctx = make_ctx()
    s = ctx.manager.create("coordinator", RTL)
    ctx.manager.switch("coordinator", s.id)
    app = make_app(ctx)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        shown = drawn(app)
        assert "coordinator: rtl\\u202eevil" in shown
        assert "Session: rtl\\u202eevil (0 msgs)" in shown
        assert no_hidden(shown)
    assert ctx.manager.get(s.id).name == RTL


async def test_picker_rows_confirm_and_notification_show_names_escaped(make_ctx, make_app):
    """Every such name in the picker's rows is shown as ``visible`` shows it; deleting one
    asks and then tells about it with the escaped name."""
    ctx = make_ctx()
    made = [ctx.manager.create("coordinator", name) for name in NAMES]
    ctx.manager.switch("coordinator", made[0].id)
    app = make_app(ctx)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("escape", "S")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, SessionPicker)
        shown = drawn(app)
        for name in NAMES:
            assert visible(name, one_line=True) in shown
        assert no_hidden(shown)
        while picker.selected.name != RTL:
            await pilot.press("down")
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        question = drawn(app)
        assert "Delete session 'rtl\\u202eevil' (0 msgs)?" in question and no_hidden(question)
        await pilot.press("y")
        await wait_until(pilot, lambda: app.screen is picker)
        await wait_for_note(pilot, "Deleted 'rtl\\u202eevil'")
        assert all(no_hidden(n) for n in notifications(app))


async def test_the_sidebar_explorer_and_tree_show_names_escaped(make_ctx, make_app):
    """The open sessions' sidebar, the explorer's rows and a search snippet (the match still
    highlighted), and the lineage tree show the override escaped."""
    ctx = make_ctx()
    a = ctx.manager.create("coordinator", RTL)
    ctx.manager.append(a.id, Message(role="user", content="find the needle \u202edrow here"))
    b = ctx.manager.create("coordinator", "plain")
    ctx.manager.switch("coordinator", a.id)
    app = make_app(ctx)
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(pilot)
        await pilot.press("escape", "S")
        await settle(pilot)
        while app.screen.selected.id != b.id:
            await pilot.press("up")
        await pilot.press("enter")  # plain: two sessions are open, the sidebar shows
        await settle(pilot)
        assert app.screen.session_id == b.id
        shown = drawn(app)
        assert "rtl\\u202eevil" in shown and no_hidden(shown)
        await pilot.press("escape", "E")
        await wait_until(pilot, lambda: isinstance(app.screen, ExplorerScreen))
        await settle(pilot)
        assert "rtl\\u202eevil" in drawn(app) and no_hidden(drawn(app))
        await pilot.press(*"needle")
        await settle(pilot)
        rows = app.screen.query_one(RowList)
        line = rows.render_row(rows.rows[0], 150)
        assert "needle \\u202edrow" in line.plain and no_hidden(line.plain)
        marked = [line.plain[s.start : s.end] for s in line.spans if "reverse" in str(s.style)]
        assert marked == ["needle"]
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("i", *"/session fork", "enter")
        await settle(pilot)
        await pilot.press(*"/tree", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, TreeScreen))
        await settle(pilot)
        shown = drawn(app)
        assert "rtl\\u202eevil" in shown and no_hidden(shown)


async def test_a_name_with_brackets_is_not_markup_in_notifications(make_ctx, make_app, root):
    """A session named like markup (``a[/b] [bold]c``) is deleted without a crash and the
    notification says its name as typed."""
    write_po(root, "coordinator")
    ctx = make_ctx()
    s = ctx.manager.create("coordinator", "a[/b] [bold]c")
    ctx.manager.create("coordinator", "other")
    ctx.manager.switch("coordinator", s.id)
    app = make_app(ctx)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await pilot.press("escape", "S")
        await settle(pilot)
        picker = app.screen
        while picker.selected.id != s.id:
            await pilot.press("down")
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: app.screen is picker)
        await settle(pilot)
        await wait_for_note(pilot, "Deleted 'a[/b] [bold]c'")
        # its toast is drawn a turn after the note is handled
        await wait_until(
            pilot,
            lambda: any(
                "Deleted 'a[/b] [bold]c'" in str(t.render()) for t in app.screen.query(Toast)
            ),
        )


async def test_an_unreadable_search_with_brackets_is_named_as_typed(make_ctx, make_app):
    """A query still being typed that cannot be read (an open quote) holding ``[/b]`` and an
    override is named in the explorer's status line as typed, escaped, without a crash."""
    ctx = make_ctx()
    ctx.manager.create("coordinator", "plain")
    app = make_app(ctx)
    async with app.run_test(size=(150, 40)) as pilot:
        await pilot.press("escape", "E")
        await wait_until(pilot, lambda: isinstance(app.screen, ExplorerScreen))
        await settle(pilot)
        app.screen.query_one("#search", Input).value = '"[/b] \u202ex'  # as if pasted
        await settle(pilot)
        status = str(app.screen.query_one("#status").render())
        assert "unclosed quote in '\"[/b] \\u202ex'" in status and no_hidden(status)
