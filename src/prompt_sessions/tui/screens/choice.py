"""Pick one of a few named choices (an export format, say)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from ...text import visible
from ..widgets.hint_line import HintLine


class ChoiceScreen(ModalScreen[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    ChoiceScreen { align: center middle; }
    ChoiceScreen > Vertical {
        width: 50; max-width: 100%; height: auto; max-height: 80%;
        border: thick $accent; background: $surface; padding: 1 2;
    }
    ChoiceScreen OptionList { height: auto; max-height: 20; }
    """

    def __init__(
        self, title: str, choices: list[tuple[str, str]], default: str | None = None
    ) -> None:
        """``choices`` are ``(value, label)`` pairs; the one whose value is ``default`` (else
        the first) is highlighted, so Enter alone takes it."""
        super().__init__()
        self.title_text = title
        self.choices = choices
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(visible(self.title_text)))
            yield OptionList(
                *[
                    Option(Text(visible(label, one_line=True)), id=value)
                    for value, label in self.choices
                ]
            )
            # like every other dialog, it names its keys (DESIGN section 8)
            yield HintLine(("↑↓ choose", "Enter accept", "Esc cancel"), classes="hint")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        values = [value for value, _ in self.choices]
        if self.default in values:
            options.highlighted = values.index(self.default)
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
