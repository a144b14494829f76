"""Short ids for listed sessions that share a name, so that they can be told apart.

Names are display text and need not be unique (DESIGN section 3); two sessions called
``Plan`` look alike in a list. Where two or more listed sessions bear the same name (compared
as the name-clash notes compare them: the same characters once NFC-normalised), each shows
the start of its id, which ``/session switch`` and the CLI accept as a reference (DESIGN
sections 6 and 8). Unique names show no id, and the id stays in sight when the name is cut
(:func:`name_with_id`).
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable

from rich.text import Text

from ..cells import cell_len, fit_name
from ..text import visible

SHORT_ID = 8  # as the CLI's notes print an id (``name_clash``, the trash's undo hints)


def id_tags(sessions: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The short id to show for each of ``sessions`` (``(id, name)`` pairs) whose name
    another of them bears: the shortest start of its id, at least :data:`SHORT_ID`
    characters, that no other session of that name starts with. Sessions with a name of
    their own are left out."""
    by_name: dict[str, set[str]] = defaultdict(set)
    for session_id, name in sessions:
        by_name[unicodedata.normalize("NFC", name)].add(session_id)
    tags: dict[str, str] = {}
    for ids in by_name.values():
        if len(ids) < 2:
            continue
        for session_id in ids:
            others = ids - {session_id}
            size = SHORT_ID
            while size < len(session_id) and any(o.startswith(session_id[:size]) for o in others):
                size += 1
            tags[session_id] = session_id[:size]
    return tags


def name_with_id(name: str, id_tag: str | None, width: int) -> Text:
    """``name`` (hidden characters made visible, on one line) and, with an ``id_tag``, that
    short id after it, dimmed (``Plan (1a2b3c4d)``); at most ``width`` cells, the name cut
    (``cells.fit_name``) so that the id stays in sight."""
    mark = f" ({id_tag})" if id_tag else ""
    shown = fit_name(visible(name, one_line=True), width - cell_len(mark))
    return Text.assemble(shown, (mark, "dim"))
