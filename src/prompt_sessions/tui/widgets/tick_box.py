"""A checkbox whose state is in its characters, not only in its colours.

Textual's checkbox draws the same ``X`` ticked or not and shows the state by colour alone:
without colour (``NO_COLOR``, a screen reader, a terminal's text capture) both look alike. A
tick box draws ``✓`` when ticked and a blank when not (DESIGN section 8: the explorer's
Pinned and Archived filters).
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Checkbox

TICKED = "✓"  # one cell wide, never drawn as an emoji
UNTICKED = " "


class TickBox(Checkbox):
    """A :class:`~textual.widgets.Checkbox` drawn ``▐✓▌ Label`` ticked, ``▐ ▌ Label`` not."""

    @property
    def _button(self) -> Content:
        # the inner character is the state; the colours stay as the theme draws them
        self.BUTTON_INNER = TICKED if self.value else UNTICKED
        return super()._button
