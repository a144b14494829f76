"""Asks for a session name, with a default; Enter or OK accepts, Esc or Cancel cancels."""

from __future__ import annotations

from ...models import NAME_MAX, clean_name
from .text_prompt import PromptInput, TextPrompt


class NamePrompt(TextPrompt[str]):
    """Dismisses with the cleaned name (``models.clean_name``), or None when cancelled."""

    def __init__(self, title: str, default: str = "") -> None:
        super().__init__(title, default, clean_name)

    def make_input(self) -> PromptInput:
        return PromptInput(value=self.default, max_length=NAME_MAX, id="name")
