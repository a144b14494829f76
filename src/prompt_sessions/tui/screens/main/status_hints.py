"""The conversation's title and the status bar: the shown session, what is happening, the keys."""

from __future__ import annotations

from textual import events
from textual.content import Content
from textual.widget import Widget

from ....runtime import LiveSession, Status, status_label
from ....runtime.reply_task import retryable
from ....text import visible
from ...widgets.delegation_line import DelegationLine
from ...widgets.find_bar import FindBar
from ...widgets.message_box import MessageBox
from ...widgets.po_list import PoList
from ...widgets.session_bar import SessionBar
from ...widgets.status_bar import HINTS, StatusBar
from .base import MainScreenBase

# The keys that work where the focus is: single letters are offered only where they act as
# keys, never where they would type (DESIGN section 8). The first hint says how to reach the POs.
BOX_HINTS = "Tab POs  Esc keys (S N E q)  Enter send  shift+Enter new line  /help  ^p palette"
# with the PO column hidden (a narrow terminal) the explorer is the way to other POs
NARROW_BOX_HINTS = "Esc keys (E all POs, S N q)  Enter send  /help  ^p palette"
PO_HINTS = "↑↓ choose PO  Enter type  S sessions  N new  E explorer  ^p palette  q quit"
OPEN_HINTS = "↑↓ open sessions  Enter show  Tab conversation  S sessions  N new  q quit"
DELEGATION_HINTS = "Enter open the delegation  space fold  Tab next  i type  S sessions  q quit"
FIND_HINTS = "Enter next match  Esc close"
FILTER_HINTS = "type to narrow  Enter or Esc put the bar away (it keeps the text)"


def hints_for(focused: Widget | None, *, narrow: bool = False) -> str:
    """The status bar's key hints for the focused widget (None: nothing focused); ``narrow``:
    the PO column is hidden."""
    if isinstance(focused, MessageBox):
        return NARROW_BOX_HINTS if narrow else BOX_HINTS
    if isinstance(focused, FindBar):
        return FIND_HINTS if focused.mode == "find" else FILTER_HINTS
    if isinstance(focused, PoList):
        return PO_HINTS
    if isinstance(focused, SessionBar):
        return OPEN_HINTS
    if isinstance(focused, DelegationLine):
        return DELEGATION_HINTS
    return HINTS


class StatusHints(MainScreenBase):
    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        self.refresh_status()

    @staticmethod
    def stream_note(live: LiveSession) -> str:
        if live.status is Status.STREAMING:
            return "streaming…"
        return f"{status_label(live.status, live.retry_attempt)}…"

    def refresh_labels(self) -> None:
        self.conversation.border_title = Content(
            visible(f"{self.po_name}: {self.session_name}", one_line=True)
        )
        self.refresh_status()

    def refresh_status(self) -> None:
        """The status bar: the shown session, what is happening, the keys that work here."""
        self.query_one(StatusBar).show(
            self.session_name,
            self.message_count,
            self.state_text(),
            hints_for(self.focused, narrow=self.has_class("-narrow")),
        )

    def state_text(self) -> str:
        live = self.live
        if live is None:
            return ""
        if live.view.filter:
            shown = len(self.conversation.history)
            typed = visible(live.view.filter, one_line=True)
            return f'filter "{typed}": {shown} of {live.message_count} (F changes it)'
        if live.status.busy:
            return f"{status_label(live.status, live.retry_attempt)}… (ctrl+c cancels)"
        if live.status is Status.WAITING:
            return "waiting for your answer"
        if live.status is Status.ERROR:
            return "error (see the last note; ctrl+r or /retry runs the reply again)"
        if not live.busy and retryable(live.history):
            return "the last turn has no full reply: ctrl+r or /retry runs it again"
        return ""
