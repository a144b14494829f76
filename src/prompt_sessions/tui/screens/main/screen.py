"""The main screen: POs on the left, the conversation, the message box and the status bar."""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical

from ....commands import CommandRouter
from ...bridge import TuiFrontend
from ...widgets.conversation_deck import KEEP, ConversationDeck
from ...widgets.find_bar import FindBar
from ...widgets.message_box import MessageBox
from ...widgets.po_list import PoList
from ...widgets.session_bar import SessionBar
from ...widgets.status_bar import StatusBar
from .attention import Attention
from .find_filter import FindFilter
from .reply_stream import ReplyStream
from .session_actions import SessionActions

FALLBACK_PO = "assistant"  # shown in an empty environment; a bare PO with the default responder
NARROW, MEDIUM = 60, 90  # terminal widths (cells) below which the PO column hides / thins


class MainScreen(SessionActions, FindFilter, ReplyStream, Attention):
    """The layout, the keys (DESIGN section 8) and start-up; each responsibility is a base class."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # S, N and E are priority keys (letters in a text box): the modal they open is on
        # screen before the next key is handled, so keys typed right after them go to it and
        # never reach this screen's own keys (the q of "quick notes" would quit)
        Binding("S", "key('picker')", "Sessions", priority=True),
        Binding("N", "key('new_session')", "New", priority=True),
        Binding("E", "key('explorer')", "Explorer", priority=True),
        Binding("i", "type", "Type", show=False, priority=True),
        Binding("enter", "type", "Type", show=False),
        Binding("left_square_bracket", "step(-1)", "Previous session", show=False),
        Binding("right_square_bracket", "step(1)", "Next session", show=False),
        Binding("ctrl+pageup", "step(-1)", "Previous session", show=False, priority=True),
        Binding("ctrl+pagedown", "step(1)", "Next session", show=False, priority=True),
        Binding("w", "close_session", "Close session", show=False),
        Binding("f", "find('find')", "Find", show=False),
        Binding("F", "find('filter')", "Filter", show=False),
        Binding("escape", "leave_box", show=False, priority=True),
        Binding("escape", "nothing", show=False),
        Binding("q", "quit", "Quit"),
        Binding("f1", "help", "Help", show=False, priority=True),
        Binding("question_mark", "help", "Help", show=False),
        Binding("ctrl+c", "cancel_reply", "Cancel reply", priority=True, show=False),
        Binding("ctrl+r", "retry", "Retry reply", priority=True, show=False),
    ]

    def compose(self) -> ComposeResult:
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield PoList(id="pos")
                yield SessionBar(id="open-sessions")
            with Vertical(id="main"):
                yield FindBar(id="find")
                # a kept conversation holds its session's messages: no more than the runtime keeps
                yield ConversationDeck(
                    keep=min(KEEP, self.coord.settings.max_loaded), id="conversations"
                )
                yield MessageBox(
                    id="message-box",
                    placeholder="Message (Enter sends, shift+Enter new line, /help)",
                )
        yield StatusBar(id="status")

    def on_resize(self, event: events.Resize) -> None:
        width = event.size.width
        narrow = width < NARROW
        self.set_class(narrow, "-narrow")
        self.set_class(NARROW <= width < MEDIUM, "-medium")
        if narrow and isinstance(self.focused, PoList | SessionBar):
            self.message_box.focus()  # the focus must not stay in a hidden column
        self.refresh_status()

    def on_mount(self) -> None:
        ctx = self.tui.ctx
        self.router = CommandRouter.from_host(ctx.host)
        self.frontend = TuiFrontend(self)
        self.sidebar.border_title = "Open"
        names = ctx.po_names() or [FALLBACK_PO]
        restored = self.coord.restore_workspace()
        if restored is not None:
            start = restored.po_name
        else:
            recent = ctx.manager.list()
            start = recent[0].po_name if recent and recent[0].po_name in names else names[0]
        pos = self.query_one(PoList)
        pos.border_title = "POs"
        pos.set_pos(names if start in names else ctx.po_names() or [start], start)
        if restored is not None:
            self.show(restored.po_name, restored.session_id)
        else:
            self.show_po(start)
        self.message_box.focus()
