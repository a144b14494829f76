"""A virtual list: renders only the rows on screen, so 10,000 rows open as fast as 10.

Rows are any objects; a ``render_row(row, width)`` function turns one into ``rich.text.Text``
(never markup, so names containing ``[`` show as typed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.actions import SkipAction
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

RenderRow = Callable[[Any, int], Text]


# The rows' moves as a screen's priority keys, so that keys typed at once act in the order typed
# (a priority Enter would otherwise overtake them); the screen's ``action_rows`` hands each to
# the rows while they have the focus (:func:`move_rows`).
ROW_MOVE_KEYS: list[BindingType] = [
    Binding("j", "rows('cursor', 1)", show=False, priority=True),
    Binding("k", "rows('cursor', -1)", show=False, priority=True),
    Binding("pagedown", "rows('page', 1)", show=False, priority=True),
    Binding("pageup", "rows('page', -1)", show=False, priority=True),
    Binding("home", "rows('jump', 0)", show=False, priority=True),
    Binding("end", "rows('jump', -1)", show=False, priority=True),
]


def move_rows(focused: object, rows: RowList, action: str, argument: int) -> None:
    """Run ``rows.action_<action>(argument)`` when ``rows`` has the focus (``focused``, the
    screen's focused widget); else SkipAction, so the key is the focused widget's. Rows that
    hold keys (:meth:`RowList.hold_keys`) take the key to hold it."""
    if focused is not rows or rows.holding:
        raise SkipAction()
    getattr(rows, f"action_{action}")(argument)


class RowList(ScrollView, can_focus=True):
    """Rows with a cursor; Enter or a double click chooses the row under the cursor."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
        Binding("enter", "choose", "Choose", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {"row-list--cursor", "row-list--empty"}
    # No scrollbar: its appearance after the first paint costs a whole extra layout and frame;
    # screens show where the cursor is as "k of n" instead.
    DEFAULT_CSS = """
    RowList { height: 1fr; scrollbar-size-vertical: 0; }
    RowList > .row-list--cursor { background: $accent 40%; text-style: bold; }
    RowList:focus > .row-list--cursor { background: $accent; color: $text; }
    RowList > .row-list--empty { color: $text-muted; text-style: italic; }
    """

    @dataclass
    class Highlighted(Message):
        row_list: RowList
        index: int

    @dataclass
    class Chosen(Message):
        row_list: RowList
        index: int

    def __init__(
        self, render_row: RenderRow, *, empty_text: str = "Nothing here", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.render_row = render_row
        self.empty_text = empty_text
        self.rows: Sequence[Any] = []
        self.cursor = 0
        self._held: list[events.Key] | None = None

    # -------------------------------------------------------------- keys ahead of their rows

    @property
    def holding(self) -> bool:
        """Whether keys reaching the rows wait for :meth:`release_keys`; a screen's priority
        keys on the rows skip meanwhile, so that they reach the rows and wait too."""
        return self._held is not None

    def hold_keys(self) -> None:
        """Keep the keys that reach the rows from now on: they were typed for rows still on
        their way (a search not answered yet) and act on those, once shown."""
        if self._held is None:
            self._held = []

    def release_keys(self) -> None:
        """Hand the kept keys back to the app, in the order typed, to act on the rows shown
        now (or wherever the first of them takes the focus)."""
        held, self._held = self._held or [], None
        for event in held:
            self.app.post_message(events.Key(event.key, event.character))

    async def _on_key(self, event: events.Key) -> None:
        if self._held is None:
            await super()._on_key(event)
            return
        event.stop()
        event.prevent_default()
        self._held.append(event)

    def set_rows(self, rows: Sequence[Any], cursor: int = 0) -> None:
        self.rows = rows
        self.cursor = max(0, min(cursor, len(rows) - 1))
        # no width: rows are cut to the widget, and a width that follows the size would make each
        # scrollbar change resize the content and lay the screen out again
        self.virtual_size = Size(0, len(rows))
        self._bring_cursor_into_view()
        self.refresh()
        if rows:
            self.post_message(self.Highlighted(self, self.cursor))

    def keep_rows(self, rows: Sequence[Any], key: Callable[[Any], object]) -> None:
        """Show ``rows`` read again in place of these, the same row (by ``key``) under the
        cursor on the same line of the view; a row gone leaves the cursor at its place. For
        lists that follow the store: a change elsewhere moves neither the cursor nor the view
        under the person's eyes (DESIGN section 8)."""
        old = self.current
        line = self.cursor - int(self.scroll_offset.y)
        cursor = self.cursor
        if old is not None:
            wanted = key(old)
            cursor = next((i for i, row in enumerate(rows) if key(row) == wanted), cursor)
        self.rows = rows
        self.cursor = max(0, min(cursor, len(rows) - 1))
        self.virtual_size = Size(0, len(rows))
        self.scroll_to(y=max(0, self.cursor - line), animate=False, immediate=True)
        self._bring_cursor_into_view()
        self.refresh()
        if rows:
            self.post_message(self.Highlighted(self, self.cursor))

    @property
    def current(self) -> Any | None:
        return self.rows[self.cursor] if self.rows else None

    def move_to(self, index: int) -> None:
        if not self.rows:
            return
        self.cursor = max(0, min(index, len(self.rows) - 1))
        self._keep_cursor_visible()
        self.refresh()
        self.post_message(self.Highlighted(self, self.cursor))

    def _keep_cursor_visible(self) -> None:
        self.scroll_to_region(Region(0, self.cursor, 1, 1), animate=False, immediate=True)

    def _bring_cursor_into_view(self) -> None:
        """After new rows or a new size: a cursor out of view is centred, with rows around it
        (arrow keys scroll the least instead)."""
        height = self.scrollable_content_region.height
        top = int(self.scroll_offset.y)
        if height <= 0 or top <= self.cursor < top + height and top <= self.max_scroll_y:
            return
        self.scroll_to(y=self.cursor - (height - 1) // 2, animate=False, immediate=True)

    def on_resize(self, event: events.Resize) -> None:
        # Rows set before the first layout (a picker opening on its current session) met a list
        # of no height, where nothing can be scrolled to: the first size brings the cursor in.
        self._bring_cursor_into_view()

    def action_cursor(self, step: int) -> None:
        self.move_to(self.cursor + step)

    def action_page(self, step: int) -> None:
        self.move_to(self.cursor + step * max(1, self.scrollable_content_region.height - 1))

    def action_jump(self, index: int) -> None:
        self.move_to(len(self.rows) - 1 if index < 0 else index)

    def action_choose(self) -> None:
        if self.rows:
            self.post_message(self.Chosen(self, self.cursor))

    def on_click(self, event: events.Click) -> None:
        index = event.y + int(self.scroll_offset.y)
        if 0 <= index < len(self.rows):
            self.move_to(index)
            if event.chain >= 2:
                self.action_choose()

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = y + int(self.scroll_offset.y)
        base = self.rich_style
        if not self.rows and y == 0:
            return self._strip(
                Text(self.empty_text),
                width,
                base + self.get_component_rich_style("row-list--empty"),
            )
        if index >= len(self.rows):
            return Strip.blank(width, base)
        style = base
        if index == self.cursor:
            style = base + self.get_component_rich_style("row-list--cursor")
        return self._strip(self.render_row(self.rows[index], width), width, style)

    def _strip(self, text: Text, width: int, style: Style) -> Strip:
        line = text.copy()
        line.no_wrap = True
        line.truncate(width, overflow="ellipsis", pad=True)
        segments = [
            Segment(seg.text, style + seg.style if seg.style else style)
            for seg in line.render(self.app.console)
        ]
        return Strip(segments, width)
