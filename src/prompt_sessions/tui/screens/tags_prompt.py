"""Asks for a session's tags (DESIGN section 14, picker key ``t``): words separated by spaces;
Enter or OK accepts the whole set, Esc or Cancel leaves the tags as they were."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label

from ...errors import UsageError
from ...organise.labels import clean_tag
from .dialog import Dialog


class TagsPrompt(Dialog[list[str] | None]):
    """Dismisses with the checked tags (an empty list clears them), or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    TagsPrompt { align: center middle; }
    TagsPrompt > Vertical {
        width: 64; max-width: 100%; height: auto; max-height: 100%;
        border: thick $accent; background: $surface; padding: 1 2;
    }
    TagsPrompt #buttons { height: auto; align-horizontal: right; }
    TagsPrompt Button { margin-left: 2; min-width: 8; }
    TagsPrompt.-small > Vertical { padding: 0 1; border: round $accent; }
    TagsPrompt.-small .hint { display: none; }
    TagsPrompt #error { color: $error; height: auto; }
    TagsPrompt .hint { color: $text-muted; }
    """

    def __init__(self, title: str, tags: list[str] | None) -> None:
        super().__init__()
        self.title_text = title
        self.default = " ".join(tags or ())

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self.title_text))
            yield Input(value=self.default, placeholder="tags, separated by spaces", id="tags")
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
        """Answer with the checked tags, or say in the dialog why one is refused."""
        try:
            tags = [clean_tag(word) for word in value.split()]
        except UsageError as exc:
            self.query_one("#error", Label).update(Text(str(exc)))
            return
        self.dismiss(tags)

    def action_cancel(self) -> None:
        self.dismiss(None)
