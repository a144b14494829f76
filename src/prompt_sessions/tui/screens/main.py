"""The main screen: POs on the left, the conversation, the message box and the status bar."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import OptionList

from ...commands import CommandContext, CommandRouter, actions
from ...errors import PromptSessionsError, SessionNotFound
from ...models import DEFAULT_SESSION_NAME, Session
from ..bridge import TuiFrontend
from ..messages import ReplyChunk, ReplyFailed, ReplyFinished, ReplyStarted
from ..replies import ReplyRunner
from ..widgets.conversation import Conversation
from ..widgets.message_box import MessageBox
from ..widgets.po_list import PoList
from ..widgets.status_bar import StatusBar
from .confirm import ConfirmScreen
from .explorer import ExplorerScreen
from .name_prompt import NamePrompt
from .picker import SessionPicker

if TYPE_CHECKING:
    from ..app import PromptSessionsApp


FALLBACK_PO = "assistant"  # shown in an empty environment; a bare PO with the default responder


class MainScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("S", "picker", "Sessions"),
        Binding("N", "new_session", "New"),
        Binding("E", "explorer", "Explorer"),
        Binding("i,enter", "type", "Type", show=False),
        Binding("left_square_bracket", "step(-1)", "Previous session", show=False),
        Binding("right_square_bracket", "step(1)", "Next session", show=False),
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

    @property
    def tui(self) -> PromptSessionsApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        with Horizontal(id="body"):
            yield PoList(id="pos")
            with Vertical(id="main"):
                yield Conversation(id="conversation")
                yield MessageBox(id="message-box", placeholder="Message (Enter sends, shift+Enter new line, /help)")
        yield StatusBar(id="status")

    def on_mount(self) -> None:
        ctx = self.tui.ctx
        self.router = CommandRouter.from_host(ctx.host)
        self.replies = ReplyRunner(self.app, ctx, self)
        self.frontend = TuiFrontend(self)
        names = ctx.po_names() or [FALLBACK_PO]
        recent = ctx.manager.list()
        start = recent[0].po_name if recent and recent[0].po_name in names else names[0]
        pos = self.query_one(PoList)
        pos.border_title = "POs"
        pos.set_pos(names, start)
        self.show_po(start)
        box = self.query_one(MessageBox)
        box.cursor_blink = self.tui.cursor_blink
        box.focus()

    # -------------------------------------------------------------- what is shown

    @property
    def conversation(self) -> Conversation:
        return self.query_one(Conversation)

    def show_po(self, po_name: str) -> None:
        """Show a PO's current session without creating one."""
        found = self.tui.ctx.manager.peek_current(po_name)
        self.show(po_name, found.id if found else None)

    def show(self, po_name: str, session_id: str | None, *, at: int | None = None) -> None:
        """Show one session (None: the PO has none yet, nothing is created)."""
        session: Session | None = None
        if session_id is not None:
            try:
                session = self.tui.ctx.manager.get(session_id)
            except PromptSessionsError as exc:
                self.notify(str(exc), title=exc.title, severity="error")
                session_id = None
        self.po_name, self.session_id = po_name, session_id
        self.session_name = session.name if session else DEFAULT_SESSION_NAME
        self.message_count = len(session.history) if session else 0
        self.conversation.show(session, po_name, at=at)
        if session_id is not None and self.replies.is_streaming(session_id):
            self.conversation.begin_stream(po_name, self.replies.partial(session_id))
        pos = self.query_one(PoList)
        if po_name not in pos.names:
            pos.set_pos(self.tui.ctx.po_names(), po_name)
        elif pos.highlighted is None or pos.names[pos.highlighted] != po_name:
            with pos.prevent(OptionList.OptionHighlighted):
                pos.highlighted = pos.names.index(po_name)
        self.refresh_labels()

    def refresh_labels(self) -> None:
        self.conversation.border_title = Content(f"{self.po_name}: {self.session_name}")
        state = "streaming… (ctrl+c cancels)" if self.replies.is_streaming(self.session_id) else ""
        self.query_one(StatusBar).show(self.session_name, self.message_count, state)

    def reload(self) -> None:
        """Re-read the shown session (after a change made elsewhere)."""
        if self.session_id is not None:
            try:
                self.tui.ctx.manager.get(self.session_id)
            except SessionNotFound:
                self.show_po(self.po_name)
                return
        self.show(self.po_name, self.session_id)

    # -------------------------------------------------------------- PO list

    @on(OptionList.OptionHighlighted, "#pos")
    def po_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        name = str(event.option.id)
        if name != self.po_name:
            self.show_po(name)

    @on(OptionList.OptionSelected, "#pos")
    def po_selected(self, event: OptionList.OptionSelected) -> None:
        self.query_one(MessageBox).focus()

    # -------------------------------------------------------------- typing

    @on(MessageBox.Left)
    def leave_box(self) -> None:
        self.conversation.focus()

    @on(MessageBox.Submitted)
    def submitted(self, event: MessageBox.Submitted) -> None:
        text = event.text
        if CommandRouter.is_command(text):
            self.run_command(text.strip())
            return
        if text.lstrip().startswith("//"):
            text = text.replace("/", "", 1)  # //text sends /text
        self.send(text)

    def run_command(self, line: str) -> None:
        ctx = CommandContext(self.tui.ctx, self.po_name, self.session_id, self.frontend)
        try:
            result = self.router.run(ctx, line)
        except PromptSessionsError as exc:
            self.notify(str(exc), title=exc.title, severity="error")
            self.conversation.note(f"{line}: {exc}", error=True)
            return
        if result:
            self.conversation.note(result)

    def send(self, text: str) -> None:
        manager = self.tui.ctx.manager
        try:
            created = self.session_id is None
            sid = actions.ensure_session(manager, self.po_name, self.session_id)
            if created:
                self.show(self.po_name, sid)
            stored = self.replies.send(sid, text)
        except PromptSessionsError as exc:
            self.notify(str(exc), title=exc.title, severity="error")
            return
        self.conversation.add_message(stored)
        self.message_count += 1
        self.refresh_labels()

    # -------------------------------------------------------------- replies

    def on_reply_started(self, event: ReplyStarted) -> None:
        if event.session_id == self.session_id:
            self.conversation.begin_stream(self.po_name)
            self.refresh_labels()

    def on_reply_chunk(self, event: ReplyChunk) -> None:
        if event.session_id == self.session_id:
            self.conversation.add_chunk(event.text)

    def on_reply_finished(self, event: ReplyFinished) -> None:
        if event.session_id != self.session_id:
            return
        self.conversation.end_stream()
        if event.message is not None:
            self.conversation.add_message(event.message)
            self.message_count += 1
        elif event.cancelled:
            self.reload()  # the cut-short part, if any, was stored
        self.refresh_labels()

    def on_reply_failed(self, event: ReplyFailed) -> None:
        self.notify(event.error, title="Reply failed", severity="error")
        if event.session_id == self.session_id:
            self.reload()
            self.conversation.note(f"Reply failed: {event.error}", error=True)

    # -------------------------------------------------------------- actions

    def action_nothing(self) -> None:
        """Esc outside the message box is harmless."""

    def action_type(self) -> None:
        self.query_one(MessageBox).focus()

    def action_cancel_reply(self) -> None:
        if self.session_id is not None and self.replies.cancel(self.session_id):
            self.notify("Reply cancelled")

    async def action_quit(self) -> None:
        await self.replies.stop_all()
        self.app.exit()

    def action_step(self, step: int) -> None:
        found = actions.neighbour(self.tui.ctx.manager, self.po_name, self.session_id, step)
        if found is None or found.id == self.session_id:
            self.notify(f"{self.po_name} has no other session")
            return
        self.switch_to(self.po_name, found.id)

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

        self.app.push_screen(SessionPicker(self.tui.ctx, self.po_name, self.session_id, self.tui.clock), chosen)

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

        self.app.push_screen(NamePrompt(f"New session for {self.po_name}", actions.auto_name(manager, self.po_name)), named)

    def action_explorer(self) -> None:
        def chosen(choice: tuple[str, str, int | None] | None) -> None:
            if choice is None:
                self.reload()
                return
            po_name, session_id, index = choice
            self.switch_to(po_name, session_id, at=index)

        self.app.push_screen(ExplorerScreen(self.tui.ctx, self.tui.clock, self.tui.export_dir, self.po_name), chosen)

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

    def confirm(self, question: str, on_yes) -> None:  # type: ignore[no-untyped-def]
        def answered(yes: bool | None) -> None:
            if yes:
                on_yes()

        self.app.push_screen(ConfirmScreen(question), answered)
