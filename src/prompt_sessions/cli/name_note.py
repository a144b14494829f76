"""A note when a session's new name cannot name it in later commands: another session bears
the same name, or an id starting with it (``resolve.resolve_ref`` then asks which is meant).
The name is kept (names are display text, DESIGN section 3); the note gives the id to use.
``new --name``, ``rename``, ``duplicate``, ``fork``, ``copy --to-po`` and ``import`` give it."""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable

import click

from ..errors import AmbiguousSession, SessionNotFound
from ..manager import SessionManager
from ..models import Session, SessionSummary
from ..resolve import MIN_ID_PREFIX, resolve_ref
from ..text import quoted

MAX_NOTES = 3  # an import of many: this many notes with ids, then one line counting the rest
_ID_CHARACTERS = frozenset("0123456789abcdef-")


def note_name_clash(manager: SessionManager, session: Session | SessionSummary) -> None:
    """Print one ``Note:`` line on stderr when ``session``'s name alone does not name it among
    every PO's sessions (as a ref given without ``--po``); nothing otherwise."""
    note_name_clashes(manager, [session])


def note_name_clashes(
    manager: SessionManager, sessions: Iterable[Session | SessionSummary]
) -> None:
    """:func:`note_name_clash` for many new sessions at once (the store is listed once): a
    note with the id for each of the first :data:`MAX_NOTES` whose name does not name it,
    then one line counting the others."""
    clashing = _clashing(manager, list(sessions))
    for session in clashing[:MAX_NOTES]:
        click.echo(
            f"Note: another session is also called {quoted(session.name)}, or has an id "
            f"starting with it: name this one by its id, {session.id[:8]}",
            err=True,
        )
    if len(clashing) > MAX_NOTES:
        click.echo(
            f"Note: {len(clashing) - MAX_NOTES} more sessions share their name the same way; "
            "name them by their ids",
            err=True,
        )


def _clashing(
    manager: SessionManager, sessions: list[Session | SessionSummary]
) -> list[Session | SessionSummary]:
    if not sessions:
        return []
    everyone = manager.list()
    names = Counter(unicodedata.normalize("NFC", s.name) for s in everyone)
    found = []
    for session in sessions:
        text = session.name.strip().lower()
        may_be_id = len(text) >= MIN_ID_PREFIX and set(text) <= _ID_CHARACTERS
        if names[unicodedata.normalize("NFC", session.name)] < 2 and not may_be_id:
            continue  # its name is its own and no id starts with it: it names this one
        try:
            named = resolve_ref(session.name, everyone)
        except AmbiguousSession:
            named = None
        except SessionNotFound:
            continue  # deleted meanwhile
        if named is None or named.id != session.id:
            found.append(session)
    return found
