"""``claude-code``: Claude Code's transcripts, one JSON Lines file per session.

Claude Code keeps them in ``~/.claude/projects/<project>/<session id>.jsonl`` (the folder moves
with ``CLAUDE_CONFIG_DIR``). Each line is one event: ``user`` and ``assistant`` lines carry an
Anthropic API message (text, ``thinking``, ``tool_use`` and ``tool_result`` blocks), ``summary``
lines a title for the conversation. Sub-agent runs are marked ``isSidechain``: older versions
write them into the parent's file, newer ones into ``agent-<id>.jsonl`` files of their own; both
become delegation sessions under the parent's copy. An assistant reply streamed as several lines
sharing one ``message.id`` is one message.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import msgspec

from ..importing import Skipped
from ..models import Message, Session, Usage
from .common import (
    dict_of,
    files_under,
    fill_times,
    int_of,
    json_lines,
    list_of,
    name_of,
    source,
    str_of,
    text,
    tool_home,
    when,
)

PO_NAME = "claude-code"
_DELEGATING_TOOLS = {"Task", "Agent"}  # the tools that start a sub-agent


# The parts of a line the import reads, decoded straight into these: fields it does not read
# are skipped by the decoder, and values are checked where they are used (``Any``), so an odd
# value is ignored rather than sinking the line.
class _Block(msgspec.Struct, gc=False):
    type: Any = None
    text: Any = None
    thinking: Any = None
    id: Any = None
    name: Any = None
    input: Any = None
    tool_use_id: Any = None
    content: Any = None
    is_error: Any = None


class _Usage(msgspec.Struct, gc=False):
    input_tokens: Any = 0
    output_tokens: Any = 0
    cache_creation_input_tokens: Any = 0
    cache_read_input_tokens: Any = 0


class _Body(msgspec.Struct, gc=False):
    id: Any = None
    model: Any = None
    content: str | list[_Block] | None = None
    usage: _Usage | None = None


class _Line(msgspec.Struct, gc=False):
    type: Any = None
    uuid: Any = None
    parentUuid: Any = None  # noqa: N815 (the transcript's own key)
    isSidechain: Any = None  # noqa: N815
    isMeta: Any = None  # noqa: N815
    sessionId: Any = None  # noqa: N815
    agentId: Any = None  # noqa: N815
    cwd: Any = None
    version: Any = None
    gitBranch: Any = None  # noqa: N815
    timestamp: Any = None
    summary: Any = None
    message: _Body | None = None


_LINE = msgspec.json.Decoder(_Line)
_LINES = msgspec.json.Decoder(list[_Line])


class ClaudeCodeImporter:
    name = "claude-code"
    line_based = True  # nesting is checked line by line, so one deep line is one skipped line

    def sniff(self, data: bytes, filename: str | None) -> bool:
        # The first lines can be summaries or file snapshots; one of a few names a session.
        lines = data.lstrip()[:262144].split(b"\n", 5)[:5]
        return all(ln.startswith(b"{") for ln in lines if ln.strip()) and any(
            (b'"sessionId"' in ln and b'"type"' in ln) or b'"leafUuid"' in ln for ln in lines
        )

    def locate(self, base: Path | None = None) -> list[Path]:
        """Every transcript under ``projects/`` of Claude Code's folder (or under ``base``);
        sub-agent files last, so their parents are imported first."""
        found = files_under(base if base is not None else self.default_folder()[0], "**/*.jsonl")
        return sorted(found, key=lambda p: (p.name.startswith("agent-"), str(p)))

    def default_folder(self) -> tuple[Path, str]:
        """The folder :meth:`locate` reads without ``base``, and the variable that moves it."""
        return tool_home("CLAUDE_CONFIG_DIR", ".claude", None) / "projects", "CLAUDE_CONFIG_DIR"

    def load(self, data: bytes, filename: str | None) -> Iterable[Session | Skipped]:
        lines: list[_Line] = []
        skipped: list[Skipped] = []
        for _number, value in json_lines(data, _LINE, _LINES):
            if isinstance(value, Skipped):
                skipped.append(value)
            else:
                lines.append(value)
        fallback_id = Path(filename).stem if filename else None
        return [*_sessions(lines, fallback_id), *skipped]


def _sessions(lines: list[_Line], fallback_id: str | None) -> list[Session]:
    session_id = next((s for line in lines if (s := str_of(line.sessionId))), None)
    session_id = session_id or fallback_id or str(uuid.uuid4())
    main = [ln for ln in lines if ln.isSidechain is not True]
    branches = _sidechains([ln for ln in lines if ln.isSidechain is True])
    summaries = [s for ln in lines if ln.type == "summary" if (s := text(ln.summary))]
    found: list[Session] = []
    parent: Session | None = None
    if any(ln.type in ("user", "assistant") for ln in main):
        parent = _session(main, session_id, summaries, source(session_id))
        found.append(parent)
    for key, branch in branches.items():
        stamp = source(f"{session_id}/agent-{key}", parent_source_id=None if parent else session_id)
        child = _session(branch, session_id, [], stamp)
        child.thread_type = "delegation"
        if parent is not None:
            child.parent_id = parent.id
            child.parent_message_index = _call_index(parent, child)
        found.append(child)
    return found


def _sidechains(lines: list[_Line]) -> dict[str, list[_Line]]:
    """Sub-agent lines grouped by run: by ``agentId`` where written, else by the first line of
    their parent chain."""
    by_uuid = {u: ln for ln in lines if (u := str_of(ln.uuid))}
    groups: dict[str, list[_Line]] = {}
    for line in lines:
        key = str_of(line.agentId)
        if key is None:
            node, seen = line, set()
            while (up := str_of(node.parentUuid)) in by_uuid and up not in seen:
                seen.add(up)
                node = by_uuid[up]
            key = str_of(node.uuid) or "sidechain"
        groups.setdefault(key, []).append(line)
    return groups


def _session(
    lines: list[_Line], session_id: str, summaries: list[str], stamp: dict[str, Any]
) -> Session:
    messages: list[Message] = []
    ids: list[str | None] = []  # the API message id of each assistant message, to merge lines
    usages: dict[int, _Usage] = {}  # message index -> its usage, converted once at the end
    for line in lines:
        kind = line.type
        if (kind != "user" and kind != "assistant") or line.isMeta is True:
            continue
        body = line.message or _EMPTY
        if kind == "assistant":
            _assistant(body, line.timestamp, messages, ids, usages)
        else:
            for message in _user(body, when(line.timestamp) or ""):
                messages.append(message)
                ids.append(None)
    for index, usage in usages.items():
        messages[index].usage = Usage(
            input_tokens=int_of(usage.input_tokens) + int_of(usage.cache_creation_input_tokens),
            output_tokens=int_of(usage.output_tokens),
            cached_tokens=int_of(usage.cache_read_input_tokens),
        )
    start = fill_times(messages, None)
    first = next((ln for ln in lines if ln.cwd or ln.version), _EMPTY_LINE)
    details = {
        "session_id": session_id,
        "version": str_of(first.version),
        "git_branch": str_of(first.gitBranch),
        "summaries": summaries or None,
    }
    metadata: dict[str, Any] = {
        "claude_code": {k: v for k, v in details.items() if v},
        "import": stamp,
    }
    if cwd := str_of(first.cwd):
        metadata["cwd"] = cwd
    first_user = next((m.content for m in messages if m.role == "user" and m.content), None)
    return Session(
        id=str(uuid.uuid4()),
        name=name_of(*summaries[-1:], first_user, fallback="Claude Code session"),
        po_name=PO_NAME,
        created_at=start,
        updated_at=max([start, *(m.created_at for m in messages)]),
        metadata=metadata,
        history=messages,
    )


_EMPTY = _Body()
_EMPTY_LINE = _Line()


def _user(body: _Body, at: str) -> list[Message]:
    content = body.content
    if isinstance(content, str):
        return [Message(role="user", content=text(content), created_at=at)] if content else []
    words: list[str] = []
    results: list[dict[str, Any]] = []
    for block in content or ():
        if block.type == "text" and (said := text(block.text)):
            words.append(said)
        elif block.type == "tool_result":
            result: dict[str, Any] = {
                "tool_call_id": text(block.tool_use_id),
                "content": _result_text(block.content),
            }
            if block.is_error is True:
                result["is_error"] = True
            results.append(result)
    found: list[Message] = []
    if results:
        joined = "\n\n".join(r["content"] for r in results)
        found.append(Message(role="tool", content=joined, created_at=at, tool_results=results))
    if words:
        found.append(Message(role="user", content="\n\n".join(words), created_at=at))
    return found


def _result_text(content: object) -> str:
    if isinstance(content, str):
        return text(content)
    parts = [text(dict_of(b).get("text")) for b in list_of(content)]
    return "\n\n".join(p for p in parts if p)


def _assistant(
    body: _Body,
    stamp: object,
    messages: list[Message],
    ids: list[str | None],
    usages: dict[int, _Usage],
) -> None:
    api_id = str_of(body.id)
    if api_id is not None and ids and ids[-1] == api_id:
        message = messages[-1]  # the same reply, streamed over several lines
    else:
        model = str_of(body.model)
        message = Message(
            role="assistant",
            content="",
            created_at=when(stamp) or "",
            model=model if model != "<synthetic>" else None,
        )
        messages.append(message)
        ids.append(api_id)
    content = body.content
    blocks = [_Block(type="text", text=content)] if isinstance(content, str) else content or ()
    for block in blocks:
        kind = block.type
        if kind == "text" and (said := text(block.text)):
            message.content = f"{message.content}\n\n{said}" if message.content else said
        elif kind == "tool_use":
            call = {
                "id": text(block.id),
                "name": text(block.name),
                "arguments": dict_of(block.input),
            }
            message.tool_calls = [*(message.tool_calls or []), call]
        elif kind == "thinking" and (thought := text(block.thinking)):
            meta = message.metadata or {}
            meta["thinking"] = [*meta.get("thinking", []), thought]
            message.metadata = meta
    if body.usage is not None:
        usages[len(messages) - 1] = body.usage  # the last line's counts are the reply's


def _call_index(parent: Session, child: Session) -> int | None:
    """The index in ``parent`` of the assistant message whose sub-agent call handed the
    delegation its first message."""
    first = next((m.content for m in child.history if m.role == "user"), None)
    if first is None:
        return None
    for index, message in enumerate(parent.history):
        for call in message.tool_calls or []:
            if call.get("name") in _DELEGATING_TOOLS and call["arguments"].get("prompt") == first:
                return index
    return None
