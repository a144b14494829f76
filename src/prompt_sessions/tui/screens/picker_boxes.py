"""The session picker's text boxes: the ``/`` filter above the rows and the ``r`` rename box
below them (DESIGN section 8), and how Enter, Esc and the arrows typed at once with their
letters reach them or the rows. :class:`SessionPicker` is built on this screen."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events
from textual.actions import SkipAction
from textual.containers import Vertical
from textual.widgets import Input

from ...errors import PromptSessionsError
from ..name_notes import notify_name_clash
from ..widgets.row_list import RowList, move_rows
from .picker_organise import OrganisingScreen
from .text_prompt import PromptInput


class PickerBoxes(OrganisingScreen):
    """The filter and rename boxes, mounted when first asked for; the picker supplies the
    rows they act on and shows them again as the filter changes (``_apply``)."""

    if TYPE_CHECKING:
        filter_text: str

        @property
        def rows_widget(self) -> RowList: ...

        def _apply(self, select: str | None = None) -> None: ...

    # -------------------------------------------------------------- choosing

    def action_choose(self) -> None:
        """Enter on a session row: show it at once. In the filter or rename box Enter is
        taken in its place among the keys typed at once: after the letters before it, and
        the keys after it go where they would have gone after a pause (``PromptInput``). On a
        heading Enter is the rows'."""
        focused = self.focused
        if isinstance(focused, PromptInput):
            focused.call_later(self._enter_typed, focused)
            return
        if focused is not self.rows_widget or self.selected is None:
            raise SkipAction()
        self.dismiss(self.selected.id)

    def _enter_typed(self, box: PromptInput) -> None:
        if box.handing_on:
            # a second Enter typed at once, after the box answered: it is the new focus's
            self.app.post_message(events.Key("enter", "\r"))
        elif box.id == "filter":
            self._filter_typed(box)
            if self.selected is not None:
                self.dismiss(self.selected.id)
        else:
            self._finish_rename(box.value)

    def action_back(self) -> None:
        for box in self.query(Input).results():
            if box.has_class("-shown"):
                box.remove_class("-shown")
                if box.id == "filter":
                    self.filter_text = ""
                    self._apply(self.selected.id if self.selected else None)
                self.set_focus(self.rows_widget)
                return
        self.dismiss(None)

    # -------------------------------------------------------------- filter

    async def _box(self, box_id: str, placeholder: str = "") -> Input:
        """The filter (above the rows) or rename (below them) box, mounted on first use."""
        found = self.query(f"#{box_id}").results(Input)
        box = next(found, None)
        if box is None:
            box = PromptInput(id=box_id, placeholder=placeholder)
            box.follows_focus = True
            where = (
                {"before": self.rows_widget} if box_id == "filter" else {"after": self.rows_widget}
            )
            await self.query_one(Vertical).mount(box, **where)
        return box

    def action_rows(self, action: str, argument: int) -> None:
        """A move of the rows' cursor (``RowList.action_<action>(argument)``) while they have
        the focus; in a text box the key is the box's."""
        move_rows(self.focused, self.rows_widget, action, argument)

    def action_arrow(self, step: int) -> None:
        """Down or Up: on the rows, a move; in the filter box, once the letters typed before it
        are in, a move through the filtered rows with the focus going to them."""
        focused = self.focused
        if focused is self.rows_widget:
            self.rows_widget.action_cursor(step)
        elif isinstance(focused, PromptInput) and focused.id == "filter":
            focused.call_later(self._to_rows, focused, step)
        else:
            raise SkipAction()

    def _to_rows(self, box: PromptInput, step: int) -> None:
        if box.handing_on:  # typed at once after the box was left: the rows' move
            self.app.post_message(events.Key("down" if step > 0 else "up", None))
            return
        self._filter_typed(box)
        rows = self.rows_widget
        # at once, not later as ``focus()`` does: the keys queued behind Down in the box
        # (d, r, Enter) must find the focus on the rows and go on there
        self.set_focus(rows)
        rows.move_to(rows.cursor + step)

    def _filter_typed(self, box: Input) -> None:
        """Apply the filter as typed so far: its change messages may still be on their way."""
        if box.value != self.filter_text:
            self.filter_text = box.value
            self._apply()

    async def action_filter(self) -> None:
        if self._in_a_box():
            raise SkipAction()
        box = await self._box("filter", placeholder="filter by name")
        box.add_class("-shown")
        self.set_focus(box)

    def on_input_changed(self, event: Input.Changed) -> None:
        """The filter as it stands now: a change message is late when the keys typed after
        its letters (Down, Enter) already applied the box's value and moved in its rows, and
        its own value is older still; applying either again would undo that move."""
        if event.input.id == "filter":
            self._filter_typed(event.input)

    # -------------------------------------------------------------- rename

    async def action_rename(self) -> None:
        if self._in_a_box():
            raise SkipAction()
        if self.selected is None:
            return
        box = await self._box("rename")
        box.value = self.selected.name
        box.border_title = "Rename"
        box.add_class("-shown")
        self.set_focus(box)

    def _finish_rename(self, value: str) -> None:
        """Rename the selected session to ``value`` and close the rename box (the keys typed
        after go to the rows); on a refused name say why and keep the box open."""
        target = self.selected
        if target is None:
            return
        try:
            session = self.ctx.manager.rename(target.id, value)
        except PromptSessionsError as exc:
            self.notify(str(exc), title=exc.title, severity="error")
            return
        self.query_one("#rename", Input).remove_class("-shown")
        self.reload(select=target.id)
        self.set_focus(self.rows_widget)
        notify_name_clash(self, self.ctx.manager, [session])
