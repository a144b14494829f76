"""The picker's rows: the PO's sessions, then the orphaned ones under their own heading.

A session is orphaned when its PO file is gone while other POs have one
(``organise.between_pos.orphaned``, DESIGN section 14); the picker shows those of every PO
under a heading, each with its PO's name, so they can be opened or copied to a PO (``c``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text

from ...models import SessionSummary
from ...organise.labels import pinned_first
from ...text import fold


@dataclass(frozen=True)
class Heading:
    """A group's title row: it cannot be chosen, and the keys that act on a session skip it."""

    text: str

    def render(self, width: int) -> Text:
        line = Text(f"── {self.text} ", style="bold")
        line.truncate(width, overflow="ellipsis")
        return line


Row = SessionSummary | Heading


def grouped(rows: Sequence[SessionSummary], orphan_ids: set[str], needle: str = "") -> list[Row]:
    """The PO's sessions (pinned first), then, when any, the heading and the orphaned
    sessions (pinned first); ``needle`` keeps only names holding it (compared folded)."""
    wanted = fold(needle)
    shown = [s for s in rows if wanted in fold(s.name)] if wanted else list(rows)
    own = pinned_first(s for s in shown if s.id not in orphan_ids)
    lost = pinned_first(s for s in shown if s.id in orphan_ids)
    if not lost:
        return list(own)
    return [
        *own,
        Heading(f"Orphaned ({len(lost)}): their PO file is gone; c copies one to a PO"),
        *lost,
    ]
