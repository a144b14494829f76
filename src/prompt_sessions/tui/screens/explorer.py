"""The explorer: every session of every PO, with filters and content search.

The search box speaks the search language of DESIGN section 12 (``search_query``): hits come
ranked best first with their matches highlighted; a query still being typed that does not parse
yet (an open quote) is named in the status line and the last results stay.

Returns ``(po, session id, message index or None)`` for the chosen row, None on Esc.
Listing and searching run in thread workers, so a large store never blocks the screen. When
the store changes while the explorer is open, its rows are read again (``FollowsStore``): the
query, the filters, the session under the cursor and the scroll stay.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import events, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static
from textual.worker import get_current_worker

from ... import search_live
from ...context import AppContext
from ...errors import PromptSessionsError
from ...models import SessionSummary
from ...search_controls import with_filters
from ...search_live import SearchCancelled
from ...search_query import QueryError
from ...search_query import parse as parse_query
from ...text import visible
from ..widgets.hint_line import HintLine
from ..widgets.row_list import ROW_MOVE_KEYS, RowList, move_rows
from ..widgets.tick_box import TickBox
from .explorer_filters import Choice, ExplorerFilters
from .explorer_rows import Row, header_text, highlight, lineage, row_key, session_line
from .export_choice import offer_export
from .follows_store import FollowsStore
from .text_prompt import PromptInput

__all__ = ["Choice", "ExplorerScreen", "highlight"]

ALL = "__all__"
SEARCH_LIMIT = 100  # ranked: the best hits come first, and a short list comes back fast
FIRST_PAGE_SECONDS = 0.03  # the newest hits found by then show at once (DESIGN 10: 50 ms)
HINT = (
    "type to search  Down rows  Enter open  x export  p pinned  t tag  a archived  / search  "
    "Esc close"
)
NARROW = 140  # screen width (cells) below which the filters go under the search box
TINY = 70  # screen width below which the check boxes hide (the `p` and `a` keys still toggle)
SHORT = 30  # screen height (lines) below which the search and filters are one line tall


class ExplorerScreen(ExplorerFilters, FollowsStore[list[SessionSummary]]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        # Down and the rows' moves are priority keys, so that keys typed at once act in the
        # order typed: from the search box, Down then x exports the first row, and Down, Down,
        # Enter opens the second (Enter, a priority key, would otherwise overtake the moves)
        Binding("down", "to_rows", "Rows", show=False, priority=True),
        Binding("up", "rows('cursor', -1)", show=False, priority=True),
        *ROW_MOVE_KEYS,
        # the letters too, so that a letter and Enter typed at once act in that order (x then
        # Enter exports); in the search box they are letters (``action_key``)
        Binding("x", "key('export')", "Export", priority=True),
        Binding("slash", "key('search')", "Search", priority=True),
        Binding("a", "key('toggle_archived')", "Archived", priority=True),
        Binding("p", "key('toggle_pinned')", "Pinned", priority=True),
        Binding("t", "key('choose_tag')", "Tag", priority=True),
        # a priority key: the choice is made before the keys typed right after it are handled,
        # so they reach the chosen conversation's message box (``LandingModal``)
        Binding("enter", "choose", "Show", show=False, priority=True),
    ]
    DEFAULT_CSS = """
    ExplorerScreen { align: center middle; }
    ExplorerScreen > Vertical {
        width: 96%; height: 92%; border: thick $accent; background: $surface;
    }
    ExplorerScreen #filters { height: auto; }
    ExplorerScreen #search { width: 1fr; }
    ExplorerScreen Select { width: 22; }
    ExplorerScreen #toggles { width: auto; height: auto; }
    ExplorerScreen.-narrow #filters {
        layout: grid; grid-size: 4; grid-columns: 1fr 1fr 1fr auto; grid-rows: auto;
    }
    ExplorerScreen.-narrow #search { column-span: 4; }
    ExplorerScreen.-narrow Select { width: 1fr; }
    ExplorerScreen.-short Checkbox { border: none; height: 1; padding: 0 1; }
    ExplorerScreen.-tiny #filters { grid-size: 3; grid-columns: 1fr 1fr 1fr; }
    ExplorerScreen.-tiny #search { column-span: 3; }
    ExplorerScreen.-tiny #toggles { display: none; }
    ExplorerScreen #header { padding: 0 0; text-style: bold; background: $panel; height: 1; }
    ExplorerScreen #foot { height: auto; }
    ExplorerScreen #status { color: $text-muted; padding: 0 1; width: auto; }
    ExplorerScreen #keys { padding: 0 1; width: 1fr; }
    """

    def __init__(
        self,
        ctx: AppContext,
        clock: Callable[[], datetime],
        export_dir: Path | None = None,
        po_name: str | None = None,
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.clock = clock
        self.now = clock()
        self.export_dir = export_dir
        self.summaries: list[SessionSummary] = []
        self._by_id: dict[str, SessionSummary] = {}
        self.hits: list[Row] | None = None
        self.asks_archived = False  # the search has is:archived, whatever the checkbox says
        self.query_text = ""
        self.shown_query = ""  # the query the rows listed answer, once ranked
        self.choose_when_shown = False  # Enter came before the rows of the query typed
        self.loaded = False  # the sessions are listed (the first rows are on their way)
        self.initial_po = po_name
        self._tag_from_rows = False  # t was pressed in the rows: a chosen tag returns there

    def compose(self) -> ComposeResult:
        with Vertical():
            with Horizontal(id="filters"):
                search = PromptInput(placeholder="search names and messages", id="search")
                search.follows_focus = True  # keys typed at once after Down go to the rows
                yield search
                yield Select([], prompt="All POs", id="po", allow_blank=True)
                yield Select([], prompt="All sources", id="source", allow_blank=True)
                yield Select([], prompt="Any tag", id="tag", allow_blank=True)
                with Horizontal(id="toggles"):
                    yield TickBox("Pinned", id="pinned")
                    yield TickBox("Archived", id="archived")
            yield Static(self.header_text(), id="header")
            yield RowList(self.render_row, empty_text="Loading…", id="rows")
            with Horizontal(id="foot"):
                yield Label("", id="status")
                yield HintLine(HINT, max_lines=2, id="keys")

    def on_mount(self) -> None:
        self.query_one("#search", Input).focus()  # type to search at once
        self.store_changed()  # the first listing: the store as it is now

    # -------------------------------------------------------------- data

    def read_store(self) -> list[SessionSummary]:
        return self.ctx.manager.list()

    def show_read(self, summaries: list[SessionSummary]) -> None:
        """Every session, listed first as the explorer opens, then each time the store changes
        (``FollowsStore``): the rows are read again, and a search shown is run again, keeping
        what the person chose and where the cursor is."""
        again = self.loaded
        if again and summaries == self.summaries:
            return
        self.summaries = summaries
        self._by_id = {s.id: s for s in summaries}
        self.loaded = True
        self.now = self.clock()
        self.offer_filters(summaries)
        if not again:
            self.apply()
            self._answered()
        elif self.query_text.strip():
            # the hits are the search's: run it again, its newest first page skipped when its
            # ranked rows are shown (they would be reordered twice)
            self.search(self.query_text, again=self.shown_query == self.query_text)
        else:
            self.apply(keep=True)

    @work(thread=True, exclusive=True, group="explorer-search")
    def search(self, query: str, again: bool = False) -> None:
        """Show the newest hits at once, then the ranked ones in their place (``search_live``,
        DESIGN sections 10 and 12); a newer keystroke's search cancels this one. ``again``:
        the same query over a changed store, its ranked rows replacing the shown ones in place."""
        if not query.strip():
            self.app.call_from_thread(self._searched, query, None, False)
            return
        worker = get_current_worker()
        manager = self.ctx.manager
        try:
            parsed = parse_query(query)
            asks = "archived" in parsed.values("is")  # the query asks for them: show them
            first = search_live.first_page(
                manager, parsed, limit=SEARCH_LIMIT, within=FIRST_PAGE_SECONDS
            )
            if first is not None and not worker.is_cancelled and not again:
                rows = [Row(h.session, h.snippet, h.message_index, h.spans) for h in first]
                self.app.call_from_thread(self._searched, query, rows, asks, True)
            hits = search_live.ranked(
                manager,
                parsed,
                limit=SEARCH_LIMIT,
                progress=self._indexing,
                cancelled=lambda: worker.is_cancelled,
            )
        except SearchCancelled:
            return  # a newer query took over
        except QueryError as exc:
            self.app.call_from_thread(self._search_failed, f"{exc}")
            return
        except PromptSessionsError as exc:
            self.app.call_from_thread(self._search_failed, str(exc), True)
            return
        rows = [Row(h.session, h.snippet, h.message_index, h.spans) for h in hits]
        if not worker.is_cancelled:
            self.app.call_from_thread(self._searched, query, rows, asks)

    def _indexing(self, done: int, total: int) -> None:
        """Progress of a search index catching up (the first search of a large store)."""
        self.app.call_from_thread(self._status, f"Indexing sessions for search… {done}/{total}")

    def _search_failed(self, text: str, error: bool = False) -> None:
        """A query that cannot be read yet (in the status line) or a search that failed (a
        notification): an Enter waiting for its rows is dropped."""
        self.choose_when_shown = False
        self.query_one(RowList).release_keys()  # no answer is coming: they act on these rows
        if error:
            self.notify(text, severity="error")
        else:
            self._status(text)

    def _status(self, text: str) -> None:
        """The status line, as plain text: it may quote what was typed (``[`` is no markup)."""
        self.query_one("#status", Label).update(Text(visible(text, one_line=True)))

    def _searched(
        self, query: str, rows: list[Row] | None, asks_archived: bool, first: bool = False
    ) -> None:
        """Show a search's rows (None: no search, every session); ``first``: the newest hits,
        shown until the ranked ones replace them. Ranked rows of the query shown already are
        the store read again: the session under the cursor and the scroll stay."""
        if query != self.query_text:
            return  # a newer search is on its way
        searching = rows is not None
        if searching != (self.hits is not None):
            self.hits = rows
            self._draw_header()  # the columns give the snippet room while searching
        again = not first and query == self.shown_query
        self.hits = rows
        self.asks_archived = asks_archived
        self.apply(keep=again)
        if first:
            shown = len(self.query_one(RowList).rows)
            self._status(f"{shown} row{'s' if shown != 1 else ''}, newest first; ranking…")
            return
        self.shown_query = query
        if self.choose_when_shown:  # Enter typed before these rows: it opens the best match
            self.choose_when_shown = False
            self.query_one(RowList).action_choose()
        self._answered()

    def waiting(self) -> bool:
        """Whether the rows listed are not yet the answer to what was asked: the listing or
        the ranked hits of the query typed are still on their way."""
        return not self.loaded or self.shown_query != self.query_text

    def _hold_if_waiting(self) -> None:
        """Keys that reach the rows while they wait act on the answer, once shown: a person
        typed the query, then moved to its results (``RowList.hold_keys``)."""
        rows = self.query_one(RowList)
        if self.focused is rows and self.waiting():
            rows.hold_keys()

    def _answered(self) -> None:
        if not self.waiting():
            self.query_one(RowList).release_keys()

    # -------------------------------------------------------------- events

    def typed(self) -> str:
        """What is typed in the search box."""
        return self.query_one("#search", Input).value

    def query_for(self, typed: str) -> str:
        """The query a search runs: what was typed, with the controls' filters."""
        return with_filters(typed, self.control_filters())

    def _search_again(self) -> None:
        self.query_text = self.query_for(self.typed())
        self.search(self.query_text)
        self._hold_if_waiting()  # a filter changed from the rows: their keys act on its answer

    def _ask(self, typed: str) -> None:
        """Search for ``typed`` (with the controls' filters) unless that search is the one
        asked already."""
        query = self.query_for(typed)
        if query != self.query_text:
            self.query_text = query
            self.search(query)

    def on_input_changed(self, event: Input.Changed) -> None:
        # a change older than the box's value is passed over: the box's later change, or Down
        # or Enter typed after the letters (``_to_rows``, ``on_input_submitted``), asks for it
        if event.input.id == "search" and event.value == event.input.value:
            self.choose_when_shown = False  # typed after Enter: that Enter was for other rows
            self._ask(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the search opens the row under the cursor, the best match after a search;
        typed before the search answered, once its ranked rows are shown."""
        event.stop()
        self._ask(event.value)
        if self.shown_query != self.query_text:
            self.choose_when_shown = True
            return
        self.query_one(RowList).action_choose()

    def on_row_list_chosen(self, event: RowList.Chosen) -> None:
        event.stop()
        row: Row = event.row_list.rows[event.index]
        self.dismiss((row.summary.po_name, row.summary.id, row.message_index))

    def action_choose(self) -> None:
        """Enter on the rows: show the row under the cursor at once. Elsewhere Enter is the
        focused widget's: the search box's comes after the letters typed before it."""
        rows = self.query_one(RowList)
        if self.focused is not rows or not rows.rows or rows.holding:
            raise SkipAction()
        row: Row = rows.rows[rows.cursor]
        self.dismiss((row.summary.po_name, row.summary.id, row.message_index))

    def action_key(self, action: str) -> None:
        """A letter key's ``action``, outside the search box (there it is typed); while the
        rows hold keys for an answer, the letter reaches them and waits too."""
        if isinstance(self.focused, Input) or self.query_one(RowList).holding:
            raise SkipAction()
        getattr(self, f"action_{action}")()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_search(self) -> None:
        # at once, not later as ``focus()`` does: the letters typed right after / are the query
        self.set_focus(self.query_one("#search", Input))

    def action_to_rows(self) -> None:
        """Down from the search or a check box moves into the rows, where x and a work; from
        the search, once the letters typed before it are in (they wait in the box's queue),
        so the keys typed after it reach the rows. The rows and the drop-downs handle Down
        themselves."""
        focused = self.focused
        search = self.query_one("#search", PromptInput)
        if focused is search:
            search.call_later(self._to_rows, search)
        elif isinstance(focused, RowList) and not focused.holding:
            focused.action_cursor(1)
        elif focused is None or self._in_select(focused) or isinstance(focused, RowList):
            raise SkipAction()
        else:
            self.set_focus(self.query_one(RowList))

    def action_rows(self, action: str, argument: int) -> None:
        """A move of the rows' cursor (``RowList.action_<action>(argument)``) while they have
        the focus; elsewhere the key is the focused widget's."""
        move_rows(self.focused, self.query_one(RowList), action, argument)

    def _to_rows(self, search: PromptInput) -> None:
        if search.handing_on:  # a second Down typed at once: the rows' move
            self.app.post_message(events.Key("down", None))
            return
        self._ask(search.value)  # the letters are in; their change messages may be late
        self.set_focus(self.query_one(RowList))
        self._hold_if_waiting()

    @staticmethod
    def _in_select(widget: Widget) -> bool:
        return any(isinstance(node, Select) for node in widget.ancestors_with_self)

    def action_export(self) -> None:
        row: Row | None = self.query_one(RowList).current
        if row is None:
            return
        offer_export(self, self.ctx, row.summary, self.export_dir)

    # -------------------------------------------------------------- rendering

    def header_text(self, width: int = 100) -> Text:
        return header_text(width, self.hits is not None)

    def on_resize(self) -> None:
        # narrow: the filters move under the search box, which keeps the whole width; short:
        # the boxes lose their borders, so the rows keep the height
        self.set_class(self.size.width < NARROW, "-narrow")
        self.set_class(self.size.width < TINY, "-tiny")  # the archived box hides; `a` still works
        short = self.size.height < SHORT
        self.set_class(short, "-short")
        for box in self.query("#filters > Input, #filters > Select").results():
            box.compact = short  # type: ignore[attr-defined]
        self._draw_header()

    def _draw_header(self) -> None:
        self.query_one("#header", Static).update(
            self.header_text(self.query_one(RowList).size.width)
        )

    def render_row(self, row: Row, width: int) -> Text:
        return session_line(
            row, width, self.now, self.hits is not None, self._by_id, self.id_tags.get(row_key(row))
        )

    def lineage(self, s: SessionSummary) -> str:
        """`` ↳ delegation of coordinator: Plan`` for a session with a parent (DESIGN 11, 14)."""
        return lineage(s, self._by_id)
