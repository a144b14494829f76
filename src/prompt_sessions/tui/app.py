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
    """``clock``, ``export_dir`` and ``cursor_blink`` let tests freeze time, keep files in tmp and
    take snapshots that do not depend on the blink phase."""

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
        cursor_blink: bool = True,
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.clock = clock
        self.export_dir = export_dir
        self.cursor_blink = cursor_blink

    def on_mount(self) -> None:
        self.push_screen(MainScreen())
