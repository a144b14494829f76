"""The picker's rows: the PO's sessions, then the orphaned ones under their own heading, and
each session as one line of text.

A session is orphaned when its PO file is gone while other POs have one
(``organise.between_pos.orphaned``, DESIGN section 14); the picker shows those of every PO
under a heading, each with its PO's name, so they can be opened or copied to a PO (``c``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from rich.text import Text

from ...cells import cell_len
from ...commands.display import when
from ...models import SessionSummary
from ...organise.labels import pinned_first
from ...text import fold, visible
from ..same_names import name_with_id


@dataclass(frozen=True)
class Heading:
    """A group's title row: it cannot be chosen, and the keys that act on a session skip it."""

    text: str

    def render(self, width: int) -> Text:
        line = Text(f"── {self.text} ", style="bold")
        line.truncate(width, overflow="ellipsis")
        return line


Row = SessionSummary | Heading


def row_key(row: Row) -> str | None:
    """What a row is across readings of the store: a session's id (None for the heading)."""
    return row.id if isinstance(row, SessionSummary) else None


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


def session_line(
    s: SessionSummary,
    width: int,
    now: datetime,
    current_id: str | None,
    po_name: str,
    orphan_ids: set[str],
    id_tag: str | None = None,
) -> Text:
    """``s`` as one row ``width`` cells wide: ``*`` when it is ``current_id``, its PO when it
    is an orphan of another PO than ``po_name``, a pin, its name, its short id when another
    listed session bears the same name (``id_tag``, ``same_names``), tags, message count and
    last activity (dated against ``now``) (DESIGN sections 8 and 14)."""
    mark = "*" if s.id == current_id else " "
    unit = "msg " if s.message_count == 1 else "msgs"
    right = f"{s.message_count:>6} {unit} {when(s.updated_at, now):>10}"
    room = max(4, width - cell_len(right) - 4)
    lead = Text()
    if s.id in orphan_ids and s.po_name != po_name:
        lead.append(f"{visible(s.po_name, one_line=True)}: ", style="italic")
    if s.pinned:
        lead.append("📌 ")
    # the name is fitted on its own so that a "(before rewind)" at its end stays in sight
    # the short id, too: it tells apart sessions that share the name
    mark_archived = " (archived)" if s.archived else ""
    shown = name_with_id(s.name, id_tag, room - lead.cell_len - len(mark_archived))
    name = Text.assemble(lead, shown, (mark_archived, "dim italic"))
    if s.tags:
        tags = " ".join(f"#{t}" for t in s.tags)
        name.append(" " + visible(tags, one_line=True), style="dim")
    name.truncate(room, overflow="ellipsis", pad=True)
    return Text.assemble((f"{mark} ", "bold"), name, "  ", (right, "dim"))
