"""``open-webui``: Open WebUI's chat export (a JSON list of chats; one chat's own export too).

Each chat holds its messages as a tree in ``chat.history.messages`` (``parentId`` /
``childrenIds``), ``chat.history.currentId`` naming the message shown last: the branch that
ends there is the session; every other branch becomes a fork under it, its branch point
recorded, so no regenerated answer or edit is lost. Older exports without ``history`` hold the
conversation as the list ``chat.messages``. Titles, tags, pinned and archived marks, models and
token usage are kept.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from ..errors import ImportFormatError
from ..importing import Skipped
from ..models import Message, Session, Usage
from .common import (
    content_id,
    dict_of,
    fill_times,
    int_of,
    list_of,
    load_json,
    name_of,
    source,
    str_of,
    text,
    when,
)

PO_NAME = "open-webui"
_ROLES = {"user", "assistant", "system"}


class OpenWebUiImporter:
    name = "open-webui"

    def sniff(self, data: bytes, filename: str | None) -> bool:
        head = data[:1_000_000].lstrip()
        return head[:1] in (b"[", b"{") and (
            (b'"currentId"' in head and b'"childrenIds"' in head)
            or (b'"chat"' in head and b'"user_id"' in head and b'"messages"' in head)
        )

    def load(self, data: bytes, filename: str | None) -> Iterable[Session | Skipped]:
        doc = load_json(data)
        chats = [doc] if isinstance(doc, dict) else doc
        if not isinstance(chats, list):
            raise ImportFormatError("expected a list of chats (an Open WebUI export)")
        if not chats:
            raise ImportFormatError("the file holds no chats")
        found: list[Session | Skipped] = []
        for number, chat in enumerate(chats, start=1):
            title = name_of(dict_of(chat).get("title"), fallback="")
            where = f"chat {number}" + (f" ({title!r})" if title else "")
            try:
                found.extend(_chat(chat, where))
            except ImportFormatError as exc:
                found.append(Skipped(where, str(exc)))
        return found


def _chat(record: Any, where: str) -> list[Session]:
    if not isinstance(record, dict):
        raise ImportFormatError("not a chat object")
    chat = dict_of(record.get("chat"))
    if not chat:
        raise ImportFormatError("it has no 'chat' object")
    history = dict_of(chat.get("history"))
    nodes = {k: v for k, v in dict_of(history.get("messages")).items() if isinstance(v, dict)}
    if nodes:
        current = str_of(history.get("currentId"))
        main_path = _path(nodes, current if current in nodes else _last_leaf(nodes))
        others = [leaf for leaf in _leaves(nodes) if leaf not in main_path]
    else:
        listed = [m for m in list_of(chat.get("messages")) if isinstance(m, dict)]
        nodes = {str(i): m for i, m in enumerate(listed)}
        main_path, others = list(nodes), []
    if not main_path:
        raise ImportFormatError("it has no messages")
    first = nodes[main_path[0]]
    chat_id = (
        str_of(record.get("id"))
        or str_of(chat.get("id"))
        or content_id(record.get("created_at"), first.get("content"), first.get("timestamp"))
    )
    start = when(record.get("created_at")) or when(chat.get("timestamp"))
    main = _session(record, chat, [nodes[n] for n in main_path], start, source(chat_id))
    found = [main]
    covered = set(main_path)
    for leaf in others:
        path = _path(nodes, leaf)
        shared = next(
            (i for i, (a, b) in enumerate(zip(path, main_path, strict=False)) if a != b),
            min(len(path), len(main_path)),
        )
        # A branch is known by its first message that no branch before it holds, not by its
        # last: a branch continued in Open WebUI since the last import then updates its copy.
        own = next((n for n in path if n not in covered), leaf)
        covered.update(path)
        fork = _session(record, chat, [nodes[n] for n in path], start, source(f"{chat_id}#{own}"))
        fork.name = name_of(f"{main.name} (branch)", fallback=main.name)
        fork.thread_type = "fork"
        fork.parent_id = main.id
        fork.parent_message_index = shared
        found.append(fork)
    return found


def _path(nodes: dict[str, dict[str, Any]], leaf: str | None) -> list[str]:
    """Message ids from the root to ``leaf``, following ``parentId`` (a loop ends the walk)."""
    path: list[str] = []
    node_id = leaf
    while node_id is not None and node_id in nodes and node_id not in path:
        path.append(node_id)
        node_id = str_of(nodes[node_id].get("parentId"))
    path.reverse()
    return path


def _leaves(nodes: dict[str, dict[str, Any]]) -> list[str]:
    """The messages no other answers, oldest first (by time, then as the file lists them), so
    that the branches are taken in the order they were made."""
    parents = {str_of(n.get("parentId")) for n in nodes.values()}
    leaves = [k for k in nodes if k not in parents]
    return sorted(leaves, key=lambda k: _branch_time(nodes, k))


def _branch_time(nodes: dict[str, dict[str, Any]], leaf: str) -> str:
    """When the branch ending at ``leaf`` parted from the others: the time of its first
    message that is not the first child of its parent."""
    path = _path(nodes, leaf)
    for node_id in path:
        parent = nodes.get(str_of(nodes[node_id].get("parentId")) or "")
        children = list_of(parent.get("childrenIds")) if parent else []
        if children and children[0] != node_id:
            return when(nodes[node_id].get("timestamp")) or ""
    return ""


def _last_leaf(nodes: dict[str, dict[str, Any]]) -> str | None:
    leaves = _leaves(nodes)
    return max(leaves, key=lambda k: when(nodes[k].get("timestamp")) or "", default=None)


def _session(
    record: dict[str, Any],
    chat: dict[str, Any],
    raw: list[dict[str, Any]],
    start: str | None,
    stamp: dict[str, Any],
) -> Session:
    history = [m for m in (_message(r) for r in raw) if m is not None]
    begin = fill_times(history, start, stamp)
    tags = [t for t in _tags(record, chat) if t]
    models = [m for m in list_of(chat.get("models")) if isinstance(m, str)]
    metadata: dict[str, Any] = {"import": stamp}
    if models:
        metadata["open_webui"] = {"models": models}
    return Session(
        id=str(uuid.uuid4()),
        name=name_of(record.get("title"), chat.get("title"), fallback="Open WebUI chat"),
        po_name=PO_NAME,
        created_at=begin,
        updated_at=max(
            [begin, when(record.get("updated_at")) or begin, *(m.created_at for m in history)]
        ),
        metadata=metadata,
        history=history,
        pinned=record.get("pinned") is True,
        archived=record.get("archived") is True,
        tags=tags or None,
    )


def _tags(record: dict[str, Any], chat: dict[str, Any]) -> list[str]:
    raw = list_of(dict_of(record.get("meta")).get("tags")) or list_of(chat.get("tags"))
    names = [t if isinstance(t, str) else dict_of(t).get("name") for t in raw]
    return list(dict.fromkeys(name_of(n, fallback="") for n in names if isinstance(n, str)))


def _message(raw: dict[str, Any]) -> Message | None:
    role = raw.get("role")
    content = text(raw.get("content"))
    if role not in _ROLES or not content:
        return None
    message = Message(
        role="user" if role == "user" else "system" if role == "system" else "assistant",
        content=content,
        created_at=when(raw.get("timestamp")) or "",
    )
    if role == "assistant":
        message.model = str_of(raw.get("model"))
        usage = dict_of(raw.get("usage"))
        if usage:
            message.usage = Usage(
                input_tokens=int_of(usage.get("prompt_tokens", usage.get("input_tokens"))),
                output_tokens=int_of(usage.get("completion_tokens", usage.get("output_tokens"))),
            )
    return message
