"""A note when a session's new name cannot name it in later commands: another session bears
the same name, or another session's id starts with it (``resolve.resolve_ref`` then asks which
is meant), or both; the note says which, and gives the id to use. The name is kept (names are
display text, DESIGN section 3).

One wording for every frontend: the CLI prints the notes on stderr (``new --name``,
``rename``, ``duplicate``, ``fork``, ``copy --to-po``, ``import``), the slash commands and the
TUI's picker show them with their answer.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..errors import AmbiguousSession, SessionNotFound
from ..models import Session, SessionSummary
from ..resolve import MIN_ID_PREFIX, resolve_ref
from ..storage.base import SupportsNameLookup
from ..text import quoted, same_text

if TYPE_CHECKING:
    from ..manager import SessionManager

MAX_NOTES = 3  # an import of many: this many notes with ids, then one line counting the rest
# More sessions than this at once (an import): one listing costs less than a lookup for each.
MAX_LOOKUPS = 8
_ID_CHARACTERS = frozenset("0123456789abcdef-")


def name_clash_notes(
    manager: SessionManager, sessions: Iterable[Session | SessionSummary]
) -> list[str]:
    """The ``Note:`` lines for new or renamed ``sessions`` whose name alone does not name them
    among every PO's sessions (as a ref given without ``--po``): one for each of the first
    :data:`MAX_NOTES`, saying whether another session bears the name, another's id starts with
    it, or both, and giving the id to use; then one counting the others; none when every name
    is its session's own. The store is listed once."""
    clashing = _clashing(manager, list(sessions))
    notes = [
        f"Note: {cause}: name this one by its id, {session.id[:8]}"
        for session, cause in clashing[:MAX_NOTES]
    ]
    if len(clashing) > MAX_NOTES:
        notes.append(
            f"Note: {len(clashing) - MAX_NOTES} more sessions share their name the same way; "
            "name them by their ids"
        )
    return notes


def with_name_clash_notes(
    said: str, manager: SessionManager, sessions: Iterable[Session | SessionSummary]
) -> str:
    """``said`` (a command's answer), followed by the notes for ``sessions``, one a line."""
    return "\n".join([said, *name_clash_notes(manager, sessions)])


def _cause(session: Session | SessionSummary, everyone: list[SessionSummary]) -> str:
    """Why the name of ``session`` does not name it: the words after ``Note:``."""
    name = quoted(session.name)
    wanted = session.name.strip().lower()
    others = [s for s in everyone if s.id != session.id]
    same_name = any(same_text(s.name, session.name.strip()) for s in others)
    id_start = _may_be_id(wanted) and any(s.id.startswith(wanted) for s in others)
    if id_start and same_name:
        return f"another session is also called {name}, and another's id starts with it"
    if id_start:
        return f"another session's id starts with {name}"
    return f"another session is also called {name}"


def _may_be_id(text: str) -> bool:
    """Whether ``text`` (stripped, lower case) may be read as an id prefix by ``resolve_ref``."""
    return len(text) >= MIN_ID_PREFIX and set(text) <= _ID_CHARACTERS


def _alone(manager: SessionManager, session: Session | SessionSummary) -> bool:
    """Whether the store's catalog tells, without listing every session, that no other session
    bears the name of ``session`` and that the name cannot be read as an id: then it names this
    one. A session file another program added since the catalog last looked is not seen here;
    the note is advice, and ``list`` still finds that file (DESIGN section 3, "Stale")."""
    backend = manager.backend
    if _may_be_id(session.name.strip().lower()) or not isinstance(backend, SupportsNameLookup):
        return False
    same = backend.known_by_name(session.name)
    return same is not None and all(s.id == session.id for s in same)


def _clashing(
    manager: SessionManager, sessions: list[Session | SessionSummary]
) -> list[tuple[Session | SessionSummary, str]]:
    """The sessions whose name does not name them, each with the reason (``_cause``)."""
    if not sessions:
        return []
    if len(sessions) <= MAX_LOOKUPS and all(_alone(manager, s) for s in sessions):
        return []
    everyone = manager.list()
    names = Counter(unicodedata.normalize("NFC", s.name) for s in everyone)
    found = []
    for session in sessions:
        may_be_id = _may_be_id(session.name.strip().lower())
        if names[unicodedata.normalize("NFC", session.name)] < 2 and not may_be_id:
            continue  # its name is its own and no id starts with it: it names this one
        try:
            named = resolve_ref(session.name, everyone)
        except AmbiguousSession:
            named = None
        except SessionNotFound:
            continue  # deleted meanwhile
        if named is None or named.id != session.id:
            found.append((session, _cause(session, everyone)))
    return found
