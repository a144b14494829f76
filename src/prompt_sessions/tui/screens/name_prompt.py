"""Asks for a session name, with a default; Enter or OK accepts, Esc or Cancel cancels."""

from __future__ import annotations

from textual.widgets import Input

from ...models import NAME_MAX, clean_name
from .text_prompt import TextPrompt


class NamePrompt(TextPrompt[str]):
    """Dismisses with the cleaned name (``models.clean_name``), or None when cancelled."""

    def __init__(self, title: str, default: str = "") -> None:
        super().__init__(title, default, clean_name)

    def make_input(self) -> Input:
        return Input(value=self.default, max_length=NAME_MAX, id="name")
