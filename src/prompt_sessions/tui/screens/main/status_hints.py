"""The conversation's title and the status bar: the shown session, what is happening, the keys."""

from __future__ import annotations

from textual.content import Content

from ....runtime import LiveSession, Status, status_label
from ...widgets.status_bar import StatusBar
from .base import MainScreenBase


class StatusHints(MainScreenBase):
    @staticmethod
    def stream_note(live: LiveSession) -> str:
        if live.status is Status.STREAMING:
            return "streaming…"
        return f"{status_label(live.status, live.retry_attempt)}…"

    def refresh_labels(self) -> None:
        self.conversation.border_title = Content(f"{self.po_name}: {self.session_name}")
        self.query_one(StatusBar).show(self.session_name, self.message_count, self.state_text())

    def state_text(self) -> str:
        live = self.live
        if live is None:
            return ""
        if live.view.filter:
            shown = len(self.conversation.history)
            return f'filter "{live.view.filter}": {shown} of {live.message_count} (F changes it)'
        if live.status.busy:
            return f"{status_label(live.status, live.retry_attempt)}… (ctrl+c cancels)"
        if live.status is Status.WAITING:
            return "waiting for your answer"
        if live.status is Status.ERROR:
            return "error (see the last note)"
        return ""
