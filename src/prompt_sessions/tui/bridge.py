"""What slash commands may ask of the TUI (the ``commands.Frontend`` protocol)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import PromptSessionsError

if TYPE_CHECKING:
    from .screens.main import MainScreen


class TuiFrontend:
    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen

    def show_session(self, po_name: str, session_id: str | None) -> None:
        self.screen.show(po_name, session_id)
        self.screen.land()  # a command that shows a session brings the person there to type

    def cancel_reply(self, session_id: str) -> bool:
        return self.screen.coord.cancel(session_id)

    def retry_reply(self, session_id: str) -> bool:
        return self.screen.retry(session_id)

    def confirm(self, question: str, action: Callable[[], str | None]) -> None:
        def on_yes() -> None:
            try:
                result = action()
            except PromptSessionsError as exc:
                self.screen.notify(str(exc), title=exc.title, severity="error")
                return
            finally:
                self.screen.reconcile()
            if result:
                self.screen.notify(result)
                self.screen.conversation.note(result)

        self.screen.confirm(question, on_yes)
