"""What a stored message's tool calls and results say, for every frontend (DESIGN section 11).

A delegation is a call of a PO tool: a name and exactly one string argument, ``message``. The
runtime stores a tool message's text as its results joined, so frontends show the results
apart only when the text does not already hold them.
"""

from __future__ import annotations

from typing import Any

from .models import Message


def is_delegation(call: Any) -> bool:
    """A stored tool call of a PO tool: a name and exactly one string argument ``message``."""
    if not isinstance(call, dict) or not isinstance(call.get("name"), str):
        return False
    arguments = call.get("arguments")
    return (
        isinstance(arguments, dict)
        and set(arguments) == {"message"}
        and isinstance(arguments["message"], str)
    )


def repeats_results(message: Message) -> bool:
    """A tool message whose text is just its results joined (as the runtime stores it)."""
    results = message.tool_results or []
    texts = [r.get("content") for r in results if isinstance(r, dict)]
    joined = "\n\n".join(str(t) for t in texts)
    return len(texts) == len(results) and message.content == joined


def call_line(call: Any) -> str:
    """One line for a tool call: ``-> researcher: <message>`` for a delegation, ``-> name
    {arguments as JSON}`` for another tool, the call as JSON for any other shape."""
    if is_delegation(call):
        return f"-> {call['name']}: {call['arguments']['message']}"
    if isinstance(call, dict) and isinstance(call.get("name"), str):
        return f"-> {call['name']} {_compact(call.get('arguments', {}))}"
    return f"-> {_compact(call)}"


def result_line(result: Any) -> str:
    """One line for a tool result: ``result for <call id>: <content>``."""
    if isinstance(result, dict) and "content" in result:
        return f"result for {result.get('tool_call_id', '?')}: {result['content']}"
    return f"result: {_compact(result)}"


def _compact(data: Any) -> str:
    import json  # only `show` of a session with tools needs it; `list` never does

    try:
        return json.dumps(data, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(data)
