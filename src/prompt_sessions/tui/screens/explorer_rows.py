"""The explorer's rows: which columns fit a width, and each row as one line of text.

Widths are terminal cells (``rich``), so wide characters and emoji never push a column out of
line (DESIGN section 8).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from rich.text import Text

from ...cells import boundary, cell_len, fit
from ...commands.display import when
from ...models import SessionSummary
from ...search_query import operator_hint
from ...text import quoted, visible
from ..same_names import name_with_id

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


def row_key(row: Row) -> str:
    """What a row is across readings of the store: its session's id."""
    return row.summary.id


def row_text(cells: list[Text], columns: list[tuple[str, str, int]]) -> Text:
    """``cells`` side by side, each cut or padded to its column's width."""
    parts: list[Text] = []
    for (_, _, width), text in zip(columns, cells, strict=True):
        cell = text.copy()
        cell.truncate(width, overflow="ellipsis", pad=True)
        parts.append(cell)
        parts.append(Text(" " * GAP))
    return Text.assemble(*parts)


def header_text(width: int, searching: bool) -> Text:
    """The column titles for rows ``width`` cells wide (``Match`` over a search's snippets)."""
    columns = layout(width, searching)
    line = row_text([Text(title) for _, title, _ in columns], columns)
    if searching:
        line.append("Match")
    return line


def session_line(
    row: Row,
    width: int,
    now: datetime,
    searching: bool,
    by_id: Mapping[str, SessionSummary],
    id_tag: str | None = None,
) -> Text:
    """``row`` as one line ``width`` cells wide: its columns, then a search's snippet;
    ``now`` dates the last update, ``by_id`` (the listed sessions) names a parent, ``id_tag``
    is the short id shown after a name that another session bears (``same_names``)."""
    s = row.summary
    columns = layout(width, searching)
    name_width = next(w for key, _, w in columns if key == "name")
    cells = {
        "po": Text(visible(s.po_name, one_line=True)),
        "name": name_cell(s, by_id, id_tag, name_width),
        "msgs": Text(str(s.message_count)),
        "source": Text(visible(s.source or "", one_line=True)),
        "updated": Text(when(s.updated_at, now)),
    }
    line = row_text([cells[key] for key, _, _ in columns], columns)
    if row.snippet is not None:
        room = width - line.cell_len
        line.append_text(highlight(row.snippet, row.spans or [], room))
    return line


def name_cell(
    s: SessionSummary, by_id: Mapping[str, SessionSummary], id_tag: str | None, width: int
) -> Text:
    """The name column, ``width`` cells at most: the name and its short id, then whether it
    is archived and its lineage in what room is left. The name is cut before its short id,
    which tells it from another session of that name."""
    cell = name_with_id(s.name, id_tag, width)
    rest = visible(("  (archived)" if s.archived else "") + lineage(s, by_id), one_line=True)
    if rest and cell.cell_len < width:
        cell.append(fit(rest, width - cell.cell_len))
    return cell


def lineage(s: SessionSummary, by_id: Mapping[str, SessionSummary]) -> str:
    """`` ↳ delegation of coordinator: Plan`` for a session with a parent (DESIGN 11, 14);
    the parent is named when ``by_id`` holds it."""
    if not s.thread_type or s.thread_type == "root":
        return ""
    parent = by_id.get(s.parent_id or "")
    of = f" of {parent.po_name}: {parent.name}" if parent else ""
    return f"  ↳ {s.thread_type}{of}"


def highlight(snippet: str, spans: list[tuple[int, int]], room: int | None = None) -> Text:
    """The snippet with the matches the search found, ``(start, end)`` in it, highlighted, and
    hidden characters made visible.

    With ``room`` (cells left on the row), a snippet whose first match would fall past that
    room loses its start instead (``…`` in its place, cut between graphemes), so the match is
    seen in a narrow terminal.
    """
    ordered = sorted(spans)
    done = _start_for(snippet, ordered[0], room) if ordered and room else 0
    text = Text("…" if done else "", style="dim")
    # each piece escaped on its own: escapes are longer than what they show, so the spans
    # (offsets in the stored text) are applied before the text is made visible
    for start, end in ordered:
        start = max(start, done)
        if end <= start:
            continue
        text.append(visible(snippet[done:start], one_line=True))
        text.append(visible(snippet[start:end], one_line=True), style="bold reverse")
        done = end
    text.append(visible(snippet[done:], one_line=True))
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


def empty_text(
    *,
    sessions: int,
    search: str,
    lists: dict[str, str | None],
    pinned: bool,
    archived_hidden: int,
) -> str:
    """What the explorer says when no row is listed: that there is no session at all, or what
    narrows the list and the keys that widen it.

    :param sessions: how many sessions the store holds (archived ones included).
    :param search: the text in the search box.
    :param lists: the PO, source and tag lists' choices by label (None: any).
    :param pinned: whether the Pinned box is ticked.
    :param archived_hidden: how many archived sessions the unticked Archived box hides (0 when
        they are shown).
    """
    if not sessions:
        return "No sessions yet: Esc, then type a message to start one"
    narrowing: list[str] = []
    widen: list[str] = []
    if search.strip():
        narrowing.append(f"the search {quoted(search)}")
        widen.append("/ then ctrl+u clears the search")
        if hint := operator_hint(search):
            widen.append(hint)
    chosen = [f"{label} {visible(v, one_line=True)}" for label, v in lists.items() if v]
    if chosen:
        narrowing.extend(chosen)
        widen.append("Tab reaches the lists")
    if pinned:
        narrowing.append("pinned only")
        widen.append("Down, p shows unpinned ones")
    if archived_hidden:
        widen.append("Down, a shows archived ones")
    if not narrowing:
        return f"No sessions but {archived_hidden:,} archived: Down, a shows them"
    return f"No session matches {', '.join(narrowing)}: {'; '.join(widen)}"
