"""The TUI application: a thin App that opens the main screen."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from textual.app import App

from ..context import AppContext
from .commands import SessionCommands, SlashCommands
from .screens.main import MainScreen


def local_now() -> datetime:
    return datetime.now().astimezone()


class PromptSessionsApp(App[None]):
    """``clock`` and ``export_dir`` are there so tests can freeze time and keep files in tmp."""

    TITLE = "prompt-sessions"
    CSS_PATH = "app.tcss"
    COMMANDS: ClassVar = App.COMMANDS | {SessionCommands, SlashCommands}
    ENABLE_COMMAND_PALETTE = True

    def __init__(
        self,
        ctx: AppContext,
        *,
        clock: Callable[[], datetime] = local_now,
        export_dir: Path | None = None,
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.clock = clock
        self.export_dir = export_dir

    def on_mount(self) -> None:
        self.push_screen(MainScreen())
