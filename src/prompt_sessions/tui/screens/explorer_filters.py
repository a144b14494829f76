"""The explorer's filters: the PO, source and tag lists and the Pinned and Archived boxes
(DESIGN section 8), and the rows they keep.

:class:`ExplorerScreen` is built on this screen. The PO, tag and pinned controls are also the
search language's ``po:``, ``tag:`` and ``is:pinned`` filters (DESIGN section 12,
``search_controls``): a search carries them, a list without one is narrowed by them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Checkbox, Select

from ...models import SessionSummary
from ...search_controls import control_filters, session_matches
from ...search_query import Filter
from ...search_text import fold
from ...text import visible
from ..same_names import id_tags
from ..widgets.row_list import RowList
from .explorer_rows import Row, empty_text, row_key
from .landing import LandingModal

Choice = tuple[str, str, int | None]


class ExplorerFilters(LandingModal[Choice | None]):
    """The filter controls and the rows they keep; the explorer supplies the rows (every
    session, or a search's hits) and runs the search again when a control changes it."""

    if TYPE_CHECKING:
        summaries: list[SessionSummary]
        hits: list[Row] | None
        asks_archived: bool
        _tag_from_rows: bool

        def _search_again(self) -> None: ...

        def _status(self, text: str) -> None: ...

        def typed(self) -> str: ...

    def __init__(self) -> None:
        super().__init__()
        # the Pinned and Archived boxes' values the rows are shown for (both start unticked)
        self._boxes_applied: dict[str | None, bool] = {"pinned": False, "archived": False}
        self._offered: dict[str, list[str]] = {}  # the values each list offers, by its id
        self.id_tags: dict[str, str] = {}  # short ids of sessions sharing a name, by id

    def offer_filters(self, summaries: list[SessionSummary]) -> None:
        """Fill the PO, source and tag lists with what ``summaries`` hold, keeping each list's
        choice (offered still when no session holds it any more: the store changed under
        the explorer, and the rows it keeps are none rather than all)."""
        tags: dict[str, str] = {}
        for s in summaries:  # newest first: a tag is offered as most recently spelled
            for t in s.tags or ():
                tags.setdefault(fold(t), t)
        self._offer("po", sorted({s.po_name for s in summaries}))
        self._offer("source", sorted({s.source or "unknown" for s in summaries}))
        self._offer("tag", [t for _, t in sorted(tags.items())], "#")

    def _offer(self, list_id: str, values: list[str], mark: str = "") -> None:
        box = self.query_one(f"#{list_id}", Select)
        chosen = box.value
        if isinstance(chosen, str) and chosen not in values:
            values = [*values, chosen]
        if values == self._offered.get(list_id) or box.expanded:
            return  # unchanged, or open before the person: left as they see it
        self._offered[list_id] = values
        # the choice is set back without a change message: nothing changed for the rows
        with box.prevent(Select.Changed):
            box.set_options([(Text(visible(mark + v, one_line=True)), v) for v in values])
            if isinstance(chosen, str):
                box.value = chosen

    def filters(self) -> tuple[str | None, str | None, bool]:
        po = self.query_one("#po", Select).value
        source = self.query_one("#source", Select).value
        archived = self.query_one("#archived", Checkbox).value
        return (
            po if isinstance(po, str) else None,
            source if isinstance(source, str) else None,
            archived,
        )

    def apply(self, keep: bool = False) -> None:
        """Show the rows the filters keep, the cursor on the first; with ``keep`` (rows read
        again), the session under the cursor stays there, and the scroll too."""
        po, source, archived = self.filters()
        base = self.hits if self.hits is not None else [Row(s) for s in self.summaries]
        rows = [
            r
            for r in base
            if (po is None or r.summary.po_name == po)
            and (source is None or (r.summary.source or "unknown") == source)
            and (archived or self.asks_archived or not r.summary.archived)
            and session_matches(r.summary, self.control_filters())
        ]
        # over every session listed before the search and the filters narrow the list (the
        # archived ones once shown), as the picker does: a short id stays as a search narrows
        with_archived = archived or self.asks_archived
        self.id_tags = id_tags(
            (s.id, s.name) for s in self.summaries if with_archived or not s.archived
        )
        listed = self.query_one(RowList)
        listed.empty_text = self.empty_text() if not rows else listed.empty_text
        if keep:
            listed.keep_rows(rows, key=row_key)
        else:
            listed.set_rows(rows)
        self._status(f"{len(rows)} row{'s' if len(rows) != 1 else ''}")

    def empty_text(self) -> str:
        """Why no row is listed, and how to list some (``explorer_rows.empty_text``)."""
        po, source, archived = self.filters()
        tag = self.query_one("#tag", Select).value
        return empty_text(
            sessions=len(self.summaries),
            search=self.typed(),
            lists={"PO": po, "source": source, "tag": tag if isinstance(tag, str) else None},
            pinned=self.query_one("#pinned", Checkbox).value,
            archived_hidden=sum(1 for s in self.summaries if s.archived)
            if not (archived or self.asks_archived)
            else 0,
        )

    def control_filters(self) -> tuple[Filter, ...]:
        """The PO, tag and pinned controls as the search language's filters: a search
        carries them, a list without one is narrowed by them (``search_controls``)."""
        po, _, _ = self.filters()
        tag = self.query_one("#tag", Select).value
        pinned = self.query_one("#pinned", Checkbox).value
        return control_filters(po=po, tag=tag if isinstance(tag, str) else None, pinned=pinned)

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id != "source":
            self._search_again()  # a search carries the PO and tag filters
        self.apply()
        if event.select.id == "tag" and self._tag_from_rows:
            self._tag_from_rows = False
            self.query_one(RowList).focus()  # back where t was pressed (Down would reopen it)

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        self._ticked(event.checkbox)

    def _ticked(self, box: Checkbox) -> None:
        """Show the rows for ``box`` as it stands now, unless they are shown already: its
        key (``p``, ``a``) shows them at once, and its change message follows later."""
        if self._boxes_applied.get(box.id) == box.value:
            return
        self._boxes_applied[box.id] = box.value
        if box.id == "pinned":
            self._search_again()
        self.apply()

    def action_toggle_archived(self) -> None:
        """Toggle the Archived box and show its rows before the keys typed after ``a``."""
        box = self.query_one("#archived", Checkbox)
        box.toggle()
        self._ticked(box)

    def action_toggle_pinned(self) -> None:
        """Toggle the Pinned box and show its rows (or hold the keys typed after ``p`` for
        its search's answer) before those keys act."""
        box = self.query_one("#pinned", Checkbox)
        box.toggle()
        self._ticked(box)

    def action_choose_tag(self) -> None:
        """Open the tag list (Enter picks one; its blank entry, any tag)."""
        tags = self.query_one("#tag", Select)
        self._tag_from_rows = self.query_one(RowList).has_focus
        tags.focus()
        tags.expanded = True
