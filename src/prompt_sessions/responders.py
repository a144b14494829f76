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
- **Tools** (optional; DESIGN section 11): ``request.tools`` lists the tools the PO may call
  (:class:`ToolSpec`: a name, a description and a JSON schema of the arguments). To call some,
  the responder yields one :class:`ToolCalls`; the caller stores the text streamed so far with
  the calls, runs them, stores their results and sets ``ToolCalls.results`` (one
  :class:`ToolResult` per call, in order) before the responder's generator resumes. The
  responder then sends the results to its model and goes on streaming (or calls again).
  A responder that ignores ``request.tools`` works as before.
- **Setup check** (optional): a ``check()`` method that raises ``ResponderError`` for a setup that
  can never answer (an unknown model, a missing key). ``send`` (the CLI and the MCP server) calls
  it before storing the person's message, so a wrong setup leaves no unanswered message behind;
  :func:`check_ready` calls it where it exists. It may block (reading a plugin registry).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from .models import Message, Session, Usage
from .objects import PromptObject


@dataclass
class ToolSpec:
    """A tool a responder may offer its model: ``parameters`` is a JSON schema of an object."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass
class ToolCall:
    """One call a model asked for. ``arguments`` are the decoded JSON arguments."""

    id: str
    name: str
    arguments: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The stored shape of DESIGN section 11: ``{"id", "name", "arguments"}``."""
        return {"id": self.id, "name": self.name, "arguments": self.arguments}


@dataclass
class ToolResult:
    """What a call returned (or, with ``error`` true, why it failed), as text for the model."""

    tool_call_id: str
    content: str
    error: bool = False

    def to_json(self) -> dict[str, Any]:
        """The stored shape of DESIGN section 11: ``{"tool_call_id", "content"}``."""
        return {"tool_call_id": self.tool_call_id, "content": self.content}


@dataclass
class ToolCalls:
    """Yielded by a responder to call tools; ``results`` is set by the caller before it resumes.

    ``model`` and ``usage`` account for the model call that asked for the tools, stored with
    the assistant message that holds the calls.
    """

    calls: list[ToolCall]
    model: str | None = None
    usage: Usage | None = None
    results: list[ToolResult] | None = None


@dataclass
class ReplyRequest:
    """What a responder gets: the PO, the session (ending with the user's message, or with the
    results of tools it called), options, and the tools it may call."""

    po: PromptObject
    session: Session
    options: dict[str, Any] = field(default_factory=dict)
    tools: list[ToolSpec] = field(default_factory=list)

    @property
    def last_user_message(self) -> Message | None:
        """The newest message of the session with role ``user``; None if there is none."""
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
    """What answers for a PO (DESIGN section 11): made by a ``ResponderFactory`` that a plugin
    registers with ``register_responders``. ``respond`` streams text chunks, then may yield
    :class:`ToolCalls` (the runtime runs them and asks again) and ends with a :class:`ReplyEnd`.
    Raise :class:`~prompt_sessions.errors.ResponderError` (``transient=True`` to be retried).
    """

    name: str

    def respond(self, request: ReplyRequest) -> AsyncIterator[str | ReplyEnd | ToolCalls]:
        """Stream the reply."""


def check_ready(responder: object) -> None:
    """Run the responder's optional ``check()`` (see the module's "Setup check").

    Raises:
        ResponderError: the responder's setup cannot answer; nothing should be stored.
    """
    check = getattr(responder, "check", None)
    if callable(check):
        check()
