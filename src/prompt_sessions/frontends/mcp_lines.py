"""Answers for request lines the MCP SDK cannot read (DESIGN section 15).

JSON may spell a lone UTF-16 surrogate (``"\\ud800"``: a JavaScript string cut inside an
emoji). Such text is not Unicode: the SDK's strict parser refuses the whole line and answers
nothing, so the client that sent the request would wait for ever. Here the line is read again
with the lenient ``json`` module; a request whose params hold a lone surrogate is answered for
its id: a tool call with a one-line tool error naming the argument (as the server tells every
bad argument), any other request with a JSON-RPC "invalid params" error. Nothing of it is run
or stored. Lines unreadable for any other reason keep the SDK's own handling.
"""

from __future__ import annotations

import json
from types import TracebackType
from typing import Any

from mcp.shared.message import SessionMessage
from mcp_types import CallToolResult, TextContent
from mcp_types.jsonrpc import INVALID_PARAMS, ErrorData, JSONRPCError, JSONRPCResponse
from pydantic import ValidationError


def _lone_surrogate(text: str) -> str | None:
    """The first lone surrogate of ``text`` as ``\\udXXX``, or None."""
    for char in text:
        if "\ud800" <= char <= "\udfff":
            return f"\\u{ord(char):04x}"
    return None


def surrogate_at(value: Any, path: tuple[str, ...] = ()) -> tuple[tuple[str, ...], str] | None:
    """Where the first lone surrogate in a decoded JSON value sits: the keys and indexes down to
    it, and the surrogate as ``\\udXXX``; None when the value is Unicode throughout."""
    if isinstance(value, str):
        found = _lone_surrogate(value)
        return None if found is None else (path, found)
    if isinstance(value, dict):
        for key, item in value.items():
            found = _lone_surrogate(key)
            if found is not None:
                return (*path, "(a key)"), found
            if (inner := surrogate_at(item, (*path, key))) is not None:
                return inner
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if (inner := surrogate_at(item, (*path, str(index)))) is not None:
                return inner
    return None


def _raw_line(exc: Exception) -> str | None:
    """The line the SDK could not parse as JSON, from its validation error."""
    if not isinstance(exc, ValidationError):
        return None
    for error in exc.errors():
        if error.get("type") == "json_invalid" and isinstance(error.get("input"), str):
            return error["input"]
    return None


def answer_for(exc: Exception) -> SessionMessage | None:
    """The answer to the request behind a line the SDK refused with ``exc``, when the line is
    a request whose params hold a lone surrogate; None for anything else."""
    line = _raw_line(exc)
    if line is None:
        return None
    try:
        message = json.loads(line)
    except ValueError:  # not JSON at all: nobody can be told
        return None
    if not isinstance(message, dict) or not isinstance(message.get("method"), str):
        return None
    number = message.get("id")
    if isinstance(number, bool) or not isinstance(number, int | str):
        return None  # a notification, or an id no answer could carry
    if isinstance(number, str) and _lone_surrogate(number):
        return None
    params = message.get("params")
    found = surrogate_at(params)
    if found is None:
        return None
    path, surrogate = found
    problem = f"text holds a lone surrogate ({surrogate}), which is not Unicode"
    tool = params.get("name") if isinstance(params, dict) else None
    if (
        message["method"] == "tools/call"
        and isinstance(tool, str)
        and path[:1] == ("arguments",)
        and _lone_surrogate(tool) is None
    ):
        where = ".".join(path[1:]) or "arguments"
        text = f"Error executing tool {tool}: invalid arguments: {where}: {problem}"
        result = CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)
        body = result.model_dump(by_alias=True, mode="json", exclude_none=True)
        return SessionMessage(JSONRPCResponse(jsonrpc="2.0", id=number, result=body))
    where = ".".join(path) or "params"
    error = ErrorData(code=INVALID_PARAMS, message=f"invalid params: {where}: {problem}")
    return SessionMessage(JSONRPCError(jsonrpc="2.0", id=number, error=error))


class AnsweringReadStream:
    """The SDK's read stream, answering on ``write_stream`` the requests ``answer_for``
    knows how to answer instead of handing their parse errors on.

    :param inner: the stdio transport's read stream (messages, or exceptions for bad lines).
    :param write_stream: the same transport's write stream.
    """

    def __init__(self, inner: Any, write_stream: Any) -> None:
        self._inner = inner
        self._write = write_stream

    @property
    def last_context(self) -> Any:
        # The SDK runs each message's handler in the context its sender had.
        return getattr(self._inner, "last_context", None)

    async def receive(self) -> Any:
        while True:
            item = await self._inner.receive()
            if isinstance(item, Exception) and (reply := answer_for(item)) is not None:
                await self._write.send(reply)
                continue
            return item

    def __aiter__(self) -> AnsweringReadStream:
        return self

    async def __anext__(self) -> Any:
        import anyio

        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    def close(self) -> None:
        self._inner.close()

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def __aenter__(self) -> AnsweringReadStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
