"""What every part of the main screen reads: the app, the runtime, the widgets, the session."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.screen import Screen

from ...widgets.conversation import Conversation
from ...widgets.conversation_deck import ConversationDeck
from ...widgets.find_bar import FindBar
from ...widgets.message_box import MessageBox
from ...widgets.session_bar import SessionBar

if TYPE_CHECKING:
    from ....commands import CommandRouter
    from ....runtime import Coordinator, LiveSession
    from ...app import PromptSessionsApp
    from ...bridge import TuiFrontend


class MainScreenBase(Screen[None]):
    """The state the parts of the main screen share; each part adds one responsibility."""

    router: CommandRouter
    frontend: TuiFrontend

    def __init__(self) -> None:
        super().__init__()
        self.po_name = ""
        self.session_id: str | None = None
        self.session_name = ""
        self.message_count = 0
        self._match: int | None = None  # the message the last find jumped to

    @property
    def tui(self) -> PromptSessionsApp:
        return self.app  # type: ignore[return-value]

    @property
    def coord(self) -> Coordinator:
        return self.tui.coord

    @property
    def deck(self) -> ConversationDeck:
        return self.query_one(ConversationDeck)

    @property
    def conversation(self) -> Conversation:
        """The conversation on screen."""
        return self.deck.shown

    @property
    def sidebar(self) -> SessionBar:
        return self.query_one(SessionBar)

    @property
    def find_bar(self) -> FindBar:
        return self.query_one(FindBar)

    @property
    def message_box(self) -> MessageBox:
        return self.query_one(MessageBox)

    @property
    def live(self) -> LiveSession | None:
        """The shown session as the runtime holds it (None: the PO has none yet)."""
        return self.coord.get(self.session_id) if self.session_id else None
