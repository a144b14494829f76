"""A note when a session's new name cannot name it in later commands: another session bears
the same name, or an id starting with it (``resolve.resolve_ref`` then asks which is meant).
The name is kept (names are display text, DESIGN section 3); the note gives the id to use."""

from __future__ import annotations

import click

from ..errors import AmbiguousSession
from ..manager import SessionManager
from ..models import Session
from ..resolve import resolve_ref
from ..text import quoted


def note_name_clash(manager: SessionManager, session: Session) -> None:
    """Print one ``Note:`` line on stderr when ``session``'s name alone is ambiguous among
    every PO's sessions (as a ref given without ``--po``); nothing otherwise."""
    try:
        resolve_ref(session.name, manager.list())
    except AmbiguousSession:
        click.echo(
            f"Note: another session is also called {quoted(session.name)}, or has an id "
            f"starting with it: name this one by its id, {session.id[:8]}",
            err=True,
        )
