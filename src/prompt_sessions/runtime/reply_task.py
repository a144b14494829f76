"""One reply of one session: wait for a slot, stream, retry transient errors, store, report.

Everything here is keyed to the ``LiveSession`` the reply was started for, never to the session
on screen, so switching views mid-stream cannot misroute a chunk or a stored message.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import msgspec

from ..delegation import Toolset, skipped_because, toolset_for
from ..errors import PromptSessionsError, ResponderError
from ..models import Message
from ..objects import PromptObject, PromptObjectError
from ..reply import reply_message
from ..responders import ReplyEnd, ReplyRequest, ToolCalls
from .checkpoint import Checkpoints
from .events import ChunkReceived, ReplyCancelled, ReplyFailed, ReplyFinished
from .live_session import LiveSession
from .status import Status
from .tool_step import run_tool_step

if TYPE_CHECKING:
    from .coordinator import Coordinator


def retryable(history: list[Message]) -> bool:
    """True when the last turn lacks its reply: the history ends with the user's message, with
    a reply cut short (``incomplete``), or inside a tool step (tool results without the reply
    they lead to, or tool calls whose results never came), as after a crash, a cancel or an
    error."""
    if not history:
        return False
    last = history[-1]
    if last.role in ("user", "tool"):
        return True
    return last.role == "assistant" and (bool(last.incomplete) or bool(last.tool_calls))


def answered_up_to(history: list[Message]) -> list[Message]:
    """The history a reply is asked for: a trailing reply cut short, or tool calls left without
    results, are left out, so running the reply again answers the turn anew (what they hold
    stays stored, never deleted). Tool results stay: the reply goes on from them."""
    end = len(history)
    while end and history[end - 1].role == "assistant":
        last = history[end - 1]
        if not (last.incomplete or last.tool_calls):
            break
        end -= 1
    return list(history[:end])


async def run_reply(
    coord: Coordinator, live: LiveSession, responder: Any, options: dict[str, Any], reserved: bool
) -> Message | None:
    """The body of a session's reply task. ``reserved``: a generation slot is already held (or
    none is needed). Returns the stored final reply, or None if it failed."""
    if not reserved:
        try:
            await coord.slots.acquire()
        except asyncio.CancelledError:
            coord.set_status(live, Status.IDLE)
            coord.emit(ReplyCancelled(live.session_id, None))
            raise
        live._holds_slot = True
    try:
        return await _stream_with_retries(coord, live, responder, options)
    finally:
        coord.release_slot(live)


async def _stream_with_retries(
    coord: Coordinator, live: LiveSession, responder: Any, options: dict[str, Any]
) -> Message | None:
    try:
        # Read again: the file may have broken since the send checked it, and a PO must never
        # answer without the prompt it has on disk.
        po = coord.ctx.po_for_reply(live.po_name)
    except PromptObjectError as exc:
        _fail(coord, live, f"{exc}; fix the file, then retry", None)
        return None
    toolset = toolset_for(coord.ctx, po)
    for name in toolset.unknown:
        coord.warn(f"{po.name}: {skipped_because(coord.ctx, po, name)}; skipped")
    checkpoints = Checkpoints(coord, live, time.perf_counter())
    try:
        return await _attempts(coord, live, responder, options, toolset, po, checkpoints)
    finally:
        await checkpoints.stop()  # a task that ended some other way stops checkpointing too


async def _attempts(
    coord: Coordinator,
    live: LiveSession,
    responder: Any,
    options: dict[str, Any],
    toolset: Toolset,
    po: PromptObject,
    checkpoints: Checkpoints,
) -> Message | None:
    attempt = 0
    while True:
        live._reply.clear()
        coord.set_status(live, Status.STREAMING, attempt=attempt)
        session = live.session
        request = ReplyRequest(
            po=po,
            session=msgspec.structs.replace(session, history=answered_up_to(session.history)),
            options=options,
            tools=list(toolset.specs),
        )
        started = time.perf_counter()
        end: ReplyEnd | None = None
        try:
            async for item in responder.respond(request):
                if isinstance(item, ReplyEnd):
                    end = item
                elif isinstance(item, str) and item:
                    live._reply.add(item)
                    coord.emit(ChunkReceived(live.session_id, item))
                elif isinstance(item, ToolCalls):
                    await run_tool_step(coord, live, item, toolset, started)
                    started = time.perf_counter()
        except asyncio.CancelledError:
            await checkpoints.stop()
            partial = await _save_partial(coord, live, end, started, checkpoints)
            live._reply.clear()
            coord.set_status(live, Status.IDLE)
            coord.emit(ReplyCancelled(live.session_id, partial))
            raise
        except Exception as exc:
            error = _as_responder_error(exc, responder)
            if error.transient and coord.retry.should_retry(attempt + 1):
                attempt += 1
                live._reply.clear()
                coord.set_status(live, Status.RETRYING, attempt=attempt)
                try:
                    await asyncio.sleep(coord.retry.delay(attempt))
                except asyncio.CancelledError:
                    coord.set_status(live, Status.IDLE)
                    coord.emit(ReplyCancelled(live.session_id, None))
                    raise
                continue
            await checkpoints.stop()
            partial = await _save_partial(coord, live, end, started, checkpoints)
            _fail(coord, live, str(error), partial)
            return None
        await checkpoints.stop()
        return await _save_reply(coord, live, end, started)


async def _save_reply(
    coord: Coordinator, live: LiveSession, end: ReplyEnd | None, started: float
) -> Message | None:
    message = _message(live, end, started, incomplete=False)
    try:
        stored = await coord.store_message(live, message)
    except PromptSessionsError as exc:
        _fail(coord, live, f"the reply could not be saved: {exc}", None)
        return None
    _finished(coord, live, end, stored)
    return stored


def _finished(coord: Coordinator, live: LiveSession, end: ReplyEnd | None, stored: Message) -> None:
    live._reply.clear()
    background = coord.shown != live.session_id
    if background:
        coord.add_unread(live)
    coord.set_status(
        live, Status.WAITING if end is not None and end.awaiting_input else Status.IDLE
    )
    coord.emit(ReplyFinished(live.session_id, stored, background))


def _fail(coord: Coordinator, live: LiveSession, error: str, partial: Message | None) -> None:
    live._reply.clear()
    coord.set_status(live, Status.ERROR, error=error)
    coord.emit(ReplyFailed(live.session_id, error, partial, coord.shown != live.session_id))


async def _save_partial(
    coord: Coordinator,
    live: LiveSession,
    end: ReplyEnd | None,
    started: float,
    checkpoints: Checkpoints,
) -> Message | None:
    """Store what arrived of a reply cut short, marked incomplete; nothing if nothing arrived.
    A retry that failed before any text leaves the text of the checkpoint before it."""
    if live._reply:
        message = _message(live, end, started, incomplete=True)
    elif live._provisional is not None and checkpoints.last is not None:
        message = checkpoints.last
    else:
        return None
    try:
        return await coord.store_message(live, message)
    except PromptSessionsError as exc:
        coord.warn(f"the incomplete reply in '{live.name}' could not be saved: {exc}")
        return None


def _message(
    live: LiveSession, end: ReplyEnd | None, started: float, *, incomplete: bool
) -> Message:
    # The buffer's cap limits what is shown while streaming; the stored reply is always whole.
    return reply_message(live._reply.whole, end, started, incomplete=incomplete)


def _as_responder_error(exc: Exception, responder: Any) -> ResponderError:
    if isinstance(exc, ResponderError):
        return exc
    name = getattr(responder, "name", type(responder).__name__)
    # An error is one line: a responder's exception may carry a whole server reply.
    first = (str(exc).strip().splitlines() or [""])[0]
    return ResponderError(f"responder '{name}' failed: {type(exc).__name__}: {first}")
