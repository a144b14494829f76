"""Between prompt-sessions and llm: the session as llm messages, llm's usage and errors as ours.

Nothing here imports ``llm`` at module level; the functions that build llm objects import it
when called (the responder calls them only while a PO answers).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from prompt_sessions.errors import ResponderError
from prompt_sessions.models import Message, Usage
from prompt_sessions.responders import ReplyRequest

# HTTP statuses worth a retry: timeouts, conflicts, rate limits, overloaded or failing servers.
TRANSIENT_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})
# Exception class names (anywhere in the class's MRO) that mean "try again": the OpenAI and
# Anthropic SDKs' and httpx's timeouts, rate limits and dropped connections.
TRANSIENT_NAMES = frozenset(
    {
        "APITimeoutError",
        "APIConnectionError",
        "RateLimitError",
        "InternalServerError",
        "OverloadedError",
        "ServiceUnavailableError",
        "TimeoutException",
        "NetworkError",
        "RemoteProtocolError",
        "ConnectError",
        "ReadError",
    }
)
# Where providers report input tokens served from their cache, as llm passes their details on.
CACHED_KEYS = ("cached_tokens", "cache_read_input_tokens", "cached_content_token_count")


def llm_messages(request: ReplyRequest) -> list[Any]:
    """The PO's system prompt and the session's history as a list of ``llm.parts.Message``.

    User, assistant and tool turns keep their order. A tool call without a stored result (a
    reply cut short while a tool ran) and a result without its call are left out, because
    providers refuse a conversation where the two do not pair up.
    """
    from llm.parts import Message as LlmMessage
    from llm.parts import TextPart, ToolCallPart, ToolResultPart

    history = request.session.history
    answered = {
        str(result.get("tool_call_id"))
        for m in history
        if m.role == "tool"
        for result in m.tool_results or []
        if isinstance(result, dict)
    }
    names: dict[str, str] = {}
    out: list[Any] = []
    system = request.po.system_prompt.strip()
    if system:
        out.append(LlmMessage(role="system", parts=[TextPart(text=system)]))
    for message in history:
        if message.role in ("system", "user"):
            if message.content:
                out.append(LlmMessage(role=message.role, parts=[TextPart(text=message.content)]))
        elif message.role == "assistant":
            parts: list[Any] = [TextPart(text=message.content)] if message.content else []
            for call in _calls(message):
                if call["id"] in answered:
                    names[call["id"]] = call["name"]
                    parts.append(
                        ToolCallPart(
                            name=call["name"], arguments=call["arguments"], tool_call_id=call["id"]
                        )
                    )
            if parts:
                out.append(LlmMessage(role="assistant", parts=parts))
        elif message.role == "tool":
            results: list[Any] = [
                ToolResultPart(
                    name=names[str(r["tool_call_id"])],
                    output=str(r.get("content", "")),
                    tool_call_id=str(r["tool_call_id"]),
                )
                for r in message.tool_results or []
                if isinstance(r, dict) and str(r.get("tool_call_id")) in names
            ]
            if results:
                out.append(LlmMessage(role="tool", parts=results))
    return out


def _calls(message: Message) -> list[dict[str, Any]]:
    """The well-formed ``tool_calls`` of a stored message (imports may hold odd ones)."""
    calls = []
    for call in message.tool_calls or []:
        if not isinstance(call, dict) or not call.get("id") or not call.get("name"):
            continue
        arguments = call.get("arguments") or {}
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments)
            except ValueError:
                arguments = {"input": arguments}
        if not isinstance(arguments, dict):
            arguments = {"input": arguments}
        calls.append({"id": str(call["id"]), "name": str(call["name"]), "arguments": arguments})
    return calls


def usage_of(input_tokens: int | None, output_tokens: int | None, details: Any) -> Usage | None:
    """Our Usage from llm's figures; ``cached_tokens`` is found in the provider's details."""
    if input_tokens is None and output_tokens is None:
        return None
    return Usage(
        input_tokens=int(input_tokens or 0),
        output_tokens=int(output_tokens or 0),
        cached_tokens=_find_cached(details),
    )


def _find_cached(details: Any) -> int:
    if isinstance(details, dict):
        for key, value in details.items():
            if key in CACHED_KEYS and isinstance(value, int):
                return value
            found = _find_cached(value)
            if found:
                return found
    return 0


def is_transient(exc: BaseException) -> bool:
    """Rate limits, timeouts and dropped connections: worth retrying with backoff."""
    status = getattr(exc, "status_code", None)
    if not isinstance(status, int):
        status = getattr(getattr(exc, "response", None), "status_code", None)
    if isinstance(status, int):
        return status in TRANSIENT_STATUS
    if {cls.__name__ for cls in type(exc).__mro__} & TRANSIENT_NAMES:
        return True
    return isinstance(exc, TimeoutError | ConnectionError | asyncio.TimeoutError)


def as_responder_error(exc: Exception, model_id: str) -> ResponderError:
    """One line a person can act on, transient when a retry may succeed."""
    if isinstance(exc, ResponderError):
        return exc
    first = (str(exc).strip().splitlines() or [""])[0][:300]
    if type(exc).__name__ == "NeedsKeyException":
        return ResponderError(f"model '{model_id}': {first}")
    status = getattr(exc, "status_code", None)
    if status in (401, 403):
        return ResponderError(
            f"model '{model_id}': the provider refused the key (HTTP {status}); "
            "set a valid one with `llm keys set NAME`"
        )
    if isinstance(exc, json.JSONDecodeError):  # a garbled stream, or a call's arguments
        return ResponderError(
            f"model '{model_id}': the server sent data that is not valid JSON ({first})"
        )
    if type(exc).__name__ == "ValidationError":  # pydantic: an option the model does not take
        return ResponderError(f"model '{model_id}': invalid options: {_pydantic_summary(exc)}")
    transient = is_transient(exc)
    where = _url(exc) if status is None else None  # no answer at all: say where it was asked
    return ResponderError(
        f"model '{model_id}': {type(exc).__name__}: {first or 'no message'}"
        + (f" ({where})" if where else ""),
        transient=transient,
    )


def _url(exc: Exception) -> str | None:
    """The address an HTTP client error was about (the OpenAI SDK's and httpx's carry their
    request), so that a wrong or unreachable ``api_base`` is named."""
    try:
        url = exc.request.url  # type: ignore[attr-defined]
    except Exception:  # not an HTTP error, or one without its request
        return None
    return str(url) if url else None


def _pydantic_summary(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            return "; ".join(
                f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in errors()
            )
        except Exception:  # a different ValidationError: fall back to its text
            pass
    return (str(exc).splitlines() or [""])[0]
