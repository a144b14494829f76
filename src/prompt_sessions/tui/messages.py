"""Messages posted inside the TUI."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message as TextualMessage

from ..runtime.events import RuntimeEvent


@dataclass
class RuntimeUpdate(TextualMessage):
    """A runtime event (``prompt_sessions.runtime.events``) delivered to the main screen.

    Events carry their session's id; the screen routes each one by that id, never by what is
    shown at the moment it is handled.
    """

    event: RuntimeEvent


@dataclass
class ChunksArrived(TextualMessage):
    """Replies streamed more text; ``RuntimeLink.take_chunked()`` says which sessions.

    One message stands for any number of chunks, so twenty streaming replies cannot flood
    the screen's queue and keys are handled promptly.
    """
