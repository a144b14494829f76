"""The message box: multi-line; Enter sends, shift+Enter or ctrl+j adds a line, Esc leaves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import events
from textual.message import Message
from textual.widgets import TextArea

from .key_order import run_own_binding

NEWLINE_KEYS = {"shift+enter", "ctrl+j"}


class MessageBox(TextArea):
    DEFAULT_CSS = """
    MessageBox { height: auto; min-height: 3; max-height: 10; }
    """

    @dataclass
    class Submitted(Message):
        box: MessageBox
        text: str

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(soft_wrap=True, show_line_numbers=False, tab_behavior="focus", **kwargs)

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            text = self.text
            if text.strip():
                self.clear()
                self.post_message(self.Submitted(self, text))
            return
        if event.key in NEWLINE_KEYS:
            event.stop()
            event.prevent_default()
            self.insert("\n")
            return
        if await run_own_binding(self, event):  # Backspace, arrows: in the order typed
            return
        await super()._on_key(event)
