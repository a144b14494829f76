"""Export one session to a file in a format chosen from a list (the explorer's ``x``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.screen import Screen

from ...commands import actions
from ...context import AppContext
from ...errors import PromptSessionsError
from ...models import SessionSummary
from .choice import ChoiceScreen


def offer_export(
    screen: Screen[Any], ctx: AppContext, session: SessionSummary, directory: Path | None
) -> None:
    """Open the list of the installed exporters over ``screen``; the one chosen writes
    ``session`` to a file in ``directory`` (None: the current folder) and a note says where.
    Enter alone exports as markdown, the default of ``/session export`` and ``export``
    (DESIGN sections 6 and 8); a failed export is a note, never a crash."""
    exporters = ctx.host.exporters()
    choices = [(name, f"{name} (.{c.value.extension})") for name, c in sorted(exporters.items())]

    def chosen(format: str | None) -> None:
        if format is None:
            return
        try:
            path = actions.export_to_file(ctx.manager, session.id, format, directory=directory)
        except PromptSessionsError as exc:
            screen.notify(str(exc), title=exc.title, severity="error")
            return
        screen.notify(f"Exported to {path}", title="Exported")

    title = f"Export '{session.name}' as"
    screen.app.push_screen(ChoiceScreen(title, choices, default="markdown"), chosen)
