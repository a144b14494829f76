"""What the one-line prompts share (a name, tags): a title, an input with a default, an error
line, OK and Cancel; Enter or OK accepts, Esc or Cancel answers None."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, TypeVar

from rich.text import Text
from textual import events
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.await_complete import AwaitComplete
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, TextArea

from ...errors import PromptSessionsError
from ...text import visible
from ..widgets.hint_line import HintLine
from ..widgets.key_order import run_own_binding
from .dialog import Dialog

T = TypeVar("T")


class PromptInput(Input):
    """A prompt's input. Once its prompt has answered and taken the person elsewhere (a
    landing), keys still queued here (typed at once after Enter) are handed to the app, so
    they reach the text box that has the focus now, in the order they were typed. Where the
    focus is not in a text box (the landing failed), they are dropped: keys typed as text
    never act as key commands (DESIGN section 8).

    A box that stays on its screen (the picker's filter and rename boxes) sets
    ``follows_focus``: keys that reach it once it has lost the focus (typed at once after its
    Enter) go wherever the focus is now, key commands included, as they would have had the
    person paused after Enter."""

    hand_on = False
    follows_focus = False

    @property
    def handing_on(self) -> bool:
        """Whether a key reaching the box now is handed on rather than typed into it."""
        return self.app.focused is not self if self.follows_focus else self.hand_on

    async def _on_key(self, event: events.Key) -> None:
        if not self.handing_on:
            if not await run_own_binding(self, event):  # Backspace, arrows: in the order typed
                await super()._on_key(event)
            return
        event.stop()
        event.prevent_default()
        if self.follows_focus or isinstance(self.app.focused, Input | TextArea):
            self.app.post_message(events.Key(event.key, event.character))


class TextPrompt(Dialog[T | None]):
    """Subclasses give the input (:meth:`make_input`) and ``check``: what was typed to the
    answer, raising a :class:`~prompt_sessions.errors.PromptSessionsError` that says why it
    cannot be accepted (shown in the dialog, which stays open)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        # Enter in the input is taken in its place among the keys typed at once: after the
        # letters before it, before those after it (which would otherwise join the answer)
        Binding("enter", "accept_typed", "Accept", show=False, priority=True),
    ]
    DEFAULT_CSS = """
    TextPrompt { align: center middle; }
    TextPrompt > Vertical {
        width: 64; max-width: 100%; height: auto; max-height: 100%;
        border: thick $accent; background: $surface; padding: 1 2;
    }
    TextPrompt #buttons { height: auto; align-horizontal: right; }
    TextPrompt Button { margin-left: 2; min-width: 8; }
    TextPrompt.-small > Vertical { padding: 0 1; border: round $accent; }
    TextPrompt.-small .hint { display: none; }
    TextPrompt #error { color: $error; height: auto; }
    """

    def __init__(self, title: str, default: str, check: Callable[[str], T]) -> None:
        super().__init__()
        self.title_text = title
        self.default = default
        self.check = check

    def make_input(self) -> PromptInput:
        """The input, holding ``self.default``."""
        return PromptInput(value=self.default)

    def dismiss(self, result: T | None = None) -> AwaitComplete:
        if result is not None and self.landing is not None:
            for box in self.query(PromptInput).results():
                box.hand_on = True
        return super().dismiss(result)

    def accept(self, value: str) -> None:
        """Dismiss with the answer for ``value``, or say in the dialog why it is refused."""
        try:
            answer = self.check(value)
        except PromptSessionsError as exc:
            self.query_one("#error", Label).update(Text(visible(str(exc))))
            return
        self.dismiss(answer)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(visible(self.title_text)))
            yield self.make_input()
            yield Label("", id="error")
            with Horizontal(id="buttons"):
                yield Button("OK", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")
            yield HintLine(("Enter accept", "Esc cancel"), classes="hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def action_accept_typed(self) -> None:
        """Enter in the input: accept once the keys typed before it are in (they wait in the
        input's queue); the keys typed after it reach a closed prompt. Elsewhere (a button)
        Enter is the focused widget's."""
        box = self.query_one(Input)
        if self.focused is not box:
            raise SkipAction()
        box.call_later(self._accept_typed)

    def _accept_typed(self) -> None:
        box = self.query_one(Input)
        if self.is_current:  # not cancelled or answered meanwhile
            self.accept(box.value)
        elif isinstance(box, PromptInput) and box.handing_on:
            # a second Enter typed at once, after the answer: it is the new focus's Enter
            box.post_message(events.Key("enter", "\r"))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.accept(event.value)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "ok":
            self.accept(self.query_one(Input).value)
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
