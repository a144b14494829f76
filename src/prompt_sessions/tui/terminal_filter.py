"""The last guard between stored text and the terminal: no control character is ever drawn.

Widgets show stored text with its control characters made visible
(:func:`prompt_sessions.text.visible`); this filter catches any that reach a line another way
(a name in a title, a plugin's widget). Control characters take no cells, so dropping them
leaves the layout as it was.
"""

from __future__ import annotations

import re

from rich.segment import Segment
from textual.color import Color
from textual.filter import LineFilter

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


class DropControlCharacters(LineFilter):
    """Removes C0, DEL and C1 characters from the text of every drawn line."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        if not _CONTROL.search("".join([s.text for s in segments if not s.control])):
            return segments
        return [
            s if s.control else Segment(_CONTROL.sub("", s.text), s.style, s.control)
            for s in segments
        ]
