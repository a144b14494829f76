"""Asks for a session name, with a default; Enter or OK accepts, Esc or Cancel cancels."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label

from ...errors import InvalidName
from ...models import NAME_MAX, clean_name
from .dialog import Dialog


class NamePrompt(Dialog[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    NamePrompt { align: center middle; }
    NamePrompt > Vertical {
        width: 64; max-width: 100%; height: auto; max-height: 100%;
        border: thick $accent; background: $surface; padding: 1 2;
    }
    NamePrompt #buttons { height: auto; align-horizontal: right; }
    NamePrompt Button { margin-left: 2; min-width: 8; }
    NamePrompt.-small > Vertical { padding: 0 1; border: round $accent; }
    NamePrompt.-small .hint { display: none; }
    NamePrompt #error { color: $error; height: auto; }
    NamePrompt .hint { color: $text-muted; }
    """

    def __init__(self, title: str, default: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self.title_text))
            yield Input(value=self.default, max_length=NAME_MAX, id="name")
            yield Label("", id="error")
            with Horizontal(id="buttons"):
                yield Button("OK", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")
            yield Label("Enter accept   Esc cancel", classes="hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.accept(event.value)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "ok":
            self.accept(self.query_one(Input).value)
        else:
            self.dismiss(None)

    def accept(self, value: str) -> None:
        """Answer with the cleaned name, or say in the dialog why it is refused."""
        try:
            name = clean_name(value)
        except InvalidName as exc:
            self.query_one("#error", Label).update(Text(str(exc)))
            return
        self.dismiss(name)

    def action_cancel(self) -> None:
        self.dismiss(None)
