"""Running the tools a reply asked for, and delegations: POs calling POs (DESIGN section 11).

When a responder yields :class:`ToolCalls`, the session stores, in order, the assistant message
with ``tool_calls`` (the text streamed before the calls is its content), then a ``role: "tool"``
message with ``tool_results``; the responder then goes on to the final reply. A PO tool runs
the called PO as a reply of its own delegation session in this same runtime, so it streams,
retries and cancels like any reply (cancelling the caller cancels it) and shows in the sidebar.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ..delegation import Toolset, call_function, delegation_session, refusal
from ..errors import PromptSessionsError, ResponderError
from ..models import Message
from ..reply import reply_message
from ..responders import ReplyEnd, ToolCall, ToolCalls, ToolResult, check_ready

if TYPE_CHECKING:
    from .coordinator import Coordinator
    from .live_session import LiveSession


async def run_tool_step(
    coord: Coordinator, live: LiveSession, step: ToolCalls, toolset: Toolset, started: float
) -> None:
    """Store the calls, run them one by one, store their results and hand them to the responder."""
    end = ReplyEnd(model=step.model or "", usage=step.usage) if step.model or step.usage else None
    asked = reply_message(live._reply.text, end, started, incomplete=False)
    asked.tool_calls = [call.to_json() for call in step.calls]
    live._reply.clear()
    await coord.store_message(live, asked)
    index = live.message_count - 1
    results = [await _run_call(coord, live, call, toolset, index) for call in step.calls]
    stored = Message(
        role="tool",
        content="\n\n".join(r.content for r in results),
        tool_results=[r.to_json() for r in results],
    )
    await coord.store_message(live, stored)
    step.results = results


async def _run_call(
    coord: Coordinator, live: LiveSession, call: ToolCall, toolset: Toolset, index: int
) -> ToolResult:
    try:
        if call.name in toolset.po_tools:
            text = await _delegate(coord, live, toolset.po_tools[call.name], call, index)
        elif call.name in toolset.functions:
            text = await call_function(toolset.functions[call.name], call.arguments)
        else:
            raise ToolError(f"no tool named '{call.name}' is available to {live.po_name}")
    except asyncio.CancelledError:
        raise
    except ToolError as exc:
        return ToolResult(call.id, f"Error: {exc}", error=True)
    except Exception as exc:  # a tool's own failure goes back to the model, not up the stack
        return ToolResult(call.id, f"Error: {type(exc).__name__}: {exc}", error=True)
    return ToolResult(call.id, text)


class ToolError(PromptSessionsError):
    title = "Tool refused"


async def _delegate(
    coord: Coordinator, live: LiveSession, target: str, call: ToolCall, index: int
) -> str:
    message = call.arguments.get("message")
    if not isinstance(message, str) or not message.strip():
        raise ToolError(f"{target} needs a non-empty 'message'")
    path = (*live._call_path, live.po_name)
    refused = refusal(path, target)
    if refused:
        raise ToolError(refused)
    responder, options = coord.responders.for_po(target)
    try:  # a setup that cannot answer stores nothing, not even the session, as `send` does
        await asyncio.to_thread(check_ready, responder)
    except ResponderError as exc:
        raise ToolError(f"{target} cannot answer: {exc}") from None
    sid = await asyncio.to_thread(
        delegation_session, coord.manager, live.session_id, index, target, live.po_name
    )
    child = coord.open(sid)
    if child.busy:
        raise ToolError(f"{target} is still busy with an earlier request")
    await coord.store_message(
        child, Message(role="user", content=message, from_po=live.po_name, source="delegation")
    )
    task = coord.start_reply(child, responder, options, path=path, slot=False)
    try:
        await asyncio.wait([task])
    except asyncio.CancelledError:
        task.cancel()  # the caller's reply was cancelled: so is the reply it was waiting for
        raise
    if task.cancelled():
        raise ToolError(f"{target}'s reply was cancelled")
    reply = task.result()
    if reply is None:
        raise ToolError(f"{target} failed: {child.error or 'no reply'}")
    return reply.content
