"""What the small dialogs share: on a small terminal they drop borders and padding so they fit."""

from __future__ import annotations

from typing import TypeVar

from textual import events
from textual.widgets import Button, Input

from .landing import LandingModal

ResultType = TypeVar("ResultType")

SMALL = (60, 20)  # terminal cells (width, height) below which a dialog goes compact


class Dialog(LandingModal[ResultType]):
    """A modal dialog that takes the class ``-small`` (and compact inputs and buttons, one line
    tall) while the terminal is narrower or shorter than ``SMALL``; its CSS may hide hints then."""

    def on_resize(self, event: events.Resize) -> None:
        small = event.size.width < SMALL[0] or event.size.height < SMALL[1]
        self.set_class(small, "-small")
        for widget in self.query("Input, Button").results():
            if isinstance(widget, Input | Button):
                widget.compact = small
