"""The note, as a notification, when a session made or renamed in the TUI has a name that
cannot name it in later commands (``organise.name_clash``: the CLI's words, with the id to
use)."""

from __future__ import annotations

from collections.abc import Iterable

from textual.widget import Widget

from ..manager import SessionManager
from ..models import Session, SessionSummary
from ..organise.name_clash import name_clash_notes


def notify_name_clash(
    node: Widget, manager: SessionManager, sessions: Iterable[Session | SessionSummary]
) -> None:
    """Notify through ``node`` (a screen or widget) of the notes for ``sessions``, one a
    line; nothing when every name names its session."""
    notes = name_clash_notes(manager, sessions)
    if notes:
        # names are text as typed: never markup
        node.notify("\n".join(notes), severity="warning", markup=False)
