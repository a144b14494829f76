"""Which session is on screen: showing one, keeping its view state, catching up after changes."""

from __future__ import annotations

from textual import on
from textual.widgets import OptionList

from ....errors import PromptSessionsError, SessionNotFound
from ....models import DEFAULT_SESSION_NAME
from ....runtime import LiveSession
from ...widgets.conversation import Conversation
from ...widgets.delegation_line import DelegationLine
from ...widgets.po_list import PoList
from ...widgets.session_bar import SessionBar
from .status_hints import StatusHints


class ShownSession(StatusHints):
    def show_po(self, po_name: str) -> None:
        """Show a PO's current session without creating one."""
        found = self.tui.ctx.manager.peek_current(po_name)
        self.show(po_name, found.id if found else None)

    def show(
        self, po_name: str, session_id: str | None, *, at: int | None = None, rebuild: bool = False
    ) -> None:
        """Show one session (None: the PO has none yet, nothing is created).

        The session joins the runtime's open sessions; the view of the one left (draft and
        scroll position) is kept in its ``LiveSession.view`` and given back on return.
        """
        leaving = self.session_id
        if leaving is not None and leaving != session_id:
            self.save_view()
            self.find_bar.remove_class("-shown")  # the bar belongs to the session left
            self._match = None
        live: LiveSession | None = None
        if session_id is not None:
            try:
                live = self.coord.open(session_id)
                self.coord.show(session_id)
                live.session  # noqa: B018 - read now, so that a damaged file is reported here
            except PromptSessionsError as exc:
                self.notify(str(exc), title=exc.title, severity="error")
                live, session_id = None, None
        if live is None:
            self.coord.show(None)
        self.po_name, self.session_id = po_name, session_id
        self.session_name = live.name if live else DEFAULT_SESSION_NAME
        self.message_count = live.message_count if live else 0
        self.draw(live, at=at, rebuild=rebuild)
        pos = self.query_one(PoList)
        if po_name not in pos.names:
            pos.set_pos(self.tui.ctx.po_names(), po_name)
        elif pos.highlighted is None or pos.names[pos.highlighted] != po_name:
            with pos.prevent(OptionList.OptionHighlighted):
                pos.highlighted = pos.names.index(po_name)
        if leaving != session_id:
            self.restore_view(live, follow=at is None)
        self.sidebar.rebuild(self.coord.open_sessions(), session_id)
        self.refresh_labels()

    def list_new_pos(self) -> None:
        """Add to the PO list the POs whose first session another process made (DESIGN section
        8: POs that only have sessions are listed, and other processes' changes show), from the
        catalog as the last sync read it; the highlighted PO stays."""
        pos = self.query_one(PoList)
        listed = pos.names
        new = []
        for summary in self.coord.known_sessions() or ():
            if summary.po_name not in listed and summary.po_name not in new:
                new.append(summary.po_name)
        if new:
            with pos.prevent(OptionList.OptionHighlighted):
                pos.set_pos(listed + new, self.po_name)

    def switch_to(
        self, po_name: str, session_id: str, *, at: int | None = None, land: bool = False
    ) -> None:
        """Make a session its PO's current one and show it (errors are shown, not raised).

        ``land``: the person chose this session (picker, explorer, palette, sidebar), so the
        message box takes focus and what they type next is a message, never a key command.
        """
        try:
            self.tui.ctx.manager.switch(po_name, session_id)
        except PromptSessionsError as exc:
            self.notify(str(exc), title=exc.title, severity="error")
            return
        self.show(po_name, session_id, at=at)
        if land:
            self.land()

    def land(self) -> None:
        """Put focus in the message box after an action that brought the person to a
        conversation (DESIGN section 8: single-letter keys never fire while typing). Done once
        what is on screen now (the command palette, say) has closed."""
        self.message_box.focus()

    def land_now(self, choice: object = None) -> None:
        """Put focus in the message box at once, as a modal closes with ``choice``
        (``LandingModal``): the keys queued behind the choosing key must find it there."""
        self.set_focus(self.message_box)

    def land_on(self, po_name: str, session_id: str, *, at: int | None = None) -> None:
        """Show the chosen session and put focus in its message box at once, as a modal
        closes with that choice (``LandingModal``): the keys queued behind the choosing key
        are typed into that session's box, after its draft is back in it."""
        self.switch_to(po_name, session_id, at=at, land=True)
        self.land_now()

    def draw(
        self, live: LiveSession | None, *, at: int | None = None, rebuild: bool = False
    ) -> Conversation:
        """Put the session's conversation on screen, through its filter, with the reply in
        progress at its end (None: the shown PO has no session yet)."""
        if live is None:
            conversation = self.deck.show(None, self.po_name, at=at, rebuild=rebuild)
        else:
            conversation = self.deck.show(
                live.session, self.po_name, at=at, rebuild=rebuild, filter=live.view.filter
            )
        if live is not None and live.status.busy:
            conversation.set_stream(self.po_name, live.buffer, self.stream_note(live))
        else:
            conversation.end_stream()
        return conversation

    def save_view(self) -> None:
        """Keep the draft and the scroll position of the shown session in its view state.

        ``scroll_y`` holds how far above the end the conversation was scrolled, so 0 (the
        default) follows the end, and a view returned to after new messages still sits where
        it was relative to the messages below it.
        """
        live = self.live
        if live is None:
            return
        conversation = self.conversation
        live.view.draft = self.message_box.text
        live.view.scroll_y = max(0.0, float(conversation.max_scroll_y - conversation.scroll_y))

    def restore_view(self, live: LiveSession | None, *, follow: bool = True) -> None:
        box = self.message_box
        draft = live.view.draft if live else ""
        if box.text != draft:
            box.text = draft
            box.move_cursor(box.document.end)
        if live is None or not follow or live.view.scroll_y <= 0:
            return
        above_end = live.view.scroll_y
        conversation = self.conversation

        def scroll_back() -> None:
            target = max(0.0, conversation.max_scroll_y - above_end)
            conversation.scroll_to(y=target, animate=False, immediate=True)

        conversation.call_after_refresh(scroll_back)

    def reload(self) -> None:
        """Re-read the shown session (after a change made elsewhere)."""
        self.reconcile()
        if self.session_id is not None:
            try:
                self.tui.ctx.manager.get(self.session_id)
            except SessionNotFound:
                self.show_po(self.po_name)
                return
        self.show(self.po_name, self.session_id)

    def reconcile(self) -> None:
        """After a command or a modal changed the store here: close open sessions deleted here,
        take new names at once, and let the runtime catch up with the rest."""
        manager = self.tui.ctx.manager
        summaries = {s.id: s for s in manager.list()}
        damaged = manager.problems()
        for live in self.coord.open_sessions():
            if live.session_id not in summaries and live.session_id not in damaged:
                if live.session_id == self.session_id:
                    self.coord.show(None)
                self.coord.close_session(live.session_id)
        shown = summaries.get(self.session_id or "")
        if shown is not None and shown.name != self.session_name:
            self.session_name = shown.name
            self.refresh_labels()
        self.run_worker(self.coord.refresh(), group="sync", exit_on_error=False)

    # -------------------------------------------------------------- the PO list and the sidebar

    @on(OptionList.OptionHighlighted, "#pos")
    def po_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        name = str(event.option.id)
        if name != self.po_name:
            self.show_po(name)

    @on(OptionList.OptionSelected, "#pos")
    def po_selected(self, event: OptionList.OptionSelected) -> None:
        self.message_box.focus()

    @on(SessionBar.Chosen)
    def open_session_chosen(self, event: SessionBar.Chosen) -> None:
        live = self.coord.get(event.session_id)
        if live is not None and live.session_id != self.session_id:
            self.switch_to(live.po_name, live.session_id, land=True)

    @on(DelegationLine.Open)
    def open_delegation(self, event: DelegationLine.Open) -> None:
        """Enter on a delegation line: show the called PO's session under this one."""
        found = [
            s
            for s in self.tui.ctx.manager.list(event.po_name)
            if s.thread_type == "delegation" and s.parent_id == self.session_id
        ]
        if not found:
            self.notify(f"{event.po_name} has no delegation session here yet", severity="warning")
            return
        self.show(event.po_name, found[0].id)  # a look, not a choice of current session
