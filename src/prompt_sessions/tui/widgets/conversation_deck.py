"""The conversations of recently shown sessions, kept mounted so that switching back is instant.

Mounting a page of Markdown messages is most of what showing a session costs, so the deck keeps
one `Conversation` per recently shown session and switching only changes which one is visible.
A kept conversation catches up with messages stored while it was hidden when it is shown again.
"""

from __future__ import annotations

from collections import OrderedDict

from textual.containers import Vertical

from ...models import Session
from .conversation import Conversation

KEEP = 8  # conversations kept mounted by default; the least recently shown beyond are dropped
NO_SESSION = ""  # the key of the view of a PO that has no session yet


class ConversationDeck(Vertical):
    DEFAULT_CSS = """
    ConversationDeck { height: 1fr; }
    """

    def __init__(self, keep: int = KEEP, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.keep = max(1, keep)
        self._kept: OrderedDict[str, Conversation] = OrderedDict()
        self._shown: Conversation | None = None

    @property
    def shown(self) -> Conversation:
        if self._shown is None:  # asked before anything was shown: an empty, visible view
            self._raise(self._add(NO_SESSION))
        assert self._shown is not None
        return self._shown

    def show(
        self,
        session: Session | None,
        po_name: str,
        *,
        at: int | None = None,
        rebuild: bool = False,
        filter: str = "",
    ) -> Conversation:
        """Make ``session``'s conversation the visible one (None: a PO with no session yet).

        ``at`` opens the window at that message, ``filter`` lists only messages containing it,
        and ``rebuild`` redraws it from the session; otherwise a kept conversation is only
        brought up to date.
        """
        key = session.id if session is not None else NO_SESSION
        conversation = self._kept.get(key)
        if conversation is None:
            conversation = self._add(key)
            conversation.show(session, po_name, at=at, filter=filter)
        else:
            self._kept.move_to_end(key)
            redraw = at is not None or rebuild or key == NO_SESSION or filter != conversation.filter
            if redraw or not conversation.catch_up(session):
                conversation.show(session, po_name, at=at, filter=filter)
        self._raise(conversation)
        self._trim()
        return conversation

    def drop(self, session_id: str) -> None:
        """Forget a session's kept conversation (closed, deleted or unloaded)."""
        conversation = self._kept.get(session_id)
        if conversation is not None and conversation is not self._shown:
            del self._kept[session_id]
            conversation.remove()

    @property
    def kept(self) -> list[str]:
        return [key for key in self._kept if key != NO_SESSION]

    def _add(self, key: str) -> Conversation:
        conversation = Conversation()
        conversation.display = False
        self._kept[key] = conversation
        self.mount(conversation)
        return conversation

    def _raise(self, conversation: Conversation) -> None:
        # an inline display style, not a class: a class change restyles every message widget
        previous = self._shown
        conversation.display = True
        if previous is conversation:
            return
        # the screen's focus now (``has_focus`` follows it only once the Blur is handled)
        had_focus = previous is not None and self.screen.focused is previous
        if previous is not None:
            previous.display = False
        self._shown = conversation
        if had_focus:
            # at once, not deferred as ``focus()`` is: a focus given next (the message box's,
            # as a prompt answered lands) must not be undone by this one arriving later
            self.screen.set_focus(conversation, scroll_visible=False)

    def _trim(self) -> None:
        while len(self._kept) > self.keep:  # the shown one was moved to the end, never dropped
            _, oldest = self._kept.popitem(last=False)
            oldest.remove()
