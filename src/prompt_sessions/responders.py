"""The responder interface: how a PO answers.

A responder's ``respond(request)`` is an async iterator. It yields text chunks (``str``) as they
arrive and may finish with one :class:`ReplyEnd` carrying the model name and token usage.
Cancellation is the caller cancelling the task that iterates it; a responder cleans up in
``finally``. Raise :class:`prompt_sessions.errors.ResponderError` (``transient=True`` for errors
worth retrying, such as rate limits and timeouts).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from .models import Message, Session, Usage
from .objects import PromptObject


@dataclass
class ReplyRequest:
    """What a responder gets: the PO, the session (ending with the user's message) and options."""

    po: PromptObject
    session: Session
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def last_user_message(self) -> Message | None:
        for message in reversed(self.session.history):
            if message.role == "user":
                return message
        return None


@dataclass
class ReplyEnd:
    model: str
    usage: Usage | None = None


class Responder(Protocol):
    name: str

    def respond(self, request: ReplyRequest) -> AsyncIterator[str | ReplyEnd]:
        """Stream the reply."""
