"""A yes/no question with Yes and No buttons; No is focused, so Enter alone never says yes."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label

from ...text import visible
from ..widgets.hint_line import HintLine
from .dialog import Dialog

HINTS = ("y yes", "n/Esc no", "Enter presses the highlighted button")


class ConfirmScreen(Dialog[bool]):
    """Returns True only for ``y`` or the Yes button; ``n``, Esc and the No button (focused at
    first, so Enter answers no) return False. Tab or the arrow keys move between the buttons."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # priority keys: the answer is given as the key is dispatched, so the keys typed right
        # after it (``u`` after ``d y`` undoes the delete) reach the screen below, not this one
        Binding("y", "answer(True)", "Yes", priority=True),
        Binding("n,escape", "answer(False)", "No", priority=True),
        Binding("left,right", "app.focus_previous", "Other button", show=False),
    ]
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        width: 60; max-width: 100%; height: auto; max-height: 100%;
        border: thick $error; background: $surface; padding: 1 2;
    }
    ConfirmScreen #question { width: 100%; }
    ConfirmScreen #buttons { height: auto; margin-top: 1; align-horizontal: right; }
    ConfirmScreen Button { margin-left: 2; min-width: 8; }
    ConfirmScreen .hint { margin-top: 1; }
    ConfirmScreen.-small > Vertical { padding: 0 1; border: round $error; }
    ConfirmScreen.-small #buttons { margin-top: 0; }
    ConfirmScreen.-small .hint { display: none; }
    """

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(visible(self.question)), id="question")
            with Horizontal(id="buttons"):
                yield Button("Yes", variant="error", id="yes")
                yield Button("No", variant="primary", id="no")
            yield HintLine(HINTS, max_lines=2, classes="hint")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
