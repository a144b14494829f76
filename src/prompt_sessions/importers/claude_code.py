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

from ..importing import Skipped
from ..models import Message, Session, Usage
from ..timeutil import now_iso
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
        root = base if base is not None else tool_home("CLAUDE_CONFIG_DIR", ".claude", None)
        if base is None:
            root = root / "projects"
        found = files_under(root, "**/*.jsonl")
        return sorted(found, key=lambda p: (p.name.startswith("agent-"), str(p)))

    def load(self, data: bytes, filename: str | None) -> Iterable[Session | Skipped]:
        lines: list[dict[str, Any]] = []
        skipped: list[Skipped] = []
        for number, value in json_lines(data):
            if isinstance(value, Skipped):
                skipped.append(value)
            elif isinstance(value, dict):
                lines.append(value)
            else:
                skipped.append(Skipped(f"line {number}", "not a JSON object"))
        fallback_id = Path(filename).stem if filename else None
        return [*_sessions(lines, fallback_id), *skipped]


def _sessions(lines: list[dict[str, Any]], fallback_id: str | None) -> list[Session]:
    session_id = next((s for line in lines if (s := str_of(line.get("sessionId")))), None)
    session_id = session_id or fallback_id or str(uuid.uuid4())
    main = [ln for ln in lines if ln.get("isSidechain") is not True]
    branches = _sidechains([ln for ln in lines if ln.get("isSidechain") is True])
    summaries = [s for ln in lines if ln.get("type") == "summary" if (s := text(ln.get("summary")))]
    found: list[Session] = []
    parent: Session | None = None
    if any(ln.get("type") in ("user", "assistant") for ln in main):
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


def _sidechains(lines: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Sub-agent lines grouped by run: by ``agentId`` where written, else by the first line of
    their parent chain."""
    by_uuid = {u: ln for ln in lines if (u := str_of(ln.get("uuid")))}
    groups: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        key = str_of(line.get("agentId"))
        if key is None:
            node, seen = line, set()
            while (up := str_of(node.get("parentUuid"))) in by_uuid and up not in seen:
                seen.add(up)
                node = by_uuid[up]
            key = str_of(node.get("uuid")) or "sidechain"
        groups.setdefault(key, []).append(line)
    return groups


def _session(
    lines: list[dict[str, Any]], session_id: str, summaries: list[str], stamp: dict[str, Any]
) -> Session:
    messages: list[Message] = []
    ids: list[str | None] = []  # the API message id of each assistant message, to merge lines
    for line in lines:
        kind = line.get("type")
        if kind not in ("user", "assistant") or line.get("isMeta") is True:
            continue
        body = dict_of(line.get("message"))
        at = when(line.get("timestamp")) or ""
        if kind == "assistant":
            _assistant(body, at, messages, ids)
        else:
            for message in _user(body, at):
                messages.append(message)
                ids.append(None)
    start = fill_times(messages, None, now_iso())
    first = next((ln for ln in lines if ln.get("cwd") or ln.get("version")), {})
    details = {
        "session_id": session_id,
        "version": str_of(first.get("version")),
        "git_branch": str_of(first.get("gitBranch")),
        "summaries": summaries or None,
    }
    metadata: dict[str, Any] = {
        "claude_code": {k: v for k, v in details.items() if v},
        "import": stamp,
    }
    if cwd := str_of(first.get("cwd")):
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


def _user(body: dict[str, Any], at: str) -> list[Message]:
    content = body.get("content")
    if isinstance(content, str):
        return [Message(role="user", content=text(content), created_at=at)] if content else []
    words: list[str] = []
    results: list[dict[str, Any]] = []
    for block in list_of(content):
        block = dict_of(block)
        if block.get("type") == "text" and (said := text(block.get("text"))):
            words.append(said)
        elif block.get("type") == "tool_result":
            result: dict[str, Any] = {
                "tool_call_id": text(block.get("tool_use_id")),
                "content": _result_text(block.get("content")),
            }
            if block.get("is_error") is True:
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
    body: dict[str, Any], at: str, messages: list[Message], ids: list[str | None]
) -> None:
    api_id = str_of(body.get("id"))
    if api_id is not None and ids and ids[-1] == api_id:
        message = messages[-1]  # the same reply, streamed over several lines
    else:
        model = str_of(body.get("model"))
        message = Message(
            role="assistant",
            content="",
            created_at=at,
            model=model if model != "<synthetic>" else None,
        )
        messages.append(message)
        ids.append(api_id)
    content = body.get("content")
    blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
    for block in list_of(blocks):
        block = dict_of(block)
        kind = block.get("type")
        if kind == "text" and (said := text(block.get("text"))):
            message.content = f"{message.content}\n\n{said}" if message.content else said
        elif kind == "tool_use":
            call = {
                "id": text(block.get("id")),
                "name": text(block.get("name")),
                "arguments": dict_of(block.get("input")),
            }
            message.tool_calls = [*(message.tool_calls or []), call]
        elif kind == "thinking" and (thought := text(block.get("thinking"))):
            meta = message.metadata or {}
            meta["thinking"] = [*meta.get("thinking", []), thought]
            message.metadata = meta
    usage = dict_of(body.get("usage"))
    if usage:
        message.usage = Usage(
            input_tokens=int_of(usage.get("input_tokens"))
            + int_of(usage.get("cache_creation_input_tokens")),
            output_tokens=int_of(usage.get("output_tokens")),
            cached_tokens=int_of(usage.get("cache_read_input_tokens")),
        )


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
