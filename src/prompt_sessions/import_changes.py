"""How a re-import compares a source with its earlier copy (DESIGN section 16): which
messages are the same, whether the source only grew, completed its last reply, or parted from
what the copy took from it."""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from .models import Message, Session


def digest_of(history: list[Any], timed: bool = True) -> str:
    """A short fingerprint of the imported messages, every field of them (a reply's tool calls
    or usage may be written after its text): equal when nothing changed at the source. For a
    source without times (``timed`` False) the times are left out: they are the file's, which
    change each time it is saved."""
    raw = msgspec.json.encode([taken(m, timed) for m in history])
    return hashlib.sha256(raw).hexdigest()[:32]


def taken_before(history: list[Message], digest: object, timed: bool = True) -> int | None:
    """How many of the source's first messages the last import took, found as the first
    ``history[:n]`` whose digest is the stamp's ``digest`` (the source only grew since); None
    when none has it. Messages the source held then are not new, whatever became of them in
    the copy since (a rewind here takes them out for good)."""
    if not isinstance(digest, str):
        return None
    running = hashlib.sha256(b"[")  # digest_of's encoding, built one message at a time
    for count in range(len(history) + 1):
        if count:
            running.update(b"," if count > 1 else b"")
            running.update(_encode(taken(history[count - 1], timed)))
        closed = running.copy()
        closed.update(b"]")
        if closed.hexdigest()[:32] == digest:
            return count
    return None


_encode = msgspec.json.Encoder().encode


def taken(message: Message, timed: bool = True) -> Message:
    """What an import takes of a message: all but ``source``, which a store may stamp; for a
    source without times (``timed`` False), all but its time too."""
    if not timed:
        return msgspec.structs.replace(message, source=None, created_at="")
    return msgspec.structs.replace(message, source=None)


def same_key(message: Message, timed: bool = True) -> tuple[str, str, str]:
    """What makes two messages the same one: role, text and (for a timed source) time."""
    return (message.role, message.content, message.created_at if timed else "")


def grown_last(copy: Session, loaded: Session) -> Message | None:
    """The source's message that the copy's last message is an earlier state of, when it has
    changed since: a tool still writing a reply when it was imported (a streamed reply's text,
    tool calls or usage written line by line). It is the one source message of the same role
    and time, which a message added to the copy here (timed now) never shares, and its text
    starts with the copy's; None when there is no such message or it is unchanged."""
    if not copy.history:
        return None
    last = copy.history[-1]
    same = [m for m in loaded.history if (m.role, m.created_at) == (last.role, last.created_at)]
    if len(same) != 1 or taken(same[0]) == taken(last):
        return None
    # A reply being written only gains text: other text is an edit, for kept_path to keep.
    return same[0] if same[0].content.startswith(last.content) else None


def kept_path(
    copy: Session, loaded: Session, grown: Message | None, timed: bool = True
) -> int | None:
    """Where the source parted from the copy's history, when it no longer holds what the copy
    took from it (a branch switched, a message edited or taken back there) and the copy holds
    just that, nothing added here since the last import (its messages give the stamp's digest
    again); None when the source only grew, or the copy has messages of its own. For a source
    without times (``timed`` False) messages are compared without them."""
    stamp = copy.metadata.get("import")
    if not isinstance(stamp, dict) or digest_of(copy.history, timed) != stamp.get("digest"):
        return None
    at = 0
    for mine, theirs in zip(copy.history, loaded.history, strict=False):
        if same_key(mine, timed) != same_key(theirs, timed):
            break
        at += 1
    if at == len(copy.history) or (grown is not None and at == len(copy.history) - 1):
        return None  # the source grew (its last message too, maybe)
    if at == len(loaded.history):
        return None  # an older state of the source (an earlier file): nothing to follow
    return at
