"""The responder interface: how a PO answers.

A responder is built by the factory a plugin registers (``register(name, factory)`` in
``register_responders``), called with the options from ``[responders.<name>]`` in config.toml
merged with the PO's front matter options. One instance may serve many replies, even at once.

Its ``respond(request)`` is an async iterator:

- **Streaming chunks**: it yields text (``str``) as the reply arrives; empty strings are ignored.
- **Final usage and model**: it may finish with one :class:`ReplyEnd` naming the model, the token
  usage, and whether the reply ends by asking the user for something (``awaiting_input``).
- **Latency** is measured by the caller from the call to the end of the stream and stored as the
  reply's ``latency_ms``; a responder does not report it.
- **Cancellation** is the caller cancelling the task that iterates it: ``asyncio.CancelledError``
  is raised at the responder's current ``await``. A responder cleans up in ``finally`` and lets the
  error propagate. Whatever text arrived is stored by the caller with ``incomplete: true``.
- **Failure**: raise :class:`prompt_sessions.errors.ResponderError`, with ``transient=True`` for
  errors worth retrying (rate limits, timeouts, dropped connections). Callers retry transient
  errors with backoff; any other exception counts as a permanent failure.
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
    """The end of a reply: the model that wrote it, its token usage, and whether it awaits input."""

    model: str
    usage: Usage | None = None
    awaiting_input: bool = False  # the reply asks the user a question or for an approval


class Responder(Protocol):
    name: str

    def respond(self, request: ReplyRequest) -> AsyncIterator[str | ReplyEnd]:
        """Stream the reply."""
