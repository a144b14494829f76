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
            self.run_command(text.strip())
            return
        if text.lstrip().startswith("//"):
            text = text.replace("/", "", 1)  # //text sends /text
        if not await self.send(text):
            box = self.message_box
            if not box.text:  # nothing typed since: give the text back
                box.text = event.text
                box.move_cursor(box.document.end)

    def run_command(self, line: str) -> None:
        """Run one slash command line (``/session rename x``) for the shown session; its answer
        or its error becomes a note in the conversation."""
        ctx = CommandContext(self.tui.ctx, self.po_name, self.session_id, self.frontend)
        try:
            result = self.router.run(ctx, line)
        except PromptSessionsError as exc:
            self.notify(str(exc), title=exc.title, severity="error")
            self.conversation.note(f"{line}: {exc}", error=True)
            return
        finally:
            self.reconcile()
        if result:
            self.conversation.note(result)

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
