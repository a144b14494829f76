"""One ChatGPT conversation to one Session: the branch that ends at ``current_node``.

A conversation is a tree: each edit or regenerated answer starts a new branch. ChatGPT shows the
branch ending at ``current_node``, so that is the one imported, walked from the leaf up through
``parent`` links and then reversed. Only what the import reads is checked; fields it does not use
may change shape without breaking it.
"""

from __future__ import annotations

import uuid
from typing import Any

from prompt_sessions import Message, Session
from prompt_sessions.errors import ImportFormatError
from prompt_sessions.importers.common import content_id
from prompt_sessions.models import NAME_MAX, Role

from .values import clean_text, get, kind, timestamp

UNTITLED = "Untitled conversation"
ROLES: dict[str, Role] = {
    "user": "user",
    "assistant": "assistant",
    "system": "system",
    "tool": "tool",
}
# Content types whose parts hold the text a person reads. Others (code run by a tool, its
# output, browsing results, hidden context, reasoning) are not part of the conversation shown.
TEXT_CONTENT = {"text", "multimodal_text"}


def to_session(conversation: Any, number: int, po_name: str, imported_at: str) -> Session:
    """The conversation as a Session; ImportFormatError says where and why it cannot be.

    Times fall back when ChatGPT left them out or null: the start is ``create_time``, else the
    earliest of ``update_time`` and the message times, else ``imported_at``; a message without a
    time takes the one before it (the start for the first).
    """
    where = f"conversation {number}"
    if not isinstance(conversation, dict):
        raise ImportFormatError(f"{where} must be an object, not {kind(conversation)}")
    title = get(conversation, "title", str, where, required=False)
    if title is not None:
        where = f"{where} ({_short(title)!r})"
    mapping = get(conversation, "mapping", dict, where, required=True)
    messages = [
        message
        for node_id in _branch(conversation, mapping, where)
        if (message := _message(mapping[node_id], node_id, where)) is not None
    ]

    created = get(conversation, "create_time", float, where, required=False)
    updated = get(conversation, "update_time", float, where, required=False)
    created_at = timestamp(created, where, "create_time") if created is not None else None
    updated_at = timestamp(updated, where, "update_time") if updated is not None else None
    message_times = [m.created_at for m in messages if m.created_at]
    untimed = False
    if created_at is None:
        known = [*message_times, *([updated_at] if updated_at else [])]
        created_at = min(known) if known else imported_at
        untimed = not known
    previous = created_at
    for message in messages:  # history stays in order: a missing time takes the one before
        if message.created_at:
            previous = message.created_at
        else:
            message.created_at = previous
    if updated_at is None:
        updated_at = max([created_at, *(m.created_at for m in messages)])

    metadata = _origin(conversation, created, messages)
    if untimed:
        # No time at all: the messages take the import's, which the next import does not
        # give again; re-imports then match them by role and text (DESIGN section 16).
        metadata["import"]["timed"] = False
    return Session(
        id=str(uuid.uuid4()),  # the store gives every import a fresh id anyway
        name=_name(title),
        po_name=po_name,
        created_at=created_at,
        updated_at=updated_at,
        metadata=metadata,
        history=messages,
    )


def _branch(conversation: dict[str, Any], mapping: dict[str, Any], where: str) -> list[str]:
    """Node ids from the root to the current node."""
    current = get(conversation, "current_node", str, where, required=False)
    if current is None:
        current = _newest_leaf(mapping, where)
        if current is None:
            return []
    elif current not in mapping:
        raise ImportFormatError(f"{where}: current_node '{_short(current)}' is not in the mapping")
    path: list[str] = []
    seen: set[str] = set()
    node_id: str | None = current
    while node_id is not None:
        if node_id in seen:
            raise ImportFormatError(f"{where}: the parent links of node '{_short(node_id)}' loop")
        seen.add(node_id)
        path.append(node_id)
        node = _node(mapping, node_id, where)
        parent = get(node, "parent", str, f"{where}, node '{_short(node_id)}'", required=False)
        if parent is not None and parent not in mapping:
            raise ImportFormatError(
                f"{where}: node '{_short(node_id)}' has parent '{_short(parent)}', "
                "which is not in the mapping"
            )
        node_id = parent
    path.reverse()
    return path


