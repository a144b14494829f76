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

import os
import uuid
from collections.abc import Iterable
from pathlib import Path
from random import getrandbits
from typing import Any

import msgspec

from .. import limits
from ..importing import Skipped
from ..models import Message, Session, Usage
from .claude_code_shapes import Block, Body, Line, LooseLine, tidy
from .claude_code_shapes import Usage as CountedUsage
from .common import (
    all_lines,
    deeper_than,
    dict_of,
    files_under,
    fill_times,
    is_stored_time,
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


_LINE = msgspec.json.Decoder(Line)
_LOOSE = msgspec.json.Decoder(LooseLine)


class ClaudeCodeImporter:
    name = "claude-code"
    line_based = True  # nesting is checked line by line, so one deep line is one skipped line
    typed = True  # sessions are built from values the typed shapes checked as they were read

    def sniff(self, data: bytes, filename: str | None) -> bool:
        # The first lines can be summaries or file snapshots; one of a few names a session.
        lines = data.lstrip()[:262144].split(b"\n", 5)[:5]
        return all(ln.startswith(b"{") for ln in lines if ln.strip()) and any(
            (b'"sessionId"' in ln and b'"type"' in ln and b'"projectHash"' not in ln)
            or b'"leafUuid"' in ln
            for ln in lines
        )  # (a Gemini CLI recording written on one line has a sessionId and types too)

    def locate(self, base: Path | None = None) -> list[Path]:
        """Every transcript under ``projects/`` of Claude Code's folder (or under ``base``);
        sub-agent files last, so their parents are imported first."""
        found = files_under(base if base is not None else self.default_folder()[0], "**/*.jsonl")
        return sorted(found, key=lambda p: (p.name.startswith("agent-"), str(p)))

    def default_folder(self) -> tuple[Path, str]:
        """The folder :meth:`locate` reads without ``base``, and the variable that moves it."""
        return tool_home("CLAUDE_CONFIG_DIR", ".claude", None) / "projects", "CLAUDE_CONFIG_DIR"

    def load(self, data: bytes, filename: str | None) -> Iterable[Session | Skipped]:
        lines = all_lines(data, _LINE)
        if lines is not None:  # the usual file: every line read in one call
            try:
                return _sessions(lines, filename, limits.MAX_NESTING)
            except _TooDeep:
                pass  # read line by line, where the deep line is named and skipped
        lines = []
        skipped: list[Skipped] = []
        for _number, value in json_lines(data, _LINE, _LOOSE):
            if type(value) is Line:
                lines.append(value)
            elif isinstance(value, Skipped):
                skipped.append(value)
            else:
                lines.append(tidy(value))
        return [*_sessions(lines, filename, None), *skipped]


class _TooDeep(Exception):
    """A tool call's arguments nest deeper than the limit (read in one call, unchecked)."""


def _sessions(lines: list[Line], filename: str | None, limit: int | None) -> list[Session]:
    """The sessions of one transcript's lines; ``limit``: the nesting limit to check kept
    values against (None when the lines were checked as they were read)."""
    session_id = next((s for line in lines if (s := line.sessionId)), None)
    if session_id is None:  # named by its file, as Claude Code names them
        named = os.path.splitext(os.path.basename(filename))[0] if filename else None
        session_id = named or str(uuid.uuid4())
    side = [ln for ln in lines if ln.isSidechain]
    main = [ln for ln in lines if not ln.isSidechain] if side else lines
    branches = _sidechains(side) if side else {}
    summaries = [ln.summary for ln in lines if ln.type == "summary" and ln.summary]
    found: list[Session] = []
    parent: Session | None = None
    if any(ln.type in ("user", "assistant") for ln in main):
        parent = _session(main, session_id, summaries, {"source_id": session_id}, limit)
        if parent.history:  # turns with no text in them are no conversation
            found.append(parent)
        else:
            parent = None
    for key, branch in branches.items():
        stamp = source(f"{session_id}/agent-{key}", parent_source_id=None if parent else session_id)
        child = _session(branch, session_id, [], stamp, limit)
        if not child.history:
            continue
        child.thread_type = "delegation"
        if parent is not None:
            child.parent_id = parent.id
            child.parent_message_index = _call_index(parent, child)
        found.append(child)
    return found


def _sidechains(lines: list[Line]) -> dict[str, list[Line]]:
    """Sub-agent lines grouped by run: by ``agentId`` where written, else by the first line of
    their parent chain."""
    by_uuid = {u: ln for ln in lines if (u := str_of(ln.uuid))}
    groups: dict[str, list[Line]] = {}
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
    lines: list[Line],
    session_id: str,
    summaries: list[str],
    stamp: dict[str, Any],
    limit: int | None,
) -> Session:
    messages: list[Message] = []
    reply: Message | None = None  # the assistant message a streamed line may continue
    reply_id: str | None = None  # its API message id
    usages: dict[int, CountedUsage] = {}  # message index -> its usage, converted at the end
    for line in lines:
        kind = line.type
        if (kind != "user" and kind != "assistant") or line.isMeta:
            continue
        body = line.message or _EMPTY
        stamp_at = line.timestamp
        content = body.content
        if kind == "user":
            at = stamp_at if stamp_at and is_stored_time(stamp_at) else when(stamp_at) or ""
            if isinstance(content, str):
                if content:
                    messages.append(Message(role="user", content=content, created_at=at))
                    reply = reply_id = None  # a reply streamed on after it is a new message
            elif not content:
                continue
            elif len(content) == 1 and content[0].type == "tool_result":  # the usual result
                block = content[0]
                said = _result_text(block.content)
                result: dict[str, Any] = {"tool_call_id": block.tool_use_id or "", "content": said}
                if block.is_error:
                    result["is_error"] = True
                messages.append(
                    Message(role="tool", content=said, created_at=at, tool_results=[result])
                )
                reply = reply_id = None
            elif _user_blocks(content, at, messages):
                reply = reply_id = None
            continue
        api_id = body.id
        if reply is None or api_id is None or api_id != reply_id:
            at = stamp_at if stamp_at and is_stored_time(stamp_at) else when(stamp_at) or ""
            model = body.model
            reply = Message(
                role="assistant",
                content="",
                created_at=at,
                model=model if model and model != "<synthetic>" else None,
            )
            messages.append(reply)
            reply_id = api_id
        if isinstance(content, str):
            if content:
                reply.content = f"{reply.content}\n\n{content}" if reply.content else content
        elif content:
            for block in content:
                kind = block.type
                if kind == "text":
                    if text := block.text:
                        reply.content = f"{reply.content}\n\n{text}" if reply.content else text
                elif kind == "tool_use":
                    arguments = block.input or {}
                    # Four levels down: the line, its message, the content list, the block.
                    # Flat arguments, the usual, are told at a glance.
                    if limit is not None:
                        for value in arguments.values():
                            if type(value) in _NESTED and deeper_than(arguments, limit - 4):
                                raise _TooDeep
                    call = {"id": block.id or "", "name": block.name or "", "arguments": arguments}
                    if reply.tool_calls is None:
                        reply.tool_calls = [call]
                    else:
                        reply.tool_calls.append(call)
                elif kind == "thinking" and (thought := block.thinking):
                    if reply.metadata is None:
                        reply.metadata = {"thinking": [thought]}
                    else:
                        reply.metadata.setdefault("thinking", []).append(thought)
        if body.usage is not None:
            usages[len(messages) - 1] = body.usage  # the last line's counts are the reply's
    for index, usage in usages.items():
        messages[index].usage = Usage(
            input_tokens=usage.input_tokens + usage.cache_creation_input_tokens,
            output_tokens=usage.output_tokens,
            cached_tokens=usage.cache_read_input_tokens,
        )
    # A reply that brought nothing (no text, call or thought) is no turn: left out, not stored
    # as an empty message.
    messages = [
        m for m in messages if m.role != "assistant" or m.content or m.tool_calls or m.metadata
    ]
    known = [m.created_at for m in messages if m.created_at]
    if known and len(known) == len(messages):
        start, end = min(known), max(known)
    else:
        start = fill_times(messages, None, stamp)
        end = max([start, *(m.created_at for m in messages)])
    first = next((ln for ln in lines if ln.cwd or ln.version), _EMPTY_LINE)
    details = {
        "session_id": session_id,
        "version": first.version,
        "git_branch": first.gitBranch,
        "summaries": summaries or None,
    }
    metadata: dict[str, Any] = {
        "claude_code": {k: v for k, v in details.items() if v},
        "import": stamp,
    }
    if first.cwd:
        metadata["cwd"] = first.cwd
    first_user = next((m.content for m in messages if m.role == "user" and m.content), None)
    return Session(
        id=_fresh_id(),
        name=name_of(*summaries[-1:], first_user, fallback="Claude Code session"),
        po_name=PO_NAME,
        created_at=start,
        updated_at=end,
        metadata=metadata,
        history=messages,
    )


