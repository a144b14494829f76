"""Messages the reply runner posts to the main screen."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message as TextualMessage

from ..models import Message


@dataclass
class ReplyStarted(TextualMessage):
    session_id: str


@dataclass
class ReplyChunk(TextualMessage):
    session_id: str
    text: str


@dataclass
class ReplyFinished(TextualMessage):
    """The reply ended: ``message`` is what was stored (None if nothing arrived)."""

    session_id: str
    message: Message | None
    cancelled: bool = False


@dataclass
class ReplyFailed(TextualMessage):
    session_id: str
    error: str