def _newest_leaf(mapping: dict[str, Any], where: str) -> str | None:
    """Without ``current_node``: the leaf of the most recently written branch, the one ChatGPT
    would show. A branch's time is its leaf's, or the nearest ancestor's when the leaf has none."""
    parent_of: dict[str, str | None] = {}
    for node_id in mapping:
        node = _node(mapping, node_id, where)
        here = f"{where}, node '{_short(node_id)}'"
        parent_of[node_id] = get(node, "parent", str, here, required=False)
    parents = set(parent_of.values())
    known: dict[str, float] = {}
    best: tuple[float, int] | None = None
    chosen = None
    for order, node_id in enumerate(mapping):
        if node_id in parents:
            continue
        seconds = _time_of(node_id, mapping, parent_of, known)
        # Ties (no times at all) go to the leaf listed last.
        if best is None or (seconds, order) >= best:
            best, chosen = (seconds, order), node_id
    return chosen


def _time_of(
    node_id: str,
    mapping: dict[str, Any],
    parent_of: dict[str, str | None],
    known: dict[str, float],
) -> float:
    """The first message time found walking up from ``node_id``, 0 if none. Results are kept in
    ``known`` so that many leaves on one long branch cost one walk, not one each."""
    walked: list[str] = []
    seconds = 0.0
    current: str | None = node_id
    while current is not None and current in mapping:
        if current in known:
            seconds = known[current]
            break
        if current in walked:
            break  # a loop: _branch reports it if this branch is chosen
        walked.append(current)
        message = mapping[current].get("message")
        stamp = message.get("create_time") if isinstance(message, dict) else None
        if isinstance(stamp, int | float) and not isinstance(stamp, bool):
            seconds = float(stamp)
            break
        current = parent_of.get(current)
    for visited in walked:
        known[visited] = seconds
    return seconds


def _node(mapping: dict[str, Any], node_id: str, where: str) -> dict[str, Any]:
    node = mapping[node_id]
    if not isinstance(node, dict):
        raise ImportFormatError(
            f"{where}: mapping entry '{_short(node_id)}' must be an object, not {kind(node)}"
        )
    return node


def _message(node: dict[str, Any], node_id: str, where: str) -> Message | None:
    """The node's message, or None for the root, hidden messages and ones without text."""
    here = f"{where}, node '{_short(node_id)}'"
    raw = get(node, "message", dict, here, required=False)
    if raw is None:
        return None
    author = get(raw, "author", dict, here, required=True)
    role = get(author, "role", str, f"{here}, author", required=True)
    if role not in ROLES:
        raise ImportFormatError(
            f"{here}: unknown author role '{_short(role)}' "
            "(expected user, assistant, system or tool)"
        )
    metadata = get(raw, "metadata", dict, here, required=False) or {}
    if metadata.get("is_visually_hidden_from_conversation") is True:
        return None
    content = get(raw, "content", dict, here, required=False)
    if content is None:  # null in some exports for messages that never got text
        return None
    content_type = get(content, "content_type", str, f"{here}, content", required=True)
    if content_type not in TEXT_CONTENT:
        return None
    parts = get(content, "parts", list, f"{here}, content", required=True)
    # Images, audio and files come as objects among the parts: skipped, their text kept.
    text = clean_text("\n\n".join(p for p in parts if isinstance(p, str) and p.strip()))
    if not text.strip():
        return None
    seconds = get(raw, "create_time", float, here, required=False)
    model = metadata.get("model_slug")
    return Message(
        role=ROLES[role],
        content=text,
        # Filled in by to_session when ChatGPT left the time out.
        created_at=timestamp(seconds, here, "create_time") if seconds is not None else "",
        model=model if isinstance(model, str) and model else None,
    )


def _name(title: str | None) -> str:
    """The title as a session name: one line, at most the store's limit, never empty."""
    flat = " ".join(clean_text(title or "").split())
    if len(flat) > NAME_MAX:
        flat = flat[: NAME_MAX - 1].rstrip() + "…"
    # split() treats most control characters as spaces, but not all of them.
    flat = "".join(c for c in flat if c.isprintable())
    return flat or UNTITLED


def _origin(
    conversation: dict[str, Any], created: float | None, messages: list[Message]
) -> dict[str, Any]:
    origin = {
        key: value
        for key in ("conversation_id", "id", "default_model_slug")
        if isinstance(value := conversation.get(key), str)
    }
    found: dict[str, Any] = {"chatgpt": origin} if origin else {}
    # Re-importing the export finds this copy by it (DESIGN section 16); a conversation saved
    # without its id is known by its start and first message, which stay as it grows.
    first = messages[0].content if messages else None
    source_id = origin.get("conversation_id") or origin.get("id") or content_id(created, first)
    found["import"] = {"source_id": source_id}
    return found


def _short(text: str, limit: int = 40) -> str:
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
