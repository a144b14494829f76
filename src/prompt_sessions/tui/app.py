"""The TUI application: a thin App that owns the runtime link and opens the main screen."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from textual import events
from textual.app import App
from textual.filter import LineFilter
from textual.notifications import SeverityLevel
from textual.widgets import Input, TextArea

from ..context import AppContext
from ..runtime import Coordinator
from ..text import visible
from .commands import SessionCommands, SlashCommands
from .replies import RuntimeLink
from .screens.main import MainScreen
from .terminal_filter import DropControlCharacters


def local_now() -> datetime:
    return datetime.now().astimezone()


class PromptSessionsApp(App[None]):
    """``clock``, ``export_dir`` and ``cursor_blink`` let tests freeze time, keep files in tmp and
    take snapshots that do not depend on the blink phase. ``watch_store=False`` leaves other
    processes' changes unnoticed (benchmarks that measure the UI alone)."""

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
        watch_store: bool = True,
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.clock = clock
        self.export_dir = export_dir
        self.cursor_blink = cursor_blink
        self.watch_store = watch_store
        self.link = RuntimeLink(ctx)
        self._drop_controls = DropControlCharacters()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """A notification, always as plain text: notifications say session names and error
        messages, where ``[`` is text, never markup (widgets pass ``markup=True`` by default;
        it is ignored). Control and bidirectional characters show as escapes
        (``text.visible``, DESIGN section 12)."""
        super().notify(
            visible(message),
            title=visible(title, one_line=True),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """With ``cursor_blink`` off, no text box blinks: the message box, the explorer's
        search, the picker's filter and every prompt (a snapshot must not catch a phase)."""
        if not self.cursor_blink and isinstance(event.widget, Input | TextArea):
            event.widget.cursor_blink = False

    @property
    def coord(self) -> Coordinator:
        """The one Coordinator of this app: every open session and its reply live there."""
        return self.link.coord

    def write_to_terminal(self, data: str) -> None:
        """Write ``data`` (an escape sequence, such as a notification) straight to the
        terminal, past the screen; nothing is written to a browser (``web``)."""
        driver = self._driver
        if driver is not None and not driver.is_web:
            driver.write(data)

    def get_line_filters(self) -> Sequence[LineFilter]:
        """Textual's filters, then the guard that keeps control characters off the terminal."""
        return [*super().get_line_filters(), self._drop_controls]

    async def on_mount(self) -> None:
        main = MainScreen()
        self.link.attach(main)
        await self.push_screen(main)
        if self.watch_store:
            await self.link.start()

    async def shutdown(self) -> None:
        """Stop every reply (what arrived is saved incomplete) and save the open sessions."""
        await self.link.close()

    async def action_quit(self) -> None:
        if isinstance(self.screen, MainScreen):
            self.screen.save_view()
        await self.shutdown()
        self.exit()

    async def on_unmount(self) -> None:
        await self.shutdown()
