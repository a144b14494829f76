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

    def reply_running(self, session_id: str) -> bool:
        live = self.screen.coord.get(session_id)
        return live is not None and live.busy

    def history_rewritten(self, session_id: str, *, reply: bool = False) -> None:
        """Read the rewritten session into the runtime now, then (``reply``) start its reply."""
        screen = self.screen
        if session_id == screen.session_id:
            try:
                count = screen.tui.ctx.manager.get(session_id).summary().message_count
            except PromptSessionsError:
                count = None
            if count is not None:
                screen.conversation.rewritten(count)

        async def again() -> None:
            await screen.coord.refresh()
            if reply:
                try:
                    await screen.coord.resume(session_id)
                except PromptSessionsError as exc:
                    screen.notify(str(exc), title=exc.title, severity="error")

        screen.run_worker(again(), group="rewrite", exit_on_error=False)

    def offer_draft(self, text: str) -> bool:
        box = self.screen.message_box
        box.text = text
        box.move_cursor(box.document.end)
        box.focus()
        return True

    def open_tree(self, session_id: str) -> bool:
        """Show the lineage in the tree modal; Enter there shows the chosen session."""
        from ..rewind import lineage
        from .screens.landing import opened_to_land
        from .screens.tree import TreeScreen

        screen = self.screen

        def landed(choice: tuple[str, str] | None) -> None:
            if choice is not None:
                screen.land_on(*choice)

        tree = TreeScreen(lineage(screen.tui.ctx.manager, session_id), session_id)
        screen.app.push_screen(opened_to_land(tree, landed))
        return True

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
