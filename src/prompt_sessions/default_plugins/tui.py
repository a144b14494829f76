"""The ``tui`` frontend. Textual is imported only when the TUI runs, never by the core."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..hookspecs import hookimpl

if TYPE_CHECKING:
    from ..context import AppContext


def run(ctx: AppContext) -> None:
    """Open the TUI on the environment and return when the user quits."""
    from ..tui.app import PromptSessionsApp

    PromptSessionsApp(ctx).run()


@hookimpl
def register_frontends(register: Callable[[str, Any], None]) -> None:
    register("tui", run)
