"""The CLI's note when a session's new name cannot name it in later commands, on stderr; the
wording and the check are ``organise.name_clash``'s, shared with the TUI.
``new --name``, ``rename``, ``duplicate``, ``fork``, ``copy --to-po`` and ``import`` give it."""

from __future__ import annotations

from collections.abc import Iterable

import click

from ..manager import SessionManager
from ..models import Session, SessionSummary
from ..organise.name_clash import name_clash_notes


def note_name_clash(manager: SessionManager, session: Session | SessionSummary) -> None:
    """Print one ``Note:`` line on stderr when ``session``'s name alone does not name it among
    every PO's sessions (as a ref given without ``--po``); nothing otherwise."""
    note_name_clashes(manager, [session])


def note_name_clashes(
    manager: SessionManager, sessions: Iterable[Session | SessionSummary]
) -> None:
    """:func:`note_name_clash` for many new sessions at once (the store is listed once)."""
    for line in name_clash_notes(manager, sessions):
        click.echo(line, err=True)
