"""Modals whose choice brings the person to a conversation (the picker, the explorer, the
lineage tree, the new-session prompt).

Textual runs a modal's result callback after the keys already queued behind the choosing key
(a burst: a fast typist, a paste, a slow link): those keys would reach the screen's old focus,
where single letters are key commands. The opener sets ``landing``, run as the choice is made,
before those keys are handled: it moves the focus to the message box (DESIGN section 8:
single-letter keys never fire while typing), or acts on the choice at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from textual.await_complete import AwaitComplete
from textual.screen import ModalScreen

ResultType = TypeVar("ResultType")


class LandingModal(ModalScreen[ResultType]):
    """A modal that, closing with a choice (a result other than None), calls ``landing`` with
    it at once, once it is off the screen stack; a cancel leaves the focus where it was."""

    landing: Callable[[ResultType], None] | None = None

    def dismiss(self, result: ResultType | None = None) -> AwaitComplete:
        closed = super().dismiss(result)
        if result is not None and self.landing is not None:
            self.landing(result)
        return closed


def opened_to_land(
    screen: LandingModal[ResultType], land: Callable[[ResultType], None]
) -> LandingModal[ResultType]:
    """``screen`` with ``land`` as its landing, for ``push_screen``."""
    screen.landing = land
    return screen
