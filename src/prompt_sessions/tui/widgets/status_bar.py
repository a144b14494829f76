"""The status bar: the shown session, its size, what is happening, and the key hints."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

HINTS = "S sessions  N new  E explorer  [ ] prev/next  i type  ^p palette  q quit"
"""The keys that work outside the message box (DESIGN section 8)."""


class StatusBar(Static):
    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $text; padding: 0 1; }
    """

    def show(self, name: str, messages: int, state: str = "", hints: str = HINTS) -> None:
        """``hints``: the keys that work where the focus is (the screen chooses them)."""
        text = Text.assemble(
            ("Session: ", "bold"), name, f" ({messages} msg{'' if messages == 1 else 's'})"
        )
        if state:
            text.append(f"  {state}", style="italic")
        text.append("  │  ", style="dim")
        text.append(hints, style="dim")
        self.update(text)
