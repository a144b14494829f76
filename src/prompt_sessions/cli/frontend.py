"""Opening a UI when no command is given."""

from __future__ import annotations

from ..config import section
from ..errors import UnknownFormat
from .state import CliState


def run_frontend(state: CliState, name: str | None = None) -> None:
    ctx = state.app_context()
    chosen = name or str(section(ctx.config, "ui").get("frontend", "tui"))
    frontends = ctx.host.frontends()
    if chosen not in frontends:
        raise UnknownFormat(chosen, frontends, kind="frontend")
    frontends[chosen].value(ctx)
