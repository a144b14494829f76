"""The parts of a Claude Code transcript line the ``claude-code`` importer reads.

Lines are decoded straight into the typed shapes (:class:`Line`): fields the import does not read
are skipped by the decoder, and every value it keeps is checked by the decoder as it is read, so
building a session from them needs no further checks. A line with a value of another type (a
number where text belongs, say) is read again by the lenient shapes (:class:`LooseLine`, every
value ``Any``) and :func:`tidy`'d into a :class:`Line`, odd values dropped, so one odd value
never sinks its line.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from .common import when

_Count = Annotated[int, msgspec.Meta(ge=0)]  # a token count


class Block(msgspec.Struct, gc=False):
    type: str | None = None
    text: str | None = None
    thinking: str | None = None
    id: str | None = None
    name: str | None = None
    input: dict[str, Any] | None = None
    tool_use_id: str | None = None
    content: str | list[Any] | None = None
    is_error: bool | None = None


class Usage(msgspec.Struct, gc=False):
    input_tokens: _Count = 0
    output_tokens: _Count = 0
    cache_creation_input_tokens: _Count = 0
    cache_read_input_tokens: _Count = 0


class Body(msgspec.Struct, gc=False):
    id: str | None = None
    model: str | None = None
    content: str | list[Block] | None = None
    usage: Usage | None = None


class Line(msgspec.Struct, gc=False):
    type: str | None = None
    uuid: str | None = None
    parentUuid: str | None = None  # noqa: N815 (the transcript's own key)
    isSidechain: bool | None = None  # noqa: N815
    isMeta: bool | None = None  # noqa: N815
    sessionId: str | None = None  # noqa: N815
    agentId: str | None = None  # noqa: N815
    cwd: str | None = None
    version: str | None = None
    gitBranch: str | None = None  # noqa: N815
    timestamp: str | None = None  # ISO-8601 as written; tidy() turns epoch numbers into one
    summary: str | None = None
    message: Body | None = None


class _LooseBlock(msgspec.Struct, gc=False):
    type: Any = None
    text: Any = None
    thinking: Any = None
    id: Any = None
    name: Any = None
    input: Any = None
    tool_use_id: Any = None
    content: Any = None
    is_error: Any = None


class _LooseUsage(msgspec.Struct, gc=False):
    input_tokens: Any = 0
    output_tokens: Any = 0
    cache_creation_input_tokens: Any = 0
    cache_read_input_tokens: Any = 0


class _LooseBody(msgspec.Struct, gc=False):
    id: Any = None
    model: Any = None
    content: str | list[_LooseBlock] | None = None
    usage: _LooseUsage | None = None


class LooseLine(msgspec.Struct, gc=False):
    type: Any = None
    uuid: Any = None
    parentUuid: Any = None  # noqa: N815
    isSidechain: Any = None  # noqa: N815
    isMeta: Any = None  # noqa: N815
    sessionId: Any = None  # noqa: N815
    agentId: Any = None  # noqa: N815
    cwd: Any = None
    version: Any = None
    gitBranch: Any = None  # noqa: N815
    timestamp: Any = None
    summary: Any = None
    message: _LooseBody | None = None


def tidy(line: LooseLine) -> Line:
    """``line`` in the typed shapes: a value of the wrong type is dropped (None, a count 0),
    an epoch-number timestamp becomes ISO-8601."""
    body = line.message
    return Line(
        type=_str(line.type),
        uuid=_str(line.uuid),
        parentUuid=_str(line.parentUuid),
        isSidechain=line.isSidechain is True,
        isMeta=line.isMeta is True,
        sessionId=_str(line.sessionId),
        agentId=_str(line.agentId),
        cwd=_str(line.cwd),
        version=_str(line.version),
        gitBranch=_str(line.gitBranch),
        timestamp=when(line.timestamp),
        summary=_str(line.summary),
        message=None if body is None else _body(body),
    )


def _body(body: _LooseBody) -> Body:
    content = body.content
    usage = body.usage
    return Body(
        id=_str(body.id),
        model=_str(body.model),
        content=content if not isinstance(content, list) else [_block(b) for b in content],
        usage=None
        if usage is None
        else Usage(
            input_tokens=_count(usage.input_tokens),
            output_tokens=_count(usage.output_tokens),
            cache_creation_input_tokens=_count(usage.cache_creation_input_tokens),
            cache_read_input_tokens=_count(usage.cache_read_input_tokens),
        ),
    )


def _block(block: _LooseBlock) -> Block:
    content = block.content
    return Block(
        type=_str(block.type),
        text=_str(block.text),
        thinking=_str(block.thinking),
        id=_str(block.id),
        name=_str(block.name),
        input=block.input if isinstance(block.input, dict) else None,
        tool_use_id=_str(block.tool_use_id),
        content=content if isinstance(content, str | list) else None,
        is_error=block.is_error is True,
    )


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _count(value: object) -> int:
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    return value if ok else 0  # type: ignore[return-value]
