"""The main screen: POs on the left, the conversation, the message box and the status bar."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Input, OptionList

from ...commands import CommandContext, CommandRouter, actions
from ...errors import PromptSessionsError, SessionNotFound
from ...models import DEFAULT_SESSION_NAME
from ...runtime import Coordinator, LiveSession, Status, status_label
from ...runtime import events as rt
from ...text import counted
from ..bridge import TuiFrontend
from ..messages import ChunksArrived, RuntimeUpdate
from ..widgets.conversation import Conversation, matches
from ..widgets.conversation_deck import KEEP, ConversationDeck
from ..widgets.delegation_line import DelegationLine
from ..widgets.find_bar import FindBar
from ..widgets.message_box import MessageBox
from ..widgets.po_list import PoList
from ..widgets.session_bar import SessionBar
from ..widgets.status_bar import StatusBar
from .confirm import ConfirmScreen
from .explorer import ExplorerScreen
from .name_prompt import NamePrompt
from .picker import SessionPicker

if TYPE_CHECKING:
    from ..app import PromptSessionsApp


STREAM_EVERY = 0.05  # seconds between redraws of the shown reply in progress
FALLBACK_PO = "assistant"  # shown in an empty environment; a bare PO with the default responder


class MainScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("S", "picker", "Sessions"),
        Binding("N", "new_session", "New"),
        Binding("E", "explorer", "Explorer"),
        Binding("i,enter", "type", "Type", show=False),
        Binding("left_square_bracket", "step(-1)", "Previous session", show=False),
        Binding("right_square_bracket", "step(1)", "Next session", show=False),
        Binding("ctrl+pageup", "step(-1)", "Previous session", show=False, priority=True),
        Binding("ctrl+pagedown", "step(1)", "Next session", show=False, priority=True),
        Binding("w", "close_session", "Close session", show=False),
        Binding("f", "find('find')", "Find", show=False),
        Binding("F", "find('filter')", "Filter", show=False),
        Binding("escape", "nothing", show=False),
        Binding("q", "quit", "Quit"),
        Binding("ctrl+c", "cancel_reply", "Cancel reply", priority=True, show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.po_name = ""
        self.session_id: str | None = None
        self.session_name = ""
        self.message_count = 0
        self._stream_cooling = False
        self._stream_dirty = False
        self._match: int | None = None  # the message the last find jumped to

    @property
    def tui(self) -> PromptSessionsApp:
        return self.app  # type: ignore[return-value]

    @property
    def coord(self) -> Coordinator:
        return self.tui.coord

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

    def on_mount(self) -> None:
        ctx = self.tui.ctx
        self.router = CommandRouter.from_host(ctx.host)
        self.frontend = TuiFrontend(self)
        self.query_one(SessionBar).border_title = "Open"
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
        box = self.query_one(MessageBox)
        box.cursor_blink = self.tui.cursor_blink
        box.focus()

    # -------------------------------------------------------------- what is shown

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
    def live(self) -> LiveSession | None:
        """The shown session as the runtime holds it (None: the PO has none yet)."""
        return self.coord.get(self.session_id) if self.session_id else None

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
        live.view.draft = self.query_one(MessageBox).text
        live.view.scroll_y = max(0.0, float(conversation.max_scroll_y - conversation.scroll_y))

    def restore_view(self, live: LiveSession | None, *, follow: bool = True) -> None:
        box = self.query_one(MessageBox)
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

    # -------------------------------------------------------------- PO list

    @on(OptionList.OptionHighlighted, "#pos")
    def po_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        name = str(event.option.id)
        if name != self.po_name:
            self.show_po(name)

    @on(OptionList.OptionSelected, "#pos")
    def po_selected(self, event: OptionList.OptionSelected) -> None:
        self.query_one(MessageBox).focus()

    @on(SessionBar.Chosen)
    def open_session_chosen(self, event: SessionBar.Chosen) -> None:
        live = self.coord.get(event.session_id)
        if live is not None and live.session_id != self.session_id:
            self.switch_to(live.po_name, live.session_id)

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

    # -------------------------------------------------------------- typing

    @on(MessageBox.Left)
    def leave_box(self) -> None:
        self.conversation.focus()

    @on(MessageBox.Submitted)
    async def submitted(self, event: MessageBox.Submitted) -> None:
        text = event.text
        if CommandRouter.is_command(text):
            self.run_command(text.strip())
            return
        if text.lstrip().startswith("//"):
            text = text.replace("/", "", 1)  # //text sends /text
        if not await self.send(text):
            box = self.query_one(MessageBox)
            if not box.text:  # nothing typed since: give the text back
                box.text = event.text
                box.move_cursor(box.document.end)

    def run_command(self, line: str) -> None:
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

    # -------------------------------------------------------------- runtime events

    def on_runtime_update(self, update: RuntimeUpdate) -> None:
        event = update.event
        handler = getattr(self, f"_on_{type(event).__name__}", None)
        if handler is not None:
            handler(event)

    def on_chunks_arrived(self, _: ChunksArrived) -> None:
        for session_id in self.tui.link.take_chunked():
            self.sidebar.preview_changed(session_id)
            if session_id == self.session_id:
                self.stream_changed()

    def stream_changed(self) -> None:
        """Draw the shown reply in progress now, then at most every ``STREAM_EVERY`` seconds."""
        if self._stream_cooling:
            self._stream_dirty = True
            return
        self._draw_stream()
        self._stream_cooling = True
        self.set_timer(STREAM_EVERY, self._stream_cooled)

    def _stream_cooled(self) -> None:
        self._stream_cooling = False
        if self._stream_dirty:
            self._stream_dirty = False
            self.stream_changed()

    def _draw_stream(self) -> None:
        live = self.live
        if live is not None and live.status.busy:  # a reply stored since has ended its stream
            self.conversation.set_stream(self.po_name, live.buffer, self.stream_note(live))

    def _on_StatusChanged(self, event: rt.StatusChanged) -> None:
        self.sidebar.update_row(event.session_id)
        live = self.coord.get(event.session_id)
        if event.session_id != self.session_id or live is None:
            return
        if live.status.busy:
            self.conversation.set_stream(self.po_name, live.buffer, self.stream_note(live))
        else:
            self.conversation.end_stream()
        self.refresh_labels()

    def _on_MessageAdded(self, event: rt.MessageAdded) -> None:
        self.sidebar.update_row(event.session_id)
        if event.session_id != self.session_id:
            return
        conversation = self.conversation
        if event.index < conversation.seen:
            return  # already shown (the view was drawn after it was stored)
        if not event.external and event.message.role == "assistant":
            conversation.end_stream()
        conversation.add_message(event.message)
        live = self.live
        self.message_count = live.message_count if live else self.message_count + 1
        self.refresh_labels()

    def _on_ReplyFinished(self, event: rt.ReplyFinished) -> None:
        live = self.coord.get(event.session_id)
        if event.background and live is not None and event.session_id != self.session_id:
            self.notify(
                f"Reply finished in '{live.name}' ({live.po_name})",
                title="Background reply",
                markup=False,
            )

    def _on_ReplyFailed(self, event: rt.ReplyFailed) -> None:
        live = self.coord.get(event.session_id)
        if event.session_id == self.session_id:
            self.notify(event.error, title="Reply failed", severity="error", markup=False)
            self.conversation.end_stream()
            self.conversation.note(f"Reply failed: {event.error}", error=True)
        elif live is not None:
            self.notify(
                event.error, title=f"Reply failed in '{live.name}'", severity="error", markup=False
            )

    def _on_ReplyCancelled(self, event: rt.ReplyCancelled) -> None:
        if event.session_id == self.session_id:
            self.conversation.end_stream()
            self.refresh_labels()

    def _on_SessionChanged(self, event: rt.SessionChanged) -> None:
        self.sidebar.update_row(event.session_id)
        live = self.coord.get(event.session_id)
        if event.session_id != self.session_id or live is None:
            return
        if event.what == "name":
            self.session_name = live.name
            self.refresh_labels()
        elif event.what == "history":
            self.show(self.po_name, self.session_id, rebuild=True)

    def _on_SessionOpened(self, event: rt.SessionOpened) -> None:
        self.sidebar.rebuild(self.coord.open_sessions(), self.session_id)

    def _on_SessionRemoved(self, event: rt.SessionRemoved) -> None:
        if event.deleted:
            self.notify(
                f"Session '{event.name}' ({event.po_name}) was deleted by another program",
                title="Session deleted",
                severity="warning",
                markup=False,
            )
        if event.session_id == self.session_id:
            rest = self.coord.open_sessions()
            if rest:
                self.switch_to(rest[-1].po_name, rest[-1].session_id)
            else:
                self.session_id = None
                self.show_po(self.po_name)
        else:
            self.sidebar.rebuild(self.coord.open_sessions(), self.session_id)
        self.deck.drop(event.session_id)

    # -------------------------------------------------------------- find and filter

    @property
    def find_bar(self) -> FindBar:
        return self.query_one(FindBar)

    def action_find(self, mode: str) -> None:
        """``f`` finds text in the shown session, ``F`` filters it; both are kept per session."""
        live = self.live
        if live is None:
            self.notify("Nothing to search yet: this PO has no session")
            return
        self._match = None
        if mode == "filter":
            self.find_bar.open("filter", live.view.filter)
        else:
            self.find_bar.open("find", live.view.search)
        self.describe_find()

    @on(Input.Changed, "#find")
    def find_changed(self, event: Input.Changed) -> None:
        live = self.live
        if live is None:
            return
        if self.find_bar.mode == "filter":
            live.view.filter = event.value
            self.apply_filter()
        else:
            live.view.search = event.value
            self._match = None
        self.describe_find()

    @on(Input.Submitted, "#find")
    def find_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.find_bar.mode == "find":
            self.next_match()
        else:
            self.find_bar.action_put_away()

    @on(FindBar.PutAway)
    def find_put_away(self) -> None:
        self.conversation.focus()

    def apply_filter(self) -> None:
        self.draw(self.live)
        self.refresh_labels()

    def search_hits(self) -> list[int]:
        live = self.live
        if live is None or not live.view.search:
            return []
        return [i for i, m in enumerate(live.history) if matches(m, live.view.search)]

    def next_match(self) -> None:
        """Jump to the next older message containing the find text, wrapping round to the newest."""
        hits = self.search_hits()
        live = self.live
        if not hits or live is None:
            self.notify("No message contains that", severity="warning")
            return
        older = [i for i in hits if self._match is None or i < self._match]
        self._match = older[-1] if older else hits[-1]
        position = self._match
        conversation = self.draw(live, at=position)

        def mark() -> None:
            for view in conversation.query(".-match"):
                view.remove_class("-match")
            found = conversation.view_of(position)
            if found is not None:
                found.add_class("-match")
                conversation.scroll_to_widget(found, animate=False, top=True, immediate=True)

        conversation.call_after_refresh(mark)
        self.describe_find(hits)

    def describe_find(self, hits: list[int] | None = None) -> None:
        bar, live = self.find_bar, self.live
        if live is None:
            return
        if bar.mode == "filter":
            shown = len(self.conversation.history)
            bar.border_title = (
                f"Filter: {shown} of {counted(live.message_count, 'message')}"
                if live.view.filter
                else "Filter"
            )
            return
        if not live.view.search:
            bar.border_title = "Find"
            return
        hits = self.search_hits() if hits is None else hits
        if self._match in hits:
            bar.border_title = f"Find: match {hits.index(self._match) + 1} of {len(hits)}"
        else:
            bar.border_title = f"Find: {len(hits)} match{'' if len(hits) == 1 else 'es'}"

    # -------------------------------------------------------------- actions

    def action_nothing(self) -> None:
        """Esc outside the message box is harmless."""

    def action_type(self) -> None:
        self.query_one(MessageBox).focus()

    def action_cancel_reply(self) -> None:
        if self.session_id is not None and self.coord.cancel(self.session_id):
            self.notify("Reply cancelled")

    async def action_quit(self) -> None:
        self.save_view()
        await self.tui.shutdown()
        self.app.exit()

    def action_step(self, step: int) -> None:
        """Move to the previous or next open session (in the order they were opened, as the
        sidebar lists them); with no other session open, to the PO's previous or next session
        (in the picker's order), so the keys follow what is on screen."""
        lives = self.coord.open_sessions()
        if len(lives) >= 2:
            order = [(live.po_name, live.session_id) for live in lives]
        else:
            summaries = self.tui.ctx.manager.list(self.po_name, include_archived=False)
            order = [(s.po_name, s.id) for s in summaries]
            if len(order) < 2:
                self.notify(f"{self.po_name} has no other session (N makes one)")
                return
        ids = [session_id for _, session_id in order]
        here = ids.index(self.session_id) if self.session_id in ids else (-1 if step > 0 else 0)
        po_name, session_id = order[(here + step) % len(order)]
        self.switch_to(po_name, session_id)

    def action_close_session(self) -> None:
        """Close the shown session (it stays in the store) and show the previous open one."""
        lives = self.coord.open_sessions()
        if self.session_id is None or len(lives) < 2:
            self.notify("The last open session stays open")
            return
        ids = [live.session_id for live in lives]
        closing = self.session_id
        here = ids.index(closing) if closing in ids else 0
        target = lives[here - 1] if here > 0 else lives[1]
        self.switch_to(target.po_name, target.session_id)
        if self.session_id == target.session_id:
            self.coord.close_session(closing)
            self.sidebar.rebuild(self.coord.open_sessions(), self.session_id)

    def switch_to(self, po_name: str, session_id: str, *, at: int | None = None) -> None:
        try:
            self.tui.ctx.manager.switch(po_name, session_id)
        except PromptSessionsError as exc:
            self.notify(str(exc), title=exc.title, severity="error")
            return
        self.show(po_name, session_id, at=at)

    def action_picker(self) -> None:
        def chosen(session_id: str | None) -> None:
            if session_id is not None:
                self.switch_to(self.po_name, session_id)
            else:
                self.reload()  # the picker may have renamed or deleted sessions

        known = self.coord.known_sessions(self.po_name)
        self.app.push_screen(
            SessionPicker(self.tui.ctx, self.po_name, self.session_id, self.tui.clock, known),
            chosen,
        )

    def action_new_session(self) -> None:
        manager = self.tui.ctx.manager

        def named(name: str | None) -> None:
            if name is None:
                return
            try:
                session = actions.new_session(manager, self.po_name, name)
            except PromptSessionsError as exc:
                self.notify(str(exc), title=exc.title, severity="error")
                return
            self.show(self.po_name, session.id)

        self.app.push_screen(
            NamePrompt(f"New session for {self.po_name}", actions.auto_name(manager, self.po_name)),
            named,
        )

    def action_explorer(self) -> None:
        def chosen(choice: tuple[str, str, int | None] | None) -> None:
            if choice is None:
                self.reload()
                return
            po_name, session_id, index = choice
            self.switch_to(po_name, session_id, at=index)

        self.app.push_screen(
            ExplorerScreen(self.tui.ctx, self.tui.clock, self.tui.export_dir, self.po_name), chosen
        )

    def action_rename(self) -> None:
        def named(name: str | None) -> None:
            if name is not None:
                self.run_command_args(["session", "rename", name])

        self.app.push_screen(NamePrompt("Rename session", self.session_name), named)

    def action_delete(self) -> None:
        self.run_command("/session delete")

    def run_command_args(self, words: list[str]) -> None:
        import shlex

        self.run_command("/" + shlex.join(words))

    def confirm(self, question: str, on_yes: Callable[[], None]) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                on_yes()

        self.app.push_screen(ConfirmScreen(question), answered)
