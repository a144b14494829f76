"""Asks for a session's tags (DESIGN section 14, picker key ``t``): words separated by spaces
or commas, a leading ``#`` dropped; Enter or OK accepts the whole set, Esc or Cancel leaves the
tags as they were."""

from __future__ import annotations

import re

from ...organise.labels import split_tags
from .text_prompt import PromptInput, TextPrompt


class TagsPrompt(TextPrompt[list[str]]):
    """Dismisses with the checked tags (an empty list clears them), or None when cancelled."""

    def __init__(self, title: str, tags: list[str] | None) -> None:
        super().__init__(title, " ".join(tags or ()), _checked_tags)

    def make_input(self) -> PromptInput:
        box = PromptInput(
            value=self.default, placeholder="tags, separated by spaces or commas", id="tags"
        )
        # the picker is under it: keys typed at once after Enter act on its rows
        box.follows_focus = True
        return box


def _checked_tags(value: str) -> list[str]:
    """The words of ``value`` as tags (an empty value clears them); UsageError names the first
    that is not one."""
    return split_tags(w for w in re.split(r"[\s,]+", value) if w)
