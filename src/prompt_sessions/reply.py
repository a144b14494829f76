"""Running one turn from a script or the CLI, and the shape of a stored reply.

A reply cut short (cancelled, or its responder failed part-way) is stored with
``incomplete: true`` if any text arrived, and never written over existing history.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .context import AppContext
from .errors import ResponderError, UsageError
from .models import Message, Usage
from .responders import ReplyEnd


async def run_reply(
    ctx: AppContext,
    session_id: str,
    *,
    responder: Any = None,
    on_chunk: Callable[[str], None] | None = None,
    on_event: Callable[[Any], None] | None = None,
    source: str | None = None,
) -> Message:
    """Reply to the session's last user message and return the stored reply.

    This is the runtime's reply loop (``prompt_sessions.runtime``), the one the TUI uses: it
    retries transient errors with backoff, runs tool calls and delegations, and keeps the text
    of a reply cut short as ``incomplete``. ``responder`` replaces the PO's own for this reply;
    ``on_chunk(text)`` sees the reply's chunks as they stream, ``on_event(event)`` every
    runtime event (``prompt_sessions.runtime.events``, delegations included). ``source`` is
    stamped on every message the reply stores (the MCP server's ``"mcp"``). Raises
    ResponderError when the reply failed for good, UsageError when the session does not end
    with a user message. A caller that appended the user's message holds the session's reply
    lease (``reply_lease``) from before that append until this returns, so that another
    process's turn cannot come in between.
    """
    from .runtime import Coordinator
    from .runtime.events import ChunkReceived, RuntimeEvent

    # The caller holds the session's reply lease around its append and this reply
    # (reply_lease.py); the coordinator taking it again would find it taken.
    coord = Coordinator(ctx, keep_workspace=False, reply_source=source, lease_turns=False)
    live = coord.open(session_id)
    if responder is not None:
        coord.responders.pin(live.po_name, responder)

    def forward(event: RuntimeEvent) -> None:
        if on_event is not None:
            on_event(event)
        if on_chunk is None or not isinstance(event, ChunkReceived):
            return
        if event.session_id == live.session_id:  # not a delegation's chunks
            on_chunk(event.text)

    coord.subscribe(forward)
    try:
        if not await coord.resume(live.session_id) or live._task is None:
            raise UsageError("the session does not end with a user message")
        reply = await live._task
    finally:
        await coord.shutdown()
    if reply is None:
        raise ResponderError(live.error or "the reply failed")
    return reply


def reply_message(
    content: str,
    end: ReplyEnd | None,
    started: float,
    *,
    incomplete: bool,
    metadata: dict[str, Any] | None = None,
) -> Message:
    """The assistant message to store for a reply that began at ``started`` (perf_counter)."""
    return Message(
        role="assistant",
        content=content,
        model=end.model if end else None,
        usage=end.usage if end and isinstance(end.usage, Usage) else None,
        latency_ms=round((time.perf_counter() - started) * 1000, 1),
        incomplete=True if incomplete else None,
        metadata=metadata or None,
    )