_EMPTY = Body()
_EMPTY_LINE = Line()
_NESTED = (dict, list)


def _fresh_id() -> str:
    """A random id in the form of a session id, for telling this file's sessions apart (a
    parent from its delegations); the import stores each copy under an id of its own, so this
    one needs no system randomness, which costs a system call."""
    digits = f"{getrandbits(128):032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def _user_blocks(blocks: list[Block], at: str, messages: list[Message]) -> bool:
    """Add a user line's text and tool results as messages; whether it added any."""
    words: list[str] = []
    results: list[dict[str, Any]] = []
    for block in blocks:
        kind = block.type
        if kind == "text":
            if block.text:
                words.append(block.text)
        elif kind == "tool_result":
            result: dict[str, Any] = {
                "tool_call_id": block.tool_use_id or "",
                "content": _result_text(block.content),
            }
            if block.is_error:
                result["is_error"] = True
            results.append(result)
    if results:
        joined = "\n\n".join(r["content"] for r in results)
        messages.append(Message(role="tool", content=joined, created_at=at, tool_results=results))
    if words:
        messages.append(Message(role="user", content="\n\n".join(words), created_at=at))
    return bool(results or words)


def _result_text(content: object) -> str:
    if isinstance(content, str):
        return content
    parts = [text(dict_of(b).get("text")) for b in list_of(content)]
    return "\n\n".join(p for p in parts if p)


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
