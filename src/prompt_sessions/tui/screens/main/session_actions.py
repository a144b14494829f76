"""The session keys and their modals: picker, new, explorer, previous/next, close, rename."""

from __future__ import annotations

from collections.abc import Callable

from textual.actions import SkipAction
from textual.widgets import Input, TextArea

from ....commands import actions
from ....errors import PromptSessionsError
from ...name_notes import notify_name_clash
from ..confirm import ConfirmScreen
from ..explorer import ExplorerScreen
from ..landing import opened_to_land
from ..name_prompt import NamePrompt
from ..picker import SessionPicker
from .composer import Composer

# The keys of DESIGN section 8, for F1 (the status bar shows those that work where focus is).
KEYS_HELP = "\n".join(
    [
        "Keys: Enter sends, shift+Enter (or ctrl+j) starts a new line",
        "Esc leaves the message box, i or Enter returns to it",
        "S sessions (picker), N new session, E explorer, [ ] previous / next session, w close it",
        "f find, F filter, Tab the PO list, ctrl+c cancel the reply, ctrl+r run it again",
        "ctrl+p command palette, F1 this help, q quit (outside the message box)",
    ]
)


class SessionActions(Composer):
    def action_nothing(self) -> None:
        """Esc outside the message box is harmless."""

    # ``i`` and Esc are priority keys: each moves the focus before the next key is handled,
    # so keys typed right after them (a fast typist, a slow link) go where the person meant:
    # text after ``i``, key commands after Esc (DESIGN section 8). A plain binding would act
    # only once the key had bubbled up, after the keys behind it went to the old focus.

    def _letters_typed(self) -> None:
        """A key command's letter typed in a text field is text: the binding steps aside."""
        if isinstance(self.focused, Input | TextArea):
            raise SkipAction()

    def action_key(self, action: str) -> None:
        """``S``, ``N`` or ``E`` outside a text field: the ``action`` they name (``picker``,
        ``new_session``, ``explorer``)."""
        self._letters_typed()
        getattr(self, f"action_{action}")()

    def action_type(self) -> None:
        """``i`` (or Enter outside the box): type in the message box. Typed in a text field,
        ``i`` is a letter like any other."""
        self._letters_typed()
        self.set_focus(self.message_box)

    def action_help(self) -> None:
        """F1 anywhere, ``?`` outside a text field: the slash commands ``/help`` lists, then
        the keys, as notes in the conversation."""
        if self.run_command("/help"):
            self.conversation.note(KEYS_HELP)

    def action_leave_box(self) -> None:
        """Esc in the message box: leave it for the conversation, where single letters are
        key commands. Elsewhere Esc does what the focused widget makes of it."""
        if self.focused is not self.message_box:
            raise SkipAction()
        self.set_focus(self.conversation)

    def action_cancel_reply(self) -> None:
        if self.session_id is not None and self.coord.cancel(self.session_id):
            self.notify("Reply cancelled")

    async def action_quit(self) -> None:
        self.save_view()
        await self.tui.shutdown()
        self.app.exit()

    def action_step(self, step: int) -> None:
        """Move to the previous or next open session (in the order the sidebar lists them);
        with no other session open, to the PO's previous or next session (in the picker's
        order), so the keys follow what is on screen."""
        lives = self.sidebar.ordered(self.coord.open_sessions())
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

    def action_picker(self) -> None:
        known = self.coord.known_sessions(self.po_name, keep=self.session_id)
        picker = SessionPicker(self.tui.ctx, self.po_name, self.session_id, self.tui.clock, known)

        def landed(session_id: str | None) -> None:
            # an orphaned session listed there may belong to another PO
            if session_id is not None:
                self.land_on(picker.po_of(session_id), session_id)

        def closed(session_id: str | None) -> None:
            if session_id is not None:
                return  # shown as it was chosen (``landed``)
            if (current := picker.current_id) is not None and current != self.session_id:
                # a delete (or its undo) there changed the PO's current session: show it
                self.switch_to(self.po_name, current)
            else:
                self.reload()  # the picker may have renamed or deleted sessions

        self.app.push_screen(opened_to_land(picker, landed), closed)

    def action_new_session(self) -> None:
        manager = self.tui.ctx.manager

        def named(name: str | None) -> None:
            # run as the name is accepted (a landing, not a result callback): the keys typed
            # right after Enter are handed on to the new session's box, so it must be shown
            # (its empty draft in the box) before they arrive
            if name is None:
                return
            try:
                session = actions.new_session(manager, self.po_name, name)
            except PromptSessionsError as exc:
                self.notify(str(exc), title=exc.title, severity="error")
            else:
                self.show(self.po_name, session.id)
                notify_name_clash(self, manager, [session])
            self.land_now()

        prompt = NamePrompt(
            f"New session for {self.po_name}", actions.auto_name(manager, self.po_name)
        )
        self.app.push_screen(opened_to_land(prompt, named))

    def action_explorer(self) -> None:
        def landed(choice: tuple[str, str, int | None] | None) -> None:
            if choice is not None:
                po_name, session_id, index = choice
                self.land_on(po_name, session_id, at=index)

        def closed(choice: tuple[str, str, int | None] | None) -> None:
            if choice is None:
                self.reload()

        self.app.push_screen(
            opened_to_land(
                ExplorerScreen(self.tui.ctx, self.tui.clock, self.tui.export_dir, self.po_name),
                landed,
            ),
            closed,
        )

    def action_rename(self) -> None:
        def named(name: str | None) -> None:
            if name is not None:
                self.run_command_args(["session", "rename", name])

        self.app.push_screen(NamePrompt("Rename session", self.session_name), named)

    def action_delete(self) -> None:
        self.run_command("/session delete")

    def confirm(self, question: str, on_yes: Callable[[], None]) -> None:
        """Ask a yes/no question in a modal; ``on_yes`` runs only for yes."""

        def answered(yes: bool | None) -> None:
            if yes:
                on_yes()

        self.app.push_screen(ConfirmScreen(question), answered)
