"""A delegation in the caller's conversation: one foldable line ``-> researcher: <message>``.

Enter opens the delegation session (DESIGN section 11); space or a click unfolds the whole
message sent. The line posts :class:`DelegationLine.Open`; the screen finds the session.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.message import Message as TextualMessage
from textual.widgets import Static

from ...text import visible

LINE_CHARS = 72  # of the message, on the folded line


class DelegationLine(Static, can_focus=True):
    DEFAULT_CSS = """
    DelegationLine { height: auto; color: $text-muted; }
    DelegationLine:focus { background: $boost; color: $text; }
    """
    BINDINGS = [
        Binding("enter", "open", "Open delegation"),
        Binding("space", "fold", "Fold", show=False),
    ]

    class Open(TextualMessage):
        """Open the delegation session of ``po_name`` under the shown session."""

        def __init__(self, po_name: str) -> None:
            super().__init__()
            self.po_name = po_name

    def __init__(self, call: dict[str, Any]) -> None:
        super().__init__()
        self.po_name = str(call["name"])
        self.message = str(call["arguments"]["message"])
        self.unfolded = False

    def on_mount(self) -> None:
        self._draw()

    def _draw(self) -> None:
        flat = " ".join(self.message.split())
        po = visible(self.po_name, one_line=True)
        if self.unfolded:
            text = Text(f"▾ -> {po}: ", style="bold")
            text.append(visible(self.message), style="")
        else:
            short = flat if len(flat) <= LINE_CHARS else flat[: LINE_CHARS - 1] + "…"
            text = Text(f"▸ -> {po}: ", style="bold")
            text.append(visible(short, one_line=True))
        self.update(text)

    def action_open(self) -> None:
        self.post_message(self.Open(self.po_name))

    def action_fold(self) -> None:
        self.unfolded = not self.unfolded
        self._draw()

    def on_click(self) -> None:
        self.action_fold()
