"""Running one turn: store the user's message, stream the PO's reply, store the reply.

A reply cut short (cancelled, or its responder failed part-way) is stored with
``incomplete: true`` if any text arrived, and never written over existing history.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from .config import section
from .context import AppContext
from .errors import ResponderError
from .models import Message, Usage
from .responders import ReplyEnd, ReplyRequest


def responder_for(ctx: AppContext, po_name: str) -> Any:
    po = ctx.prompt_object(po_name)
    name = ctx.responder_name(po)
    options = {**section(ctx.config, "responders", name), **po.options}
    return ctx.host.responder_factory(name)(options), options


async def run_reply(
    ctx: AppContext,
    session_id: str,
    *,
    responder: Any = None,
    on_chunk: Callable[[str], None] | None = None,
) -> Message:
    """Stream a reply to the session's last user message and append it. Returns the reply."""
    session = ctx.manager.get(session_id)
    po = ctx.prompt_object(session.po_name)
    options: dict[str, Any] = {}
    if responder is None:
        responder, options = responder_for(ctx, session.po_name)
    request = ReplyRequest(po=po, session=session, options=options)
    started = time.perf_counter()
    parts: list[str] = []
    end: ReplyEnd | None = None
    try:
        async for item in responder.respond(request):
            if isinstance(item, ReplyEnd):
                end = item
            elif isinstance(item, str) and item:
                parts.append(item)
                if on_chunk is not None:
                    on_chunk(item)
    except (asyncio.CancelledError, Exception) as exc:
        if parts:
            ctx.manager.append(
                session_id, reply_message("".join(parts), end, started, incomplete=True)
            )
        if isinstance(exc, ResponderError | asyncio.CancelledError):
            raise
        raise ResponderError(
            f"responder '{getattr(responder, 'name', '?')}' failed: {exc}"
        ) from exc
    message = reply_message("".join(parts), end, started, incomplete=False)
    return ctx.manager.append(session_id, message)


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
