"""The explorer's rows: which columns fit a width, and each row as one line of text.

Widths are terminal cells (``rich``), so wide characters and emoji never push a column out of
line (DESIGN section 8).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text

from ...cells import boundary, cell_len
from ...models import SessionSummary

# (key, title, width in cells; 0: the name, which takes what is left within NAME_WIDTH)
COLUMNS = (
    ("po", "PO", 16),
    ("name", "Name", 0),
    ("msgs", "Msgs", 6),
    ("source", "Source", 8),
    ("updated", "Updated", 11),
)
NAME_WIDTH = (12, 28)
SNIPPET_ROOM = 30  # cells a search's snippet keeps; columns give way, least useful first
GIVE_WAY = ("source", "updated", "msgs")
GAP = 2


def layout(width: int, searching: bool) -> list[tuple[str, str, int]]:
    """The columns that fit in ``width`` cells, with their widths; with ``searching`` the
    snippet after them keeps at least ``SNIPPET_ROOM`` cells (narrow terminals drop the source,
    the time and the count, in that order, and shorten the PO)."""
    room = SNIPPET_ROOM + GAP if searching else 0
    columns = list(COLUMNS)

    def spare() -> int:
        fixed = sum(w for _, _, w in columns) + GAP * len(columns)
        return width - fixed - room - NAME_WIDTH[0]

    for key in GIVE_WAY:
        if spare() >= 0:
            break
        columns = [c for c in columns if c[0] != key]
    if spare() < 0:
        columns = [(k, t, 10 if k == "po" else w) for k, t, w in columns]
    fixed = sum(w for _, _, w in columns) + GAP * len(columns)
    name = max(NAME_WIDTH[0], min(NAME_WIDTH[1], width - fixed - room))
    return [(k, t, w or name) for k, t, w in columns]


@dataclass
class Row:
    summary: SessionSummary
    snippet: str | None = None
    message_index: int | None = None
    spans: list[tuple[int, int]] | None = None


def row_text(cells: list[Text], columns: list[tuple[str, str, int]]) -> Text:
    """``cells`` side by side, each cut or padded to its column's width."""
    parts: list[Text] = []
    for (_, _, width), text in zip(columns, cells, strict=True):
        cell = text.copy()
        cell.truncate(width, overflow="ellipsis", pad=True)
        parts.append(cell)
        parts.append(Text(" " * GAP))
    return Text.assemble(*parts)


def highlight(snippet: str, spans: list[tuple[int, int]], room: int | None = None) -> Text:
    """The snippet with the matches the search found, ``(start, end)`` in it, highlighted.

    With ``room`` (cells left on the row), a snippet whose first match would fall past that
    room loses its start instead (``…`` in its place, cut between graphemes), so the match is
    seen in a narrow terminal.
    """
    cut = _start_for(snippet, spans[0], room) if spans and room else 0
    shown = ("…" + snippet[cut:]) if cut else snippet
    shift = 1 - cut if cut else 0
    text = Text(shown, style="dim")
    for start, end in spans:
        if start + shift >= (1 if cut else 0):
            text.stylize("bold reverse", start + shift, end + shift)
    return text


def _start_for(snippet: str, first: tuple[int, int], room: int) -> int:
    """Where to start ``snippet`` so that its ``first`` match ends within ``room`` cells, with
    a few cells of what comes before it; 0 when it fits as it is."""
    start, end = first
    if cell_len(snippet[:end]) <= room:
        return 0
    lead = max(0, room - 1 - cell_len(snippet[start:end]))  # 1: the "…"
    at = start
    while at > 0 and cell_len(snippet[at - 1 : start]) <= min(lead, 12):
        at -= 1
    return boundary(snippet, at, forward=True) or 0
