"""The find bar above the conversation: ``f`` finds text (Enter jumps to the next older match),
``F`` filters the conversation to the messages containing it. Esc puts the bar away; the text
stays in the session's view state and comes back with it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input

from .key_order import run_own_binding

Mode = Literal["find", "filter"]


class FindBar(Input):
    DEFAULT_CSS = """
    FindBar { display: none; border: round $warning 50%; border-title-color: $text; }
    FindBar:focus { border: round $warning; }
    FindBar.-shown { display: block; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "put_away", "Close", show=False)]

    @dataclass
    class PutAway(Message):
        bar: FindBar

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.mode: Mode = "find"

    async def _on_key(self, event: events.Key) -> None:
        if not await run_own_binding(self, event):  # Backspace, arrows: in the order typed
            await super()._on_key(event)

    def open(self, mode: Mode, text: str) -> None:
        self.mode = mode
        self.placeholder = (
            "find in this session (Enter: next older match)"
            if mode == "find"
            else "show only messages containing…"
        )
        self.border_title = "Find" if mode == "find" else "Filter"
        with self.prevent(Input.Changed):
            self.value = text
        self.cursor_position = len(text)
        self.add_class("-shown")
        self.focus()

    @property
    def shown(self) -> bool:
        return self.has_class("-shown")

    def action_put_away(self) -> None:
        self.remove_class("-shown")
        self.post_message(self.PutAway(self))
