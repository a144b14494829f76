"""Asks for a session name, with a default; Enter or OK accepts, Esc or Cancel cancels."""

from __future__ import annotations

from textual.widgets import Input

from ...errors import InvalidName
from ...models import NAME_MAX, clean_name
from .text_prompt import TextPrompt


class NamePrompt(TextPrompt[str]):
    """Dismisses with the cleaned name (DESIGN section 3), or None when cancelled."""

    def make_input(self) -> Input:
        return Input(value=self.default, max_length=NAME_MAX, id="name")

    def accept(self, value: str) -> None:
        """Answer with the cleaned name, or say in the dialog why it is refused."""
        try:
            name = clean_name(value)
        except InvalidName as exc:
            self.refuse(str(exc))
            return
        self.dismiss(name)
