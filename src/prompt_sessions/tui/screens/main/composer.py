"""The message box: what is typed there is sent to the shown session or run as a slash command."""

from __future__ import annotations

import shlex

from textual import on

from ....commands import CommandContext, CommandRouter, actions
from ....errors import PromptSessionsError
from ...widgets.message_box import MessageBox
from .shown_session import ShownSession


class Composer(ShownSession):
    @on(MessageBox.Submitted)
    async def submitted(self, event: MessageBox.Submitted) -> None:
        text = event.text
        if CommandRouter.is_command(text):
            if not self.run_command(text.strip()):
                # a refused line (a typo, or a message that starts with "/") is not lost: it
                # comes back selected, so typing replaces it and an arrow key keeps it to edit
                self.give_back(event.text, selected=True)
            return
        if text.lstrip().startswith("//"):
            text = text.replace("/", "", 1)  # //text sends /text
        if not await self.send(text):
            self.give_back(event.text)

    def give_back(self, text: str, *, selected: bool = False) -> None:
        """Put ``text`` back in the message box, unless something was typed since."""
        box = self.message_box
        if box.text:
            return
        box.text = text
        if selected:
            box.select_all()
        else:
            box.move_cursor(box.document.end)

    def run_command(self, line: str) -> bool:
        """Run one slash command line (``/session rename x``) for the shown session; its answer
        or its error becomes a note in the conversation. False when it was refused."""
        ctx = CommandContext(self.tui.ctx, self.po_name, self.session_id, self.frontend)
        try:
            result = self.router.run(ctx, line)
        except PromptSessionsError as exc:
            self.notify(str(exc), title=exc.title, severity="error")
            self.conversation.note(f"{line}: {exc}", error=True)
            return False
        finally:
            self.reconcile()
        if result:
            self.conversation.note(result)
        return True

    def run_command_args(self, words: list[str]) -> None:
        """``run_command`` for words that may hold spaces or quotes (quoted for the router)."""
        self.run_command("/" + shlex.join(words))

    async def send(self, text: str) -> bool:
        """Store the message in the shown session and start its reply; False if refused."""
        manager = self.tui.ctx.manager
        try:
            created = self.session_id is None
            sid = actions.ensure_session(manager, self.po_name, self.session_id)
            if created:
                self.show(self.po_name, sid)
            await self.coord.send(sid, text)
        except PromptSessionsError as exc:
            self.notify(str(exc), title=exc.title, severity="error")
            return False
        return True
